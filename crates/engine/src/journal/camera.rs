//! Tethered cameras in the journal: the files seen on each card, the last status of each
//! camera (for `status` and the UI), and requests from other processes (`shotline
//! capture`) that the running engine's camera thread carries out.
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

/// What a request asks of the camera thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraAction {
    /// Fire the shutter.
    Capture,
    /// Set a configuration value.
    Set {
        /// Config key, e.g. `iso`.
        key: String,
        /// New value.
        value: String,
    },
}

impl CameraAction {
    /// `set` from `KEY=VALUE`; the error says what is wrong.
    pub fn set_from(setting: &str) -> std::result::Result<Self, String> {
        match setting.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => Ok(CameraAction::Set {
                key: key.trim().to_string(),
                value: value.to_string(),
            }),
            _ => Err(format!("`{setting}` is not KEY=VALUE, e.g. iso=400")),
        }
    }

    /// The row's `action` and `arg` columns.
    fn columns(&self) -> (&'static str, String) {
        match self {
            CameraAction::Capture => ("capture", String::new()),
            CameraAction::Set { key, value } => ("set", format!("{key}={value}")),
        }
    }

    /// From the row's columns; an unknown action or a malformed setting says why.
    fn from_columns(action: &str, arg: &str) -> std::result::Result<Self, String> {
        match action {
            "capture" => Ok(CameraAction::Capture),
            "set" => Self::set_from(arg),
            other => Err(format!("unknown action `{other}`")),
        }
    }
}

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    /// Waiting for the running engine's camera thread.
    Pending,
    /// Taken up; the shutter may have fired.
    Running,
    /// Carried out; the result holds the frames' names.
    Done,
    /// Refused or failed; the result says why.
    Failed,
}

impl RequestState {
    fn as_str(self) -> &'static str {
        match self {
            RequestState::Pending => "pending",
            RequestState::Running => "running",
            RequestState::Done => "done",
            RequestState::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "pending" => RequestState::Pending,
            "running" => RequestState::Running,
            "done" => RequestState::Done,
            _ => RequestState::Failed,
        }
    }
}

/// A request for the camera thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraRequest {
    /// Row id.
    pub id: i64,
    /// The camera's port; `None`: the first connected camera.
    pub port: Option<String>,
    /// What to do, or why the row cannot be understood.
    pub action: std::result::Result<CameraAction, String>,
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

    /// Queue a request for the running engine's camera thread, and ring its
    /// [`bell`](Self::camera_bell); the request's id.
    pub fn request_camera(&self, port: Option<&str>, action: &CameraAction) -> Result<i64> {
        let (action, arg) = action.columns();
        let id = {
            let conn = self.conn();
            conn.execute(
                "INSERT INTO camera_requests (port, action, arg, state, created_ms) \
                 VALUES (?1, ?2, ?3, 'pending', ?4)",
                params![port, action, arg, now_ms()],
            )?;
            conn.last_insert_rowid()
        };
        // A running engine watches the bell; without it, it looks every second anyway.
        let rung = std::fs::OpenOptions::new()
            .write(true)
            .open(self.camera_bell())
            .and_then(|mut bell| std::io::Write::write_all(&mut bell, b"1"));
        if let Err(e) = rung {
            tracing::debug!("camera request bell: {e}");
        }
        Ok(id)
    }

    /// The file a running engine's camera thread watches for requests from other
    /// processes (it creates it), beside the journal.
    pub fn camera_bell(&self) -> std::path::PathBuf {
        self.path.with_file_name("camera-requests.bell")
    }

    /// Requests not yet taken up, oldest first.
    pub fn pending_camera_requests(&self) -> Result<Vec<CameraRequest>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, port, action, arg FROM camera_requests WHERE state = 'pending' ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            let (action, arg): (String, String) = (r.get(2)?, r.get(3)?);
            Ok(CameraRequest {
                id: r.get(0)?,
                port: r.get(1)?,
                action: CameraAction::from_columns(&action, &arg),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Move a request on: `result` is what to tell the caller.
    pub fn finish_camera_request(&self, id: i64, state: RequestState, result: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE camera_requests SET state = ?2, result = ?3 WHERE id = ?1",
            params![id, state.as_str(), result],
        )?;
        Ok(())
    }

    /// Note when a capture request fired the shutter.
    pub fn camera_request_fired(&self, id: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE camera_requests SET fired_ms = ?2 WHERE id = ?1",
            params![id, now_ms()],
        )?;
        Ok(())
    }

    /// When a capture request fired the shutter (ms since the epoch).
    pub fn camera_request_fired_ms(&self, id: i64) -> Result<Option<i64>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT fired_ms FROM camera_requests WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// The shot made from the card file `name` most recently taken: its library path
    /// and when it was stored (ms), once it is.
    pub fn shot_of_card_file(&self, name: &str) -> Result<Option<(String, Option<i64>)>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT COALESCE(d.rel_path, s.rel_path), s.stored_ms FROM card_files c                  JOIN shots s ON s.source_path = c.source_path AND s.source_size = c.size                  LEFT JOIN shots d ON d.id = s.duplicate_of                  WHERE c.name = ?1 AND c.state != 'baseline' AND s.state IN ('stored', 'duplicate')                  ORDER BY s.id DESC LIMIT 1",
                [name],
                |r| Ok((r.get::<_, Option<String>>(0)?.unwrap_or_default(), r.get(1)?)),
            )
            .optional()?)
    }

    /// A request's state and result.
    pub fn camera_request(&self, id: i64) -> Result<Option<(RequestState, Option<String>)>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT state, result FROM camera_requests WHERE id = ?1",
                [id],
                |r| Ok((RequestState::parse(&r.get::<_, String>(0)?), r.get(1)?)),
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

    #[test]
    fn requests_go_from_pending_to_finished() {
        let (_d, j) = journal();
        let a = j
            .request_camera(None, &CameraAction::Capture)
            .expect("request");
        let iso = CameraAction::set_from("iso=400").expect("setting");
        let b = j
            .request_camera(Some("usb:001,002"), &iso)
            .expect("request");
        let pending = j.pending_camera_requests().expect("pending");
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[1].port.as_deref(), Some("usb:001,002"));
        assert_eq!(pending[1].action, Ok(iso));
        assert_eq!(
            j.camera_request(a).expect("get").map(|r| r.0),
            Some(RequestState::Pending)
        );
        j.finish_camera_request(a, RequestState::Done, "GPH_0001.JPG")
            .expect("finish");
        assert_eq!(
            j.camera_request(a).expect("get"),
            Some((RequestState::Done, Some("GPH_0001.JPG".into())))
        );
        j.finish_camera_request(b, RequestState::Failed, "no camera")
            .expect("finish");
        assert_eq!(
            j.camera_request(b).expect("get").map(|r| r.0),
            Some(RequestState::Failed)
        );
        assert!(CameraAction::set_from("iso").is_err());
        assert!(j.pending_camera_requests().expect("pending").is_empty());
    }
}
