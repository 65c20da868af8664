//! Requests: capture and config commands from this process (a channel) and from other
//! processes (rows in the journal that `shotline capture` writes), each answered once.

use std::time::{Duration, Instant};

use super::{Command, Reply, Service, Slot, Waiting};
use crate::Result;
use crate::journal::{CameraAction, Journal, RequestState};
use crate::source::camera::driver::Failure;
use crate::source::camera::settings;
use crate::source::camera::{Answer, CameraError};
use shotline_protocol::CameraStatus;

impl Service {
    /// Carry out the requests other processes left in the journal.
    pub(super) fn journal_requests(&mut self) {
        let requests = match self.ctx.journal.pending_camera_requests() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("camera requests: {e}");
                return;
            }
        };
        for r in requests {
            let _ = self
                .ctx
                .journal
                .finish_camera_request(r.id, RequestState::Running, "");
            let reply = Reply::Journal(r.id);
            tracing::debug!(
                "camera: request {} taken {} ms after it was queued",
                r.id,
                crate::journal::now_ms() - r.created_ms
            );
            match r.action {
                Ok(CameraAction::Capture) => self.capture(r.port.as_deref(), reply),
                Ok(CameraAction::Set { key, value }) => {
                    self.set(r.port.as_deref(), &key, &value, reply)
                }
                Ok(CameraAction::Focus(drive)) => self.focus(r.port.as_deref(), drive, reply),
                Err(why) => answer(&self.ctx.journal, reply, Err(CameraError::Failed(why))),
            }
        }
    }

    /// Carry out a request from this process.
    pub(super) fn command(&mut self, command: Command) {
        match command {
            Command::Capture { port, reply } => {
                self.capture(port.as_deref(), Reply::Channel(reply))
            }
            Command::Set {
                port,
                key,
                value,
                reply,
            } => self.set(port.as_deref(), &key, &value, Reply::Channel(reply)),
            Command::Focus { port, drive, reply } => {
                self.focus(port.as_deref(), drive, Reply::Channel(reply))
            }
            Command::Rung => self.journal_requests(),
        }
    }

    pub(super) fn pick(&self, port: Option<&str>) -> std::result::Result<usize, CameraError> {
        let open = |s: &Slot| s.device.is_some();
        match port {
            Some(port) => match self.slots.iter().position(|s| s.found.port == port) {
                Some(i) if open(&self.slots[i]) => Ok(i),
                Some(i) => Err(CameraError::NotReady(
                    self.slots[i]
                        .status
                        .as_ref()
                        .and_then(|s| s.message.clone())
                        .unwrap_or_else(|| format!("the camera on {port} is not connected")),
                )),
                None => Err(CameraError::NotReady(format!("no camera on {port}"))),
            },
            None => self
                .slots
                .iter()
                .position(open)
                .ok_or_else(|| CameraError::NotReady("no camera is connected".into())),
        }
    }

    pub(super) fn capture(&mut self, port: Option<&str>, reply: Reply) {
        self.requested();
        let i = match self.pick(port) {
            Ok(i) => i,
            Err(e) => return answer(&self.ctx.journal, reply, Err(e)),
        };
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        let start = Instant::now();
        let triggered = device.trigger();
        tracing::debug!(
            "camera: trigger took {:.1} ms",
            start.elapsed().as_secs_f64() * 1e3
        );
        match triggered {
            Ok(()) => {
                if let Reply::Journal(id) = &reply {
                    let _ = self.ctx.journal.camera_request_fired(*id);
                }
                self.slots[i].captures.push(Waiting {
                    reply,
                    since: Instant::now(),
                    files: Vec::new(),
                    last_file: None,
                });
            }
            // A camera whose card ran full refuses further captures, often with no more
            // than a generic error.
            Err(e)
                if e.failure == Failure::CardFull
                    || e.message.to_ascii_lowercase().contains("full")
                    || self.slots[i].card_full =>
            {
                answer(
                    &self.ctx.journal,
                    reply,
                    Err(CameraError::CardFull(format!("the card is full: {e}"))),
                );
                self.card_full(i, &format!("a capture failed: {e}"));
            }
            Err(e) if e.failure == Failure::Gone => {
                answer(
                    &self.ctx.journal,
                    reply,
                    Err(CameraError::Disconnected(e.to_string())),
                );
                self.disconnect(i, &format!("lost: {e}"));
            }
            Err(e) => answer(
                &self.ctx.journal,
                reply,
                Err(CameraError::Failed(format!("the capture failed: {e}"))),
            ),
        }
    }

    /// Set a key setting by Shotline's name (or any configuration key by the camera's
    /// own), checked against the camera's choices first; the answer is the value the
    /// camera reads back, and the camera's status is told again with it.
    pub(super) fn set(&mut self, port: Option<&str>, key: &str, value: &str, reply: Reply) {
        self.requested();
        let i = match self.pick(port) {
            Ok(i) => i,
            Err(e) => return answer(&self.ctx.journal, reply, Err(e)),
        };
        let resolved = match settings::resolve(&self.slots[i].info.settings, key, value) {
            Ok(r) => r,
            Err(why) => {
                return answer(
                    &self.ctx.journal,
                    reply,
                    Err(CameraError::Failed(format!("cannot set {key}: {why}"))),
                );
            }
        };
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        if let Err(e) = device.set_config(&resolved.key, &resolved.value) {
            let result = Err(CameraError::Failed(format!("cannot set {key}: {e}")));
            if e.failure == Failure::Gone {
                answer(&self.ctx.journal, reply, result);
                return self.disconnect(i, &format!("lost: {e}"));
            }
            return answer(&self.ctx.journal, reply, result);
        }
        // What the camera holds now, for the answer and for everyone watching.
        self.refresh_info(i);
        let result = match resolved.setting {
            None => Ok(format!("{} = {}", resolved.key, resolved.value)),
            Some(asked) => {
                let now = self.slots[i]
                    .info
                    .settings
                    .iter()
                    .find(|s| s.name == asked.name)
                    .map(|s| s.value.clone());
                match now {
                    Some(now) if now == resolved.value => Ok(format!("{} = {now}", asked.name)),
                    Some(now) => Err(CameraError::Failed(format!(
                        "the camera kept its {} at {now} (asked for {}): it may be set by the mode dial or the lens",
                        settings::title(&asked.name),
                        resolved.value
                    ))),
                    None => Ok(format!("{} = {}", asked.name, resolved.value)),
                }
            }
        };
        answer(&self.ctx.journal, reply, result);
    }
}

/// Answer a request, once, where it came from.
pub(super) fn answer(journal: &Journal, reply: Reply, result: Answer) {
    match reply {
        Reply::Channel(tx) => {
            let _ = tx.send(result);
        }
        Reply::Journal(id) => {
            let (state, text) = match &result {
                Ok(text) => (RequestState::Done, text.clone()),
                Err(e) => (RequestState::Failed, e.to_string()),
            };
            if let Err(e) = journal.finish_camera_request(id, state, &text) {
                tracing::warn!("camera request {id}: {e}");
            }
        }
    }
}

/// A request from another process through the journal: queue it, wait for the running
/// engine's answer; its request id and the answer.
pub fn request(
    journal: &Journal,
    port: Option<&str>,
    action: &CameraAction,
    timeout: Duration,
) -> Result<(i64, Answer)> {
    let id = journal.request_camera(port, action)?;
    Ok((id, wait_answer(journal, id, timeout)?))
}

fn wait_answer(journal: &Journal, id: i64, timeout: Duration) -> Result<Answer> {
    let start = Instant::now();
    loop {
        if let Some((state, result)) = journal.camera_request(id)? {
            match state {
                RequestState::Done => return Ok(Ok(result.unwrap_or_default())),
                RequestState::Failed => {
                    return Ok(Err(CameraError::Failed(result.unwrap_or_default())));
                }
                RequestState::Pending if start.elapsed() > Duration::from_secs(5) => {
                    journal.finish_camera_request(
                        id,
                        RequestState::Failed,
                        "no running engine took it",
                    )?;
                    return Ok(Err(CameraError::NotReady(
                        "no `shotline run` took the request within 5 s: is the camera source enabled?"
                            .into(),
                    )));
                }
                _ => {}
            }
        }
        if start.elapsed() > timeout {
            return Ok(Err(CameraError::Timeout(format!(
                "no answer from the camera within {}s",
                timeout.as_secs()
            ))));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Statuses of cameras from the journal (for `status`).
pub fn statuses(journal: &Journal) -> Vec<CameraStatus> {
    journal
        .camera_statuses()
        .unwrap_or_default()
        .iter()
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect()
}
