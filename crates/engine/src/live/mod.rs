//! Live view: the camera's latest live picture, who watches it, and focus drives.
//!
//! The camera thread takes pictures only while someone watches: the window (a lease it
//! renews with each picture it asks for) or viewers of the relay's stream (the count
//! the relay sends the [`uplink`]). With nobody watching for `[camera] liveview_idle`,
//! live view stops and the camera's status says why. The latest picture wins: there is
//! one slot, never a queue, so a slow viewer gets fewer pictures and never old ones.
//!
//! - this module: [`LiveFeed`], shared by the camera thread, the window and the uplink.
//! - [`focus`]: focus drives (`near|far [1-3]`, `auto`) and the camera's answers.
//! - [`uplink`]: pictures to the relay, viewer counts back.

pub mod focus;
pub mod uplink;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::watch;

pub use focus::Focus;

/// How long the window counts as watching after it last asked for a picture.
pub const WINDOW_LEASE: Duration = Duration::from_secs(3);

/// One live picture.
#[derive(Debug, Clone)]
pub struct LiveFrame {
    /// Counts up from 1 for each picture of this engine's run.
    pub seq: u64,
    /// The JPEG.
    pub jpeg: Bytes,
    /// When the camera handed it over (milliseconds since the Unix epoch).
    pub taken_ms: i64,
    /// The camera's model.
    pub camera: String,
}

/// Shared between the camera thread and the viewers; cheap to clone.
#[derive(Debug, Clone)]
pub struct LiveFeed {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    frame: watch::Sender<Option<LiveFrame>>,
    /// The window watches until then.
    window_until: Mutex<Option<Instant>>,
    /// Viewers of the relay's stream, as the relay last said.
    remote: AtomicUsize,
}

impl Default for LiveFeed {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveFeed {
    /// Nobody watching, no picture yet.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                frame: watch::channel(None).0,
                window_until: Mutex::new(None),
                remote: AtomicUsize::new(0),
            }),
        }
    }

    /// The window is watching (for [`WINDOW_LEASE`] from now).
    pub fn window_watching(&self) {
        *self
            .inner
            .window_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Instant::now() + WINDOW_LEASE);
    }

    /// The window closed its live view.
    pub fn window_left(&self) {
        *self
            .inner
            .window_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The relay counts `n` viewers of the stream.
    pub fn set_remote(&self, n: usize) {
        self.inner.remote.store(n, Ordering::Relaxed);
    }

    /// Viewers now: the relay's count, plus one while the window watches.
    pub fn viewers(&self) -> usize {
        let window = self
            .inner
            .window_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|t| Instant::now() < t);
        self.inner.remote.load(Ordering::Relaxed) + usize::from(window)
    }

    /// Hand over a new picture; it replaces the last.
    pub fn put(&self, jpeg: Bytes, camera: &str) -> u64 {
        let seq = self.inner.frame.borrow().as_ref().map_or(1, |f| f.seq + 1);
        self.inner.frame.send_replace(Some(LiveFrame {
            seq,
            jpeg,
            taken_ms: crate::journal::now_ms(),
            camera: camera.to_string(),
        }));
        seq
    }

    /// The latest picture, if any.
    pub fn latest(&self) -> Option<LiveFrame> {
        self.inner.frame.borrow().clone()
    }

    /// Follow the pictures as they come.
    pub fn subscribe(&self) -> watch::Receiver<Option<LiveFrame>> {
        self.inner.frame.subscribe()
    }

    /// A picture other than number `after` (the one the window shows; a restarted engine
    /// counts from 1 again), waiting up to `wait` for one; counts the caller as the
    /// window watching.
    pub async fn next_for_window(&self, after: u64, wait: Duration) -> Option<LiveFrame> {
        self.window_watching();
        let mut rx = self.subscribe();
        let newer = |f: &Option<LiveFrame>| f.as_ref().is_some_and(|f| f.seq != after);
        let found = tokio::time::timeout(wait, rx.wait_for(newer)).await;
        match found {
            Ok(Ok(frame)) => frame.clone(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_picture_wins_and_counts_up() {
        let feed = LiveFeed::new();
        let mut rx = feed.subscribe();
        assert_eq!(feed.put(Bytes::from_static(b"one"), "cam"), 1);
        assert_eq!(feed.put(Bytes::from_static(b"two"), "cam"), 2);
        // A slow viewer sees only the latest.
        let seen = rx.borrow_and_update().clone().expect("test value");
        assert_eq!((seen.seq, &seen.jpeg[..]), (2, &b"two"[..]));
    }

    #[test]
    fn viewers_are_the_relays_plus_the_window() {
        let feed = LiveFeed::new();
        assert_eq!(feed.viewers(), 0);
        feed.set_remote(3);
        feed.window_watching();
        assert_eq!(feed.viewers(), 4);
        feed.window_left();
        feed.set_remote(0);
        assert_eq!(feed.viewers(), 0);
    }

    #[tokio::test]
    async fn the_window_waits_for_a_newer_picture() {
        let feed = LiveFeed::new();
        feed.put(Bytes::from_static(b"old"), "cam");
        let later = feed.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            later.put(Bytes::from_static(b"new"), "cam");
        });
        let got = feed
            .next_for_window(1, Duration::from_secs(5))
            .await
            .expect("test value");
        assert_eq!(&got.jpeg[..], b"new");
        assert_eq!(feed.viewers(), 1);
        assert!(
            feed.next_for_window(2, Duration::from_millis(10))
                .await
                .is_none()
        );
    }
}
