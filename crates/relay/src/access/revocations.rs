//! Revoked tokens: by `jti` (one token) or by `sub` (every token of that subject issued up
//! to the revocation). Each lasts until the token it names would have expired. Kept where
//! it outlives the relay: a file under the data folder for one node, or Redis for a
//! cluster; checked against an in-memory copy on every request.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::auth::{Claims, now_secs};

/// How long a revocation is kept when the token's expiry is not known.
pub const KEEP_UNKNOWN_SECS: u64 = 400 * 86_400;

/// One subject's revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRevoked {
    /// Tokens of the subject issued at or before this (seconds) are revoked.
    pub before: u64,
    /// Kept until then (seconds).
    pub until: u64,
}

/// Every revocation in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    /// jti → kept until (seconds).
    #[serde(default)]
    pub jti: HashMap<String, u64>,
    /// sub → revocation.
    #[serde(default)]
    pub sub: HashMap<String, SubjectRevoked>,
}

impl Revoked {
    /// True when `claims` is revoked: the token itself, or any token it was exchanged
    /// from (a link's guests go with the link).
    pub fn covers(&self, claims: &Claims) -> bool {
        if self.jti.is_empty() && self.sub.is_empty() {
            return false;
        }
        self.names(claims.jti.as_deref(), claims.subject(), claims.iat)
            || claims
                .parents
                .iter()
                .any(|p| self.names(p.jti.as_deref(), &p.sub, p.iat))
    }

    /// True when the token `jti`, of subject `sub` issued at `iat`, is revoked itself.
    fn names(&self, jti: Option<&str>, sub: &str, iat: Option<u64>) -> bool {
        if jti.is_some_and(|j| self.jti.contains_key(j)) {
            return true;
        }
        match (self.sub.get(sub), iat) {
            (Some(r), Some(iat)) => iat <= r.before,
            // A token that does not say when it was issued may be older: revoked.
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Forget what has expired.
    pub fn prune(&mut self, now: u64) {
        self.jti.retain(|_, until| *until > now);
        self.sub.retain(|_, r| r.until > now);
    }

    /// Add `other`'s revocations.
    pub fn merge(&mut self, other: Revoked) {
        self.jti.extend(other.jti);
        for (sub, r) in other.sub {
            let entry = self.sub.entry(sub).or_insert(r);
            entry.before = entry.before.max(r.before);
            entry.until = entry.until.max(r.until);
        }
    }
}

/// The in-memory copy, and the file it is kept in (one node).
#[derive(Debug, Default)]
pub struct Store {
    revoked: Mutex<Revoked>,
    file: Option<PathBuf>,
}

/// A file the relay keeps (revocations, shares) could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct StoreError {
    path: String,
    source: std::io::Error,
}

impl StoreError {
    /// `source` happened on `path`.
    pub fn new(path: &Path, source: std::io::Error) -> Self {
        Self {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Write `value` as JSON to `file` atomically: a partial file, synced, renamed over it.
pub fn write_atomically(file: &Path, value: &impl Serialize) -> Result<(), StoreError> {
    let error = |source| StoreError::new(file, source);
    let tmp = file.with_extension("json.partial");
    let bytes = serde_json::to_vec_pretty(value)
        .unwrap_or_else(|e| unreachable!("kept state serialises: {e}"));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(error)?;
        f.write_all(&bytes).map_err(error)?;
        f.sync_all().map_err(error)?;
    }
    std::fs::rename(&tmp, file).map_err(error)?;
    if let Some(dir) = file.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

impl Store {
    /// A store kept in `dir/revocations.json` (created), or only in memory.
    pub fn open(dir: Option<&Path>) -> Result<Self, StoreError> {
        let Some(dir) = dir else {
            return Ok(Self::default());
        };
        let file = dir.join("revocations.json");
        let error = |source| StoreError::new(&file, source);
        std::fs::create_dir_all(dir).map_err(error)?;
        let revoked = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Revoked::default(),
            Err(e) => return Err(error(e)),
        };
        Ok(Self {
            revoked: Mutex::new(revoked),
            file: Some(file),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Revoked> {
        self.revoked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True when `claims` is revoked.
    pub fn covers(&self, claims: &Claims) -> bool {
        self.lock().covers(claims)
    }

    /// Add revocations (from this node or another) and keep them.
    pub fn add(&self, more: Revoked) -> Result<(), StoreError> {
        let snapshot = {
            let mut revoked = self.lock();
            revoked.merge(more);
            revoked.prune(now_secs());
            revoked.clone()
        };
        self.save(&snapshot)
    }

    /// Replace the copy with what the shared store holds (a cluster's periodic refresh).
    pub fn replace(&self, all: Revoked) {
        *self.lock() = all;
    }

    fn save(&self, revoked: &Revoked) -> Result<(), StoreError> {
        match &self.file {
            Some(file) => write_atomically(file, revoked),
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
    fn revocations_cover_a_token_or_a_subject_and_survive_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let token = Claims::new(
            Role::Subscriber,
            vec!["s:*".into()],
            Duration::from_secs(60),
        )
        .with_sub("ana");
        let store = Store::open(Some(dir.path())).expect("store");
        assert!(!store.covers(&token));
        let mut by_sub = Revoked::default();
        by_sub.sub.insert(
            "ana".into(),
            SubjectRevoked {
                before: now_secs(),
                until: now_secs() + 60,
            },
        );
        store.add(by_sub).expect("add");
        assert!(store.covers(&token));
        let later = Claims {
            iat: Some(now_secs() + 5),
            ..token.clone()
        };
        assert!(!store.covers(&later), "a token issued after the revocation");
        let reopened = Store::open(Some(dir.path())).expect("store");
        assert!(reopened.covers(&token), "kept across a restart");
        let mut by_jti = Revoked::default();
        let other = Claims::new(Role::Guest, vec!["x".into()], Duration::from_secs(60));
        by_jti
            .jti
            .insert(other.jti.clone().expect("jti"), now_secs() + 60);
        reopened.add(by_jti).expect("add");
        assert!(reopened.covers(&other));
        let mut gone = Revoked::default();
        gone.jti.insert("old".into(), now_secs() - 1);
        gone.prune(now_secs());
        assert!(gone.jti.is_empty(), "expired revocations are forgotten");
    }
}
