//! When is a file complete? A file counts once it stopped changing: after a close-after-write
//! (a fast hint on Linux) or a rename into the folder, a short quiet time; without a hint, a
//! longer one. Size and mtime are re-read at every check, and ingest re-checks them around
//! the copy. A file already offered is offered again only if it changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::copy::stamp;

/// Quiet time after a close-after-write or a rename into the folder.
pub const QUIET_AFTER_HINT: Duration = Duration::from_millis(200);
/// Quiet time when the file system gives no hint (polling, macOS, Windows).
pub const QUIET_NO_HINT: Duration = Duration::from_secs(2);
/// Quiet time for a file the watcher saw change but never close, where close hints exist:
/// a writer that holds the file open and pauses is not finished.
pub const QUIET_HOLDOUT: Duration = Duration::from_secs(15);

/// What the watcher said about a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// Created or written.
    Changed,
    /// Closed after writing, or renamed into place: probably complete.
    Complete,
    /// Found by a scan: complete if it has not changed for a while.
    Found,
}

#[derive(Debug, Clone)]
struct Pending {
    stamp: Option<(u64, i64)>,
    since: Instant,
    quiet: Duration,
}

/// Tracks files until they are complete.
#[derive(Debug)]
pub struct Tracker {
    pending: HashMap<PathBuf, Pending>,
    offered: HashMap<PathBuf, (u64, i64)>,
    close_hints: bool,
}

impl Tracker {
    /// A tracker; `close_hints` says whether the watcher reports close-after-write, in which
    /// case a file that never closes must wait [`QUIET_HOLDOUT`].
    pub fn new(close_hints: bool) -> Self {
        Self {
            pending: HashMap::new(),
            offered: HashMap::new(),
            close_hints,
        }
    }

    /// Note what the watcher said about `path`.
    pub fn hint(&mut self, path: PathBuf, hint: Hint, now: Instant) {
        let unhinted = if self.close_hints {
            QUIET_HOLDOUT
        } else {
            QUIET_NO_HINT
        };
        let fresh = !self.pending.contains_key(&path);
        let entry = self.pending.entry(path.clone()).or_insert(Pending {
            stamp: None,
            since: now,
            quiet: unhinted,
        });
        match hint {
            Hint::Changed => {
                entry.since = now;
                entry.quiet = unhinted;
            }
            Hint::Complete => {
                entry.since = now;
                entry.quiet = QUIET_AFTER_HINT;
            }
            Hint::Found if fresh => {
                // Written before we looked and untouched since: as good as closed. Younger
                // files wait the plain quiet time; if they are still being written, the
                // watcher's change events put them on the long hold-out.
                let old = std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .is_some_and(|age| age >= QUIET_NO_HINT);
                entry.quiet = if old { QUIET_AFTER_HINT } else { QUIET_NO_HINT };
            }
            Hint::Found => {}
        }
    }

    /// Re-read every pending file and return those now complete (and not offered before in
    /// this exact version).
    pub fn ready(&mut self, now: Instant) -> Vec<PathBuf> {
        let mut out = Vec::new();
        self.pending.retain(|path, p| {
            let meta = match std::fs::metadata(path) {
                Ok(meta) if meta.is_file() => meta,
                _ => return false,
            };
            let current = stamp(&meta);
            if p.stamp != Some(current) {
                if p.stamp.is_some() {
                    p.since = now;
                }
                p.stamp = Some(current);
            }
            if now.saturating_duration_since(p.since) < p.quiet {
                return true;
            }
            out.push((path.clone(), current));
            false
        });
        out.into_iter()
            .filter(|(path, stamp)| self.offered.insert(path.clone(), *stamp) != Some(*stamp))
            .map(|(path, _)| path)
            .collect()
    }

    /// The paths still waiting to be complete.
    pub fn pending_paths(&self) -> std::collections::HashSet<PathBuf> {
        self.pending.keys().cloned().collect()
    }

    /// True while `path` waits to be complete.
    pub fn is_pending(&self, path: &Path) -> bool {
        self.pending.contains_key(path)
    }

    /// Forget that `path` was offered (ingest could not take it and it must come again).
    pub fn forget(&mut self, path: &Path) {
        self.offered.remove(path);
    }

    /// Files still being watched for completeness.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_file_is_ready_after_a_short_quiet_time_and_only_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.jpg");
        std::fs::write(&path, b"abc").expect("write");
        let mut t = Tracker::new(true);
        let start = Instant::now();
        t.hint(path.clone(), Hint::Complete, start);
        assert!(
            t.ready(start).is_empty(),
            "first look only records the stamp"
        );
        assert!(t.ready(start + Duration::from_millis(50)).is_empty());
        assert_eq!(t.ready(start + QUIET_AFTER_HINT), vec![path.clone()]);
        t.hint(path.clone(), Hint::Found, start + Duration::from_secs(1));
        assert!(
            t.ready(start + Duration::from_secs(9)).is_empty(),
            "same version is not offered twice"
        );
    }

    #[test]
    fn an_open_file_waits_for_the_holdout_and_a_change_restarts_the_clock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.jpg");
        std::fs::write(&path, b"abc").expect("write");
        let mut t = Tracker::new(true);
        let start = Instant::now();
        t.hint(path.clone(), Hint::Changed, start);
        t.ready(start);
        assert!(t.ready(start + QUIET_NO_HINT).is_empty());
        std::fs::write(&path, b"abcdef").expect("grow");
        let later = start + Duration::from_secs(10);
        assert!(t.ready(later).is_empty());
        assert!(
            t.ready(later + QUIET_HOLDOUT - Duration::from_millis(1))
                .is_empty()
        );
        assert_eq!(t.ready(later + QUIET_HOLDOUT), vec![path]);
    }

    #[test]
    fn a_scanned_file_waits_by_its_age() {
        let dir = tempfile::tempdir().expect("tempdir");
        let young = dir.path().join("young.jpg");
        std::fs::write(&young, b"abc").expect("write");
        let mut t = Tracker::new(true);
        let start = Instant::now();
        t.hint(young.clone(), Hint::Found, start);
        assert!(
            t.ready(start + QUIET_AFTER_HINT).is_empty(),
            "a young file is not taken at once"
        );
        assert_eq!(t.ready(start + QUIET_NO_HINT), vec![young]);
    }

    #[test]
    fn vanished_files_are_dropped() {
        let mut t = Tracker::new(false);
        t.hint(
            PathBuf::from("/nonexistent/x.jpg"),
            Hint::Complete,
            Instant::now(),
        );
        assert!(t.ready(Instant::now()).is_empty());
        assert_eq!(t.pending(), 0);
    }
}
