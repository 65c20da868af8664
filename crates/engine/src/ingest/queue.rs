//! The ingest queue: candidates from every source, one at a time (the library is one
//! disk), unfinished shots of a previous run first. A candidate offered twice while it
//! waits is taken once; a failure waits with backoff and is tried again, with one alert
//! for a full library disk and one when it is writable again.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shotline_protocol::retry::backoff;
use shotline_protocol::{Level, ShotSource};
use tokio::sync::{Notify, mpsc, watch};

use super::{Candidate, Ingest, Outcome};
use crate::{Bus, Error};

/// First and longest wait before a failed candidate is tried again.
const RETRY: (Duration, Duration) = (Duration::from_secs(2), Duration::from_secs(30));
/// Wait before a file another program still writes is looked at again.
const WRITER_WAIT: Duration = Duration::from_secs(1);
/// How long a file may stay held by its writer before that counts as a failure (and so is
/// told, as any other).
const WRITER_PATIENCE: Duration = Duration::from_secs(600);

/// Candidates waiting, and failures waiting for their retry.
#[derive(Debug, Default)]
struct Queue {
    waiting: VecDeque<Candidate>,
    queued: HashSet<PathBuf>,
    /// (when, candidate): failures waiting for their retry.
    retry: Vec<(Instant, Candidate)>,
    /// Failed attempts so far, per file, until one succeeds.
    failures: HashMap<PathBuf, u32>,
    /// Since when each file has been found held by its writer.
    held_since: HashMap<PathBuf, Instant>,
    /// The library disk is full and the alert was raised.
    full_alerted: bool,
}

impl Queue {
    fn offer(&mut self, candidate: Candidate) {
        if self.queued.insert(candidate.path.clone()) {
            self.waiting.push_back(candidate);
        }
    }

    /// Move retries that are due (and not queued again already) to the queue.
    fn due_retries(&mut self, now: Instant) {
        let mut due = Vec::new();
        self.retry.retain(|(at, candidate)| {
            let keep = *at > now || self.queued.contains(&candidate.path);
            if !keep {
                due.push(candidate.clone());
            }
            keep
        });
        for candidate in due {
            self.offer(candidate);
        }
    }

    fn next(&mut self) -> Option<Candidate> {
        let candidate = self.waiting.pop_front()?;
        self.queued.remove(&candidate.path);
        Some(candidate)
    }

    /// It worked: forget its failures.
    fn succeeded(&mut self, candidate: &Candidate) {
        self.failures.remove(&candidate.path);
        self.held_since.remove(&candidate.path);
        self.retry.retain(|(_, c)| c.path != candidate.path);
    }

    /// Not complete yet (its writer still holds it): it comes back after [`WRITER_WAIT`],
    /// with no failure counted, for [`WRITER_PATIENCE`]; `Err` gives it back after that.
    fn held(&mut self, candidate: Candidate, now: Instant) -> Result<(), Candidate> {
        let since = *self.held_since.entry(candidate.path.clone()).or_insert(now);
        if now.duration_since(since) >= WRITER_PATIENCE {
            return Err(candidate);
        }
        self.retry.retain(|(_, c)| c.path != candidate.path);
        self.retry.push((now + WRITER_WAIT, candidate));
        Ok(())
    }

    /// It failed again: how many times now; it comes back after the backoff.
    fn failed(&mut self, candidate: Candidate) -> u32 {
        let attempts = self.failures.entry(candidate.path.clone()).or_default();
        *attempts += 1;
        let attempts = *attempts;
        self.retry.retain(|(_, c)| c.path != candidate.path);
        let at = Instant::now() + backoff(attempts, RETRY.0, RETRY.1);
        self.retry.push((at, candidate));
        attempts
    }
}

/// Ingest candidates from `rx` until shutdown; each of `stored` is woken for every new
/// shot (backups, previews).
pub async fn run(
    ingest: Ingest,
    mut rx: mpsc::UnboundedReceiver<Candidate>,
    stored: Vec<Arc<Notify>>,
    bus: Bus,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut queue = Queue::default();
    let unfinished = {
        let ingest = ingest.clone();
        tokio::task::spawn_blocking(move || ingest.unfinished()).await
    };
    match unfinished {
        Ok(Ok(list)) => list.into_iter().for_each(|c| queue.offer(c)),
        Ok(Err(e)) => tracing::error!("reading unfinished shots: {e}"),
        Err(e) => tracing::error!("reading unfinished shots: {e}"),
    }
    while !*shutdown.borrow() {
        while let Ok(candidate) = rx.try_recv() {
            queue.offer(candidate);
        }
        queue.due_retries(Instant::now());
        let Some(candidate) = queue.next() else {
            // Asleep until a candidate comes or the next retry is due: no wake-up at idle.
            let retry = queue.retry.iter().map(|(when, _)| *when).min();
            let until = tokio::time::Instant::from_std(retry.unwrap_or_else(Instant::now));
            tokio::select! {
                Some(candidate) = rx.recv() => queue.offer(candidate),
                _ = tokio::time::sleep_until(until), if retry.is_some() => {}
                _ = shutdown.changed() => break,
            }
            continue;
        };
        let result = {
            let (ingest, candidate) = (ingest.clone(), candidate.clone());
            tokio::task::spawn_blocking(move || ingest.ingest(&candidate)).await
        };
        match result {
            Ok(Ok(outcome)) => done(&mut queue, &candidate, &outcome, &stored, &bus),
            Ok(Err(e)) => failed(&mut queue, candidate, &e, &bus),
            Err(e) => tracing::error!("ingest task failed: {e}"),
        }
    }
}

fn done(
    queue: &mut Queue,
    candidate: &Candidate,
    outcome: &Outcome,
    stored: &[Arc<Notify>],
    bus: &Bus,
) {
    if matches!(outcome, Outcome::Stored(_)) {
        stored.iter().for_each(|n| n.notify_one());
    }
    if candidate.source == ShotSource::Camera && !matches!(outcome, Outcome::Gone) {
        // The spool copy of a camera frame: the library has it now.
        if let Err(e) = std::fs::remove_file(&candidate.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("{}: {e}", candidate.path.display());
        }
    }
    queue.succeeded(candidate);
    if std::mem::take(&mut queue.full_alerted) {
        bus.notify(
            Level::Info,
            "library_ok",
            "Library writable again",
            "Frames are being stored again.",
        );
    }
}

fn failed(queue: &mut Queue, candidate: Candidate, e: &Error, bus: &Bus) {
    let candidate = if e.is_still_being_written(&candidate.path) {
        // Windows: the tethering tool holds the file open without sharing it.
        tracing::debug!(
            "{}: still being written; looked at again shortly",
            candidate.path.display()
        );
        match queue.held(candidate, Instant::now()) {
            Ok(()) => return,
            Err(candidate) => candidate,
        }
    } else {
        candidate
    };
    let original = candidate.original.clone();
    let attempts = queue.failed(candidate);
    if e.is_disk_full() {
        if !queue.full_alerted {
            queue.full_alerted = true;
            bus.notify(
                Level::Critical,
                "library_full",
                "The library disk is full",
                format!(
                    "{e}. New frames wait in the hot folder; free space on the library's disk."
                ),
            );
        }
    } else {
        let level = if attempts >= 3 {
            Level::Critical
        } else {
            Level::Warning
        };
        bus.notify(
            level,
            "ingest_failed",
            format!("Cannot store {original}"),
            format!("{e}. Retrying."),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(name: &str) -> Candidate {
        Candidate {
            path: PathBuf::from(name),
            original: name.into(),
            camera: "hot".into(),
            source: ShotSource::HotFolder,
        }
    }

    #[test]
    fn a_candidate_offered_twice_waits_once_and_retries_come_back_when_due() {
        let mut queue = Queue::default();
        queue.offer(candidate("a"));
        queue.offer(candidate("a"));
        queue.offer(candidate("b"));
        assert_eq!(queue.next(), Some(candidate("a")));
        let now = Instant::now();
        assert_eq!(queue.failed(candidate("a")), 1);
        queue.due_retries(now);
        assert_eq!(queue.next(), Some(candidate("b")));
        assert_eq!(queue.next(), None, "a is not due yet");
        queue.due_retries(now + RETRY.1);
        assert_eq!(queue.next(), Some(candidate("a")));
        assert_eq!(
            queue.failed(candidate("a")),
            2,
            "failures add up across retries"
        );
        queue.succeeded(&candidate("a"));
        assert!(queue.retry.is_empty() && queue.failures.is_empty());
    }

    /// Windows: a file the tethering tool still holds (a sharing violation) is looked at
    /// again shortly, with no failure counted and nobody alerted.
    #[cfg(windows)]
    #[test]
    fn a_file_still_being_written_is_no_failure() {
        let bus = Bus::new();
        let mut events = bus.subscribe();
        let mut queue = Queue::default();
        let now = Instant::now();
        for _ in 0..5 {
            let e = Error::io("a", std::io::Error::from_raw_os_error(32));
            failed(&mut queue, candidate("a"), &e, &bus);
        }
        assert!(queue.failures.is_empty(), "{:?}", queue.failures);
        assert!(
            events.try_recv().is_err(),
            "an alert for a file being written"
        );
        queue.due_retries(now + WRITER_WAIT + Duration::from_millis(100));
        assert_eq!(queue.next(), Some(candidate("a")));
        // Held for good: after a while it is a failure like any other, and told.
        let later = Instant::now() + WRITER_PATIENCE;
        assert_eq!(queue.held(candidate("a"), later), Err(candidate("a")));
        // Another file's sharing violation (the library's, say) is a plain failure.
        let e = Error::io("elsewhere", std::io::Error::from_raw_os_error(32));
        failed(&mut queue, candidate("b"), &e, &bus);
        assert_eq!(queue.failures.get(&PathBuf::from("b")), Some(&1));
    }
}
