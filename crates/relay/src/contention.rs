//! A mutex that counts what it costs: how often it is taken, how often a thread found it
//! held and waited, and how long in all — so whether a lock shows is measured (`/stats`,
//! `/metrics`, `cargo xtask bench answers`), not guessed. An uncontended take costs one
//! relaxed atomic add more than a plain `Mutex`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Instant;

/// What a [`Counted`] lock cost so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LockStats {
    /// Times taken.
    pub taken: u64,
    /// Of those, times another thread held it and it was waited for.
    pub waited: u64,
    /// Time spent waiting, in microseconds, summed over threads.
    pub wait_us: u64,
}

/// A [`Mutex`] with its [`LockStats`]; a poisoned lock is taken as it is.
#[derive(Debug, Default)]
pub struct Counted<T> {
    inner: Mutex<T>,
    taken: AtomicU64,
    waited: AtomicU64,
    wait_us: AtomicU64,
}

impl<T> Counted<T> {
    /// A lock around `value`.
    pub fn new(value: T) -> Self {
        Self {
            inner: Mutex::new(value),
            taken: AtomicU64::new(0),
            waited: AtomicU64::new(0),
            wait_us: AtomicU64::new(0),
        }
    }

    /// Take the lock, counting a wait if it was held.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.taken.fetch_add(1, Ordering::Relaxed);
        match self.inner.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                let asked = Instant::now();
                let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
                self.waited.fetch_add(1, Ordering::Relaxed);
                self.wait_us
                    .fetch_add(asked.elapsed().as_micros() as u64, Ordering::Relaxed);
                guard
            }
        }
    }

    /// What it cost so far.
    pub fn stats(&self) -> LockStats {
        LockStats {
            taken: self.taken.load(Ordering::Relaxed),
            waited: self.waited.load(Ordering::Relaxed),
            wait_us: self.wait_us.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_held_lock_counts_the_wait() {
        let lock = Arc::new(Counted::new(0u32));
        *lock.lock() += 1;
        assert_eq!(
            lock.stats(),
            LockStats {
                taken: 1,
                waited: 0,
                wait_us: 0
            }
        );
        // Held here for 200 ms while another thread asks for it.
        let guard = lock.lock();
        let other = {
            let lock = lock.clone();
            std::thread::spawn(move || *lock.lock() += 1)
        };
        while lock.stats().taken < 3 {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(200));
        drop(guard);
        other.join().expect("the other thread");
        let stats = lock.stats();
        assert_eq!((stats.taken, stats.waited), (3, 1));
        // Part of the hold at least (the other thread may have been scheduled late).
        assert!(stats.wait_us >= 10_000, "{stats:?}");
        assert_eq!(*lock.lock(), 2);
    }
}
