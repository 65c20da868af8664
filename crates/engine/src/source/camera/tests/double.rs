//! A scripted camera for the camera thread's tests: a world (is it plugged in, busy, what
//! is on its card, which events it will send) that the driver and device read, and the
//! test changes while the thread runs.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::super::driver::{
    CardFile, Device, DeviceEvent, Driver, DriverError, DriverResult, Failure, Found, Info,
};

#[derive(Default)]
pub(super) struct World {
    pub(super) present: bool,
    pub(super) busy: bool,
    pub(super) card: Vec<(CardFile, Vec<u8>)>,
    pub(super) events: VecDeque<DeviceEvent>,
    pub(super) disk_full_downloads: u32,
    pub(super) shots: u32,
    /// Each `wait_event`'s timeout, in order.
    pub(super) waits: Vec<Duration>,
    /// Each `wait_event`'s timeout with the count of triggers before it, never cleared.
    pub(super) waits_after: Vec<(u32, Duration)>,
    /// A trigger produces nothing by itself: the test shoots the frame when it likes.
    pub(super) slow_shutter: bool,
    /// Triggers so far.
    pub(super) triggers: u32,
    /// A wait with nothing to tell lasts this many times its timeout (0 or 1: as asked),
    /// as libgphoto2's generic PTP event wait does (2).
    pub(super) wait_multiplier: u32,
    /// And this much longer again: a fixed cost per wait (a look at the camera).
    pub(super) wait_extra: Duration,
}

#[derive(Clone, Default)]
pub(super) struct Shared(Arc<Mutex<World>>);

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A frame appears on the card; with `announce`, the camera says so.
    pub(super) fn shoot(&self, name: &str, announce: bool) {
        let mut w = self.lock();
        w.shots += 1;
        let file = CardFile {
            folder: "/DCIM/100FAKE".into(),
            name: name.into(),
            size: 4,
            mtime: 1_700_000_000 + i64::from(w.shots),
        };
        w.card.push((file, name.as_bytes()[..4].to_vec()));
        if announce {
            w.events.push_back(DeviceEvent::NewFile {
                folder: "/DCIM/100FAKE".into(),
                name: name.into(),
            });
        }
    }
}

fn found() -> Found {
    Found {
        model: "Fake D1".into(),
        port: "usb:001,009".into(),
    }
}

pub(super) struct FakeDriver(pub(super) Shared);

impl Driver for FakeDriver {
    fn scan(&mut self) -> DriverResult<Vec<Found>> {
        Ok(if self.0.lock().present {
            vec![found()]
        } else {
            Vec::new()
        })
    }

    fn open(&mut self, _: &Found) -> DriverResult<Box<dyn Device>> {
        let w = self.0.lock();
        if w.busy {
            return Err(DriverError::new(
                Failure::Busy,
                "Could not claim the USB device",
            ));
        }
        if !w.present {
            return Err(DriverError::new(Failure::Gone, "no such device"));
        }
        Ok(Box::new(FakeDevice(self.0.clone())))
    }
}

struct FakeDevice(Shared);

impl FakeDevice {
    fn here(&self) -> DriverResult<MutexGuard<'_, World>> {
        let w = self.0.lock();
        if w.present {
            Ok(w)
        } else {
            Err(DriverError::new(Failure::Gone, "I/O problem"))
        }
    }
}

impl Device for FakeDevice {
    fn info(&mut self) -> Info {
        Info {
            serial: Some("FAKE0001".into()),
            battery: Some(80),
            card_free_bytes: Some(1 << 30),
            settings: Vec::new(),
        }
    }

    fn capture_to_card(&mut self) -> bool {
        true
    }

    fn wait_event(&mut self, timeout: Duration) -> DriverResult<DeviceEvent> {
        let mut w = self.here()?;
        w.waits.push(timeout);
        let triggers = w.triggers;
        w.waits_after.push((triggers, timeout));
        if let Some(e) = w.events.pop_front() {
            return Ok(e);
        }
        let lasts = timeout * w.wait_multiplier.max(1) + w.wait_extra;
        drop(w);
        std::thread::sleep(lasts);
        self.here().map(|_| DeviceEvent::Timeout)
    }

    fn trigger(&mut self) -> DriverResult<()> {
        let mut w = self.here()?;
        w.triggers += 1;
        if w.slow_shutter {
            return Ok(());
        }
        let n = w.shots + 1;
        drop(w);
        self.0.shoot(&format!("DSC_{n:04}.NEF"), true);
        self.0.lock().events.push_back(DeviceEvent::CaptureComplete);
        Ok(())
    }

    fn list(&mut self) -> DriverResult<Vec<CardFile>> {
        Ok(self.here()?.card.iter().map(|(f, _)| f.clone()).collect())
    }

    fn stat(&mut self, folder: &str, name: &str) -> DriverResult<CardFile> {
        self.here()?
            .card
            .iter()
            .find(|(f, _)| f.folder == folder && f.name == name)
            .map(|(f, _)| f.clone())
            .ok_or_else(|| DriverError::new(Failure::Other, "no such file"))
    }

    fn download(&mut self, file: &CardFile, to: &std::path::Path) -> DriverResult<()> {
        let mut w = self.here()?;
        if w.disk_full_downloads > 0 {
            w.disk_full_downloads -= 1;
            return Err(DriverError::new(
                Failure::DiskFull,
                "No space left on device",
            ));
        }
        let bytes = w
            .card
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| DriverError::new(Failure::Other, "no such file"))?;
        std::fs::write(to, bytes).map_err(|e| DriverError::new(Failure::Other, e.to_string()))
    }

    fn delete(&mut self, file: &CardFile) -> DriverResult<()> {
        self.here()?.card.retain(|(f, _)| f != file);
        Ok(())
    }

    fn set_config(&mut self, key: &str, _: &str) -> DriverResult<()> {
        Err(DriverError::new(Failure::NotSupported, format!("{key}?")))
    }
}
