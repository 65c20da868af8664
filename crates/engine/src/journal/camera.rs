//! Tethered cameras in the journal: the files seen on each card and the last status of
//! each camera (for `status` and the UI). Requests from other processes are in
//! `camera_requests`.
//!
//! A card file is identified by camera, folder, name, size and modification time. Its state
//! says what Shotline did with it: `baseline` (on the card before the session began, left
//! alone), `taken` (downloaded and handed to ingest) or `deleted` (removed from the card
//! after it was verified on enough targets).

use rusqlite::{OptionalExtension, params};

use super::{Journal, now_ms};
use crate::Result;

/// What Shotline did with a file on a camera's card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardState {
    /// It was on the card before the session: not ours to take.
    Baseline,
    /// Downloaded and handed to ingest.
    Taken,
    /// Deleted from the card after verification.
    Deleted,
}

impl CardState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Taken => "taken",
            Self::Deleted => "deleted",
        }
    }
}

/// A file on a camera's card.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CardFile {
    /// Folder on the camera, e.g. `/store_00010001/DCIM/100NIKON`.
    pub folder: String,
    /// File name as the camera reports it (untrusted).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time in seconds, by the camera's clock.
    pub mtime: i64,
}

impl Journal {
    /// Whether the card of `camera` already has its baseline for `session`.
    pub fn has_card_baseline(&self, camera: &str, session: &str) -> Result<bool> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT 1 FROM card_baselines WHERE camera = ?1 AND session = ?2",
                params![camera, session],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Record what is on the card when `camera` is first seen in `session`: those files
    /// belong to earlier shoots and are left alone.
    pub fn record_card_baseline(
        &self,
        camera: &str,
        session: &str,
        files: &[CardFile],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for f in files {
            tx.execute(
                "INSERT OR IGNORE INTO card_files (camera, folder, name, size, mtime, session, state) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'baseline')",
                params![camera, f.folder, f.name, f.size as i64, f.mtime, session],
            )?;
        }
        tx.execute(
            "INSERT OR IGNORE INTO card_baselines (camera, session) VALUES (?1, ?2)",
            params![camera, session],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// What Shotline did with this card file, if anything.
    pub fn card_file_state(&self, camera: &str, f: &CardFile) -> Result<Option<CardState>> {
        let conn = self.conn();
        let state: Option<String> = conn
            .query_row(
                "SELECT state FROM card_files WHERE camera = ?1 AND folder = ?2 AND name = ?3 \
                 AND size = ?4 AND mtime = ?5",
                params![camera, f.folder, f.name, f.size as i64, f.mtime],
                |r| r.get(0),
            )
            .optional()?;
        Ok(state.map(|s| match s.as_str() {
            "baseline" => CardState::Baseline,
            "deleted" => CardState::Deleted,
            _ => CardState::Taken,
        }))
    }

    /// Record that a card file was downloaded to `source_path` and handed to ingest.
    pub fn record_card_taken(
        &self,
        camera: &str,
        session: &str,
        f: &CardFile,
        source_path: &str,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO card_files (camera, folder, name, size, mtime, session, state, source_path) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'taken', ?7) \
             ON CONFLICT (camera, folder, name, size, mtime) \
             DO UPDATE SET state = 'taken', source_path = excluded.source_path",
            params![
                camera,
                f.folder,
                f.name,
                f.size as i64,
                f.mtime,
                session,
                source_path
            ],
        )?;
        Ok(())
    }

    /// Files of `camera` taken by Shotline, still on the card, whose shot is verified on at
    /// least `targets` backup targets (a duplicate counts through the shot it repeats).
    pub fn card_files_to_delete(&self, camera: &str, targets: u32) -> Result<Vec<CardFile>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT c.folder, c.name, c.size, c.mtime FROM card_files c \
             JOIN shots s ON s.source_path = c.source_path AND s.source_size = c.size \
             WHERE c.camera = ?1 AND c.state = 'taken' AND s.state IN ('stored', 'duplicate') \
               AND (SELECT COUNT(*) FROM jobs j WHERE j.shot_id = COALESCE(s.duplicate_of, s.id) \
                    AND j.state = 'verified') >= ?2",
        )?;
        let rows = stmt.query_map(params![camera, targets], |r| {
            Ok(CardFile {
                folder: r.get(0)?,
                name: r.get(1)?,
                size: r.get::<_, i64>(2)? as u64,
                mtime: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Record that a card file was deleted from the card.
    pub fn record_card_deleted(&self, camera: &str, f: &CardFile) -> Result<()> {
        self.conn().execute(
            "UPDATE card_files SET state = ?6 WHERE camera = ?1 AND folder = ?2 AND name = ?3 \
             AND size = ?4 AND mtime = ?5",
            params![
                camera,
                f.folder,
                f.name,
                f.size as i64,
                f.mtime,
                CardState::Deleted.as_str()
            ],
        )?;
        Ok(())
    }

    /// Remember the latest `camera_status` event (JSON) of the camera on `port`.
    pub fn set_camera_status(&self, port: &str, status_json: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO cameras (port, status, updated_ms) VALUES (?1, ?2, ?3) \
             ON CONFLICT (port) DO UPDATE SET status = excluded.status, updated_ms = excluded.updated_ms",
            params![port, status_json, now_ms()],
        )?;
        Ok(())
    }

    /// Forget every camera's status (a run starts with none connected).
    pub fn clear_camera_status(&self) -> Result<()> {
        self.conn().execute("DELETE FROM cameras", [])?;
        Ok(())
    }

    /// The latest status (JSON) of every camera seen, by port.
    pub fn camera_statuses(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT status FROM cameras ORDER BY port")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The shot made from the card file `name` most recently taken: its library path
    /// and when it was stored (ms), once it is. Only the newest card file of that name
    /// counts: a camera that starts its numbers again (a new card, a reset counter) reuses
    /// names, and the frame just taken must not be answered with an older one's shot.
    pub fn shot_of_card_file(&self, name: &str) -> Result<Option<(String, Option<i64>)>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT COALESCE(d.rel_path, s.rel_path), s.stored_ms \
                 FROM (SELECT source_path, size FROM card_files \
                       WHERE name = ?1 AND state != 'baseline' ORDER BY rowid DESC LIMIT 1) c \
                 JOIN shots s ON s.source_path = c.source_path AND s.source_size = c.size \
                 LEFT JOIN shots d ON d.id = s.duplicate_of \
                 WHERE s.state IN ('stored', 'duplicate') \
                 ORDER BY s.id DESC LIMIT 1",
                [name],
                |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                        r.get(1)?,
                    ))
                },
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open(&dir.path().join("j.sqlite")).expect("journal");
        (dir, j)
    }

    fn file(name: &str) -> CardFile {
        CardFile {
            folder: "/DCIM/100NIKON".into(),
            name: name.into(),
            size: 10,
            mtime: 1_700_000_000,
        }
    }

    #[test]
    fn baseline_and_taken_files_are_told_apart_by_name_size_and_time() {
        let (_d, j) = journal();
        assert!(!j.has_card_baseline("cam", "s").expect("query"));
        j.record_card_baseline("cam", "s", &[file("A.JPG")])
            .expect("baseline");
        assert!(j.has_card_baseline("cam", "s").expect("query"));
        assert!(!j.has_card_baseline("cam", "other").expect("query"));
        assert_eq!(
            j.card_file_state("cam", &file("A.JPG")).expect("state"),
            Some(CardState::Baseline)
        );
        let mut newer = file("A.JPG");
        newer.mtime += 1;
        assert_eq!(j.card_file_state("cam", &newer).expect("state"), None);
        j.record_card_taken("cam", "s", &newer, "/spool/x")
            .expect("taken");
        assert_eq!(
            j.card_file_state("cam", &newer).expect("state"),
            Some(CardState::Taken)
        );
        assert_eq!(j.card_file_state("other cam", &newer).expect("state"), None);
    }
}
