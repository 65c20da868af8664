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

/// Delay before retry number `attempts` (1-based): exponential from 2 s, capped at 5 min,
/// with full jitter over the upper half so retries of many jobs spread out.
pub fn backoff(attempts: u32) -> Duration {
    let base = 2_000u64
        .saturating_mul(1 << attempts.min(10).saturating_sub(1))
        .min(300_000);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or_default();
    Duration::from_millis(base / 2 + nanos % (base / 2 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_secs(2) && backoff(1) >= Duration::from_secs(1));
        assert!(backoff(4) >= Duration::from_secs(8));
        assert!(backoff(30) <= Duration::from_secs(300));
    }
}
