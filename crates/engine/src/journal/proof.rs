//! The proof of backup in the journal: which verified copy went into which ASC MHL
//! generation of which root (`""` is the library, else a target's name), the sealed
//! generations, and the repairs `shotline verify --repair` made.

use rusqlite::{OptionalExtension, params};

use super::{Journal, now_ms};
use crate::Result;

/// A verified copy not yet in its root's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsealed {
    /// The shot.
    pub shot_id: i64,
    /// Path inside the root, `/`-separated.
    pub rel_path: String,
    /// Size in bytes.
    pub size: u64,
    /// XXH3-128, 32 lowercase hex digits (ASC MHL's `xxh128`).
    pub hash: String,
    /// When the copy was verified (the library's: stored), ms since the epoch.
    pub verified_ms: i64,
    /// The shot's session.
    pub session: String,
}

/// One sealed generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// `""` for the library, else the target's name.
    pub root: String,
    /// Generation number.
    pub generation: u32,
    /// The generation file's name.
    pub file: String,
    /// Frames it lists.
    pub frames: u64,
    /// When, ms since the epoch.
    pub sealed_ms: i64,
}

/// One thing a repair did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// When, ms since the epoch.
    pub ts_ms: i64,
    /// The shot.
    pub shot_id: i64,
    /// `library` or the target's name.
    pub place: String,
    /// `recopied`, `restored`, `moved_aside`, `failed`.
    pub action: String,
    /// What happened.
    pub detail: String,
}

impl Journal {
    /// Verified copies in `root` (`""`: the library) not yet sealed, oldest first.
    pub fn unsealed(&self, root: &str) -> Result<Vec<Unsealed>> {
        let conn = self.conn();
        let sql = if root.is_empty() {
            "SELECT s.id, s.rel_path, s.size, s.hash, s.stored_ms, s.session FROM shots s \
             WHERE s.state = 'stored' AND s.rel_path IS NOT NULL AND s.hash IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM sealed x WHERE x.root = ?1 AND x.shot_id = s.id) \
             ORDER BY s.stored_ms, s.id"
        } else {
            "SELECT s.id, COALESCE(j.rel_path, s.rel_path), s.size, j.hash, j.verified_ms, s.session \
             FROM jobs j JOIN shots s ON s.id = j.shot_id \
             WHERE j.target = ?1 AND j.state = 'verified' AND j.hash IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM sealed x WHERE x.root = ?1 AND x.shot_id = s.id) \
             ORDER BY j.verified_ms, s.id"
        };
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([root], |r| {
            Ok(Unsealed {
                shot_id: r.get(0)?,
                rel_path: r.get(1)?,
                size: r.get::<_, i64>(2)? as u64,
                hash: r.get(3)?,
                verified_ms: r.get::<_, Option<i64>>(4)?.unwrap_or_default(),
                session: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// `shots` are in generation `generation` (file `file`) of `root`.
    pub fn record_seal(
        &self,
        root: &str,
        generation: u32,
        file: &str,
        shots: &[i64],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for shot in shots {
            tx.execute(
                "INSERT OR REPLACE INTO sealed (root, shot_id, generation) VALUES (?1, ?2, ?3)",
                params![root, shot, generation],
            )?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO seals (root, generation, file, frames, sealed_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![root, generation, file, shots.len() as i64, now_ms()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The copy of `shot` in `root` was made again: its next seal lists it again.
    pub fn unseal(&self, root: &str, shot: i64) -> Result<()> {
        self.conn().execute(
            "DELETE FROM sealed WHERE root = ?1 AND shot_id = ?2",
            params![root, shot],
        )?;
        Ok(())
    }

    /// Every sealed generation, by root and number.
    pub fn seals(&self) -> Result<Vec<Seal>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT root, generation, file, frames, sealed_ms FROM seals ORDER BY root, generation",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Seal {
                root: r.get(0)?,
                generation: r.get(1)?,
                file: r.get(2)?,
                frames: r.get::<_, i64>(3)? as u64,
                sealed_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The generation `shot`'s copy in `root` was sealed in, if it was.
    pub fn sealed_in(&self, root: &str, shot: i64) -> Result<Option<u32>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT generation FROM sealed WHERE root = ?1 AND shot_id = ?2",
                params![root, shot],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Note what a repair did.
    pub fn record_repair(&self, shot: i64, place: &str, action: &str, detail: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO repairs (ts_ms, shot_id, place, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now_ms(), shot, place, action, detail],
        )?;
        Ok(())
    }

    /// Every repair, oldest first.
    pub fn repairs(&self) -> Result<Vec<Repair>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT ts_ms, shot_id, place, action, detail FROM repairs ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Repair {
                ts_ms: r.get(0)?,
                shot_id: r.get(1)?,
                place: r.get(2)?,
                action: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// One frame of a session, with every copy, for the transfer report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFrame {
    /// The shot.
    pub shot_id: i64,
    /// The source's name for it.
    pub original: String,
    /// Path in the library (of the shot it repeats, for a duplicate).
    pub rel_path: Option<String>,
    /// `stored`, `duplicate`, `failed`, or on its way.
    pub state: String,
    /// Size in bytes.
    pub size: Option<u64>,
    /// XXH3-128.
    pub hash: Option<String>,
    /// When it was stored in the library, ms since the epoch.
    pub stored_ms: Option<i64>,
    /// Why storing failed, when it did.
    pub error: Option<String>,
    /// Each target's copy: (target, state, verified ms, last error).
    pub copies: Vec<(String, String, Option<i64>, Option<String>)>,
    /// The upload: (state, done ms, last error).
    pub upload: Option<(String, Option<i64>, Option<String>)>,
}

impl Journal {
    /// Every frame of `session`, in the order they were shot.
    pub fn session_frames(&self, session: &str) -> Result<Vec<ReportFrame>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT s.id, s.original, COALESCE(s.rel_path, d.rel_path), s.state, \
                    COALESCE(s.size, d.size), COALESCE(s.hash, d.hash), s.stored_ms, s.last_error, \
                    u.state, u.done_ms, u.last_error \
             FROM shots s LEFT JOIN shots d ON d.id = s.duplicate_of \
             LEFT JOIN uploads u ON u.shot_id = s.id \
             WHERE s.session = ?1 ORDER BY s.id",
        )?;
        let mut frames: Vec<ReportFrame> = stmt
            .query_map([session], |r| {
                let upload: Option<String> = r.get(8)?;
                Ok(ReportFrame {
                    shot_id: r.get(0)?,
                    original: r.get(1)?,
                    rel_path: r.get(2)?,
                    state: r.get(3)?,
                    size: r.get::<_, Option<i64>>(4)?.map(|s| s as u64),
                    hash: r.get(5)?,
                    stored_ms: r.get(6)?,
                    error: r.get(7)?,
                    copies: Vec::new(),
                    upload: match upload {
                        Some(state) => Some((state, r.get(9)?, r.get(10)?)),
                        None => None,
                    },
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut jobs = conn.prepare(
            "SELECT target, state, verified_ms, last_error FROM jobs WHERE shot_id = ?1 ORDER BY target",
        )?;
        for frame in &mut frames {
            let of = frame.shot_id;
            frame.copies = jobs
                .query_map([of], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?;
        }
        Ok(frames)
    }

    /// The sessions the journal knows, oldest first.
    pub fn sessions(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT session FROM shots GROUP BY session ORDER BY MIN(id)")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Journal {
    /// The verified copy at `rel` in `root` (`""`: the library): (shot, the shot's path in
    /// the library, its hash).
    pub fn copy_at(&self, root: &str, rel: &str) -> Result<Option<(i64, String, String)>> {
        let conn = self.conn();
        let sql = if root.is_empty() {
            "SELECT id, rel_path, hash FROM shots WHERE rel_path = ?2 AND state = 'stored' \
             AND hash IS NOT NULL AND ?1 = ''"
        } else {
            "SELECT s.id, s.rel_path, s.hash FROM jobs j JOIN shots s ON s.id = j.shot_id \
             WHERE j.target = ?1 AND COALESCE(j.rel_path, s.rel_path) = ?2 \
             AND s.hash IS NOT NULL AND s.rel_path IS NOT NULL"
        };
        Ok(conn
            .query_row(sql, params![root, rel], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?)
    }
}

impl Journal {
    /// Where `shot`'s copy is on `target` (when it differs from the library path).
    pub fn copy_path(&self, target: &str, shot: i64) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT rel_path FROM jobs WHERE target = ?1 AND shot_id = ?2",
                params![target, shot],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }
}
