//! Frames: new files from camera events downloaded through the spool into ingest, what was
//! shot while a camera was away taken on reconnect (reconciliation), captures answered
//! once their frames are in, full cards and full disks told, and verified frames deleted
//! from the card when configured.

use std::path::Path;
use std::time::{Duration, Instant};

use shotline_protocol::{CameraState, Level, ShotSource};

use super::{
    CAPTURE_SETTLE, CAPTURE_TIMEOUT, DELETE_EVERY, INFO_EVERY, MAX_DOWNLOAD_TRIES,
    MAX_EVENT_ERRORS, Service, requests::answer,
};
use crate::ingest::Candidate;
use crate::naming::sanitize_component;
use crate::source::camera::CameraError;
use crate::source::camera::driver::{CardFile, DeviceEvent, DriverError, Failure};
use crate::source::camera::spool;
use crate::source::filter;

impl Service {
    /// Take every file on the card that was not there when the session first saw this
    /// camera and that Shotline has not taken yet.
    pub(super) fn reconcile(&mut self, i: usize) {
        let (key, session) = (self.slots[i].key.clone(), self.ctx.session.current());
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        let files = match device.list() {
            Ok(files) => files,
            Err(e) => {
                tracing::warn!("camera: cannot list the card: {e}");
                return;
            }
        };
        let journal = &self.ctx.journal;
        match journal.has_card_baseline(&key, &session) {
            Ok(false) => {
                if let Err(e) = journal.record_card_baseline(&key, &session, &files) {
                    tracing::warn!("camera: {e}");
                }
                tracing::info!(
                    "camera: {} file(s) already on the card belong to earlier shoots; left alone",
                    files.len()
                );
                return;
            }
            Ok(true) => {}
            Err(e) => {
                tracing::warn!("camera: {e}");
                return;
            }
        }
        let mut missing = 0;
        for f in files {
            if filter::is_ignored(Path::new(&f.name)) {
                continue;
            }
            if matches!(journal.card_file_state(&key, &f), Ok(None))
                && !self.slots[i].downloads.iter().any(|(d, _)| *d == f)
            {
                missing += 1;
                self.slots[i].downloads.push_back((f, 0));
            }
        }
        if missing > 0 {
            tracing::info!(
                "camera: taking {missing} frame(s) shot while Shotline was not connected"
            );
        } else {
            tracing::info!("camera: card checked, nothing to take");
        }
    }

    /// Wait up to `round` for the camera's next event and act on it.
    ///
    /// libgphoto2's generic PTP event wait reads the camera's interrupt endpoint a second
    /// time when the first read times out (`ptp_usb_event` in ptp2's `usb.c`), so on such a
    /// camera a wait of T with nothing to tell lasts 2T, and a request waits that long for
    /// the thread. How long a timed-out wait of a round of at least [`SCALE_FROM`] really
    /// took is measured, and the next waits ask for their round divided by that factor, so
    /// a round lasts what it is meant to.
    pub(super) fn poll(&mut self, i: usize, round: Duration) {
        let scale = self.slots[i].wait_scale;
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        let ask = round / scale;
        let start = Instant::now();
        match device.wait_event(ask) {
            Ok(event) => {
                // The round, not the divided ask, decides: a scale that divides a 50 ms
                // round below 20 ms must still be measured again, or one slow wait would
                // fix it for good.
                if matches!(event, DeviceEvent::Timeout) && round >= SCALE_FROM {
                    self.slots[i].wait_scale = wait_scale(ask, start.elapsed());
                }
                self.slots[i].event_errors = 0;
                match event {
                    DeviceEvent::Timeout | DeviceEvent::Other(_) => {}
                    DeviceEvent::NewFile { folder, name } => {
                        if let Some(w) = self.slots[i].captures.first() {
                            tracing::debug!(
                                "camera: {name} announced {:.1} ms after the shutter (this wait {:.1} ms)",
                                w.since.elapsed().as_secs_f64() * 1e3,
                                start.elapsed().as_secs_f64() * 1e3,
                            );
                        }
                        self.new_file(i, folder, name)
                    }
                    DeviceEvent::CaptureComplete => {
                        let now = Instant::now();
                        if let Some(w) = self.slots[i].captures.first() {
                            tracing::debug!(
                                "camera: capture complete {:.1} ms after the shutter (this wait {:.1} ms of {} asked)",
                                w.since.elapsed().as_secs_f64() * 1e3,
                                start.elapsed().as_secs_f64() * 1e3,
                                ask.as_millis()
                            );
                        }
                        for w in &mut self.slots[i].captures {
                            if !w.files.is_empty() {
                                w.last_file = Some(now - CAPTURE_SETTLE);
                            }
                        }
                        // The card's free space changed: read it again once things settle.
                        self.slots[i].info_at = now.checked_sub(INFO_EVERY).unwrap_or(now);
                    }
                    DeviceEvent::CardFull => self.card_full(i, "the camera reported its card full"),
                }
            }
            Err(e) if e.failure == Failure::Gone => self.disconnect(i, &format!("lost: {e}")),
            Err(e) => {
                let slot = &mut self.slots[i];
                slot.event_errors += 1;
                tracing::warn!("camera on {}: {e}", slot.found.port);
                if slot.event_errors >= MAX_EVENT_ERRORS {
                    self.disconnect(i, &format!("stopped answering: {e}"));
                }
            }
        }
    }

    pub(super) fn new_file(&mut self, i: usize, folder: String, name: String) {
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        let file = match device.stat(&folder, &name) {
            Ok(file) => file,
            Err(e) => {
                tracing::warn!("camera: new file {folder}/{name}: {e}");
                CardFile {
                    folder,
                    name,
                    size: 0,
                    mtime: 0,
                }
            }
        };
        self.slots[i].card_full = false;
        self.slots[i].downloads.push_front((file, 0));
        self.slots[i].download_at = Instant::now();
    }

    pub(super) fn downloads(&mut self, i: usize) {
        let now = Instant::now();
        while now >= self.slots[i].download_at {
            let Some((file, tries)) = self.slots[i].downloads.pop_front() else {
                break;
            };
            let key = self.slots[i].key.clone();
            if !matches!(self.ctx.journal.card_file_state(&key, &file), Ok(None)) {
                continue;
            }
            let to = spool::path_for(&self.spool, &key, &file);
            let Some(device) = self.slots[i].device.as_mut() else {
                return;
            };
            match spool::download(device.as_mut(), &file, &to) {
                Ok(()) => {
                    let start = Instant::now();
                    if let Err(e) = self.ctx.journal.record_card_taken(
                        &key,
                        &self.ctx.session.current(),
                        &file,
                        &to.to_string_lossy(),
                    ) {
                        tracing::warn!("camera: {e}");
                    }
                    tracing::debug!(
                        "camera: {} recorded as taken in {:.1} ms",
                        file.name,
                        start.elapsed().as_secs_f64() * 1e3
                    );
                    if self.disk_full {
                        self.disk_full = false;
                        self.ctx.bus.notify(
                            Level::Info,
                            "camera_disk_ok",
                            "Camera downloads go on",
                            "The library's disk has room again.",
                        );
                    }
                    let model = self.slots[i].found.model.clone();
                    let _ = self.ctx.candidates.send(Candidate {
                        path: to,
                        // Untrusted: one safe component, whatever the camera sent.
                        original: sanitize_component(&file.name),
                        camera: model,
                        source: ShotSource::Camera,
                    });
                    for w in &mut self.slots[i].captures {
                        w.files.push(file.name.clone());
                        w.last_file = Some(Instant::now());
                    }
                }
                Err(e) => {
                    self.download_failed(i, file, tries, e);
                    return;
                }
            }
        }
    }

    pub(super) fn download_failed(&mut self, i: usize, file: CardFile, tries: u32, e: DriverError) {
        match e.failure {
            Failure::Gone => {
                self.disconnect(i, &format!("lost during a download: {e}"));
            }
            Failure::DiskFull => {
                if !self.disk_full {
                    self.disk_full = true;
                    self.ctx.bus.notify(
                        Level::Critical,
                        "library_full",
                        "The library disk is full",
                        format!("{e}. The frame stays on the camera's card and is downloaded when space returns."),
                    );
                }
                let slot = &mut self.slots[i];
                for w in std::mem::take(&mut slot.captures) {
                    answer(
                        &self.ctx.journal,
                        w.reply,
                        Err(CameraError::DiskFull(format!(
                            "the library disk is full: {} stays on the card and is downloaded when space returns",
                            file.name
                        ))),
                    );
                }
                slot.downloads.push_front((file, tries));
                slot.download_at = Instant::now() + Duration::from_secs(2);
            }
            _ if tries + 1 < MAX_DOWNLOAD_TRIES => {
                tracing::warn!("camera: download of {} failed: {e}; retrying", file.name);
                let slot = &mut self.slots[i];
                slot.downloads.push_front((file, tries + 1));
                slot.download_at = Instant::now() + Duration::from_millis(500 << tries);
            }
            _ => self.ctx.bus.notify(
                Level::Warning,
                "camera_download",
                format!("Cannot download {}", file.name),
                format!("{e}. It stays on the card and is tried again when the camera reconnects."),
            ),
        }
    }

    pub(super) fn card_full(&mut self, i: usize, why: &str) {
        let slot = &mut self.slots[i];
        slot.info_at = slot.info_at.checked_sub(INFO_EVERY).unwrap_or(slot.info_at);
        let model = slot.found.model.clone();
        for w in std::mem::take(&mut slot.captures) {
            answer(
                &self.ctx.journal,
                w.reply,
                Err(CameraError::CardFull(format!("{model}: the card is full"))),
            );
        }
        if !slot.card_full {
            slot.card_full = true;
            self.ctx.bus.notify(
                Level::Critical,
                "card_full",
                format!("{model}: the memory card is full"),
                format!("{why}. Every frame on it is taken; swap or empty the card to shoot on."),
            );
        }
    }

    pub(super) fn housekeeping(&mut self, i: usize) {
        let now = Instant::now();
        // Captures: answered once their frames are in (or the camera went quiet).
        let slot = &mut self.slots[i];
        let mut k = 0;
        while k < slot.captures.len() {
            let w = &slot.captures[k];
            let settled = w
                .last_file
                .is_some_and(|t| now.duration_since(t) >= CAPTURE_SETTLE)
                && slot.downloads.is_empty();
            let late = now.duration_since(w.since) >= CAPTURE_TIMEOUT;
            if settled || late {
                let w = slot.captures.remove(k);
                let result = if w.files.is_empty() {
                    Err(CameraError::Timeout(format!(
                        "{} fired but sent no frame within {}s",
                        slot.found.model,
                        CAPTURE_TIMEOUT.as_secs()
                    )))
                } else {
                    Ok(w.files.join("\n"))
                };
                answer(&self.ctx.journal, w.reply, result);
            } else {
                k += 1;
            }
        }
        let slot = &self.slots[i];
        if now.duration_since(slot.info_at) >= INFO_EVERY
            && slot.captures.is_empty()
            && slot.downloads.is_empty()
        {
            self.refresh_info(i);
        }
        // A journal query per round would be wasted: verification takes seconds anyway.
        if self.ctx.config.delete_after_verified > 0 && now >= self.slots[i].delete_at {
            self.slots[i].delete_at = now + DELETE_EVERY;
            self.delete_verified(i);
        }
    }

    pub(super) fn refresh_info(&mut self, i: usize) {
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        let start = Instant::now();
        let info = device.info();
        tracing::debug!(
            "camera: battery and card read in {:.1} ms",
            start.elapsed().as_secs_f64() * 1e3
        );
        let slot = &mut self.slots[i];
        slot.info_at = Instant::now();
        if slot.info != info {
            slot.info = info;
            let message = slot.status.as_ref().and_then(|s| s.message.clone());
            self.publish(i, CameraState::Connected, message);
        }
    }

    pub(super) fn delete_verified(&mut self, i: usize) {
        let key = self.slots[i].key.clone();
        let files = match self
            .ctx
            .journal
            .card_files_to_delete(&key, self.ctx.config.delete_after_verified)
        {
            Ok(files) => files,
            Err(e) => {
                tracing::warn!("camera: {e}");
                return;
            }
        };
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        for f in files {
            match device.delete(&f) {
                Ok(()) => {
                    tracing::info!("camera: deleted {} from the card (verified)", f.name);
                    let _ = self.ctx.journal.record_card_deleted(&key, &f);
                }
                Err(e) if e.failure == Failure::NotSupported => {
                    let _ = self.ctx.journal.record_card_deleted(&key, &f);
                    tracing::warn!("camera: cannot delete {} from the card: {e}", f.name);
                }
                Err(e) => {
                    tracing::warn!("camera: cannot delete {} from the card: {e}", f.name);
                    return;
                }
            }
        }
    }
}

/// Timed-out waits of rounds shorter than this do not set a camera's wait scale: their fixed cost
/// (a look at the camera, the hand-off to the driver's thread) would pass for a slow
/// camera and shrink its long waits too. (`bench camera`: 5 ms waits of the virtual
/// camera set a scale that cut the 300 ms capture wait to 75-100 ms, and 5 captures of
/// 25 had their "capture complete", due 120 ms after the shutter, seen 100 ms late.)
const SCALE_FROM: Duration = Duration::from_millis(20);

/// How many times longer than `asked` a wait lasted that `took`, whole, from 1 to 4.
fn wait_scale(asked: Duration, took: Duration) -> u32 {
    let ratio = took.as_secs_f64() / asked.as_secs_f64().max(1e-3);
    ratio.round().clamp(1.0, 4.0) as u32
}
