//! The original of a shared frame, for a guest's download: where it is in the library,
//! its size and hash, and its cloud object once uploaded.

use rusqlite::{OptionalExtension, params};

use super::Journal;
use crate::Result;

/// A shared frame's original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    /// Its path in the library.
    pub rel_path: String,
    /// Its size.
    pub size: u64,
    /// Its XXH3-128.
    pub hash: String,
    /// Its key in the cloud bucket, once uploaded.
    pub cloud_key: Option<String>,
}

impl Journal {
    /// The original of `shot` as shown by `share` (a duplicate's is the frame it
    /// duplicates); `None` when the share does not show it or it is not stored.
    pub fn original(&self, share: &str, shot: i64) -> Result<Option<Original>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT o.rel_path, o.size, o.hash, u.key FROM share_frames f \
             JOIN shots s ON s.id = f.shot_id \
             JOIN shots o ON o.id = COALESCE(s.duplicate_of, s.id) \
             LEFT JOIN uploads u ON u.shot_id = o.id AND u.state = 'done' \
             WHERE f.share = ?1 AND f.shot_id = ?2 AND o.state = 'stored' \
               AND o.rel_path IS NOT NULL",
        )?;
        Ok(stmt
            .query_row(params![share, shot], |r| {
                Ok(Original {
                    rel_path: r.get(0)?,
                    size: r.get::<_, Option<i64>>(1)?.unwrap_or(0) as u64,
                    hash: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    cloud_key: r.get(3)?,
                })
            })
            .optional()?)
    }
}
