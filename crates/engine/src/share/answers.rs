//! The engine's answers task: every second, each share's new answers from the relay's
//! answer log (`GET /v1/shares/{id}/answers?after=N`, from where the journal says it
//! stopped, so answers given while this computer was off all land), recorded in the
//! journal in one transaction with how far the log was read; then each answered frame's
//! XMP sidecar gets the latest rating and label any guest gave, and new comments become
//! notifications, batched by [`comments::Batch`].

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use shotline_protocol::Event;
use tokio::sync::watch;

use super::comments::{self, BATCH_WINDOW, Batch};
use super::relay_http::{RelayError, RelayHttp};
use super::selection::{self, PickMarks};
use crate::bus::Bus;
use crate::journal::{Answer, Journal, Marks, now_ms};
use crate::sidecar::{self, Naming};

/// A closed share's answers are still read this long (answers sent just before).
const AFTER_CLOSE_MS: i64 = 86_400_000;

/// Everything the task needs.
#[derive(Debug, Clone)]
pub struct Collector {
    journal: Arc<Journal>,
    library: PathBuf,
    relay: RelayHttp,
    naming: Naming,
    bus: Bus,
    picks: PickMarks,
}

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    /// Answers new to the journal.
    pub answers: usize,
    /// Sidecars written.
    pub sidecars: usize,
    /// Shares whose log could not be read (tried again next round).
    pub failed: usize,
    /// The new comments, in the order they were given.
    pub comments: Vec<Answer>,
}

/// One entry of the relay's log as an answer; `None` for what is not one.
pub fn parse(share: &str, entry: &Value) -> Option<Answer> {
    let event = &entry["event"];
    let payload = &event["payload"];
    let kind = event["type"].as_str()?.strip_prefix("gallery_")?;
    let value = match kind {
        "rating" => payload["stars"].as_u64()?.min(5).to_string(),
        "label" => payload["label"].as_str()?.to_string(),
        "like" => payload["liked"].as_bool()?.to_string(),
        "comment" => payload["text"].as_str()?.to_string(),
        "pick" => payload["picked"].as_bool()?.to_string(),
        "submit" => payload["picked"].as_u64()?.to_string(),
        "unlock" => payload["guest"].as_str()?.to_string(),
        _ => return None,
    };
    // A submit or an unlock is about a guest's selection, not one frame.
    let shot_id = match kind {
        "submit" | "unlock" => 0,
        _ => payload["frame"].as_i64()?,
    };
    Some(Answer {
        share: share.to_string(),
        id: entry["id"].as_str()?.to_string(),
        seq: entry["seq"].as_u64()?,
        ts_ms: entry["ts"].as_i64().unwrap_or_else(now_ms),
        sub: payload["sub"].as_str().unwrap_or("anonymous").to_string(),
        name: payload["name"].as_str().map(String::from),
        shot_id,
        frame_name: String::new(),
        kind: kind.to_string(),
        value,
    })
}

/// A label as XMP writes it (`Red`); `None` for no label.
pub fn xmp_label(label: &str) -> Option<&'static str> {
    match label {
        "red" => Some("Red"),
        "yellow" => Some("Yellow"),
        "green" => Some("Green"),
        "blue" => Some("Blue"),
        "purple" => Some("Purple"),
        _ => None,
    }
}

impl Collector {
    /// A collector for `relay`, writing sidecars named by `naming`.
    pub fn new(
        journal: Arc<Journal>,
        library: PathBuf,
        relay: RelayHttp,
        naming: Naming,
        bus: Bus,
        picks: PickMarks,
    ) -> Self {
        Self {
            journal,
            library,
            relay,
            naming,
            bus,
            picks,
        }
    }

    /// Read what is new, share by share; write the sidecars it changes.
    pub fn round(&self) -> crate::Result<Round> {
        let mut round = Round::default();
        let mut touched = BTreeSet::new();
        let now = now_ms();
        for share in self.journal.shares()? {
            let recent = share
                .revoked_ms
                .unwrap_or(share.expires_ms)
                .min(share.expires_ms);
            if share.token.is_none() || (!share.open() && now - recent > AFTER_CLOSE_MS) {
                continue;
            }
            match self.read(&share.id) {
                Ok(new) => {
                    round.answers += new.len();
                    for a in new {
                        if a.shot_id != 0 {
                            touched.insert(a.shot_id);
                        }
                        if a.kind == "comment" {
                            round.comments.push(a);
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!("gallery {} answers: {e}", share.id);
                    round.failed += 1;
                }
            }
            if let Err(e) = super::activity::read(&self.journal, &self.relay, &self.bus, &share) {
                tracing::debug!("gallery {} activity: {e}", share.id);
            }
        }
        for shot in touched {
            if self.sidecar(shot)? {
                round.sidecars += 1;
            }
        }
        // After the sidecars: a selection that fails to finish holds nothing else up.
        if let Err(e) = selection::record(&self.journal).and_then(|()| {
            selection::finish(
                &self.journal,
                &self.library,
                self.naming,
                &self.picks,
                &self.bus,
            )
        }) {
            tracing::warn!("gallery selections: {e}");
        }
        Ok(round)
    }

    /// Share `id`'s new answers, recorded.
    fn read(&self, id: &str) -> Result<Vec<Answer>, ReadError> {
        let mut new = Vec::new();
        loop {
            let after = self.journal.answers_seq(id)?;
            let (entries, total, next) = self.relay.answers(id, after)?;
            if total < after {
                // The relay's log is shorter than what was read (a relay without its data
                // folder, a flushed Redis): read it again from the start; what is known
                // already counts once.
                tracing::warn!(
                    "gallery {id}: the relay holds {total} answers, {after} were read: reading again"
                );
                self.journal.reset_answers_seq(id)?;
                continue;
            }
            if next <= after {
                return Ok(new);
            }
            let answers: Vec<Answer> = entries.iter().filter_map(|e| parse(id, e)).collect();
            new.extend(self.journal.record_answers(id, &answers, next)?);
            if next >= total {
                return Ok(new);
            }
        }
    }

    /// Bring `shot`'s sidecar up to date with its marks; whether it was written.
    fn sidecar(&self, shot: i64) -> crate::Result<bool> {
        let marks = self.journal.marks(shot)?;
        if marks == Marks::default() || self.journal.sidecar_marks(shot)?.as_ref() == Some(&marks) {
            return Ok(false);
        }
        let Some(rel) = self.journal.shot(shot)?.and_then(|s| s.rel_path) else {
            return Ok(false);
        };
        let path = self.naming.path(&self.library.join(&rel));
        let written = sidecar::write(
            &path,
            sidecar::Marks {
                rating: marks.rating,
                label: marks.label.as_deref().map(xmp_label),
            },
        );
        match written {
            Ok(()) => {
                self.journal.sidecar_done(shot, &marks, None)?;
                Ok(true)
            }
            Err(e) => {
                tracing::warn!("sidecar {}: {e}", path.display());
                self.journal
                    .sidecar_done(shot, &marks, Some(&e.to_string()))?;
                Ok(false)
            }
        }
    }

    /// One notification for `new` comments (not empty).
    pub fn notify(&self, new: &[Answer]) {
        self.bus
            .publish(Event::Notification(comments::notification(new)));
    }
}

/// A share's log could not be read this round.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error(transparent)]
    Relay(#[from] RelayError),
    #[error(transparent)]
    Journal(#[from] crate::Error),
}

/// Run until shutdown.
pub async fn run(collector: Collector, mut shutdown: watch::Receiver<bool>) {
    let mut batch = Batch::default();
    loop {
        let c = collector.clone();
        match tokio::task::spawn_blocking(move || c.round()).await {
            Ok(Ok(round)) => {
                if round.answers > 0 {
                    tracing::debug!(
                        "gallery answers: {} new, {} sidecars",
                        round.answers,
                        round.sidecars
                    );
                }
                batch.add(round.comments);
            }
            Ok(Err(e)) => tracing::warn!("gallery answers: {e}"),
            Err(e) => tracing::warn!("gallery answers: {e}"),
        }
        if let Some(comments) = batch.due(Instant::now()) {
            collector.notify(&comments);
        }
        let stop = tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => *shutdown.borrow(),
            _ = shutdown.changed() => true,
        };
        if stop {
            // What waits for the window is told now, or it never would be.
            if let Some(comments) = batch.due(Instant::now() + BATCH_WINDOW) {
                collector.notify(&comments);
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn log_entries_become_answers() {
        let entry = json!({"seq": 4, "id": "x", "ts": 10, "event": {"type": "gallery_label",
            "payload": {"frame": 7, "label": "red", "sub": "guest:1", "name": "Ana"}}});
        let a = parse("s", &entry).expect("answer");
        assert_eq!(
            (a.kind.as_str(), a.value.as_str(), a.shot_id),
            ("label", "red", 7)
        );
        assert_eq!(a.name.as_deref(), Some("Ana"));
        assert!(
            parse(
                "s",
                &json!({"seq": 1, "id": "y", "event": {"type": "gallery_frame", "payload": {}}})
            )
            .is_none()
        );
    }
}
