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
