//! Backup targets and their state: online, offline (folder gone, drive not mounted), full
//! (no space for the next copy) or error (writes fail; retried with backoff).

use std::path::{Path, PathBuf};
use std::time::Instant;

use shotline_protocol::{TargetState, TargetStatus};

use crate::config::Backup;
use crate::platform;

/// A configured backup target and what is known of it now.
#[derive(Debug, Clone)]
pub struct Target {
    /// Name from the config.
    pub name: String,
    /// Folder that holds the library's tree.
    pub root: PathBuf,
    /// Offline unless a drive is mounted at `root`.
    pub require_mount: bool,
    /// Current state.
    pub state: TargetState,
    /// Why it is not online.
    pub message: Option<String>,
    /// Free bytes at the last probe.
    pub free: Option<u64>,
    /// Size at the last probe.
    pub total: Option<u64>,
    /// While full: the space a retry needs.
    pub needs: Option<u64>,
    /// While in error: when to try again.
    pub retry_at: Option<Instant>,
}

/// What a probe of the folder found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// The folder is there (and mounted, when that is required).
    Present {
        /// Free bytes.
        free: Option<u64>,
        /// Total bytes.
        total: Option<u64>,
    },
    /// It is not; why.
    Absent(String),
}

impl Target {
    /// A target from its config, state unknown (offline until probed).
    pub fn new(config: &Backup) -> Self {
        Self {
            name: config.name.clone(),
            root: config.path.clone(),
            require_mount: config.require_mount,
            state: TargetState::Offline,
            message: Some("not probed yet".into()),
            free: None,
            total: None,
            needs: None,
            retry_at: None,
        }
    }

    /// Look at the folder. Never creates anything: a vanished folder may be an unplugged
    /// drive, and writing there would fill the system disk instead.
    pub fn probe(root: &Path, require_mount: bool) -> Presence {
        if require_mount {
            match platform::is_mount_point(root) {
                Ok(true) => {}
                Ok(false) => {
                    return Presence::Absent(format!("no drive is mounted at {}", root.display()));
                }
                Err(_) => {
                    return Presence::Absent(format!(
                        "{} is missing: is the drive connected?",
                        root.display()
                    ));
                }
            }
        }
        if !root.is_dir() {
            return Presence::Absent(format!(
                "{} is missing: is the drive connected?",
                root.display()
            ));
        }
        match platform::space(root) {
            Ok((free, total)) => Presence::Present {
                free: Some(free),
                total: Some(total),
            },
            Err(_) => Presence::Present {
                free: None,
                total: None,
            },
        }
    }

    /// Apply a probe: returns the new state if it changed. A full target stays full until
    /// the space it needs is free; a target in error stays so until its retry time.
    pub fn apply(&mut self, presence: Presence, now: Instant) -> Option<TargetState> {
        let before = self.state;
        match presence {
            Presence::Absent(why) => {
                self.state = TargetState::Offline;
                self.message = Some(why);
                self.free = None;
                self.total = None;
            }
            Presence::Present { free, total } => {
                self.free = free;
                self.total = total;
                match self.state {
                    TargetState::Full => {
                        let needs = self.needs.unwrap_or(0);
                        if free.is_some_and(|f| f > needs) {
                            self.go_online();
                        }
                    }
                    TargetState::Error => {
                        if self.retry_at.is_none_or(|t| now >= t) {
                            self.go_online();
                        }
                    }
                    TargetState::Offline | TargetState::Online => self.go_online(),
                }
            }
        }
        (self.state != before).then_some(self.state)
    }

    fn go_online(&mut self) {
        self.state = TargetState::Online;
        self.message = None;
        self.needs = None;
        self.retry_at = None;
    }

    /// A copy hit "no space": full until `needs` bytes are free.
    pub fn mark_full(&mut self, needs: u64) -> bool {
        let changed = self.state != TargetState::Full;
        self.state = TargetState::Full;
        self.needs = Some(needs);
        self.message = Some(format!(
            "no space left on {} for the next copy ({} needed): free some space",
            self.root.display(),
            human_bytes(needs)
        ));
        changed
    }

    /// Writes fail for another reason: paused until `retry_at`.
    pub fn mark_error(&mut self, why: String, retry_at: Instant) -> bool {
        let changed = self.state != TargetState::Error;
        self.state = TargetState::Error;
        self.message = Some(why);
        self.retry_at = Some(retry_at);
        changed
    }

    /// The [`TargetStatus`] event payload.
    pub fn status(&self) -> TargetStatus {
        TargetStatus {
            target: self.name.clone(),
            path: self.root.display().to_string(),
            state: self.state,
            free_bytes: self.free,
            total_bytes: self.total,
            message: self.message.clone(),
        }
    }
}

/// `1.5 GB`-style sizes for messages.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(root: &Path, require_mount: bool) -> Target {
        Target::new(&Backup {
            name: "t".into(),
            path: root.to_path_buf(),
            require_mount,
            seal_every: None,
        })
    }

    #[test]
    fn a_missing_folder_is_offline_and_never_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("drive");
        let mut t = target(&root, false);
        let now = Instant::now();
        assert_eq!(t.apply(Target::probe(&root, false), now), None);
        assert_eq!(t.state, TargetState::Offline);
        assert!(!root.exists());
        std::fs::create_dir(&root).expect("mkdir");
        assert_eq!(
            t.apply(Target::probe(&root, false), now),
            Some(TargetState::Online)
        );
    }

    #[test]
    fn require_mount_keeps_a_plain_folder_offline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut t = target(dir.path(), true);
        t.apply(Target::probe(dir.path(), true), Instant::now());
        assert_eq!(t.state, TargetState::Offline);
        assert!(
            t.message
                .as_deref()
                .unwrap_or_default()
                .contains("no drive is mounted")
        );
    }

    #[test]
    fn full_waits_for_space_and_error_for_its_time() {
        let now = Instant::now();
        let mut t = target(Path::new("/x"), false);
        t.apply(
            Presence::Present {
                free: Some(10),
                total: Some(100),
            },
            now,
        );
        assert!(t.mark_full(50));
        assert_eq!(
            t.apply(
                Presence::Present {
                    free: Some(40),
                    total: Some(100)
                },
                now
            ),
            None
        );
        assert_eq!(
            t.apply(
                Presence::Present {
                    free: Some(60),
                    total: Some(100)
                },
                now
            ),
            Some(TargetState::Online)
        );
        let later = now + std::time::Duration::from_secs(5);
        assert!(t.mark_error("EIO".into(), later));
        assert_eq!(
            t.apply(
                Presence::Present {
                    free: None,
                    total: None
                },
                now
            ),
            None
        );
        assert_eq!(
            t.apply(
                Presence::Present {
                    free: None,
                    total: None
                },
                later
            ),
            Some(TargetState::Online)
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500_000_000), "1.5 GB");
    }
}
