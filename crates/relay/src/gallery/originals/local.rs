//! One node's originals: files under `--data/originals` (or a folder of the system's
//! temporary one without `--data`), indexed in memory; what a run kept is for that run.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use futures_util::Stream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::store::{
    BodyStream, KEPT_FOR, Kept, MAX_TICKETS, MAX_WANTED, MAX_WANTED_PER_SHARE, Pieces, PutError,
    SHARE_PART, TICKET_FOR, WANTED_FOR, Wanted, now_ms,
};
use crate::backend::Unavailable;

/// What is kept for a frame.
#[derive(Debug, Clone)]
pub(super) enum Entry {
    /// A presigned address.
    Url(String),
    File {
        /// Its name.
        name: String,
        /// Where it is.
        path: PathBuf,
    },
}

#[derive(Debug)]
struct Held {
    entry: Entry,
    size: u64,
    until_ms: u64,
}

#[derive(Debug, Default)]
struct Index {
    /// (share, frame) → what is kept.
    kept: HashMap<(String, i64), Held>,
    /// Bytes of files kept or being written.
    total: u64,
    /// Of them, each share's.
    by_share: HashMap<String, u64>,
    /// (share, frame) → the wait.
    wanted: HashMap<(String, i64), Wanted>,
    /// Names given to files (unique).
    next: u64,
    /// Ticket → share, frame, until (ms).
    tickets: HashMap<String, (String, i64, u64)>,
}

impl Index {
    /// Forget what has expired; the files to remove.
    fn prune(&mut self, now: u64) -> Vec<PathBuf> {
        let expired: Vec<(String, i64)> = self
            .kept
            .iter()
            .filter(|(_, held)| held.until_ms <= now)
            .map(|(key, _)| key.clone())
            .collect();
        let gone = expired.iter().filter_map(|key| self.remove(key)).collect();
        let since = now.saturating_sub(WANTED_FOR.as_millis() as u64);
        self.wanted.retain(|_, w| w.asked_ms >= since);
        gone
    }

    /// `size` bytes of `share`'s taken (or given back, negative).
    fn count(&mut self, share: &str, size: i128) {
        let apply = |n: u64| (i128::from(n) + size).max(0) as u64;
        self.total = apply(self.total);
        let mine = self.by_share.entry(share.to_string()).or_default();
        *mine = apply(*mine);
        if *mine == 0 {
            self.by_share.remove(share);
        }
    }

    fn remove(&mut self, key: &(String, i64)) -> Option<PathBuf> {
        let held = self.kept.remove(key)?;
        self.count(&key.0, -i128::from(held.size));
        match held.entry {
            Entry::File { path, .. } => Some(path),
            Entry::Url(_) => None,
        }
    }
}

/// One node's originals.
#[derive(Debug)]
pub struct Local {
    dir: PathBuf,
    limit: u64,
    index: Mutex<Index>,
}

fn remove_files(paths: Vec<PathBuf>) {
    for path in paths {
        // A file being downloaded stays readable to its reader (on Unix) until it is
        // done; where it cannot be removed yet, the next start empties the folder.
        let _ = std::fs::remove_file(path);
    }
}

impl Local {
    fn lock(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn new(dir: PathBuf, limit: u64) -> Self {
        Self {
            dir,
            limit,
            index: Mutex::default(),
        }
    }

    pub(super) fn want(&self, wanted: Wanted) -> bool {
        let mut index = self.lock();
        let gone = index.prune(wanted.asked_ms);
        let key = (wanted.share.clone(), wanted.frame);
        let of_share = index.wanted.keys().filter(|(s, _)| *s == key.0).count();
        let fits = index.wanted.contains_key(&key)
            || (index.wanted.len() < MAX_WANTED && of_share < MAX_WANTED_PER_SHARE);
        if fits {
            // Asked again: the wait starts again.
            index.wanted.insert(key, wanted);
        }
        drop(index);
        remove_files(gone);
        fits
    }

    pub(super) fn ticket(&self, ticket: &str, share: &str, frame: i64) -> bool {
        let now = now_ms();
        let mut index = self.lock();
        index.tickets.retain(|_, t| t.2 > now);
        if index.tickets.len() >= MAX_TICKETS {
            return false;
        }
        let until = now + TICKET_FOR.as_millis() as u64;
        index
            .tickets
            .insert(ticket.to_string(), (share.to_string(), frame, until));
        true
    }

    pub(super) fn redeem(&self, ticket: &str) -> Option<(String, i64)> {
        let (share, frame, until) = self.lock().tickets.remove(ticket)?;
        (until > now_ms()).then_some((share, frame))
    }

    pub(super) fn wanted(&self) -> Vec<Wanted> {
        let mut index = self.lock();
        let gone = index.prune(now_ms());
        let mut list: Vec<Wanted> = index.wanted.values().cloned().collect();
        drop(index);
        remove_files(gone);
        list.sort_by_key(|w| w.asked_ms);
        list
    }

    /// Keep `entry` (`size` bytes) for `ttl_ms`.
    pub(super) fn put(&self, share: &str, frame: i64, entry: Entry, ttl_ms: u64, size: u64) {
        let key = (share.to_string(), frame);
        let mut index = self.lock();
        let old = index.remove(&key);
        index.wanted.remove(&key);
        index.count(share, i128::from(size));
        index.kept.insert(
            key,
            Held {
                entry,
                size,
                until_ms: now_ms() + ttl_ms,
            },
        );
        drop(index);
        remove_files(old.into_iter().collect());
    }

    pub(super) async fn put_file(
        &self,
        share: &str,
        frame: i64,
        name: &str,
        size: u64,
        body: BodyStream,
    ) -> Result<(), PutError> {
        let path = {
            let mut index = self.lock();
            let gone = index.prune(now_ms());
            remove_files(gone);
            let part = self.limit / SHARE_PART;
            if size > part {
                return Err(PutError::TooLarge(format!(
                    "an original of {size} bytes is larger than a share's part of originals_limit ({part})"
                )));
            }
            if index.total + size > self.limit
                || index.by_share.get(share).copied().unwrap_or(0) + size > part
            {
                return Err(PutError::Full(format!(
                    "the originals kept for downloads fill originals_limit ({} bytes; a share {part}) until they expire",
                    self.limit
                )));
            }
            index.count(share, i128::from(size));
            index.next += 1;
            self.dir.join(format!("{}.orig", index.next))
        };
        // Given back however the write ends (an error, or the request dropped).
        let mut taken = Taken {
            local: self,
            share,
            size,
            path: Some(path.clone()),
        };
        let mut file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| PutError::Unavailable(format!("keeping an original: {e}")))?;
        let mut pieces = Pieces::new(body, size, 1 << 20);
        while let Some(piece) = pieces.next().await {
            file.write_all(&piece?)
                .await
                .map_err(|e| PutError::Unavailable(format!("keeping an original: {e}")))?;
        }
        file.flush()
            .await
            .map_err(|e| PutError::Unavailable(format!("keeping an original: {e}")))?;
        taken.path = None;
        let entry = Entry::File {
            name: name.to_string(),
            path,
        };
        // The bytes now belong to the entry.
        self.lock().count(share, -i128::from(size));
        self.put(share, frame, entry, KEPT_FOR.as_millis() as u64, size);
        Ok(())
    }

    pub(super) async fn get(&self, share: &str, frame: i64) -> Result<Option<Kept>, Unavailable> {
        let (entry, size) = {
            let index = self.lock();
            match index.kept.get(&(share.to_string(), frame)) {
                Some(held) if held.until_ms > now_ms() => (held.entry.clone(), held.size),
                _ => return Ok(None),
            }
        };
        match entry {
            Entry::Url(url) => Ok(Some(Kept::Url(url))),
            Entry::File { name, path } => {
                let file = match tokio::fs::File::open(&path).await {
                    Ok(file) => file,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(Unavailable(format!("reading an original: {e}"))),
                };
                Ok(Some(Kept::File {
                    name,
                    size,
                    body: Body::from_stream(read_stream(file)),
                }))
            }
        }
    }

    pub(super) fn drop_share(&self, share: &str) {
        let mut index = self.lock();
        let keys: Vec<(String, i64)> = index
            .kept
            .keys()
            .filter(|(s, _)| s == share)
            .cloned()
            .collect();
        let gone: Vec<PathBuf> = keys.iter().filter_map(|k| index.remove(k)).collect();
        index.wanted.retain(|(s, _), _| s != share);
        drop(index);
        remove_files(gone);
    }
}

/// Space taken for a file being written: given back, and the file removed, unless it was
/// kept.
struct Taken<'a> {
    local: &'a Local,
    share: &'a str,
    size: u64,
    path: Option<PathBuf>,
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            self.local.lock().count(self.share, -i128::from(self.size));
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `file` as a stream of pieces of up to 256 KiB.
fn read_stream(file: tokio::fs::File) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 256 << 10];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
