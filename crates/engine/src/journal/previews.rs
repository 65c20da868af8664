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
