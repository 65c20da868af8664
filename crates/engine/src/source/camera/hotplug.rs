//! Whether libgphoto2 needs asking: its camera list loads every camera driver it has
//! (about 60 shared libraries, dlopened and relocated each time), which cost an idle
//! studio computer 3–5 % of a core when done every second. So the service's once-a-second
//! look asks the kernel instead — on Linux, the USB devices sysfs lists and the mounted
//! file systems (libgphoto2's mass-storage cameras) as one [`fingerprint`] — and only a
//! change, a few seconds of settling after it (a camera's device node and permissions come
//! a moment after the device), or a slow fallback scan ([`SLOW_SCAN`]) make libgphoto2
//! look. A plugged-in camera is still found within
//! about a second. Where there is no such listing (macOS, Windows), every look asks
//! libgphoto2, as before.

#[cfg(target_os = "linux")]
use std::collections::hash_map::DefaultHasher;
#[cfg(target_os = "linux")]
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

/// libgphoto2 is asked at least this often, whatever the kernel says: a safety net only
/// (on Linux, libgphoto2 detects USB and mass-storage cameras, both of which the
/// fingerprint covers), and a scan costs about 40 ms of a core.
pub const SLOW_SCAN: Duration = Duration::from_secs(300);
/// After a change, libgphoto2 is asked at every look for this long.
pub const SETTLE: Duration = Duration::from_secs(3);

/// The USB devices and mounts as one number; `None` where they cannot be listed cheaply.
pub fn fingerprint() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let listing = match std::fs::read_dir("/sys/bus/usb/devices") {
            Ok(listing) => Some(listing),
            // A kernel without USB (a virtual machine): no USB camera can come.
            Err(_) if std::path::Path::new("/sys/bus").is_dir() => None,
            Err(_) => return None,
        };
        let mut devices: Vec<(String, String)> = listing
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                // Interfaces (`1-1:1.0`) come and go with their device.
                if name.contains(':') {
                    return None;
                }
                // The device number changes when the same port gets a device again.
                let devnum = std::fs::read_to_string(e.path().join("devnum")).unwrap_or_default();
                Some((name, devnum))
            })
            .collect();
        devices.sort();
        let mut hasher = DefaultHasher::new();
        devices.hash(&mut hasher);
        std::fs::read("/proc/self/mounts").ok()?.hash(&mut hasher);
        Some(hasher.finish())
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// When libgphoto2 is asked, given the fingerprints seen.
#[derive(Debug, Default)]
pub struct Gate {
    last: Option<u64>,
    changed_at: Option<Instant>,
    scanned_at: Option<Instant>,
}

impl Gate {
    /// Whether to ask libgphoto2 at `now`, the kernel's listing reading `print`. A true
    /// answer counts as a scan done.
    pub fn due(&mut self, print: Option<u64>, now: Instant) -> bool {
        let changed = print != self.last;
        if changed {
            self.last = print;
            self.changed_at = Some(now);
        }
        // Settling ends with a scan done at least SETTLE after the change (however long
        // the looks between took), not with the clock.
        let settling = self.changed_at.is_some_and(|at| {
            self.scanned_at
                .is_none_or(|scanned| scanned.duration_since(at) < SETTLE)
        });
        let due = print.is_none()
            || changed
            || settling
            || self
                .scanned_at
                .is_none_or(|at| now.duration_since(at) >= SLOW_SCAN);
        if due {
            self.scanned_at = Some(now);
        }
        due
    }

    /// The scan [`due`](Self::due) asked for failed: ask again at the next look.
    pub fn failed(&mut self) {
        self.last = None;
        self.scanned_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libgphoto2_is_asked_on_a_change_while_it_settles_and_on_the_slow_fallback() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut gate = Gate::default();
        assert!(gate.due(Some(1), at(0)), "the first look");
        assert!(
            gate.due(Some(1), at(1)) && gate.due(Some(1), at(2)),
            "settling"
        );
        assert!(gate.due(Some(1), at(3)), "the scan that ends the settling");
        assert!(!gate.due(Some(1), at(4)), "quiet");
        assert!(!gate.due(Some(1), at(20)));
        // A camera plugged in: asked at once, then while it settles, then not.
        assert!(gate.due(Some(2), at(21)));
        assert!(gate.due(Some(2), at(23)));
        assert!(gate.due(Some(2), at(24)));
        assert!(!gate.due(Some(2), at(25)));
        // Nothing changes for a long while: the slow scan.
        let slow = SLOW_SCAN.as_secs();
        assert!(!gate.due(Some(2), at(24 + slow - 1)));
        assert!(
            gate.due(Some(2), at(24 + slow)),
            "SLOW_SCAN after the last scan"
        );
        assert!(!gate.due(Some(2), at(25 + slow)));
        // A change, then looks far apart (a camera busy downloading): settling lasts until
        // a scan SETTLE after the change, not until the clock says so.
        assert!(gate.due(Some(3), at(100 + slow)));
        assert!(gate.due(Some(3), at(102 + slow)));
        assert!(
            gate.due(Some(3), at(110 + slow)),
            "the first scan past SETTLE"
        );
        assert!(!gate.due(Some(3), at(111 + slow)));
        // A failed scan is tried again at the next look.
        assert!(
            gate.due(Some(1), at(120 + slow)),
            "unplugged: asked at once"
        );
        gate.failed();
        assert!(gate.due(Some(1), at(121 + slow)), "after a failure");
        // No listing on this platform: every look.
        let mut blind = Gate::default();
        assert!((0..5).all(|s| blind.due(None, at(s))));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_fingerprint_is_read_and_steady() {
        let a = fingerprint().expect("sysfs and /proc are here");
        assert_eq!(fingerprint(), Some(a));
    }
}
