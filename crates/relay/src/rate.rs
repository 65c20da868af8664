//! A connection's publish budget: a token bucket at `publish_rate` a second (bursts up to
//! twice that). Once a publish is refused, every publish in the next second is refused too
//! (the pause does not grow while it lasts), so a publisher that resends from its first
//! refused event keeps its order. The same on every transport.

use std::time::{Duration, Instant};

/// How long publishing stays refused after a refusal.
const COOL_DOWN: Duration = Duration::from_secs(1);

/// One connection's budget.
#[derive(Debug)]
pub struct Budget {
    tokens: f64,
    rate: f64,
    last: Instant,
    cooling: Option<Instant>,
}

impl Budget {
    /// `per_second` publishes a second, bursts of twice that.
    pub fn new(per_second: u32) -> Self {
        Self {
            tokens: f64::from(per_second) * 2.0,
            rate: f64::from(per_second),
            last: Instant::now(),
            cooling: None,
        }
    }

    /// Take one publish; false when over the budget (and for the second after).
    pub fn take(&mut self) -> bool {
        let now = Instant::now();
        if let Some(until) = self.cooling {
            if now < until {
                return false;
            }
            self.cooling = None;
        }
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate)
            .min(self.rate * 2.0);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.cooling = Some(now + COOL_DOWN);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_taken_then_refused_for_a_second() {
        let mut budget = Budget::new(2);
        assert!((0..4).all(|_| budget.take()));
        assert!(!budget.take());
        assert!(!budget.take(), "still cooling");
    }
}
