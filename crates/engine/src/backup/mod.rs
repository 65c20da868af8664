//! Backup: one job per (shot, target), run by a scheduler that reads each library file once
//! for every target that is ready, verifies every copy from disk, and lets a target that is
//! offline, full or failing wait while the others go on.
//!
//! - [`target`]: a target's state (online, offline, full, error) and how it is probed.
//! - [`worker`]: copying one shot to several targets (blocking).
//! - [`scheduler`]: choosing due jobs, bounded concurrency, retries and events.

pub mod scheduler;
pub mod target;
pub mod worker;

use std::time::Duration;

pub use scheduler::Scheduler;
pub use target::Target;

/// Delay before retry number `attempts` (1-based) of a copy or a probe: from 2 s
/// doubling to 5 min, with jitter so retries of many jobs spread out.
pub(crate) fn retry_delay(attempts: u32) -> Duration {
    shotline_protocol::retry::backoff(attempts, Duration::from_secs(2), Duration::from_secs(300))
}
