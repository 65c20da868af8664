//! What a share shows, as its guests are told: each frame's `gallery_frame` (its pictures'
//! addresses on the relay), and the share's `state.json` (every frame so far, for guests
//! who open the page later, and for the relay's checks of what its guests may fetch).

use serde_json::json;
use shotline_protocol::GalleryFrame;
use shotline_protocol::gallery::ShareOptions;

use super::publisher::{Publisher, ShareError};
use crate::journal::{Share, ShareFrame};

impl Publisher {
    /// Every frame sent so far, as `state.json`.
    pub(super) fn put_state(&self, share: &Share, channel: &str) -> Result<(), ShareError> {
        self.put_state_with(share, channel, &[])
    }

    /// Every frame sent so far and `sending` (in place of what was sent of them before),
    /// as `state.json`.
    pub(super) fn put_state_with(
        &self,
        share: &Share,
        channel: &str,
        sending: &[GalleryFrame],
    ) -> Result<(), ShareError> {
        let mut frames: Vec<GalleryFrame> = self
            .journal
            .share_frames(&share.id)?
            .iter()
            .map(|f| gallery_frame(&share.id, channel, f))
            .filter(|f| !sending.iter().any(|s| s.frame == f.frame))
            .collect();
        frames.extend(sending.iter().cloned());
        frames.sort_by_key(|f| f.frame);
        let live_overlay = match share.live_overlay.as_deref().filter(|_| share.live) {
            Some(path) => self.put_overlay(channel, path),
            None => None,
        };
        let state = json!({
            "share": share.id,
            "title": share.title,
            "session": share.session,
            "expires": share.expires_ms,
            "options": ShareOptions {
                downloads: share.downloads,
                choose: share.choose,
                pin: share.pin_hash.is_some(),
                live: share.live,
                live_overlay,
            },
            "frames": frames,
        });
        self.relay.put_blob(
            channel,
            "state.json",
            "application/json",
            state.to_string().as_bytes(),
        )?;
        Ok(())
    }
}

impl Publisher {
    /// The share's layout overlay (the kept PNG at `path`) as a blob of `channel`, sent
    /// once a run; its address, or `None` when it cannot be sent (logged: live view goes
    /// on without it).
    fn put_overlay(&self, channel: &str, path: &str) -> Option<String> {
        let file = std::path::Path::new(path).file_name()?.to_string_lossy();
        let name = format!("overlay-{file}");
        let address = format!("/v1/blobs/{channel}/{name}");
        let key = format!("{channel}/{name}");
        let sent = self.overlays_sent.lock().unwrap_or_else(|e| e.into_inner());
        if sent.contains(&key) {
            return Some(address);
        }
        drop(sent);
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!("share layout overlay {path}: {e}");
                return None;
            }
        };
        match self.relay.put_blob(channel, &name, "image/png", &bytes) {
            Ok(_) => {
                self.overlays_sent
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key);
                Some(address)
            }
            Err(e) => {
                tracing::warn!("share layout overlay: {e}");
                None
            }
        }
    }
}

/// A frame's blob name on the relay: `<shot>-<edge>.jpg`, and `-v<version>` once the
/// share's watermark has changed (blobs are immutable: a new picture, a new name).
pub(super) fn blob_name(shot: i64, edge: u32, version: i64) -> String {
    if version > 0 {
        format!("{shot}-{edge}-v{version}.jpg")
    } else {
        format!("{shot}-{edge}.jpg")
    }
}

/// What guests are told of a frame.
pub(super) fn gallery_frame(share: &str, channel: &str, frame: &ShareFrame) -> GalleryFrame {
    let address = |edge| {
        frame.size.map(|_| {
            format!(
                "/v1/blobs/{channel}/{}",
                blob_name(frame.shot_id, edge, frame.version)
            )
        })
    };
    let (width, height) = frame.size.unwrap_or((0, 0));
    GalleryFrame {
        share: share.to_string(),
        frame: frame.shot_id,
        name: frame.name.clone(),
        width,
        height,
        time: frame.stored_ms.max(0) as u64,
        preview: address(crate::preview::PREVIEW_EDGE).filter(|_| frame.preview_made),
        thumbnail: address(crate::preview::THUMB_EDGE),
    }
}
