//! Detection: cameras found by the rescan are opened (set to keep frames on the card),
//! busy ones explained (and freed from gvfs when configured), lost ones told at once; every
//! change is a `camera_status` event.

use std::time::{Duration, Instant};

use shotline_protocol::{CameraState, CameraStatus, Event, Level};

use super::{SCAN_EVERY, Service, Slot, requests::answer};
use crate::source::camera::CameraError;
use crate::source::camera::driver::Failure;
use crate::source::camera::holder;

impl Service {
    pub(super) fn scan(&mut self) {
        let found = match self.driver.scan() {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!("camera scan: {e}");
                return;
            }
        };
        for i in 0..self.slots.len() {
            let present = found.iter().any(|f| f.port == self.slots[i].found.port);
            if !present
                && self.slots[i].status.as_ref().map(|s| s.state) != Some(CameraState::Disconnected)
            {
                self.disconnect(i, "unplugged or switched off");
            }
        }
        for f in found {
            let i = match self.slots.iter().position(|s| s.found.port == f.port) {
                Some(i) => {
                    if self.slots[i].found.model != f.model {
                        // Another camera on the same port.
                        self.slots[i] = Slot::new(f);
                    }
                    i
                }
                None => {
                    self.slots.push(Slot::new(f));
                    self.slots.len() - 1
                }
            };
            if self.slots[i].device.is_none() && Instant::now() >= self.slots[i].open_at {
                self.open(i);
            }
        }
    }

    pub(super) fn open(&mut self, i: usize) {
        let found = self.slots[i].found.clone();
        match self.driver.open(&found) {
            Ok(mut device) => {
                let on_card = device.capture_to_card();
                let info = device.info();
                let slot = &mut self.slots[i];
                slot.key = match &info.serial {
                    Some(serial) => format!("serial:{serial}"),
                    None => format!("model:{}", found.model),
                };
                slot.info = info;
                slot.info_at = Instant::now();
                slot.device = Some(device);
                slot.event_errors = 0;
                slot.gvfs_tried = false;
                let back = slot.was_connected;
                slot.was_connected = true;
                tracing::info!(
                    "camera {} on {} connected{}",
                    found.model,
                    found.port,
                    if on_card {
                        ", capturing to its card"
                    } else {
                        ""
                    }
                );
                self.publish(i, CameraState::Connected, None);
                if back {
                    self.ctx.bus.notify(
                        Level::Info,
                        "camera_back",
                        format!("{} is back", found.model),
                        "Frames shot while it was away are being taken now.",
                    );
                }
                self.reconcile(i);
            }
            Err(e) if e.failure == Failure::Busy => {
                let holders = holder::holders(&found.port);
                let unmount = self.ctx.config.unmount_gvfs
                    && !self.slots[i].gvfs_tried
                    && (holders.is_empty() || holders.iter().any(|(_, n)| n.starts_with("gvfs")));
                if unmount {
                    self.slots[i].gvfs_tried = true;
                    if holder::unmount_gvfs() {
                        tracing::info!(
                            "camera on {}: unmounted gvfs's gphoto2 volumes",
                            found.port
                        );
                        return; // opened again at the next scan
                    }
                }
                let message = holder::busy_message(&found.port, &holders);
                if self.publish(i, CameraState::Busy, Some(message.clone())) {
                    self.ctx.bus.notify(
                        Level::Warning,
                        "camera_busy",
                        format!("{} is held by another program", found.model),
                        message,
                    );
                }
                self.slots[i].open_at = Instant::now() + SCAN_EVERY;
            }
            Err(e) => {
                let message = format!("cannot open the camera: {e}; retrying");
                self.publish(i, CameraState::Error, Some(message));
                self.slots[i].open_at = Instant::now() + Duration::from_secs(3);
            }
        }
    }

    pub(super) fn disconnect(&mut self, i: usize, why: &str) {
        self.live_lost(i);
        let slot = &mut self.slots[i];
        let had_device = slot.device.take().is_some();
        slot.downloads.clear();
        slot.card_full = false;
        let model = slot.found.model.clone();
        for w in std::mem::take(&mut slot.captures) {
            answer(
                &self.ctx.journal,
                w.reply,
                Err(CameraError::Disconnected(format!("{model} disconnected"))),
            );
        }
        self.publish(i, CameraState::Disconnected, Some(why.to_string()));
        if had_device {
            self.ctx.bus.notify(
                Level::Critical,
                "camera_lost",
                format!("{model} disconnected"),
                format!("{why}. Shotline picks it up again when it is back and takes any frame shot meanwhile."),
            );
        }
    }

    /// Publish a status when it changed; true when it did.
    pub(super) fn publish(
        &mut self,
        i: usize,
        state: CameraState,
        message: Option<String>,
    ) -> bool {
        let slot = &mut self.slots[i];
        let connected = state == CameraState::Connected;
        let status = CameraStatus {
            port: slot.found.port.clone(),
            model: slot.found.model.clone(),
            state,
            battery: slot.info.battery.filter(|_| connected),
            card_free_bytes: slot.info.card_free_bytes.filter(|_| connected),
            message,
            settings: if connected {
                slot.info.settings.clone()
            } else {
                Vec::new()
            },
            live: self.live.shown.clone().filter(|_| connected),
        };
        if slot.status.as_ref() == Some(&status) {
            return false;
        }
        slot.status = Some(status.clone());
        if let Ok(json) = serde_json::to_string(&status)
            && let Err(e) = self.ctx.journal.set_camera_status(&status.port, &json)
        {
            tracing::warn!("camera status: {e}");
        }
        self.ctx.bus.publish(Event::CameraStatus(status));
        true
    }
}
