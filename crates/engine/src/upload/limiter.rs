//! The optional bandwidth limit over all uploads (`[upload] bandwidth`).

use std::time::{Duration, Instant};

/// A bandwidth limit shared by every upload: each request waits for its turn on a virtual
/// clock that advances by its size over the rate, so the long-run rate stays under it.
#[derive(Debug)]
pub struct Limiter {
    rate: f64,
    next: std::sync::Mutex<Instant>,
}

impl Limiter {
    /// At most `bytes_per_second`.
    pub fn new(bytes_per_second: u64) -> Self {
        Self {
            rate: bytes_per_second.max(1) as f64,
            next: std::sync::Mutex::new(Instant::now()),
        }
    }

    /// Block until `bytes` may be sent.
    pub fn take(&self, bytes: u64) {
        let wait = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let start = (*next).max(now);
            *next = start + Duration::from_secs_f64(bytes as f64 / self.rate);
            start - now
        };
        std::thread::sleep(wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_holds_the_long_run_rate() {
        let limit = Limiter::new(10_000_000);
        let start = Instant::now();
        for _ in 0..5 {
            limit.take(1_000_000);
        }
        // 5 MB at 10 MB/s: the last one may start after 0.4 s, not before.
        assert!(start.elapsed() >= Duration::from_millis(390));
    }
}
