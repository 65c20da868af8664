//! Backup jobs: one row per (shot, target), `pending` until a copy on that target was read
//! back from disk and matched (`verified`), or given up on (`failed`).

use rusqlite::{Row, params};

use super::{Journal, now_ms};
use crate::Result;

/// Where a backup job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Still to copy (or retrying).
    Pending,
    /// Copied and read back with a matching hash.
    Verified,
    /// Given up after repeated verification failures; needs a person.
    Failed,
}

impl JobState {
    fn parse(text: &str) -> Self {
        match text {
            "verified" => JobState::Verified,
            "failed" => JobState::Failed,
            _ => JobState::Pending,
        }
    }
}

/// A backup job with what is needed to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The shot.
    pub shot_id: i64,
    /// Target name.
    pub target: String,
    /// State.
    pub state: JobState,
    /// Path inside the target once chosen (the library path, or a suffixed one).
    pub rel_path: Option<String>,
    /// Failed attempts.
    pub attempts: u32,
    /// Last error.
    pub last_error: Option<String>,
    /// The shot's path in the library.
    pub shot_path: String,
    /// The shot's size.
    pub size: u64,
    /// The shot's hash.
    pub hash: String,
}

const SELECT: &str = "SELECT j.shot_id, j.target, j.state, j.rel_path, j.attempts, j.last_error, \
    s.rel_path, s.size, s.hash FROM jobs j JOIN shots s ON s.id = j.shot_id";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        shot_id: row.get(0)?,
        target: row.get(1)?,
        state: JobState::parse(&row.get::<_, String>(2)?),
        rel_path: row.get(3)?,
        attempts: row.get(4)?,
        last_error: row.get(5)?,
        shot_path: row.get(6)?,
        size: row.get::<_, i64>(7)? as u64,
        hash: row.get(8)?,
    })
}

impl Journal {
    /// Create the missing jobs: every stored shot gets one per configured target (a target
    /// added later catches up on the whole library). Returns how many were created.
    pub fn ensure_jobs(&self, targets: &[String]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut created = 0;
        for target in targets {
            created += tx.execute(
                "INSERT OR IGNORE INTO jobs (shot_id, target, state) \
                 SELECT id, ?1, 'pending' FROM shots WHERE state = 'stored'",
                [target],
            )?;
        }
        tx.commit()?;
        Ok(created)
    }

    /// Pending jobs of these targets that are due, oldest shot first.
    pub fn due_jobs(&self, targets: &[String], limit: usize) -> Result<Vec<Job>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; targets.len()].join(",");
        let sql = format!(
            "{SELECT} WHERE j.state = 'pending' AND j.next_attempt_ms <= {} \
             AND j.target IN ({marks}) ORDER BY j.shot_id, j.target LIMIT {limit}",
            now_ms()
        );
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(targets), from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every job of a target (or of all targets), for `verify`.
    pub fn jobs(&self, target: Option<&str>) -> Result<Vec<Job>> {
        let sql =
            format!("{SELECT} WHERE (?1 IS NULL OR j.target = ?1) ORDER BY j.shot_id, j.target");
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([target], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The copy is on the target under `rel_path` and read back as `hash`.
    pub fn job_verified(
        &self,
        shot_id: i64,
        target: &str,
        rel_path: &str,
        hash: &str,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE jobs SET state = 'verified', rel_path = ?3, hash = ?4, verified_ms = ?5, \
             last_error = NULL WHERE shot_id = ?1 AND target = ?2",
            params![shot_id, target, rel_path, hash, now_ms()],
        )?;
        Ok(())
    }

    /// Try again at `retry_at_ms`; `count` says whether this was a real failed attempt (a
    /// mismatch, an I/O error) or just a pause (target went offline or full).
    pub fn job_retry(
        &self,
        shot_id: i64,
        target: &str,
        error: &str,
        retry_at_ms: i64,
        count: bool,
    ) -> Result<u32> {
        let conn = self.conn();
        conn.execute(
            "UPDATE jobs SET attempts = attempts + ?3, last_error = ?4, next_attempt_ms = ?5 \
             WHERE shot_id = ?1 AND target = ?2",
            params![shot_id, target, count as i64, error, retry_at_ms],
        )?;
        Ok(conn.query_row(
            "SELECT attempts FROM jobs WHERE shot_id = ?1 AND target = ?2",
            params![shot_id, target],
            |r| r.get(0),
        )?)
    }

    /// Give up on a job.
    pub fn job_failed(&self, shot_id: i64, target: &str, error: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE jobs SET state = 'failed', last_error = ?3 WHERE shot_id = ?1 AND target = ?2",
            params![shot_id, target, error],
        )?;
        Ok(())
    }

    /// Make every pending job of a target due now (it just came back online).
    pub fn jobs_due_now(&self, target: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE jobs SET next_attempt_ms = 0 WHERE target = ?1 AND state = 'pending'",
            [target],
        )?;
        Ok(())
    }

    /// Size of the smallest pending copy for a target: a full target is worth retrying once
    /// at least this much is free.
    pub fn smallest_pending(&self, target: &str) -> Result<Option<u64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT MIN(s.size) FROM jobs j JOIN shots s ON s.id = j.shot_id \
             WHERE j.target = ?1 AND j.state = 'pending'",
                [target],
                |r| r.get::<_, Option<i64>>(0),
            )?
            .map(|s| s as u64))
    }
}
