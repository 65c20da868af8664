//! How things are, at a glance: the tray's state (idle, working, needs attention, error)
//! and its one-line summary, folded from the engine's events. Pure, so it is tested
//! without a window.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use shotline_protocol::{CameraState, Event, Level, LibrarySpace, TargetState};

/// The tray icon's state, worst first in [`Health::state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TrayState {
    /// Nothing to do.
    Idle,
    /// Copies or uploads under way.
    Working,
    /// Something needs a look: a drive missing, the relay unreachable, a camera busy.
    Attention,
    /// Something is wrong: a full disk, a failed verification, the engine not running.
    Error,
}

impl TrayState {
    /// The icon file in `icons/` for this state.
    pub fn icon(self) -> &'static str {
        match self {
            Self::Idle => "tray-idle.png",
            Self::Working => "tray-working.png",
            Self::Attention => "tray-attention.png",
            Self::Error => "tray-error.png",
        }
    }
}

/// What the events have said so far.
#[derive(Debug, Clone, Default)]
pub struct Health {
    targets: BTreeMap<String, TargetState>,
    cameras: BTreeMap<String, CameraState>,
    queue: u64,
    relay_down: bool,
    /// The last critical alert not yet cleared, by category.
    critical: BTreeMap<String, String>,
    engine_problem: Option<String>,
    paused: bool,
    stored: u64,
    /// Copies verified or given up on so far this session.
    done: u64,
    /// The library's disk, from the latest `system_status`.
    library: Option<LibrarySpace>,
    /// The copies of the run of work under way (from the queue going busy to it going idle).
    batch: Option<Batch>,
}

/// A run of work: how many copies were done when it began, and when.
#[derive(Debug, Clone, Copy)]
struct Batch {
    started: Instant,
    done_before: u64,
}

/// "copying 3 of 12 — 40 s left": the copy under way of all in this run of work, and the
/// time left at the pace of the copies done so far (none before the first is done).
pub fn batch_line(done: u64, total: u64, elapsed: Duration) -> String {
    let current = (done + 1).min(total.max(1));
    let mut line = format!("copying {current} of {total}");
    if done > 0 && total > done {
        let left = elapsed.as_secs_f64() * (total - done) as f64 / done as f64;
        line.push_str(&format!(" — {} left", human_duration(left)));
    }
    line
}

/// `40 s`, `3 min`, `1 h 5 min`.
fn human_duration(seconds: f64) -> String {
    let s = seconds.round().max(1.0) as u64;
    match s {
        0..90 => format!("{s} s"),
        _ if s < 90 * 60 => format!("{} min", (s + 30) / 60),
        _ => {
            let m = (s + 30) / 60;
            format!("{} h {} min", m / 60, m % 60)
        }
    }
}

/// Categories of critical alerts that a later event clears.
fn clears(category: &str) -> Option<&'static str> {
    match category {
        "library_ok" => Some("library_full"),
        "camera_back" => Some("camera_lost"),
        "camera_disk_ok" => Some("library_full"),
        "library_space_ok" => Some("library_low"),
        _ => None,
    }
}

impl Health {
    /// Fold one event in; true when the state or summary may have changed.
    pub fn apply(&mut self, event: &Event) -> bool {
        match event {
            Event::TargetStatus(t) => {
                self.targets.insert(t.target.clone(), t.state);
                if t.state == TargetState::Online {
                    self.critical.retain(|k, _| !k.starts_with("target"));
                }
            }
            Event::CameraStatus(c) => {
                self.cameras.insert(c.port.clone(), c.state);
                if c.state == CameraState::Connected {
                    self.critical.remove("camera_lost");
                }
            }
            Event::QueueStatus(q) => {
                self.queue = q.ingesting + q.backups_pending;
                self.done = q.backups_verified + q.backups_failed;
                if self.queue == 0 {
                    self.batch = None;
                } else if self.batch.is_none() {
                    self.batch = Some(Batch {
                        started: Instant::now(),
                        done_before: self.done,
                    });
                }
            }
            Event::ShotStored(_) => self.stored += 1,
            Event::SystemStatus(s) => {
                self.library = Some(s.library.clone());
                return false;
            }
            Event::Notification(n) => {
                if let Some(cleared) = clears(&n.category) {
                    self.critical.remove(cleared);
                }
                // The library's disk went from critical to low: better, still a warning.
                if n.category == "library_low" && n.level != Level::Critical {
                    self.critical.remove("library_low");
                }
                if n.level == Level::Critical {
                    self.critical.insert(n.category.clone(), n.title.clone());
                }
            }
            _ => return false,
        }
        true
    }

    /// The relay client went down (for longer than the set time) or came back.
    pub fn set_relay_down(&mut self, down: bool) {
        self.relay_down = down;
    }

    /// The engine could not start (`Some`) or runs (`None`).
    pub fn set_engine_problem(&mut self, problem: Option<String>) {
        self.engine_problem = problem;
    }

    /// Backups and uploads paused.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// The library's disk as last reported.
    pub fn library_space(&self) -> Option<LibrarySpace> {
        self.library.clone()
    }

    /// Why the engine is not running, if it is not.
    pub fn problem(&self) -> Option<String> {
        self.engine_problem.clone()
    }

    /// The state the tray shows.
    pub fn state(&self) -> TrayState {
        if self.engine_problem.is_some()
            || !self.critical.is_empty()
            || self
                .targets
                .values()
                .any(|s| matches!(s, TargetState::Full | TargetState::Error))
        {
            TrayState::Error
        } else if self.relay_down
            || self.paused
            || self.targets.values().any(|s| *s == TargetState::Offline)
            || self
                .cameras
                .values()
                .any(|s| matches!(s, CameraState::Busy | CameraState::Error))
        {
            TrayState::Attention
        } else if self.queue > 0 {
            TrayState::Working
        } else {
            TrayState::Idle
        }
    }

    /// One line for the tooltip and the menu's status line.
    pub fn summary(&self) -> String {
        if let Some(problem) = &self.engine_problem {
            return format!("Shotline is not running: {problem}");
        }
        if let Some(title) = self.critical.values().next_back() {
            return title.clone();
        }
        let offline: Vec<&str> = self
            .targets
            .iter()
            .filter(|(_, s)| **s == TargetState::Offline)
            .map(|(n, _)| n.as_str())
            .collect();
        if !offline.is_empty() {
            return format!("Drive missing: {}", offline.join(", "));
        }
        if self.relay_down {
            return "The relay is unreachable; events wait".into();
        }
        if self.paused {
            return "Paused: frames go into the library only".into();
        }
        if self.queue > 0 {
            let Some(batch) = self.batch else {
                return format!("Working: {} copies to make", self.queue);
            };
            let done = self.done.saturating_sub(batch.done_before);
            return format!(
                "Working: {}",
                batch_line(done, done + self.queue, batch.started.elapsed())
            );
        }
        match self.stored {
            0 => "All is well".into(),
            1 => "All is well: 1 frame stored this session".into(),
            n => format!("All is well: {n} frames stored this session"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shotline_protocol::{Notification, QueueStatus, TargetStatus};

    fn target(state: TargetState) -> Event {
        Event::TargetStatus(TargetStatus {
            target: "backup".into(),
            state,
            path: "/b".into(),
            free_bytes: None,
            total_bytes: None,
            message: None,
        })
    }

    fn note(level: Level, category: &str) -> Event {
        Event::Notification(Notification {
            level,
            category: category.into(),
            title: format!("{category}!"),
            message: String::new(),
        })
    }

    #[test]
    fn the_worst_thing_decides_the_state() {
        let mut h = Health::default();
        assert_eq!(h.state(), TrayState::Idle);
        h.apply(&target(TargetState::Online));
        h.apply(&Event::QueueStatus(QueueStatus {
            shots: 1,
            ingesting: 1,
            backups_pending: 2,
            backups_verified: 0,
            backups_failed: 0,
        }));
        assert_eq!(h.state(), TrayState::Working);
        assert_eq!(h.summary(), "Working: copying 1 of 3");
        h.apply(&target(TargetState::Offline));
        assert_eq!(h.state(), TrayState::Attention);
        assert_eq!(h.summary(), "Drive missing: backup");
        h.apply(&note(Level::Critical, "library_full"));
        assert_eq!(h.state(), TrayState::Error);
        assert_eq!(h.summary(), "library_full!");
        h.apply(&note(Level::Info, "library_ok"));
        h.apply(&target(TargetState::Online));
        assert_eq!(h.state(), TrayState::Working);
        h.set_relay_down(true);
        assert_eq!(h.state(), TrayState::Attention);
        h.set_engine_problem(Some("locked".into()));
        assert_eq!(h.state(), TrayState::Error);
    }

    #[test]
    fn the_run_of_work_counts_its_copies_and_the_time_left() {
        let queue = |pending, verified| {
            Event::QueueStatus(QueueStatus {
                shots: 12,
                ingesting: 0,
                backups_pending: pending,
                backups_verified: verified,
                backups_failed: 0,
            })
        };
        let mut h = Health::default();
        h.apply(&queue(0, 30));
        assert!(h.summary().starts_with("All is well"));
        // 12 new copies after 30 earlier ones: this run counts from its start.
        h.apply(&queue(12, 30));
        assert_eq!(h.summary(), "Working: copying 1 of 12");
        h.apply(&queue(10, 32));
        assert!(
            h.summary().starts_with("Working: copying 3 of 12 — "),
            "{}",
            h.summary()
        );
        // More frames come in during the run: the total grows.
        h.apply(&queue(14, 32));
        assert!(
            h.summary().starts_with("Working: copying 3 of 16"),
            "{}",
            h.summary()
        );
        h.apply(&queue(0, 46));
        assert!(h.summary().starts_with("All is well"));
        h.apply(&queue(2, 46));
        assert_eq!(h.summary(), "Working: copying 1 of 2");
    }

    #[test]
    fn the_time_left_goes_at_the_pace_of_the_copies_done() {
        assert_eq!(batch_line(0, 12, Duration::from_secs(5)), "copying 1 of 12");
        // 2 done in 10 s: 10 more take 50 s.
        assert_eq!(
            batch_line(2, 12, Duration::from_secs(10)),
            "copying 3 of 12 — 50 s left"
        );
        assert_eq!(
            batch_line(1, 12, Duration::from_secs(60)),
            "copying 2 of 12 — 11 min left"
        );
        assert_eq!(
            batch_line(1, 100, Duration::from_secs(60)),
            "copying 2 of 100 — 1 h 39 min left"
        );
        assert_eq!(
            batch_line(12, 12, Duration::from_secs(60)),
            "copying 12 of 12"
        );
    }
}
