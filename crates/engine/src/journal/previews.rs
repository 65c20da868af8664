//! Each stored frame's previews in the journal, in two steps: the 400 px thumbnail first
//! (a guest sees the frame within a fraction of a second of the shutter), then the
//! 2048 px preview, which the page swaps in. A frame with nothing to show is recorded as
//! such and not tried again.

use rusqlite::params;

use super::{Journal, now_ms};
use crate::Result;

/// What a frame needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Its thumbnail (it has nothing yet).
    Thumbnail,
    /// Its 2048 px preview (its thumbnail is made).
    Preview,
}

/// A stored frame still without its previews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsPreview {
    /// The shot.
    pub shot_id: i64,
    /// Its path in the library.
    pub rel_path: String,
    /// What it needs next.
    pub stage: Stage,
}

impl Journal {
    /// Up to `limit` stored frames still without previews: every thumbnail due first,
    /// then the previews, oldest first in each.
    pub fn needs_preview(&self, limit: usize) -> Result<Vec<NeedsPreview>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT s.id, s.rel_path, p.state IS NOT NULL FROM shots s \
             LEFT JOIN previews p ON p.shot_id = s.id \
             WHERE s.state = 'stored' AND s.rel_path IS NOT NULL \
               AND (p.shot_id IS NULL OR p.state = 'thumb') \
             ORDER BY p.shot_id IS NOT NULL, s.id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(NeedsPreview {
                shot_id: r.get(0)?,
                rel_path: r.get(1)?,
                stage: if r.get::<_, bool>(2)? {
                    Stage::Preview
                } else {
                    Stage::Thumbnail
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// `shot`'s thumbnail is made (the frame is upright `width` × `height`); its 2048 px
    /// preview comes next.
    pub fn thumbnail_done(&self, shot: i64, size: (u32, u32)) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO previews (shot_id, state, width, height, error, made_ms) \
             VALUES (?1, 'thumb', ?2, ?3, NULL, ?4)",
            params![shot, size.0, size.1, now_ms()],
        )?;
        Ok(())
    }

    /// `shot`'s 2048 px preview could not be made after its thumbnail was: the thumbnail
    /// stays what guests see (not tried again).
    pub fn preview_failed(&self, shot: i64, error: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE previews SET state = 'thumb_only', error = ?2, made_ms = ?3 WHERE shot_id = ?1",
            params![shot, error, now_ms()],
        )?;
        Ok(())
    }

    /// `shot`'s previews are made (upright `width` × `height`), or could not be (`error`).
    pub fn preview_done(
        &self,
        shot: i64,
        size: Option<(u32, u32)>,
        error: Option<&str>,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO previews (shot_id, state, width, height, error, made_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                shot,
                if size.is_some() { "made" } else { "none" },
                size.map(|s| s.0),
                size.map(|s| s.1),
                error,
                now_ms()
            ],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{NewShot, Shot};
    use shotline_protocol::ShotSource;

    fn reserve(j: &Journal, source: &str, name: &str) -> Shot {
        let original = source.rsplit('/').next().unwrap_or(source);
        let shot = NewShot {
            session: "s1",
            source: ShotSource::HotFolder,
            source_path: source,
            size: 10,
            mtime_ns: 5,
            original,
        };
        j.reserve(&shot, |_, _| name.into(), |_| false)
            .expect("reserve")
    }

    #[test]
    fn thumbnails_come_first_and_a_share_sends_a_frame_again_for_its_preview() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open(&dir.path().join("j.sqlite")).expect("open");
        let targets: Vec<String> = Vec::new();
        let a = reserve(&j, "/in/a.jpg", "a.jpg");
        j.mark_stored(a.id, 10, "h1", &targets).expect("stored");
        let b = reserve(&j, "/in/b.jpg", "b.jpg");
        j.mark_stored(b.id, 10, "h2", &targets).expect("stored");
        let stages = |j: &Journal| -> Vec<(i64, Stage)> {
            j.needs_preview(10)
                .expect("due")
                .iter()
                .map(|n| (n.shot_id, n.stage))
                .collect()
        };
        assert_eq!(
            stages(&j),
            [(a.id, Stage::Thumbnail), (b.id, Stage::Thumbnail)]
        );
        j.thumbnail_done(a.id, (300, 200)).expect("thumb");
        assert_eq!(
            stages(&j),
            [(b.id, Stage::Thumbnail), (a.id, Stage::Preview)],
            "every thumbnail before a preview"
        );
        let share = crate::share::create(
            &j,
            "s1",
            None,
            std::time::Duration::from_secs(3600),
            Default::default(),
        )
        .expect("share");
        let due = j.frames_to_publish(&share.id, 10).expect("due");
        assert_eq!(due.len(), 1, "a's thumbnail is made");
        assert!(!due[0].preview_made);
        j.frame_published(&share.id, a.id, 0, false).expect("sent");
        assert!(j.frames_to_publish(&share.id, 10).expect("due").is_empty());
        j.preview_done(a.id, Some((300, 200)), None)
            .expect("preview");
        let again = j.frames_to_publish(&share.id, 10).expect("due");
        assert_eq!(
            (again.len(), again[0].preview_made),
            (1, true),
            "sent again with its preview"
        );
        j.frame_published(&share.id, a.id, 0, true).expect("sent");
        assert!(j.frames_to_publish(&share.id, 10).expect("due").is_empty());
        assert!(j.share_frames(&share.id).expect("frames")[0].preview_made);
        // A preview that fails after its thumbnail: the thumbnail stays, nothing is retried.
        j.thumbnail_done(b.id, (300, 200)).expect("thumb");
        j.preview_failed(b.id, "gone").expect("failed");
        assert!(stages(&j).is_empty());
    }
}
