//! Live view on the camera thread, between event waits, downloads and captures (one USB
//! pipe): a picture at most every 1/`liveview_fps` s while someone watches
//! ([`crate::live::LiveFeed::viewers`]), none while a capture waits for its frames or a
//! download is due (a capture pauses live view; it resumes once the frames are in), and
//! live view ended on the camera after `liveview_idle` with nobody watching. Focus drives
//! answer with the camera's words; every change shows in the camera's status (`live`).

use std::time::{Duration, Instant};

use shotline_protocol::{CameraState, LiveView};

use super::requests::answer;
use super::{Reply, Service};
use crate::live::Focus;
use crate::source::camera::CameraError;
use crate::source::camera::driver::Failure;

/// After a failed picture, the next try waits this long.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// After a camera said it is busy (it is writing a frame), the next try waits this long.
const BUSY_RETRY: Duration = Duration::from_millis(300);

/// Live view's state on the camera thread.
#[derive(Debug)]
pub(super) struct Live {
    /// The camera streaming (its slot), while pictures come.
    pub(super) on: Option<usize>,
    /// The camera put in live view (its slot), until live view is ended on it: a camera
    /// whose pictures failed may still be in live view, with its sensor on.
    started: Option<usize>,
    /// A camera that has no live view (its slot): not asked again until it reconnects.
    unsupported: Option<usize>,
    /// The status shown: `None` until live view was first asked for.
    pub(super) shown: Option<LiveView>,
    /// The last moment anyone watched.
    seen: Instant,
    /// No picture before then.
    next_at: Instant,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            on: None,
            started: None,
            unsupported: None,
            shown: None,
            seen: Instant::now(),
            next_at: Instant::now(),
        }
    }
}

impl Service {
    /// The pause between pictures.
    fn live_interval(&self) -> Duration {
        Duration::from_secs(1) / self.ctx.config.liveview_fps.clamp(1, 60)
    }

    /// True while live view runs or is wanted: the rounds are then short.
    pub(super) fn live_wanted(&self) -> bool {
        self.live.on.is_some() || (self.ctx.live.viewers() > 0 && self.live.unsupported.is_none())
    }

    /// Take a picture when one is due; start and stop live view as viewers come and go.
    pub(super) fn live_view(&mut self) {
        let now = Instant::now();
        if self.ctx.live.viewers() > 0 {
            self.live.seen = now;
        } else if let Some(i) = self.live.started {
            let idle = self.ctx.config.liveview_idle();
            let busy = !self.slots[i].captures.is_empty() || !self.slots[i].downloads.is_empty();
            if now.duration_since(self.live.seen) >= idle && !busy {
                self.end_live(
                    i,
                    format!(
                        "stopped: nobody watched for {} (saves the sensor and the battery); it starts again when someone opens live view",
                        humantime::format_duration(idle)
                    ),
                );
            }
            return;
        } else {
            return;
        }
        let Some(i) = self.live.on.or_else(|| self.pick(None).ok()) else {
            return;
        };
        if self.live.unsupported == Some(i) {
            return;
        }
        let slot = &self.slots[i];
        // One pipe: the frames of a capture come first.
        if !slot.captures.is_empty() || !slot.downloads.is_empty() || now < self.live.next_at {
            return;
        }
        let model = slot.found.model.clone();
        self.live.next_at = now + self.live_interval();
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        match device.preview() {
            Ok(jpeg) => {
                self.ctx.live.put(jpeg.into(), &model);
                self.live.started = Some(i);
                if self.live.on != Some(i) {
                    self.live.on = Some(i);
                    let focus = self.live.shown.as_ref().and_then(|s| s.focus.clone());
                    self.show_live(i, true, None, focus);
                }
            }
            Err(e) if e.failure == Failure::Gone => self.disconnect(i, &format!("lost: {e}")),
            // Writing a frame it just shot: the next picture in a moment.
            Err(e) if e.failure == Failure::Busy => {
                self.live.next_at = now + BUSY_RETRY;
            }
            Err(e) => {
                self.live.on = None;
                // The camera may have entered live view before it failed.
                self.live.started = self.live.started.or(Some(i));
                let why = if e.failure == Failure::NotSupported {
                    self.live.unsupported = Some(i);
                    format!("{model} has no live view that Shotline can show: {e}")
                } else {
                    self.live.next_at = now + RETRY_AFTER;
                    format!("live view failed: {e}; trying again in 5 s")
                };
                tracing::warn!("camera: {why}");
                self.show_live(i, false, Some(why), None);
            }
        }
    }

    /// End live view on camera `i`, telling why.
    pub(super) fn end_live(&mut self, i: usize, why: String) {
        self.live.on = None;
        self.live.started = None;
        if let Some(device) = self.slots[i].device.as_mut()
            && let Err(e) = device.end_preview()
        {
            tracing::debug!("camera: ending live view: {e}");
        }
        tracing::info!("camera: live view {why}");
        self.show_live(i, false, Some(why), None);
    }

    /// The camera went away: live view is off.
    pub(super) fn live_lost(&mut self, i: usize) {
        if self.live.started == Some(i) {
            self.live.started = None;
        }
        if self.live.unsupported == Some(i) {
            self.live.unsupported = None;
        }
        if self.live.on == Some(i) {
            self.live.on = None;
            self.live.shown = Some(LiveView {
                on: false,
                message: Some("the camera disconnected".into()),
                focus: None,
            });
        }
    }

    fn show_live(&mut self, i: usize, on: bool, message: Option<String>, focus: Option<String>) {
        self.live.shown = Some(LiveView { on, message, focus });
        let (state, message) = match &self.slots[i].status {
            Some(s) => (s.state, s.message.clone()),
            None => (CameraState::Connected, None),
        };
        self.publish(i, state, message);
    }

    /// Drive the focus of the camera on `port` (or the first connected one).
    pub(super) fn focus(&mut self, port: Option<&str>, drive: Focus, reply: Reply) {
        self.requested();
        let i = match self.pick(port) {
            Ok(i) => i,
            Err(e) => return answer(&self.ctx.journal, reply, Err(e)),
        };
        if drive != Focus::Auto && self.live.on != Some(i) {
            return answer(
                &self.ctx.journal,
                reply,
                Err(CameraError::Failed(
                    "manual focus drives the lens in live view only: open live view first".into(),
                )),
            );
        }
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        let result = device.focus(drive);
        let (said, result) = match result {
            Ok(said) => (said.clone(), Ok(said)),
            Err(e) if e.failure == Failure::Gone => {
                answer(
                    &self.ctx.journal,
                    reply,
                    Err(CameraError::Disconnected(e.to_string())),
                );
                return self.disconnect(i, &format!("lost: {e}"));
            }
            Err(e) => (
                format!("{drive}: {e}"),
                Err(CameraError::Failed(format!("focus {drive}: {e}"))),
            ),
        };
        let on = self.live.on == Some(i);
        self.show_live(i, on, None, Some(said));
        answer(&self.ctx.journal, reply, result);
    }
}
