//! Retry timing shared by every Shotline program that talks to something that can be away
//! (a backup drive, a bucket, the relay, Redis): exponential backoff with jitter, so many
//! retries that failed together do not come back together.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The delay before retry number `attempt` (1-based): `first` doubling each time, capped at
/// `max`, then drawn uniformly from its upper half ("equal jitter": never less than half,
/// so a retry storm cannot form, and spread out so clients do not return in step).
pub fn backoff(attempt: u32, first: Duration, max: Duration) -> Duration {
    let doublings = attempt.saturating_sub(1).min(32);
    let ceiling = first
        .saturating_mul(1u32 << doublings.min(31))
        .min(max)
        .as_millis() as u64;
    let half = ceiling / 2;
    Duration::from_millis(half + random() % (ceiling - half + 1))
}

/// A pseudo-random number: the clock's nanoseconds and a counter through SplitMix64.
/// Good enough to spread retries; not for anything secret.
fn random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let mut z = nanos.wrapping_add(
        COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn grows_from_first_and_stays_in_the_upper_half() {
        for attempt in 1..=40 {
            let ceiling = (S * 2u32.pow(attempt.min(20) - 1)).min(S * 300);
            for _ in 0..50 {
                let d = backoff(attempt, S, S * 300);
                assert!(d <= ceiling && d >= ceiling / 2, "{attempt}: {d:?}");
            }
        }
        assert_eq!(
            backoff(0, S, S * 300).as_millis() / 500,
            1,
            "0 is the first"
        );
    }

    #[test]
    fn retries_spread_out() {
        let seen: std::collections::HashSet<_> = (0..100).map(|_| backoff(8, S, S * 300)).collect();
        assert!(seen.len() > 50, "only {} distinct delays", seen.len());
    }
}
