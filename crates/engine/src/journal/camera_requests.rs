//! Requests from other processes (`shotline capture`, `shotline camera set|focus`) that the
//! running engine's camera thread carries out: queued in the journal, the thread woken by
//! a bell file beside it, the answer written back for the asking process to read.

use rusqlite::{OptionalExtension, params};

use super::{Journal, now_ms};
use crate::Result;

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
    /// Drive the focus (`shotline camera focus`).
    Focus(crate::live::Focus),
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
            CameraAction::Focus(drive) => ("focus", drive.to_string()),
        }
    }

    /// From the row's columns; an unknown action or a malformed setting says why.
    fn from_columns(action: &str, arg: &str) -> std::result::Result<Self, String> {
        match action {
            "capture" => Ok(CameraAction::Capture),
            "set" => Self::set_from(arg),
            "focus" => crate::live::Focus::parse(arg).map(CameraAction::Focus),
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
    /// When it was queued (ms since the epoch).
    pub created_ms: i64,
}

impl Journal {
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
            "SELECT id, port, action, arg, created_ms FROM camera_requests WHERE state = 'pending' \
             ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            let (action, arg): (String, String) = (r.get(2)?, r.get(3)?);
            Ok(CameraRequest {
                id: r.get(0)?,
                port: r.get(1)?,
                action: CameraAction::from_columns(&action, &arg),
                created_ms: r.get(4)?,
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

    /// When a capture request was queued and when it fired the shutter (ms since the
    /// epoch; not fired: `None`).
    pub fn camera_request_times(&self, id: i64) -> Result<Option<(i64, Option<i64>)>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT created_ms, fired_ms FROM camera_requests WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
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
