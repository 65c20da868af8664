//! Cloud uploads: one row per shot (`pending`, `multipart` while parts are going up, `done`,
//! or `failed` when given up on), and each finished part of a multipart upload with its
//! ETag, recorded as soon as S3 acknowledged it.

use rusqlite::params;

use super::{Journal, now_ms};
use crate::Result;

/// A shot that is due for upload, with its upload row when one exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadDue {
    /// The shot.
    pub shot_id: i64,
    /// Its session.
    pub session: String,
    /// Its path in the library.
    pub rel_path: String,
    /// Its size.
    pub size: u64,
    /// Its XXH3-128.
    pub hash: String,
    /// The multipart upload in progress, with its part size.
    pub multipart: Option<(String, u64)>,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// One finished part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 1-based part number.
    pub number: u32,
    /// The ETag S3 returned for it.
    pub etag: String,
    /// Its size.
    pub size: u64,
}

/// Counts of upload rows by state, for status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UploadCounts {
    /// Uploaded.
    pub done: u64,
    /// Waiting or in progress.
    pub pending: u64,
    /// Given up on.
    pub failed: u64,
}

impl Journal {
    /// Stored shots (not duplicates) not yet uploaded, verified on at least
    /// `after_backups` targets, whose retry time has come, oldest first.
    pub fn uploads_due(&self, after_backups: u32, limit: usize) -> Result<Vec<UploadDue>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT s.id, s.session, s.rel_path, s.size, s.hash, u.upload_id, u.part_size, \
                    COALESCE(u.attempts, 0) \
             FROM shots s LEFT JOIN uploads u ON u.shot_id = s.id \
             WHERE s.state = 'stored' AND s.duplicate_of IS NULL AND s.rel_path IS NOT NULL \
               AND (u.state IS NULL OR (u.state IN ('pending', 'multipart') AND u.next_attempt_ms <= ?1)) \
               AND (SELECT COUNT(*) FROM jobs j WHERE j.shot_id = s.id AND j.state = 'verified') >= ?2 \
             ORDER BY s.id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![now_ms(), after_backups, limit as i64], |r| {
            let upload_id: Option<String> = r.get(5)?;
            let part_size: Option<i64> = r.get(6)?;
            Ok(UploadDue {
                shot_id: r.get(0)?,
                session: r.get(1)?,
                rel_path: r.get(2)?,
                size: r.get::<_, i64>(3)? as u64,
                hash: r.get(4)?,
                multipart: upload_id.zip(part_size.map(|p| p as u64)),
                attempts: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Start (or restart) a shot's upload under `key`.
    pub fn upload_started(&self, shot_id: i64, key: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO uploads (shot_id, key, state) VALUES (?1, ?2, 'pending') \
             ON CONFLICT(shot_id) DO UPDATE SET key = excluded.key",
            params![shot_id, key],
        )?;
        Ok(())
    }

    /// A multipart upload was created for the shot.
    pub fn upload_multipart(&self, shot_id: i64, upload_id: &str, part_size: u64) -> Result<()> {
        self.conn().execute(
            "UPDATE uploads SET state = 'multipart', upload_id = ?2, part_size = ?3, attempts = 0 \
             WHERE shot_id = ?1",
            params![shot_id, upload_id, part_size as i64],
        )?;
        Ok(())
    }

    /// A part was acknowledged by S3 (progress: the failure count starts again).
    pub fn upload_part_done(&self, shot_id: i64, upload_id: &str, part: &Part) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR REPLACE INTO upload_parts (shot_id, upload_id, part_number, etag, size) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![shot_id, upload_id, part.number, part.etag, part.size as i64],
        )?;
        conn.execute(
            "UPDATE uploads SET attempts = 0 WHERE shot_id = ?1",
            params![shot_id],
        )?;
        Ok(())
    }

    /// The finished parts of a multipart upload, by number.
    pub fn upload_parts(&self, shot_id: i64, upload_id: &str) -> Result<Vec<Part>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT part_number, etag, size FROM upload_parts \
             WHERE shot_id = ?1 AND upload_id = ?2 ORDER BY part_number",
        )?;
        let rows = stmt.query_map(params![shot_id, upload_id], |r| {
            Ok(Part {
                number: r.get(0)?,
                etag: r.get(1)?,
                size: r.get::<_, i64>(2)? as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Forget a multipart upload (it was completed, aborted, or is gone on the server).
    pub fn upload_forget_multipart(&self, shot_id: i64) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM upload_parts WHERE shot_id = ?1",
            params![shot_id],
        )?;
        conn.execute(
            "UPDATE uploads SET state = 'pending', upload_id = NULL, part_size = NULL WHERE shot_id = ?1",
            params![shot_id],
        )?;
        Ok(())
    }

    /// The shot is in the bucket.
    pub fn upload_done(&self, shot_id: i64) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM upload_parts WHERE shot_id = ?1",
            params![shot_id],
        )?;
        conn.execute(
            "UPDATE uploads SET state = 'done', done_ms = ?2, last_error = NULL, upload_id = NULL \
             WHERE shot_id = ?1",
            params![shot_id, now_ms()],
        )?;
        Ok(())
    }

    /// A transient failure: try again after `delay_ms`.
    pub fn upload_retry(&self, shot_id: i64, error: &str, delay_ms: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE uploads SET attempts = attempts + 1, last_error = ?2, next_attempt_ms = ?3 \
             WHERE shot_id = ?1",
            params![shot_id, error, now_ms() + delay_ms],
        )?;
        Ok(())
    }

    /// Given up on (the library file is gone or unreadable).
    pub fn upload_failed(&self, shot_id: i64, error: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE uploads SET state = 'failed', last_error = ?2 WHERE shot_id = ?1",
            params![shot_id, error],
        )?;
        Ok(())
    }

    /// Upload rows by state.
    pub fn upload_counts(&self) -> Result<UploadCounts> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT state, COUNT(*) FROM uploads GROUP BY state")?;
        let mut counts = UploadCounts::default();
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (state, n) = row?;
            match state.as_str() {
                "done" => counts.done = n as u64,
                "failed" => counts.failed = n as u64,
                _ => counts.pending += n as u64,
            }
        }
        Ok(counts)
    }
}
