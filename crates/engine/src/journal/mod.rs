//! The journal: SQLite in WAL mode with `synchronous=FULL`, the durable record of every shot,
//! every (shot, target) backup job and the relay outbox. A job is committed here before
//! anything upstream hears of it, so a crash at any moment resumes from this file.
//!
//! - `schema`: versioned migrations.
//! - `shots`: shots and their life from found to stored.
//! - `jobs`: backup jobs per (shot, target).
//! - `outbox`: events waiting for the relay, each with a unique id.
//! - `camera`: card files and camera status.
//! - `camera_requests`: requests from other processes for the camera thread.
//! - `gallery`: shares and what each share published.
//! - `previews`: each frame's thumbnail, then its 2048 px preview.
//! - `answers`: the guests' answers to each share, and the sidecars written from them.
//! - `proof`: what is sealed into which ASC MHL generation, and the repairs made.
//! - `report`: the read-only summaries `status` and the UI show.
//! - `shotlist`: each session's shot list, the item being shot, and each frame's slot.

mod answers;
mod camera;
mod camera_requests;
mod gallery;
mod jobs;
mod mail;
mod originals;
mod outbox;
mod previews;
mod proof;
mod proofing;
mod report;
mod schema;
mod shotlist;
mod shots;
mod uploads;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

use crate::Result;

pub use answers::{Answer, Feedback, Marks};
pub use camera::{CardFile, CardState};
pub use camera_requests::{CameraAction, CameraRequest, RequestState};
pub use gallery::{Share, ShareFrame};
pub use jobs::{Job, JobState};
pub use mail::{DigestComment, Mail};
pub use originals::Original;
pub use outbox::Outgoing;
pub use previews::{NeedsPreview, Stage};
pub use proof::{Repair, ReportFrame, Seal, Unsealed};
pub use proofing::{Activity, Selection, ShareChange};
pub use report::{RecentShot, Report, TargetReport};
pub use shots::{NewShot, Shot, ShotState};
pub use uploads::{Part, UploadCounts, UploadDue};

/// File name of the journal inside the library's `.shotline` folder.
pub const FILE_NAME: &str = "journal.sqlite";

/// The journal of one library. Cheap to share behind an `Arc`; calls are short and
/// serialised on one connection.
#[derive(Debug)]
pub struct Journal {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Journal {
    /// The journal of the library at `library`: `<library>/.shotline/journal.sqlite`.
    /// The journal lives with the library it describes, so a library moved to another
    /// disk keeps its history, and two libraries never share one.
    pub fn path_for(library: &Path) -> PathBuf {
        library.join(".shotline").join(FILE_NAME)
    }

    /// Open (creating and migrating) the journal at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// Open an existing journal read-only, for `status` and `verify` beside a running engine:
    /// no write lock is ever taken. `None` when there is no journal yet, or a run has only
    /// just created it (schema 0); an error if its schema is older than this build's.
    pub fn open_read_only(path: &Path) -> Result<Option<Self>> {
        if !path.exists() {
            return Ok(None);
        }
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        match schema::version(&conn)? {
            0 => Ok(None),
            v if v == schema::VERSION => Ok(Some(Self {
                conn: Mutex::new(conn),
                path: path.to_path_buf(),
            })),
            v => Err(crate::Error::io(
                path,
                std::io::Error::other(format!(
                    "journal schema {v}, this build reads {}: run `shotline run` once to upgrade it",
                    schema::VERSION
                )),
            )),
        }
    }

    /// Where this journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (every write is a
        // transaction), so a poisoned lock is safe to take over.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
