//! This node's live streams: per channel, the latest picture (one slot, never a queue),
//! how many watch it here, and how many watch it on other nodes (as they last said).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::watch;

/// Streams at once on a node, at most (each holds one picture).
pub const MAX_STREAMS: usize = 256;
/// Another node's count is forgotten this long after it last said it.
pub const REMOTE_FRESH: Duration = Duration::from_secs(6);

/// One live picture.
#[derive(Debug, Clone)]
pub struct Picture {
    /// Counts up per stream on the node that received it from the engine.
    pub seq: u64,
    /// When the camera handed it over (ms since the epoch), as the engine said; else
    /// when the relay received it.
    pub taken_ms: i64,
    /// The JPEG.
    pub jpeg: Bytes,
}

/// One channel's stream on this node.
#[derive(Debug)]
pub struct Stream {
    /// Its channel.
    pub channel: String,
    picture: watch::Sender<Option<Picture>>,
    local: AtomicUsize,
    remote: Mutex<HashMap<String, (usize, Instant)>>,
    total: watch::Sender<usize>,
}

impl Stream {
    fn new(channel: &str) -> Self {
        Self {
            channel: channel.to_string(),
            picture: watch::channel(None).0,
            local: AtomicUsize::new(0),
            remote: Mutex::new(HashMap::new()),
            total: watch::channel(0).0,
        }
    }

    /// A new picture replaces the last; returns it.
    pub fn put(&self, jpeg: Bytes, taken_ms: Option<i64>) -> Picture {
        let seq = self.picture.borrow().as_ref().map_or(1, |p| p.seq + 1);
        let picture = Picture {
            seq,
            taken_ms: taken_ms.unwrap_or_else(now_ms),
            jpeg,
        };
        self.picture.send_replace(Some(picture.clone()));
        picture
    }

    /// A picture another node received.
    pub fn put_picture(&self, picture: Picture) {
        self.picture.send_replace(Some(picture));
    }

    /// Follow the pictures.
    pub fn pictures(&self) -> watch::Receiver<Option<Picture>> {
        self.picture.subscribe()
    }

    /// Viewers on every node, as known here; changes as they come and go.
    pub fn viewers(&self) -> watch::Receiver<usize> {
        self.total.subscribe()
    }

    /// Viewers on this node.
    pub fn local(&self) -> usize {
        self.local.load(Ordering::Relaxed)
    }

    /// Viewers on other nodes, as they last said.
    pub fn remote(&self) -> usize {
        let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        remote.retain(|_, (_, at)| at.elapsed() < REMOTE_FRESH);
        remote.values().map(|(n, _)| n).sum()
    }

    /// Node `node` has `count` viewers of this stream.
    pub fn set_remote(&self, node: &str, count: usize) {
        {
            let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
            if count == 0 {
                remote.remove(node);
            } else {
                remote.insert(node.to_string(), (count, Instant::now()));
            }
        }
        self.recount();
    }

    /// Count again (a remote count may have gone stale).
    pub fn recount(&self) {
        let total = self.local() + self.remote();
        self.total
            .send_if_modified(|n| std::mem::replace(n, total) != total);
    }

    /// A viewer here, until the guard drops.
    pub fn watch(self: &Arc<Self>) -> Viewer {
        self.local.fetch_add(1, Ordering::Relaxed);
        self.recount();
        Viewer(self.clone())
    }
}

/// One viewer of a stream on this node.
#[derive(Debug)]
pub struct Viewer(Arc<Stream>);

impl Viewer {
    /// The stream watched.
    pub fn stream(&self) -> &Arc<Stream> {
        &self.0
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        self.0.local.fetch_sub(1, Ordering::Relaxed);
        self.0.recount();
    }
}

/// Every stream of this node.
#[derive(Debug, Default)]
pub struct Streams {
    map: Mutex<HashMap<String, Arc<Stream>>>,
}

impl Streams {
    /// `channel`'s stream, made if needed; `None` when the node has [`MAX_STREAMS`].
    pub fn get(&self, channel: &str) -> Option<Arc<Stream>> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stream) = map.get(channel) {
            return Some(stream.clone());
        }
        if map.len() >= MAX_STREAMS {
            map.retain(|_, s| Arc::strong_count(s) > 1 || s.remote() > 0);
            if map.len() >= MAX_STREAMS {
                return None;
            }
        }
        let stream = Arc::new(Stream::new(channel));
        map.insert(channel.to_string(), stream.clone());
        Some(stream)
    }

    /// `channel`'s stream if there is one.
    pub fn find(&self, channel: &str) -> Option<Arc<Stream>> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(channel)
            .cloned()
    }

    /// Count every stream again and forget those nobody uses; returns each channel
    /// watched here with its viewers.
    pub fn sweep(&self) -> Vec<(String, usize)> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| {
            s.recount();
            Arc::strong_count(s) > 1 || s.remote() > 0
        });
        map.values()
            .filter(|s| s.local() > 0)
            .map(|s| (s.channel.clone(), s.local()))
            .collect()
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_picture_wins_and_viewers_are_counted_everywhere() {
        let streams = Streams::default();
        let stream = streams.get("s:live").expect("test value");
        let mut pictures = stream.pictures();
        let viewers = stream.viewers();
        stream.put(Bytes::from_static(b"1"), Some(5));
        stream.put(Bytes::from_static(b"2"), None);
        let seen = pictures.borrow_and_update().clone().expect("test value");
        assert_eq!((seen.seq, &seen.jpeg[..]), (2, &b"2"[..]));

        let a = stream.watch();
        let b = stream.watch();
        stream.set_remote("node-b", 3);
        assert_eq!(*viewers.borrow(), 5);
        drop(a);
        assert_eq!(*viewers.borrow(), 4);
        stream.set_remote("node-b", 0);
        drop(b);
        assert_eq!(*viewers.borrow(), 0);
    }

    #[test]
    fn unused_streams_are_forgotten() {
        let streams = Streams::default();
        let stream = streams.get("s:live").expect("test value");
        let viewer = stream.watch();
        drop(stream);
        assert_eq!(streams.sweep(), vec![("s:live".to_string(), 1)]);
        drop(viewer);
        assert!(streams.sweep().is_empty());
        assert!(streams.find("s:live").is_none());
    }
}
