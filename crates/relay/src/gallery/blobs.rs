//! The gallery's previews behind the relay, so any node serves them: on one node, files
//! under `--data` (or memory without it); in a cluster, Redis — which every node already
//! shares, so nothing more needs credentials or setting up (S3 would need both on every
//! node, and a frame's preview is read by every guest within seconds of being written,
//! which is what Redis is good at). Bounded by `previews_limit`: past it, the studio's own
//! dashboard pictures (channels that are not a share's `<studio>:gallery:<id>`) go first,
//! then the previews of the oldest share, oldest first. A blob is `<channel>/<name>`; its name ends
//! in `.jpg` (immutable: a new preview gets a new name) or `.json` (a share's state,
//! rewritten as frames arrive).
//!
//! - this module: the store, its names, and one node's (files or memory).
//! - `cluster`: Redis's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use axum::body::Bytes;

use crate::backend::Unavailable;

mod cluster;
pub use cluster::{LazyRedis, RedisBlobs};

/// One blob, at most.
pub const MAX_BLOB: usize = 16 << 20;

/// A blob's name: 1 to 100 of `A-Z a-z 0-9 _ . -`, not starting with a dot, ending in
/// `.jpg`, `.jpeg`, `.png` (a share's layout overlay) or `.json`.
pub fn valid_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && content_type(name).is_some()
}

/// The age a channel's blobs are evicted by: a share's first put, or 0 (before every
/// share) for the studio's dashboard pictures, which guests never need.
fn age(channel: &str, seq: u64) -> u64 {
    if channel.contains(":gallery:") {
        seq
    } else {
        0
    }
}

/// The content type a blob is served with.
pub fn content_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    match ext {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "json" => Some("application/json"),
        _ => None,
    }
}

/// True for a blob that never changes (a preview, an overlay), false for a share's state.
pub fn immutable(name: &str) -> bool {
    matches!(content_type(name), Some("image/jpeg" | "image/png"))
}

/// The blob store.
#[derive(Debug)]
pub enum Blobs {
    /// This node's: files under a folder, or memory.
    Local(Local),
    /// A cluster's, in Redis.
    Redis(Box<RedisBlobs>),
}

impl Blobs {
    /// Files under `dir/blobs` (or memory without `dir`), or Redis at `redis`; `limit`
    /// bytes at most.
    pub fn open(dir: Option<&Path>, redis: Option<&str>, limit: u64) -> std::io::Result<Self> {
        match redis {
            Some(url) => Ok(Blobs::Redis(Box::new(
                RedisBlobs::open(url, limit).map_err(std::io::Error::other)?,
            ))),
            None => Ok(Blobs::Local(Local::open(
                dir.map(|d| d.join("blobs")),
                limit,
            )?)),
        }
    }

    /// Keep `bytes` as `name` of `channel`; how many older blobs made room for it.
    pub async fn put(&self, channel: &str, name: &str, bytes: Bytes) -> Result<usize, Unavailable> {
        match self {
            Blobs::Local(local) => local.put(channel, name, bytes).await,
            Blobs::Redis(redis) => redis.put(channel, name, &bytes).await,
        }
    }

    /// The blob `name` of `channel`.
    pub async fn get(&self, channel: &str, name: &str) -> Result<Option<Bytes>, Unavailable> {
        match self {
            Blobs::Local(local) => local.get(channel, name).await,
            Blobs::Redis(redis) => redis.get(channel, name).await,
        }
    }

    /// Forget every blob of `channel` (a closed share's); how many there were.
    pub async fn drop_channel(&self, channel: &str) -> Result<usize, Unavailable> {
        match self {
            Blobs::Local(local) => local.drop_channel(channel).await,
            Blobs::Redis(redis) => redis.drop_channel(channel).await,
        }
    }
}

// ---- One node: files or memory ----------------------------------------------------------

#[derive(Debug)]
struct Item {
    size: u64,
    /// Put at (ms since the epoch, made unique and increasing).
    seq: u64,
    /// The bytes, when kept in memory.
    bytes: Option<Bytes>,
}

#[derive(Debug, Default)]
struct Channel {
    /// The first put's `seq`: the share's age.
    first: u64,
    items: HashMap<String, Item>,
}

#[derive(Debug, Default)]
struct Index {
    total: u64,
    last: u64,
    channels: HashMap<String, Channel>,
}

impl Index {
    fn next_seq(&mut self) -> u64 {
        self.last = now_ms().max(self.last + 1);
        self.last
    }

    fn insert(&mut self, channel: &str, name: &str, item: Item) {
        let size = item.size;
        let entry = self
            .channels
            .entry(channel.to_string())
            .or_insert_with(|| Channel {
                first: age(channel, item.seq),
                items: HashMap::new(),
            });
        entry.first = entry.first.min(age(channel, item.seq));
        if let Some(old) = entry.items.insert(name.to_string(), item) {
            self.total -= old.size;
        }
        self.total += size;
    }

    /// Remove the oldest share's oldest blob (never `keep`); what it was.
    fn evict_one(&mut self, keep: (&str, &str)) -> Option<(String, String)> {
        let mut order: Vec<(&String, u64)> =
            self.channels.iter().map(|(c, ch)| (c, ch.first)).collect();
        order.sort_by_key(|(c, first)| (*first, (*c).clone()));
        let (channel, name) = order.iter().find_map(|(c, _)| {
            let ch = &self.channels[*c];
            ch.items
                .iter()
                .filter(|(n, _)| (c.as_str(), n.as_str()) != keep)
                .min_by_key(|(_, i)| i.seq)
                .map(|(n, _)| ((*c).clone(), n.clone()))
        })?;
        self.remove(&channel, &name);
        Some((channel, name))
    }

    fn remove(&mut self, channel: &str, name: &str) -> Option<Item> {
        let ch = self.channels.get_mut(channel)?;
        let item = ch.items.remove(name)?;
        self.total -= item.size;
        if ch.items.is_empty() {
            self.channels.remove(channel);
        }
        Some(item)
    }
}

/// One node's blobs: files under a folder, or memory.
#[derive(Debug)]
pub struct Local {
    dir: Option<PathBuf>,
    limit: u64,
    index: Mutex<Index>,
}

/// A channel's folder: channel names may hold `:`, which some file systems refuse.
fn folder(channel: &str) -> String {
    format!("c_{}", channel.replace(':', "+"))
}

fn channel_of(folder: &str) -> Option<String> {
    folder.strip_prefix("c_").map(|c| c.replace('+', ":"))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl Local {
    /// Blobs in files under `dir` (what is there is indexed), or in memory.
    pub fn open(dir: Option<PathBuf>, limit: u64) -> std::io::Result<Self> {
        let mut index = Index::default();
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir)?;
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                let Some(channel) = entry.file_name().to_str().and_then(channel_of) else {
                    continue;
                };
                for file in std::fs::read_dir(entry.path())? {
                    let file = file?;
                    let name = file.file_name().to_string_lossy().into_owned();
                    let meta = file.metadata()?;
                    if !valid_name(&name) {
                        // A write cut short by a crash.
                        let _ = std::fs::remove_file(file.path());
                        continue;
                    }
                    let seq = meta
                        .modified()
                        .ok()
                        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                        .map_or(0, |d| d.as_millis() as u64);
                    index.last = index.last.max(seq);
                    index.insert(
                        &channel,
                        &name,
                        Item {
                            size: meta.len(),
                            seq,
                            bytes: None,
                        },
                    );
                }
            }
        }
        Ok(Self {
            dir,
            limit,
            index: Mutex::new(index),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn path(&self, channel: &str, name: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(folder(channel)).join(name))
    }

    async fn put(&self, channel: &str, name: &str, bytes: Bytes) -> Result<usize, Unavailable> {
        let size = bytes.len() as u64;
        let kept = match self.path(channel, name) {
            Some(path) => {
                let data = bytes.clone();
                blocking(move || write_file(&path, &data))
                    .await
                    .map_err(|e| Unavailable(format!("keeping a preview: {e}")))?;
                None
            }
            None => Some(bytes),
        };
        let evicted = {
            let mut index = self.lock();
            let seq = index.next_seq();
            index.insert(
                channel,
                name,
                Item {
                    size,
                    seq,
                    bytes: kept,
                },
            );
            let mut evicted = Vec::new();
            while index.total > self.limit {
                match index.evict_one((channel, name)) {
                    Some(gone) => evicted.push(gone),
                    None => break,
                }
            }
            evicted
        };
        for (c, n) in &evicted {
            if let Some(path) = self.path(c, n) {
                let _ = blocking(move || std::fs::remove_file(path)).await;
            }
        }
        Ok(evicted.len())
    }

    async fn get(&self, channel: &str, name: &str) -> Result<Option<Bytes>, Unavailable> {
        {
            let index = self.lock();
            let item = index.channels.get(channel).and_then(|c| c.items.get(name));
            match item {
                None => return Ok(None),
                Some(Item {
                    bytes: Some(bytes), ..
                }) => return Ok(Some(bytes.clone())),
                Some(_) => {}
            }
        }
        let Some(path) = self.path(channel, name) else {
            return Ok(None);
        };
        match blocking(move || std::fs::read(path)).await {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Unavailable(format!("reading a preview: {e}"))),
        }
    }

    async fn drop_channel(&self, channel: &str) -> Result<usize, Unavailable> {
        let gone = {
            let mut index = self.lock();
            match index.channels.remove(channel) {
                Some(ch) => {
                    index.total -= ch.items.values().map(|i| i.size).sum::<u64>();
                    ch.items.len()
                }
                None => 0,
            }
        };
        if let Some(dir) = &self.dir {
            let path = dir.join(folder(channel));
            let _ = blocking(move || std::fs::remove_dir_all(path)).await;
        }
        Ok(gone)
    }
}

/// File work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)))
}

/// Write `data` to `path` whole or not at all.
fn write_file(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, data)?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_studios_dashboard_pictures_go_before_any_shares_previews() {
        let blobs = Local::open(None, 3000).expect("open");
        let kb = Bytes::from(vec![7u8; 1000]);
        blobs
            .put("s:gallery:a", "1-400.jpg", kb.clone())
            .await
            .expect("put");
        blobs
            .put("s:camera", "1-400.jpg", kb.clone())
            .await
            .expect("put");
        blobs
            .put("s:camera", "2-400.jpg", kb.clone())
            .await
            .expect("put");
        // The share is older, but guests need its previews; the dashboard's oldest goes.
        let evicted = blobs
            .put("s:gallery:a", "2-400.jpg", kb.clone())
            .await
            .expect("put");
        assert_eq!(evicted, 1);
        assert!(
            blobs
                .get("s:camera", "1-400.jpg")
                .await
                .expect("get")
                .is_none()
        );
        assert!(
            blobs
                .get("s:camera", "2-400.jpg")
                .await
                .expect("get")
                .is_some()
        );
        assert!(
            blobs
                .get("s:gallery:a", "1-400.jpg")
                .await
                .expect("get")
                .is_some()
        );
    }

    #[tokio::test]
    async fn past_the_limit_the_oldest_shares_previews_go_first_and_files_outlive_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blobs = Local::open(Some(dir.path().to_path_buf()), 3000).expect("open");
        let kb = Bytes::from(vec![7u8; 1000]);
        blobs
            .put("s:gallery:old", "1-400.jpg", kb.clone())
            .await
            .expect("put");
        blobs
            .put("s:gallery:new", "1-400.jpg", kb.clone())
            .await
            .expect("put");
        blobs
            .put("s:gallery:old", "2-400.jpg", kb.clone())
            .await
            .expect("put");
        assert_eq!(blobs.lock().total, 3000);
        // A fourth makes room: the oldest share's oldest blob goes, though it was written
        // after the new share's.
        let evicted = blobs
            .put("s:gallery:new", "2-400.jpg", kb.clone())
            .await
            .expect("put");
        assert_eq!(evicted, 1);
        assert!(
            blobs
                .get("s:gallery:old", "1-400.jpg")
                .await
                .expect("get")
                .is_none()
        );
        assert!(
            blobs
                .get("s:gallery:old", "2-400.jpg")
                .await
                .expect("get")
                .is_some()
        );
        let reopened = Local::open(Some(dir.path().to_path_buf()), 3000).expect("open");
        assert_eq!(reopened.lock().total, 3000, "indexed again from the files");
        assert_eq!(
            reopened
                .get("s:gallery:new", "2-400.jpg")
                .await
                .expect("get")
                .as_deref(),
            Some(&kb[..])
        );
        assert_eq!(
            reopened.drop_channel("s:gallery:new").await.expect("drop"),
            2
        );
        assert!(
            reopened
                .get("s:gallery:new", "1-400.jpg")
                .await
                .expect("get")
                .is_none()
        );
        assert_eq!(reopened.lock().total, 1000);
        let memory = Local::open(None, 1500).expect("memory");
        memory.put("a", "x.jpg", kb.clone()).await.expect("put");
        memory.put("a", "y.jpg", kb.clone()).await.expect("put");
        assert!(memory.get("a", "x.jpg").await.expect("get").is_none());
        assert!(memory.get("a", "y.jpg").await.expect("get").is_some());
        assert!(valid_name("12-2048.jpg") && valid_name("state.json"));
        assert!(!valid_name(".hidden.jpg") && !valid_name("a/b.jpg") && !valid_name("x.exe"));
    }
}
