//! Shots: one row per source file version, from `ingesting` (name reserved, copy under way)
//! to `stored` (in the library, jobs created) or `duplicate` (content already there).

use rusqlite::{OptionalExtension, Row, params};
use shotline_protocol::ShotSource;

use super::{Journal, now_ms};
use crate::Result;

/// Where a shot is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShotState {
    /// Found and named; the library copy is not complete yet.
    Ingesting,
    /// In the library; backup jobs exist.
    Stored,
    /// Its content was already in the library; nothing copied.
    Duplicate,
    /// Given up: the source vanished before it could be copied.
    Failed,
}

impl ShotState {
    fn as_str(self) -> &'static str {
        match self {
            ShotState::Ingesting => "ingesting",
            ShotState::Stored => "stored",
            ShotState::Duplicate => "duplicate",
            ShotState::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "stored" => ShotState::Stored,
            "duplicate" => ShotState::Duplicate,
            "failed" => ShotState::Failed,
            _ => ShotState::Ingesting,
        }
    }
}

/// One shot as the journal holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shot {
    /// Journal id.
    pub id: i64,
    /// Session name.
    pub session: String,
    /// Hot folder or camera.
    pub source: ShotSource,
    /// The source file (absolute path for a hot folder).
    pub source_path: String,
    /// Source size when last seen.
    pub source_size: u64,
    /// Source modification time (ns since the epoch) when last seen.
    pub source_mtime_ns: i64,
    /// Path relative to the hot folder, or the camera's file name.
    pub original: String,
    /// Reserved path in the library, `/`-separated; `None` for a duplicate.
    pub rel_path: Option<String>,
    /// Life stage.
    pub state: ShotState,
    /// Content size, once stored.
    pub size: Option<u64>,
    /// Content hash, once stored.
    pub hash: Option<String>,
    /// For a duplicate: the shot that holds the content.
    pub duplicate_of: Option<i64>,
    /// Failed attempts to store it.
    pub attempts: u32,
    /// The last error.
    pub last_error: Option<String>,
}

/// What a source reports about a new file.
#[derive(Debug, Clone)]
pub struct NewShot<'a> {
    /// Session name.
    pub session: &'a str,
    /// Hot folder or camera.
    pub source: ShotSource,
    /// The source file.
    pub source_path: &'a str,
    /// Its size.
    pub size: u64,
    /// Its modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Path relative to the hot folder, or the camera's file name.
    pub original: &'a str,
}

const COLUMNS: &str = "id, session, source_kind, source_path, source_size, source_mtime_ns, \
    original, rel_path, state, size, hash, duplicate_of, attempts, last_error";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Shot> {
    Ok(Shot {
        id: row.get(0)?,
        session: row.get(1)?,
        source: if row.get::<_, String>(2)? == "camera" {
            ShotSource::Camera
        } else {
            ShotSource::HotFolder
        },
        source_path: row.get(3)?,
        source_size: row.get::<_, i64>(4)? as u64,
        source_mtime_ns: row.get(5)?,
        original: row.get(6)?,
        rel_path: row.get(7)?,
        state: ShotState::parse(&row.get::<_, String>(8)?),
        size: row.get::<_, Option<i64>>(9)?.map(|s| s as u64),
        hash: row.get(10)?,
        duplicate_of: row.get(11)?,
        attempts: row.get(12)?,
        last_error: row.get(13)?,
    })
}

fn source_kind(source: ShotSource) -> &'static str {
    match source {
        ShotSource::Camera => "camera",
        ShotSource::HotFolder => "hot_folder",
    }
}

impl Journal {
    /// The shot recorded for exactly this version of a source file, if any.
    pub fn find_source(&self, path: &str, size: u64, mtime_ns: i64) -> Result<Option<Shot>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM shots WHERE source_path = ?1 AND source_size = ?2 \
             AND source_mtime_ns = ?3 ORDER BY id DESC LIMIT 1"
        );
        Ok(self
            .conn()
            .query_row(&sql, params![path, size as i64, mtime_ns], from_row)
            .optional()?)
    }

    /// An unfinished shot for this source path (any version), to be finished under the
    /// name it already reserved.
    pub fn find_ingesting(&self, path: &str) -> Result<Option<Shot>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM shots WHERE source_path = ?1 AND state = 'ingesting' \
             ORDER BY id LIMIT 1"
        );
        Ok(self
            .conn()
            .query_row(&sql, params![path], from_row)
            .optional()?)
    }

    /// Record a new shot and reserve its library path, in one transaction. `name` renders
    /// the path for a sequence number; `taken` says whether a path is already used on disk.
    /// A taken name gets a suffix; the reservation is unique in the journal.
    pub fn reserve(
        &self,
        new: &NewShot<'_>,
        name: impl Fn(u64, &crate::shotlist::Slot) -> String,
        taken: impl Fn(&str) -> bool,
    ) -> Result<Shot> {
        let mut conn = self.conn();
        // Immediate: it reads then writes, and another process (`shotline shot next`) may
        // write meanwhile; a deferred one could not wait for it.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let seq: u64 = tx
            .query_row(
                "SELECT next_seq FROM sessions WHERE name = ?1",
                [new.session],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(1) as u64;
        tx.execute(
            "INSERT INTO sessions (name, next_seq) VALUES (?1, ?2) \
             ON CONFLICT(name) DO UPDATE SET next_seq = excluded.next_seq",
            params![new.session, (seq + 1) as i64],
        )?;
        // Its place in the session's shot list, decided with its name.
        let slot = super::shotlist::next_slot(&tx, new.session, new.original)?;
        let base = name(seq, &slot);
        let rel = unique_name(&tx, &base, &taken)?;
        tx.execute(
            "INSERT INTO shots (session, source_kind, source_path, source_size, source_mtime_ns, \
             original, rel_path, state, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'ingesting', ?8)",
            params![
                new.session,
                source_kind(new.source),
                new.source_path,
                new.size as i64,
                new.mtime_ns,
                new.original,
                rel,
                now_ms()
            ],
        )?;
        let id = tx.last_insert_rowid();
        super::shotlist::place(&tx, id, &slot)?;
        let sql = format!("SELECT {COLUMNS} FROM shots WHERE id = ?1");
        let shot = tx.query_row(&sql, [id], from_row)?;
        tx.commit()?;
        Ok(shot)
    }

    /// Move a reservation to another free name (the reserved one turned out taken on disk).
    pub fn rereserve(&self, id: i64, base: &str, taken: impl Fn(&str) -> bool) -> Result<String> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let rel = unique_name(&tx, base, &|candidate: &str| {
            candidate == base || taken(candidate)
        })?;
        tx.execute(
            "UPDATE shots SET rel_path = ?2 WHERE id = ?1",
            params![id, rel],
        )?;
        tx.commit()?;
        Ok(rel)
    }

    /// Note the source version an unfinished shot is now copying.
    pub fn update_source(&self, id: i64, size: u64, mtime_ns: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE shots SET source_size = ?2, source_mtime_ns = ?3 WHERE id = ?1",
            params![id, size as i64, mtime_ns],
        )?;
        Ok(())
    }

    /// A stored shot whose content has this hash.
    pub fn find_stored_by_hash(&self, hash: &str) -> Result<Option<Shot>> {
        let sql =
            format!("SELECT {COLUMNS} FROM shots WHERE hash = ?1 AND state = 'stored' LIMIT 1");
        Ok(self.conn().query_row(&sql, [hash], from_row).optional()?)
    }

    /// The shot's content is already in the library as `of`: nothing was kept.
    pub fn mark_duplicate(&self, id: i64, size: u64, hash: &str, of: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE shots SET state = 'duplicate', rel_path = NULL, size = ?2, hash = ?3, \
             duplicate_of = ?4, stored_ms = ?5 WHERE id = ?1",
            params![id, size as i64, hash, of, now_ms()],
        )?;
        Ok(())
    }

    /// The shot is in the library under its reserved name: record it and create one backup
    /// job per target, in one transaction.
    pub fn mark_stored(&self, id: i64, size: u64, hash: &str, targets: &[String]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE shots SET state = 'stored', size = ?2, hash = ?3, stored_ms = ?4, last_error = NULL \
             WHERE id = ?1",
            params![id, size as i64, hash, now_ms()],
        )?;
        for target in targets {
            tx.execute(
                "INSERT OR IGNORE INTO jobs (shot_id, target, state) VALUES (?1, ?2, 'pending')",
                params![id, target],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Count a failed attempt and keep the error.
    pub fn note_shot_error(&self, id: i64, error: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE shots SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            params![id, error],
        )?;
        Ok(())
    }

    /// Give up on a shot whose source is gone.
    pub fn mark_shot_failed(&self, id: i64, error: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE shots SET state = 'failed', last_error = ?2 WHERE id = ?1",
            params![id, error],
        )?;
        Ok(())
    }

    /// Shots in a given state, oldest first.
    pub fn shots_in(&self, state: ShotState) -> Result<Vec<Shot>> {
        let sql = format!("SELECT {COLUMNS} FROM shots WHERE state = ?1 ORDER BY id");
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([state.as_str()], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One shot by id.
    pub fn shot(&self, id: i64) -> Result<Option<Shot>> {
        let sql = format!("SELECT {COLUMNS} FROM shots WHERE id = ?1");
        Ok(self.conn().query_row(&sql, [id], from_row).optional()?)
    }
}

/// `base`, or the first of `base-1`, `base-2`, ... that is neither reserved in the journal
/// nor `taken` on disk.
fn unique_name(
    tx: &rusqlite::Transaction<'_>,
    base: &str,
    taken: &dyn Fn(&str) -> bool,
) -> Result<String> {
    let mut n = 0;
    loop {
        let candidate = if n == 0 {
            base.to_string()
        } else {
            crate::naming::with_suffix(std::path::Path::new(base), n)
                .to_string_lossy()
                .replace('\\', "/")
        };
        let reserved: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM shots WHERE rel_path = ?1)",
            [&candidate],
            |r| r.get(0),
        )?;
        if !reserved && !taken(&candidate) {
            return Ok(candidate);
        }
        n += 1;
    }
}
