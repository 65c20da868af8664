//! The live gallery's shares as the relay knows them: each share's channel
//! (`<studio>:gallery:<id>`), expiry, title, and when it was closed. A closed share's
//! tokens are refused and its pages cut off; its link answers 410. Kept where it
//! outlives the relay: `shares.json` under the data folder for one node, or Redis for a
//! cluster; read from an in-memory copy on every request.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::revocations::StoreError;
use crate::auth::Claims;

/// A closed or expired share is remembered this long after its expiry (its link answers
/// 410 until then, 404 after).
pub const KEEP_AFTER_EXPIRY_SECS: u64 = 30 * 86_400;

/// One share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRecord {
    /// Its id, as in `/g/<id>`.
    pub id: String,
    /// Its channel.
    pub channel: String,
    /// Expires (seconds since the epoch).
    pub exp: u64,
    /// A title for its guests.
    #[serde(default)]
    pub title: Option<String>,
    /// Closed by the studio (seconds since the epoch).
    #[serde(default)]
    pub closed: Option<u64>,
    /// The Argon2 hash of its PIN (a PHC string): its link's token is then only good for
    /// an exchange that gives the PIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// When its PIN was last set (seconds): guests let in before then give it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_set: Option<u64>,
    /// What its guests may download.
    #[serde(default)]
    pub downloads: shotline_protocol::gallery::Downloads,
    /// "Choose N".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choose: Option<shotline_protocol::gallery::Choose>,
    /// Its guests see the studio's live view (`GET /v1/shares/{id}/live`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub live: bool,
}

/// A share's state at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareState {
    /// Guests may look.
    Open,
    /// The studio closed it.
    Closed,
    /// Its time is up.
    Expired,
}

impl ShareRecord {
    /// Its state at `now` (seconds).
    pub fn state(&self, now: u64) -> ShareState {
        if self.closed.is_some() {
            ShareState::Closed
        } else if self.exp <= now {
            ShareState::Expired
        } else {
            ShareState::Open
        }
    }
}

/// A valid share id: 1 to 64 of `A-Z a-z 0-9 _ -`.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[derive(Debug, Default)]
struct Known {
    shares: HashMap<String, ShareRecord>,
    /// Each share's channel: when it ends (closed: 0; else its expiry, seconds).
    ends: HashMap<String, u64>,
    /// The channels of shares with a PIN: when it was set.
    pinned: HashMap<String, u64>,
}

impl Known {
    fn from(shares: HashMap<String, ShareRecord>) -> Self {
        let ends = shares
            .values()
            .map(|s| {
                (
                    s.channel.clone(),
                    if s.closed.is_some() { 0 } else { s.exp },
                )
            })
            .collect();
        let pinned = shares
            .values()
            .filter(|s| s.pin.is_some())
            .map(|s| (s.channel.clone(), s.pin_set.unwrap_or(0)))
            .collect();
        Self {
            shares,
            ends,
            pinned,
        }
    }

    /// True when `channel` is a share's that is closed or expired at `now`.
    fn ended(&self, channel: &str, now: u64) -> bool {
        self.ends.get(channel).is_some_and(|end| *end <= now)
    }
}

/// The in-memory copy, and the file it is kept in (one node).
#[derive(Debug, Default)]
pub struct Shares {
    known: Mutex<Known>,
    file: Option<PathBuf>,
}

impl Shares {
    /// Shares kept in `dir/shares.json` (created), or only in memory.
    pub fn open(dir: Option<&Path>) -> Result<Self, StoreError> {
        let Some(dir) = dir else {
            return Ok(Self::default());
        };
        let file = dir.join("shares.json");
        std::fs::create_dir_all(dir).map_err(|e| StoreError::new(&file, e))?;
        let shares: HashMap<String, ShareRecord> = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                StoreError::new(
                    &file,
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => return Err(StoreError::new(&file, e)),
        };
        Ok(Self {
            known: Mutex::new(Known::from(shares)),
            file: Some(file),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One share.
    pub fn get(&self, id: &str) -> Option<ShareRecord> {
        self.lock().shares.get(id).cloned()
    }

    /// Every share known, by id.
    pub fn all(&self) -> Vec<ShareRecord> {
        let mut all: Vec<ShareRecord> = self.lock().shares.values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// True when `claims` reaches nothing but shares that are closed or expired at `now`
    /// (a guest's or a viewer's token for a share that has ended).
    pub fn shuts_out(&self, claims: &Claims, now: u64) -> bool {
        let known = self.lock();
        !known.ends.is_empty()
            && !claims.channels.is_empty()
            && claims.channels.iter().all(|c| known.ended(c, now))
    }

    /// True when `claims` are a PIN-protected share's link token (a guest's token the
    /// relay did not mint for one guest), or a guest's own token minted before the PIN
    /// was set: good only for an exchange that gives the PIN.
    pub fn needs_pin(&self, claims: &Claims) -> bool {
        if claims.role != crate::auth::Role::Guest {
            return false;
        }
        let own = claims
            .sub
            .as_deref()
            .is_some_and(|s| s.starts_with(crate::auth::exchange::GUEST_PREFIX));
        let known = self.lock();
        !known.pinned.is_empty()
            && claims.channels.iter().any(|c| {
                known
                    .pinned
                    .get(c.strip_suffix('*').unwrap_or(c))
                    .is_some_and(|set| !own || claims.iat.is_none_or(|iat| iat < *set))
            })
    }

    /// True when `channel` is a share's that is closed or expired at `now`.
    pub fn ended(&self, channel: &str, now: u64) -> bool {
        self.lock().ended(channel, now)
    }

    /// Keep `record` (new, changed, or closed), forgetting long-expired shares; the
    /// channels of those forgotten (their answer logs go too).
    pub fn put(&self, record: ShareRecord, now: u64) -> Result<Vec<String>, StoreError> {
        let mut forgotten = Vec::new();
        let snapshot = {
            let mut known = self.lock();
            let mut shares = std::mem::take(&mut known.shares);
            shares.insert(record.id.clone(), record);
            shares.retain(|_, s| {
                let keep = s.exp.saturating_add(KEEP_AFTER_EXPIRY_SECS) > now;
                if !keep {
                    forgotten.push(s.channel.clone());
                }
                keep
            });
            *known = Known::from(shares);
            known.shares.clone()
        };
        self.save(&snapshot)?;
        Ok(forgotten)
    }

    /// Replace the copy with what the shared store holds (a cluster's refresh).
    pub fn replace(&self, all: HashMap<String, ShareRecord>) {
        *self.lock() = Known::from(all);
    }

    fn save(&self, shares: &HashMap<String, ShareRecord>) -> Result<(), StoreError> {
        match &self.file {
            Some(file) => super::revocations::write_atomically(file, shares),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use std::time::Duration;

    #[test]
    fn a_closed_share_shuts_its_tokens_out_and_is_remembered_across_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shares = Shares::open(Some(dir.path())).expect("open");
        let now = crate::auth::now_secs();
        let record = ShareRecord {
            id: "abc".into(),
            channel: "s:gallery:abc".into(),
            exp: now + 600,
            title: Some("Spring".into()),
            closed: None,
            pin: None,
            pin_set: None,
            downloads: Default::default(),
            choose: None,
            live: false,
        };
        shares.put(record.clone(), now).expect("put");
        let guest = Claims::new(
            Role::Guest,
            vec!["s:gallery:abc".into()],
            Duration::from_secs(60),
        );
        let link = guest.clone().with_sub("share:abc");
        assert!(!shares.needs_pin(&link));
        shares
            .put(
                ShareRecord {
                    pin: Some("$argon2id$…".into()),
                    pin_set: Some(now),
                    ..record.clone()
                },
                now,
            )
            .expect("a PIN");
        assert!(shares.needs_pin(&link), "the link's own token");
        let mut let_in = guest.clone().with_sub("guest-0123");
        let_in.iat = Some(now);
        assert!(!shares.needs_pin(&let_in), "a guest who gave the PIN");
        let_in.iat = Some(now - 1);
        assert!(
            shares.needs_pin(&let_in),
            "a guest let in before the PIN was set"
        );
        let studio = Claims::new(
            Role::Subscriber,
            vec!["s:*".into()],
            Duration::from_secs(60),
        );
        assert!(!shares.shuts_out(&guest, now));
        assert_eq!(
            shares.get("abc").map(|s| s.state(now)),
            Some(ShareState::Open)
        );
        shares
            .put(
                ShareRecord {
                    closed: Some(now),
                    ..record.clone()
                },
                now,
            )
            .expect("close");
        assert!(shares.shuts_out(&guest, now));
        assert!(
            !shares.shuts_out(&studio, now),
            "the studio's own token is not a share's"
        );
        let reopened = Shares::open(Some(dir.path())).expect("open");
        assert!(reopened.shuts_out(&guest, now), "closed across a restart");
        assert_eq!(
            reopened.get("abc").map(|s| s.state(now)),
            Some(ShareState::Closed)
        );
        let old = ShareRecord {
            id: "old".into(),
            exp: now - KEEP_AFTER_EXPIRY_SECS - 1,
            ..record
        };
        reopened.put(old, now).expect("put");
        assert_eq!(
            reopened.get("old"),
            None,
            "long-expired shares are forgotten"
        );
        assert!(
            valid_id("a-Z_9") && !valid_id("") && !valid_id("a/b") && !valid_id(&"x".repeat(65))
        );
    }
}
