//! The engine's gallery task: for every share in the journal, make its link (a guest
//! token minted on the relay through `POST /v1/tokens`), tell the relay it is open (or
//! that it closed), and send it each frame of its session once the frame's thumbnail is
//! made (and again once its 2048 px preview is): the pictures into the relay's blob
//! store, then a `gallery_frame`
//! on the share's channel (through the durable outbox), then the share's state. Runs on
//! a blocking thread a round at a time; woken when a preview is made, a share is made or
//! revoked (checked every second), and retried with backoff while the relay is away.
//! What a round did is in the journal, so a crash at any point resumes: a frame sent
//! twice is shown once (guests' pages key frames by id). The studio's own dashboard gets
//! each new frame's previews the same way, on `<studio>:camera` (`frame_preview`).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use shotline_protocol::{Event, GalleryFrame};
use tokio::sync::{Notify, watch};

use super::link::{LinkBase, base_for, link};
use super::relay_http::{RelayError, RelayHttp};
use super::state::{blob_name, gallery_frame};
use crate::bus::Bus;
use crate::journal::{Journal, Share, ShareFrame};
use crate::preview::watermark::{Rgba, Watermark};
use crate::relay_client::RelayTarget;

/// Frames sent per share per round.
pub(super) const BATCH: usize = 50;

/// Everything the task needs.
#[derive(Debug, Clone)]
pub struct Publisher {
    pub(super) journal: Arc<Journal>,
    pub(super) library: PathBuf,
    pub(super) studio: String,
    pub(super) relay: RelayHttp,
    link: LinkBase,
    pub(super) bus: Bus,
    /// The relay refused the dashboard's previews this run.
    studio_refused: Arc<AtomicBool>,
    /// Layout overlays sent this run (blob names: each kept copy has its own).
    pub(super) overlays_sent: Arc<std::sync::Mutex<HashSet<String>>>,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Frames sent.
    pub frames: usize,
    /// Relay calls that failed (the round is tried again later).
    pub failed: usize,
}

impl Publisher {
    /// A publisher to `relay` for the studio `studio`.
    pub fn new(
        journal: Arc<Journal>,
        library: PathBuf,
        studio: &str,
        relay: &RelayTarget,
        bus: Bus,
    ) -> Self {
        let link = base_for(&relay.url);
        // For `shotline share create` in another process: what to tell people about links.
        let _ = journal.set_meta("gallery_base", &link.base);
        let _ = journal.set_meta("gallery_note", link.note.as_deref().unwrap_or(""));
        Self {
            journal,
            library,
            studio: studio.to_string(),
            relay: RelayHttp::new(&relay.url, &relay.token),
            link,
            bus,
            studio_refused: Arc::default(),
            overlays_sent: Arc::default(),
        }
    }

    /// Send what is due, share by share; `fresh` lists shares whose state was written
    /// this run (a restart writes each once, in case a crash came between a frame and
    /// its state).
    pub fn round(&self, fresh: &mut HashSet<String>) -> crate::Result<Round> {
        let mut round = Round::default();
        if !self.studio_refused.load(Ordering::Relaxed) {
            match self.studio_previews() {
                Ok(frames) => round.frames += frames,
                // The relay will not take them (a token without the studio's camera
                // channel): the dashboard shows names without pictures, shares go on.
                Err(e) if e.forbidden() => {
                    tracing::warn!("dashboard previews: {e}; not sent again until a restart");
                    self.studio_refused.store(true, Ordering::Relaxed);
                }
                Err(e) => {
                    tracing::warn!("dashboard previews: {e}");
                    round.failed += 1;
                }
            }
        }
        for share in self.journal.shares()? {
            match self.share(&share, fresh) {
                Ok(frames) => round.frames += frames,
                Err(e) => {
                    let refused = e.refused();
                    tracing::warn!("gallery {}: {e}", share.id);
                    // For `shotline share create`, waiting in another process.
                    let note = if refused {
                        format!("refused: {e}")
                    } else {
                        e.to_string()
                    };
                    let _ = self
                        .journal
                        .set_meta(&format!("share_error:{}", share.id), &note);
                    if refused && share.token.is_none() {
                        // The relay will never make this link (the token is too narrow or
                        // too short-lived for it): the share is closed, not retried forever.
                        self.journal.revoke_share(&share.id)?;
                    } else {
                        round.failed += 1;
                    }
                }
            }
        }
        Ok(round)
    }

    fn share(&self, share: &Share, fresh: &mut HashSet<String>) -> Result<usize, ShareError> {
        let channel = super::channel(&self.studio, &share.id);
        if !share.open() {
            if share.revoked_ms.is_some() && !share.registered {
                match self.relay.close_share(&share.id) {
                    Ok(()) => {}
                    // Never told the relay about it: nothing to close.
                    Err(e) if e.status() == Some(404) => {}
                    Err(e) => return Err(e.into()),
                }
                self.journal.share_registered(&share.id)?;
            }
            return Ok(0);
        }
        if !share.registered {
            // The relay knows the share (its PIN above all) before its link exists.
            self.relay.put_share(share, &channel)?;
            // Its options may have changed: the page reads them from its state.
            fresh.remove(&share.id);
            // Changed again meanwhile: told again next round.
            self.journal
                .share_registered_as_of(&share.id, share.settings_version)?;
        }
        if share.token.is_none() {
            let (token, exp_ms) = self
                .relay
                .mint_link(&share.id, &channel, share.expires_ms)?;
            let url = link(&self.link.base, &share.id, &token);
            self.journal.share_linked(&share.id, &token, &url, exp_ms)?;
        }
        let due = self.journal.frames_to_publish(&share.id, BATCH)?;
        let mark = if due.is_empty() {
            None
        } else {
            self.watermark(share)
        };
        // The pictures first, then the state naming them, then the events: a guest on
        // any node may fetch what an event names (a node that did not take the publish
        // knows the pictures from the state only). Marked sent last, so a crash in
        // between sends them again (pages show a frame once).
        let mut ready = Vec::new();
        for frame in &due {
            // Sent with the watermark read with the share (a change meanwhile sends it
            // again next round).
            let frame = ShareFrame {
                version: share.watermark_version,
                ..frame.clone()
            };
            if let Some(event) = self.send_frame(&share.id, &channel, &frame, mark.as_ref())? {
                ready.push((frame, event));
            }
        }
        let sent = ready.len();
        if sent > 0 {
            let shown: Vec<GalleryFrame> = ready.iter().map(|(_, e)| e.clone()).collect();
            self.put_state_with(share, &channel, &shown)?;
            fresh.insert(share.id.clone());
        }
        for (frame, event) in ready {
            self.bus.publish(Event::GalleryFrame(event));
            self.journal.frame_published(
                &share.id,
                frame.shot_id,
                frame.version,
                frame.preview_made,
            )?;
        }
        if !fresh.contains(&share.id) {
            self.put_state(share, &channel)?;
            fresh.insert(share.id.clone());
        }
        Ok(sent)
    }

    /// The share's watermark with its logo decoded, if it has one (a logo that cannot
    /// be read leaves the text, or nothing, and is logged).
    fn watermark(&self, share: &Share) -> Option<(Watermark, Option<Rgba>)> {
        let mark = share.watermark.clone()?;
        let logo = mark.logo.as_deref().and_then(|path| {
            crate::preview::watermark::read_logo(std::path::Path::new(path))
                .map_err(|e| tracing::warn!("gallery {} watermark logo: {e}", share.id))
                .ok()
        });
        Some((mark, logo))
    }

    /// The frame's previews into the blob store (with the share's watermark burned in);
    /// its `gallery_frame`. `None` when the watermark could not be burned in: the frame
    /// waits (never sent clean), and is tried again next round.
    fn send_frame(
        &self,
        share: &str,
        channel: &str,
        frame: &ShareFrame,
        mark: Option<&(Watermark, Option<Rgba>)>,
    ) -> Result<Option<GalleryFrame>, ShareError> {
        let mut event = gallery_frame(share, channel, frame);
        if frame.size.is_some() {
            let (preview, thumb) = crate::preview::paths(&self.library, frame.shot_id);
            // The thumbnail first (the frame shows at once), the preview once it is made
            // (the frame is sent again then, and the page swaps it in).
            let mut pictures = vec![(&thumb, crate::preview::THUMB_EDGE)];
            if frame.preview_made {
                pictures.push((&preview, crate::preview::PREVIEW_EDGE));
            }
            for (path, edge) in pictures {
                let name = blob_name(frame.shot_id, edge, frame.version);
                match std::fs::read(path) {
                    Ok(bytes) => {
                        let bytes = match mark {
                            Some((mark, logo)) => {
                                match crate::preview::watermark::burn(&bytes, mark, logo.as_ref()) {
                                    Ok(marked) => marked,
                                    Err(e) => {
                                        // Never the clean picture where a watermark is asked for.
                                        tracing::warn!(
                                            "gallery {share}: watermark on shot {}: {e}; the frame waits",
                                            frame.shot_id
                                        );
                                        return Ok(None);
                                    }
                                }
                            }
                            None => bytes,
                        };
                        self.relay.put_blob(channel, &name, "image/jpeg", &bytes)?;
                    }
                    Err(e) => {
                        // Made, then lost (the library's .shotline was cleaned): a
                        // placeholder rather than a frame that never shows.
                        tracing::info!("preview {} is gone: {e}", path.display());
                        event.preview = None;
                        event.thumbnail = None;
                    }
                }
            }
        }
        Ok(Some(event))
    }
}

/// A round could not finish a share.
#[derive(Debug, thiserror::Error)]
pub(super) enum ShareError {
    #[error(transparent)]
    Relay(#[from] RelayError),
    #[error(transparent)]
    Journal(#[from] crate::Error),
}

impl ShareError {
    /// The relay will not take this token for it (401, 403).
    pub(super) fn forbidden(&self) -> bool {
        matches!(self, ShareError::Relay(e) if e.status().is_some_and(|s| s == 401 || s == 403))
    }

    /// The relay refused (400, 401, 403): trying again changes nothing.
    fn refused(&self) -> bool {
        matches!(self, ShareError::Relay(e) if e.status().is_some_and(|s| (400..500).contains(&s) && s != 429 && s != 408))
    }
}

/// Run until shutdown; `made` is woken when a preview is made.
pub async fn run(publisher: Publisher, made: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    let mut fresh = HashSet::new();
    let mut failures = 0u32;
    loop {
        let p = publisher.clone();
        let mut f = std::mem::take(&mut fresh);
        let done = tokio::task::spawn_blocking(move || (p.round(&mut f), f)).await;
        let pause = match done {
            Ok((Ok(round), f)) => {
                fresh = f;
                if round.failed > 0 {
                    failures += 1;
                    shotline_protocol::retry::backoff(
                        failures,
                        Duration::from_millis(500),
                        Duration::from_secs(30),
                    )
                } else {
                    failures = 0;
                    if round.frames > 0 {
                        // More may be due at once.
                        continue;
                    }
                    Duration::from_secs(1)
                }
            }
            Ok((Err(e), f)) => {
                fresh = f;
                tracing::warn!("gallery: {e}");
                Duration::from_secs(5)
            }
            Err(_) => Duration::from_secs(5),
        };
        tokio::select! {
            _ = made.notified(), if failures == 0 => {}
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
