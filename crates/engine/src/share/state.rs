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
