//! The studio's own dashboard gets each new frame's pictures the way a share does, on
//! `<studio>:camera` (`frame_preview`), clean (never watermarked): a round of the gallery
//! task ([`super::publisher`]) sends them first.

use shotline_protocol::{Event, FramePreview};

use super::publisher::{BATCH, Publisher, ShareError};
use super::state::blob_name;

/// Frames stored longer ago than this are not sent to the studio's dashboard.
const STUDIO_WITHIN_MS: i64 = 24 * 3600 * 1000;

impl Publisher {
    /// The studio's dashboard: each new frame's thumbnail and preview into the blob store
    /// of `<studio>:camera`, then its `frame_preview` on that channel. Frames stored more
    /// than a day ago are not sent (an old library would flood the relay's store).
    pub(super) fn studio_previews(&self) -> Result<usize, ShareError> {
        let channel = format!("{}:camera", self.studio);
        let due = self.journal.previews_for_studio(STUDIO_WITHIN_MS, BATCH)?;
        for frame in &due {
            let (preview, thumb) = crate::preview::paths(&self.library, frame.shot_id);
            let (width, height) = frame.size.unwrap_or((0, 0));
            let mut event = FramePreview {
                shot_id: frame.shot_id,
                name: frame.name.clone(),
                width,
                height,
                thumbnail: String::new(),
                preview: String::new(),
            };
            let mut gone = false;
            for (path, edge) in [
                (&thumb, crate::preview::THUMB_EDGE),
                (&preview, crate::preview::PREVIEW_EDGE),
            ] {
                let name = blob_name(frame.shot_id, edge, 0);
                let bytes = match std::fs::read(path) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        tracing::info!("preview {} is gone: {e}", path.display());
                        gone = true;
                        break;
                    }
                };
                let address = match self.relay.put_blob(&channel, &name, "image/jpeg", &bytes) {
                    Ok(address) => address,
                    // This one blob is refused (too large, say): the frame goes without
                    // pictures, the next ones are still sent.
                    Err(e) if e.status().is_some_and(|s| s == 400 || s == 413) => {
                        tracing::warn!("dashboard preview of shot {}: {e}", frame.shot_id);
                        gone = true;
                        break;
                    }
                    Err(e) => return Err(e.into()),
                };
                if edge == crate::preview::THUMB_EDGE {
                    event.thumbnail = address;
                } else {
                    event.preview = address;
                }
            }
            if !gone {
                self.bus.publish(Event::FramePreview(event));
            }
            self.journal.preview_sent_to_studio(frame.shot_id)?;
        }
        Ok(due.len())
    }
}
