//! A share's PIN: the studio's engine sends only its Argon2 hash (a PHC string) with the
//! share, and the relay checks a guest's PIN against it when the link's token is
//! exchanged for a guest token — the one thing a PIN-protected link's token may do.
//!
//! Wrong guesses are slowed down per share and address (5 at once, then one every two
//! minutes) and per share (30 at once, then 30 an hour, whoever guesses): a 4-digit PIN
//! then takes weeks to guess from one network, and days from many — longer than most
//! shares live; a passphrase is stronger still. Only wrong guesses draw on those budgets,
//! so a guest who knows the PIN gets in at once; once the share's budget is spent, only
//! addresses that have not guessed wrong are still checked (a guesser cannot lock the
//! guests out). Guesses are counted before they are checked, so many at once count as
//! many. Hashes are checked two at a time on blocking threads (a guess waits 2 s at most
//! for its turn, then is told to try again), so guessing cannot take the relay's CPU from
//! everyone else, and a hash whose cost is out of bounds is refused when the share is
//! registered.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use argon2::password_hash::PasswordHash;
use argon2::{Argon2, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::access::flood::Guesses;

/// The costliest hash a share may carry: memory (KiB), passes, lanes.
const MAX_COST: (u32, u32, u32) = (64 * 1024, 8, 4);

/// Is `phc` an Argon2 hash the relay will check (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`,
/// within the relay's bounds: 64 MiB, 8 passes, 4 lanes)? Why not, otherwise.
pub fn valid_hash(phc: &str) -> Result<(), String> {
    let hash = PasswordHash::new(phc).map_err(|e| format!("not a PHC hash string: {e}"))?;
    if !matches!(hash.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d") {
        return Err(format!("{} is not Argon2", hash.algorithm));
    }
    let params = argon2::Params::try_from(&hash).map_err(|e| format!("its parameters: {e}"))?;
    if params.m_cost() > MAX_COST.0 || params.t_cost() > MAX_COST.1 || params.p_cost() > MAX_COST.2
    {
        return Err(format!(
            "its cost (m={}, t={}, p={}) is more than the relay checks (m≤{}, t≤{}, p≤{})",
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
            MAX_COST.0,
            MAX_COST.1,
            MAX_COST.2
        ));
    }
    if hash.hash.is_none() {
        return Err("no hash in it".into());
    }
    Ok(())
}

/// What a PIN check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The share's PIN.
    Right,
    /// Not the share's PIN; how many wrong guesses the share has had (on this node).
    Wrong(u64),
    /// Too many wrong guesses from this address, or at this share: not checked.
    TooMany,
    /// Too many guesses being checked right now: not checked, try again.
    Busy,
}

/// The relay's PIN checks.
#[derive(Debug)]
pub struct Pins {
    checking: Semaphore,
    by_address: Guesses,
    by_share: Guesses,
    /// Wrong guesses.
    pub wrong: AtomicU64,
    /// Guesses not checked (too many).
    pub refused: AtomicU64,
}

impl Default for Pins {
    fn default() -> Self {
        Self {
            checking: Semaphore::new(2),
            by_address: Guesses::new(5, 1.0 / 120.0),
            by_share: Guesses::new(30, 30.0 / 3600.0),
            wrong: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }
}

impl Pins {
    /// Check `pin` for share `share` (whose PIN hashes to `phc`), given from `address`.
    ///
    /// Each guess takes from its address's budget and the share's before it is checked
    /// (guesses sent at once count at once); a right one gives them back. Once the
    /// share's budget is spent, an address that has not guessed wrong yet still gets its
    /// guess checked, so someone guessing cannot lock the guests who know the PIN out.
    pub async fn check(
        &self,
        share: &str,
        address: Option<IpAddr>,
        phc: &str,
        pin: &str,
    ) -> Checked {
        let from = (share.to_string(), address);
        let at = (share.to_string(), None);
        if !self.by_address.take(&from) {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Checked::TooMany;
        }
        let share_took = self.by_share.take(&at);
        if !share_took && self.by_address.failures(&from) > 0 {
            self.by_address.refund(&from);
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Checked::TooMany;
        }
        let give_back = || {
            self.by_address.refund(&from);
            if share_took {
                self.by_share.refund(&at);
            }
        };
        let permit =
            match tokio::time::timeout(Duration::from_secs(2), self.checking.acquire()).await {
                Ok(Ok(permit)) => permit,
                _ => {
                    give_back();
                    return Checked::Busy;
                }
            };
        let (hash, guess) = (phc.to_string(), pin.trim().to_string());
        let right = tokio::task::spawn_blocking(move || verify(&hash, &guess))
            .await
            .unwrap_or(false);
        drop(permit);
        if right {
            give_back();
            return Checked::Right;
        }
        self.wrong.fetch_add(1, Ordering::Relaxed);
        self.by_address.failed(&from);
        Checked::Wrong(self.by_share.failed(&at))
    }
}

/// Does `pin` hash to `phc`?
fn verify(phc: &str, pin: &str) -> bool {
    if pin.is_empty() || pin.len() > 256 {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &hash)
            .is_ok()
    })
}

/// Hash `pin` as the engine does (Argon2id, the crate's default cost, a random salt).
#[cfg(test)]
pub fn hash(pin: &str) -> String {
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("salt");
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .expect("hash")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_checked_for_their_kind_and_cost() {
        assert!(valid_hash(&hash("1234")).is_ok());
        assert!(valid_hash("1234").is_err(), "a PIN in the clear");
        let costly = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY";
        assert!(valid_hash(costly).is_err(), "4 GiB per check");
        assert!(valid_hash("$pbkdf2-sha256$i=1000$c2FsdA$YWJj").is_err());
    }

    #[tokio::test]
    async fn wrong_guesses_are_slowed_per_address_and_the_right_pin_still_works_elsewhere() {
        let pins = Pins::default();
        let phc = hash("2468");
        let a: Option<IpAddr> = "192.0.2.1".parse().ok();
        let b: Option<IpAddr> = "198.51.100.7".parse().ok();
        assert_eq!(pins.check("s", a, &phc, " 2468 ").await, Checked::Right);
        for n in 1..=5 {
            assert_eq!(pins.check("s", a, &phc, "0000").await, Checked::Wrong(n));
        }
        assert_eq!(
            pins.check("s", a, &phc, "2468").await,
            Checked::TooMany,
            "this address guessed too often"
        );
        assert_eq!(pins.check("s", b, &phc, "2468").await, Checked::Right);
        assert_eq!(pins.check("other", a, &phc, "2468").await, Checked::Right);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn guesses_sent_at_once_count_at_once() {
        let pins = std::sync::Arc::new(Pins::default());
        let phc = hash("2468");
        let c: Option<IpAddr> = "203.0.113.9".parse().ok();
        let guesses: Vec<_> = (0..40)
            .map(|n| {
                let (pins, phc) = (pins.clone(), phc.clone());
                tokio::spawn(async move { pins.check("t", c, &phc, &format!("{n:04}")).await })
            })
            .collect();
        let mut checked = 0;
        for guess in guesses {
            if matches!(
                guess.await.expect("task"),
                Checked::Wrong(_) | Checked::Right
            ) {
                checked += 1;
            }
        }
        assert!(
            checked <= 5,
            "{checked} guesses checked from one address at once"
        );
    }
}
