//! Read-only summaries of the journal: what `shotline status` prints and the UI shows.

use serde::Serialize;
use shotline_protocol::QueueStatus;

use super::Journal;
use crate::Result;

/// Counts over the whole journal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Shots in the library.
    pub stored: u64,
    /// Shots recognised as duplicates (nothing copied).
    pub duplicates: u64,
    /// Shots found but not yet in the library.
    pub ingesting: u64,
    /// Shots given up on (source vanished).
    pub failed: u64,
    /// Per-target job counts, by target name.
    pub targets: Vec<TargetReport>,
}

/// Job counts for one target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TargetReport {
    /// Target name.
    pub name: String,
    /// Copies still to make.
    pub pending: u64,
    /// Copies verified.
    pub verified: u64,
    /// Copies given up on.
    pub failed: u64,
}

impl Report {
    /// Work still to do: shots to store and copies to make.
    pub fn queue_depth(&self) -> u64 {
        self.ingesting + self.targets.iter().map(|t| t.pending).sum::<u64>()
    }

    /// The [`QueueStatus`] event payload.
    pub fn queue_status(&self) -> QueueStatus {
        QueueStatus {
            shots: self.stored + self.duplicates,
            ingesting: self.ingesting,
            backups_pending: self.targets.iter().map(|t| t.pending).sum(),
            backups_verified: self.targets.iter().map(|t| t.verified).sum(),
            backups_failed: self.targets.iter().map(|t| t.failed).sum(),
        }
    }
}

impl Journal {
    /// Count everything. `targets` lists the configured targets so that one with no jobs
    /// yet still shows.
    pub fn report(&self, targets: &[String]) -> Result<Report> {
        let conn = self.conn();
        let mut report = Report::default();
        let mut stmt = conn.prepare("SELECT state, COUNT(*) FROM shots GROUP BY state")?;
        for row in stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })? {
            let (state, n) = row?;
            match state.as_str() {
                "stored" => report.stored = n,
                "duplicate" => report.duplicates = n,
                "failed" => report.failed = n,
                _ => report.ingesting += n,
            }
        }
        report.targets = targets
            .iter()
            .map(|name| TargetReport {
                name: name.clone(),
                ..TargetReport::default()
            })
            .collect();
        let mut stmt =
            conn.prepare("SELECT target, state, COUNT(*) FROM jobs GROUP BY target, state")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)? as u64,
            ))
        })?;
        for row in rows {
            let (target, state, n) = row?;
            if !targets.contains(&target) {
                continue; // a target removed from the config
            }
            let Some(entry) = report.targets.iter_mut().find(|t| t.name == target) else {
                continue;
            };
            match state.as_str() {
                "verified" => entry.verified = n,
                "failed" => entry.failed = n,
                _ => entry.pending = n,
            }
        }
        Ok(report)
    }
}

/// A recent shot with the state of each of its copies, for a window's frame list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecentShot {
    /// Journal id.
    pub id: i64,
    /// Session.
    pub session: String,
    /// Path in the library (of the shot it repeats, for a duplicate).
    pub rel_path: Option<String>,
    /// The source's name for it.
    pub original: String,
    /// `ingesting`, `stored`, `duplicate` or `failed`.
    pub state: String,
    /// Size in bytes, once stored.
    pub size: Option<u64>,
    /// When it was stored (ms since the epoch).
    pub stored_ms: Option<i64>,
    /// Each backup target's job state (`pending`, `copying`, `verified`, `failed`, …).
    pub targets: Vec<(String, String)>,
    /// The upload's state (`pending`, `multipart`, `done`, `failed`), if any.
    pub upload: Option<String>,
    /// What gallery guests said of it.
    pub feedback: Option<super::answers::Feedback>,
}

impl Journal {
    /// The average size of the frames stored in `session` (duplicates not counted), if
    /// it has any.
    pub fn session_average_size(&self, session: &str) -> Result<Option<u64>> {
        let conn = self.conn();
        let average: Option<f64> = conn.query_row(
            "SELECT AVG(size) FROM shots \
             WHERE session = ?1 AND state = 'stored' AND duplicate_of IS NULL AND size > 0",
            [session],
            |r| r.get(0),
        )?;
        Ok(average.map(|a| a.round() as u64))
    }

    /// The `limit` most recent shots, newest first.
    pub fn recent_shots(&self, limit: usize) -> Result<Vec<RecentShot>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT s.id, s.session, COALESCE(s.rel_path, d.rel_path), s.original, s.state, \
                    s.size, s.stored_ms, u.state \
             FROM shots s LEFT JOIN shots d ON d.id = s.duplicate_of \
             LEFT JOIN uploads u ON u.shot_id = s.id \
             ORDER BY s.id DESC LIMIT ?1",
        )?;
        let mut shots: Vec<RecentShot> = stmt
            .query_map([limit as i64], |r| {
                Ok(RecentShot {
                    id: r.get(0)?,
                    session: r.get(1)?,
                    rel_path: r.get(2)?,
                    original: r.get(3)?,
                    state: r.get(4)?,
                    size: r.get::<_, Option<i64>>(5)?.map(|s| s as u64),
                    stored_ms: r.get(6)?,
                    targets: Vec::new(),
                    upload: r.get(7)?,
                    feedback: None,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut jobs = conn
            .prepare_cached("SELECT target, state FROM jobs WHERE shot_id = ?1 ORDER BY target")?;
        for shot in &mut shots {
            shot.targets = jobs
                .query_map([shot.id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            shot.feedback = super::answers::feedback_of(&conn, shot.id)?;
        }
        Ok(shots)
    }
}
