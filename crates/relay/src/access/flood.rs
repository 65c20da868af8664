//! What one link and one address may add, so a leaked gallery link cannot flood a share:
//!
//! - [`Joins`]: new guests (subjects) a link lets in from one address, a token bucket
//!   (default 300 at once — a wedding's guests on the venue's Wi-Fi — then 300 an hour).
//! - [`Answers`]: the bytes of answers one address adds to one share's log, a token bucket
//!   (default 2 MB at once, then 1 MB a minute) shared fairly: once it is empty, each
//!   guest still gets its fair share of a minute's refill (the refill divided by the
//!   guests drawing on it from that address this minute, and by 50 at least), so a
//!   script on the venue's Wi-Fi is cut off after the burst and the people beside it
//!   still answer.
//!
//! - [`Guesses`]: wrong guesses of a share's PIN, per key (see `gallery::pin`).
//!
//! They forget what has been idle for ten minutes (wrong guesses: an hour).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// State idle this long is forgotten.
const IDLE: Duration = Duration::from_secs(600);
/// Entries kept before the idle ones are swept.
const SWEEP_AT: usize = 10_000;
/// A fair share is never more than this part of a minute's refill: guests turning up one
/// after another cannot each take a large share before the next arrives (all of them
/// together take at most about three minutes' refill a minute: 1 + ln(300 / 50)).
const FAIR_PARTS: u64 = 50;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A token bucket of `capacity`, refilled at `per_sec`.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn full(capacity: f64, now: Instant) -> Self {
        Self {
            tokens: capacity,
            last: now,
        }
    }

    fn refill(&mut self, capacity: f64, per_sec: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_sec).min(capacity);
        self.last = now;
    }
}

/// New guests per link and address (and new Socket.IO sessions per address): a token
/// bucket per key, full at first.
#[derive(Debug)]
pub struct Joins {
    capacity: u32,
    per_sec: f64,
    buckets: Mutex<HashMap<(String, Option<IpAddr>), Bucket>>,
    /// Takes refused.
    pub refused: AtomicU64,
}

impl Joins {
    /// `per_hour` per key, all of them at once if need be.
    pub fn new(per_hour: u32) -> Self {
        Self::with(per_hour, f64::from(per_hour.max(1)) / 3600.0)
    }

    /// `capacity` at once per key, refilled at `per_sec`.
    pub fn with(capacity: u32, per_sec: f64) -> Self {
        Self {
            capacity: capacity.max(1),
            per_sec,
            buckets: Mutex::new(HashMap::new()),
            refused: AtomicU64::new(0),
        }
    }

    /// How many at once.
    pub fn per_hour(&self) -> u32 {
        self.capacity
    }

    /// Take one for `link` from `address`; false when it is over the limit.
    pub fn take(&self, link: &str, address: Option<IpAddr>) -> bool {
        let now = Instant::now();
        let capacity = f64::from(self.capacity);
        let mut buckets = lock(&self.buckets);
        if buckets.len() > SWEEP_AT {
            buckets.retain(|_, b| now.saturating_duration_since(b.last) < IDLE);
        }
        let bucket = buckets
            .entry((link.to_string(), address))
            .or_insert_with(|| Bucket::full(capacity, now));
        bucket.refill(capacity, self.per_sec, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            self.refused.fetch_add(1, Ordering::Relaxed);
            false
        }
    }
}

/// Guesses (of a share's PIN) per key: a token bucket each guess takes from before it
/// is checked (so guesses sent all at once are counted all at once), given back when
/// the guess was right; and the wrong guesses each key made while remembered.
#[derive(Debug)]
pub struct Guesses {
    capacity: f64,
    per_sec: f64,
    buckets: Mutex<HashMap<Key, (Bucket, u64)>>,
}

/// A share, and an address (or none: the whole share).
type Key = (String, Option<IpAddr>);

impl Guesses {
    /// `capacity` guesses at once per key, refilled at `per_sec`.
    pub fn new(capacity: u32, per_sec: f64) -> Self {
        Self {
            capacity: f64::from(capacity.max(1)),
            per_sec,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn with<T>(&self, key: &Key, f: impl FnOnce(&mut Bucket, &mut u64, f64) -> T) -> T {
        let now = Instant::now();
        let mut buckets = lock(&self.buckets);
        if buckets.len() > SWEEP_AT {
            buckets.retain(|_, (b, _)| now.saturating_duration_since(b.last) < IDLE * 6);
        }
        let (bucket, count) = buckets
            .entry(key.clone())
            .or_insert_with(|| (Bucket::full(self.capacity, now), 0));
        bucket.refill(self.capacity, self.per_sec, now);
        f(bucket, count, self.capacity)
    }

    /// Take a guess for `key`; false when it has none left.
    pub fn take(&self, key: &Key) -> bool {
        self.with(key, |bucket, _, _| {
            if bucket.tokens >= 1.0 {
                bucket.tokens -= 1.0;
                true
            } else {
                false
            }
        })
    }

    /// Give back a guess taken (it was right, or never checked).
    pub fn refund(&self, key: &Key) {
        self.with(key, |bucket, _, capacity| {
            bucket.tokens = (bucket.tokens + 1.0).min(capacity);
        });
    }

    /// `key` guessed wrong; how many times it has (while remembered).
    pub fn failed(&self, key: &Key) -> u64 {
        self.with(key, |_, count, _| {
            *count += 1;
            *count
        })
    }

    /// How many wrong guesses `key` made (while remembered).
    pub fn failures(&self, key: &Key) -> u64 {
        lock(&self.buckets).get(key).map_or(0, |(_, count)| *count)
    }
}

/// One address's budget on one share.
#[derive(Debug)]
struct Budget {
    bucket: Bucket,
    /// Bytes each guest drew this minute while the bucket was empty.
    minute: HashMap<Arc<str>, u64>,
    minute_began: Instant,
    /// Answers and bytes this address has added to the share's log (since the relay
    /// started).
    held: (u64, u64),
}

/// Why an answer was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The address is over its rate, and the guest over its fair share: later.
    Rate,
    /// The address holds its part of the share's log: no more from it.
    Held,
}

/// Answer bytes per share and address, shared fairly.
#[derive(Debug)]
pub struct Answers {
    burst: u64,
    per_minute: u64,
    /// Answers and bytes one address may hold in one share's log.
    hold: (u64, u64),
    budgets: Mutex<HashMap<(String, Option<IpAddr>), Budget>>,
    /// Answers refused.
    pub refused: AtomicU64,
}

impl Answers {
    /// `burst` bytes at once per share and address, then `per_minute`; one address holds
    /// at most `hold` (answers, bytes) of a share's log.
    pub fn new(burst: u64, per_minute: u64, hold: (u64, u64)) -> Self {
        Self {
            burst: burst.max(1),
            per_minute: per_minute.max(1),
            hold,
            budgets: Mutex::new(HashMap::new()),
            refused: AtomicU64::new(0),
        }
    }

    /// Take `bytes` of an answer by `guest` from `address` on `channel`, or say why not.
    pub fn take(
        &self,
        channel: &str,
        address: Option<IpAddr>,
        guest: &str,
        bytes: u64,
    ) -> Result<(), Refusal> {
        let now = Instant::now();
        let capacity = self.burst as f64;
        let mut budgets = lock(&self.budgets);
        if budgets.len() > SWEEP_AT {
            // What an address holds is kept: forgetting it would let it start again.
            budgets
                .retain(|_, b| b.held.0 > 0 || now.saturating_duration_since(b.bucket.last) < IDLE);
        }
        let budget = budgets
            .entry((channel.to_string(), address))
            .or_insert_with(|| Budget {
                bucket: Bucket::full(capacity, now),
                minute: HashMap::new(),
                minute_began: now,
                held: (0, 0),
            });
        if budget.held.0 >= self.hold.0 || budget.held.1 + bytes > self.hold.1 {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Refusal::Held);
        }
        budget
            .bucket
            .refill(capacity, self.per_minute as f64 / 60.0, now);
        if now.saturating_duration_since(budget.minute_began) >= Duration::from_secs(60) {
            budget.minute.clear();
            budget.minute_began = now;
        }
        if budget.bucket.tokens >= bytes as f64 {
            budget.bucket.tokens -= bytes as f64;
            budget.held = (budget.held.0 + 1, budget.held.1 + bytes);
            return Ok(());
        }
        // Out of budget: a guest under its fair share of the minute's refill still
        // answers (and the refill is spent on it).
        let active = budget.minute.len() as u64 + u64::from(!budget.minute.contains_key(guest));
        let sent = budget.minute.get(guest).copied().unwrap_or(0);
        if sent + bytes <= self.per_minute / active.max(FAIR_PARTS) {
            budget.bucket.tokens -= bytes as f64;
            *budget.minute.entry(guest.into()).or_default() += bytes;
            budget.held = (budget.held.0 + 1, budget.held.1 + bytes);
            Ok(())
        } else {
            self.refused.fetch_add(1, Ordering::Relaxed);
            Err(Refusal::Rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, n]))
    }

    #[test]
    fn a_link_lets_a_crowd_in_from_one_address_then_slows_down() {
        let joins = Joins::new(300);
        assert!((0..300).all(|_| joins.take("link", ip(1))), "the wedding");
        assert!(!joins.take("link", ip(1)), "the 301st in the same minute");
        assert!(joins.take("link", ip(2)), "another address");
        assert!(joins.take("other-link", ip(1)), "another link");
        assert_eq!(joins.refused.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_flooding_guest_is_cut_off_and_its_neighbours_still_answer() {
        let answers = Answers::new(10_000, 60_000, (u64::MAX, u64::MAX));
        let honest: Vec<String> = (0..20).map(|i| format!("guest-{i}")).collect();
        for g in &honest {
            assert!(answers.take("s:gallery:1", ip(1), g, 200).is_ok());
        }
        let mut flood = 0;
        while answers.take("s:gallery:1", ip(1), "script", 200).is_ok() {
            flood += 1;
            assert!(flood < 1000, "the script is never cut off");
        }
        assert!(
            flood * 200 <= 10_000 + 60_000 / FAIR_PARTS,
            "the script got no more than the burst and a minute's refill: {flood}"
        );
        for g in &honest {
            assert!(
                answers.take("s:gallery:1", ip(1), g, 200).is_ok(),
                "{g} is under its fair share"
            );
        }
        assert!(
            answers.take("s:gallery:1", ip(1), "script", 200) == Err(Refusal::Rate),
            "the script is over its share"
        );
        assert!(
            answers.take("s:gallery:2", ip(1), "script", 200).is_ok(),
            "another share has its own budget"
        );
        assert!(answers.refused.load(Ordering::Relaxed) >= 2);
    }

    #[test]
    fn an_address_holds_its_part_of_a_log_and_no_more() {
        let answers = Answers::new(u64::MAX / 2, 60_000, (3, 1_000));
        assert!((0..3).all(|_| answers.take("s:gallery:1", ip(1), "a", 100).is_ok()));
        assert_eq!(
            answers.take("s:gallery:1", ip(1), "b", 100),
            Err(Refusal::Held),
            "three answers held"
        );
        assert!(answers.take("s:gallery:1", ip(2), "c", 900).is_ok());
        assert_eq!(
            answers.take("s:gallery:1", ip(2), "c", 200),
            Err(Refusal::Held),
            "a thousand bytes held"
        );
    }
}
