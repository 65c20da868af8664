//! What each share shows, for the checks on what its guests do: the frames they may
//! answer (from its `state.json`, re-read at most once a second when an unknown frame
//! comes up) and the pictures they may fetch — those its `state.json` names now (re-read
//! every few seconds) and those a `gallery_frame` named in the last minute (sent before
//! the state says so), so a picture the share no longer shows (a clean one, once the
//! studio watermarked the share) is not theirs.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::backend::Unavailable;

/// The frames a share's guests may answer, from its `state.json`, re-read at most once a
/// second when an unknown frame comes up; and the pictures its guests may fetch: those
/// its `state.json` names now (re-read every few seconds) and those a `gallery_frame`
/// named in the last minute (sent before the state says so).
#[derive(Debug, Default)]
struct Known {
    frames: HashSet<i64>,
    read: Option<Instant>,
    listed: HashSet<String>,
    recent: HashMap<String, Instant>,
}

/// A share's pictures named by a `gallery_frame` count this long without `state.json`.
const RECENT: Duration = Duration::from_secs(60);
/// `state.json` is read again for pictures when older than this.
const LISTED_FOR: Duration = Duration::from_secs(5);

/// The frames and the picture blob names a share's `state.json` holds.
fn read_state(bytes: Option<&[u8]>, channel: &str) -> (HashSet<i64>, HashSet<String>) {
    let state: Value = bytes
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or_default();
    let prefix = format!("/v1/blobs/{channel}/");
    let mut frames = HashSet::new();
    let mut names = HashSet::new();
    for f in state["frames"].as_array().into_iter().flatten() {
        if let Some(id) = f["frame"].as_i64() {
            frames.insert(id);
        }
        for key in ["preview", "thumbnail"] {
            if let Some(name) = f[key].as_str().and_then(|a| a.strip_prefix(&prefix)) {
                names.insert(name.to_string());
            }
        }
    }
    // The layout overlay over the live view, when the share shows one.
    if let Some(name) = state["options"]["live_overlay"]
        .as_str()
        .and_then(|a| a.strip_prefix(&prefix))
    {
        names.insert(name.to_string());
    }
    (frames, names)
}

/// What each share channel shows.
#[derive(Debug, Default)]
pub struct Shown {
    known: Mutex<HashMap<String, Known>>,
}

impl Shown {
    /// A publisher showed `frame` on `channel` (a `gallery_frame`), with these pictures
    /// (blob names).
    pub fn frame_shown(&self, channel: &str, frame: i64, pictures: &[String]) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let k = known.entry(channel.to_string()).or_default();
        k.frames.insert(frame);
        let now = Instant::now();
        k.recent.retain(|_, at| now.duration_since(*at) < RECENT);
        for name in pictures {
            k.recent.insert(name.clone(), now);
        }
    }

    /// Read `channel`'s `state.json` into what is known of it.
    async fn reread(
        &self,
        blobs: &crate::gallery::blobs::Blobs,
        channel: &str,
    ) -> Result<(), Unavailable> {
        let bytes = blobs.get(channel, "state.json").await?;
        let (frames, names) = read_state(bytes.as_deref(), channel);
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let k = known.entry(channel.to_string()).or_default();
        k.frames.extend(frames);
        k.listed = names;
        k.read = Some(Instant::now());
        Ok(())
    }

    /// Does `channel`'s share show `frame`? Asks `blobs` (its `state.json`) when not
    /// known; the store being away is an error, not a "no".
    pub async fn shows(
        &self,
        blobs: &crate::gallery::blobs::Blobs,
        channel: &str,
        frame: i64,
    ) -> Result<bool, Unavailable> {
        {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(k) = known.get(channel) {
                if k.frames.contains(&frame) {
                    return Ok(true);
                }
                if k.read.is_some_and(|r| r.elapsed() < Duration::from_secs(1)) {
                    return Ok(false);
                }
            }
        }
        self.reread(blobs, channel).await?;
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        Ok(known
            .get(channel)
            .is_some_and(|k| k.frames.contains(&frame)))
    }

    /// May a guest fetch picture `name` of `channel`'s share: one its `state.json` names
    /// now, or a `gallery_frame` named in the last minute? Not a picture the share no
    /// longer shows (a clean one after a watermark was set).
    pub async fn shows_picture(
        &self,
        blobs: &crate::gallery::blobs::Blobs,
        channel: &str,
        name: &str,
    ) -> Result<bool, Unavailable> {
        let wait = {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            match known.get(channel) {
                Some(k) => {
                    if k.recent.get(name).is_some_and(|at| at.elapsed() < RECENT) {
                        return Ok(true);
                    }
                    let fresh = k.read.is_some_and(|r| r.elapsed() < LISTED_FOR);
                    if fresh && k.listed.contains(name) {
                        return Ok(true);
                    }
                    k.read
                        .and_then(|r| Duration::from_secs(1).checked_sub(r.elapsed()))
                }
                None => None,
            }
        };
        // Read at most once a second; a picture named just after a read (by a
        // `gallery_frame` another node took) waits for the next read, not a refusal.
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
        }
        self.reread(blobs, channel).await?;
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        Ok(known.get(channel).is_some_and(|k| k.listed.contains(name)))
    }

    /// Forget `channel` (its share is long gone).
    pub fn forget(&self, channel: &str) {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(channel);
    }
}
