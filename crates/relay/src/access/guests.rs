//! The guest publish rate: a token bucket per subject on this node, so a guest's tabs
//! share one budget (default 60 a minute, bursts up to a minute's worth).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets idle this long are forgotten.
const IDLE: Duration = Duration::from_secs(600);

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Every guest subject's bucket.
#[derive(Debug)]
pub struct Guests {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Guests {
    /// `per_minute` publishes a minute per guest.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The rate, a minute.
    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Take one publish for `subject`; false when it is over the rate.
    pub fn take(&self, subject: &str) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| now.duration_since(b.last) < IDLE);
        }
        let full = f64::from(self.per_minute);
        let bucket = buckets.entry(subject.to_string()).or_insert(Bucket {
            tokens: full,
            last: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.last).as_secs_f64() * full / 60.0).min(full);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_gets_a_minutes_worth_then_waits_and_others_are_not_held() {
        let guests = Guests::new(5);
        assert!((0..5).all(|_| guests.take("ana")));
        assert!(!guests.take("ana"));
        assert!(
            guests.take("ben"),
            "another guest has a budget of their own"
        );
    }
}
