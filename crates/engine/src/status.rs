//! `shotline status`: what the journal holds and how each target looks right now, without
//! disturbing a run that may be going on.

use std::path::PathBuf;

use serde::Serialize;
use shotline_protocol::{CameraStatus, TargetState};

use crate::backup::target::{Presence, Target};
use crate::journal::{Journal, Report};
use crate::{Config, Result};

/// The status of one library.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The library folder.
    pub library: PathBuf,
    /// The journal file (it may not exist yet).
    pub journal: PathBuf,
    /// Shots stored.
    pub shots: u64,
    /// Duplicates recognised.
    pub duplicates: u64,
    /// Shots found but not yet in the library.
    pub ingesting: u64,
    /// Shots given up on.
    pub failed: u64,
    /// Work left: shots to store and copies to make.
    pub queue_depth: u64,
    /// Events waiting in the outbox for the relay.
    pub relay_queued: u64,
    /// Cloud uploads, when `[upload]` is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uploads: Option<UploadLine>,
    /// Each target.
    pub targets: Vec<TargetLine>,
    /// Each tethered camera a running engine sees, as last reported.
    pub cameras: Vec<CameraStatus>,
}

/// Cloud uploads in [`Status`].
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct UploadLine {
    /// Frames in the bucket.
    pub done: u64,
    /// Frames started and not finished (waiting, in progress or retrying).
    pub pending: u64,
    /// Frames given up on (their library file is gone).
    pub failed: u64,
}

/// One target in [`Status`].
#[derive(Debug, Clone, Serialize)]
pub struct TargetLine {
    /// Name.
    pub name: String,
    /// Folder.
    pub path: PathBuf,
    /// State as probed now (`full` and `error` show only in a running engine's events).
    pub state: TargetState,
    /// Free bytes, if readable.
    pub free_bytes: Option<u64>,
    /// Copies still to make.
    pub pending: u64,
    /// Copies verified.
    pub verified: u64,
    /// Copies given up on.
    pub failed: u64,
}

/// Read the status of `config`'s library (blocking: it opens the journal and probes every
/// target).
pub fn status(config: &Config) -> Result<Status> {
    let path = Journal::path_for(&config.library.path);
    let journal = Journal::open_read_only(&path)?;
    status_of(config, journal.as_ref())
}

/// The status of `config`'s library from an open `journal` (`None`: there is none yet).
/// Blocking: it probes every target.
pub fn status_of(config: &Config, journal: Option<&Journal>) -> Result<Status> {
    let path = Journal::path_for(&config.library.path);
    let names: Vec<String> = config.backup.iter().map(|b| b.name.clone()).collect();
    let (report, relay_queued, upload_counts, cameras) = match journal {
        Some(journal) => (
            journal.report(&names)?,
            journal.outbox_len()?,
            journal.upload_counts().unwrap_or_default(),
            crate::source::camera::service::statuses(journal),
        ),
        None => (Report::default(), 0, Default::default(), Vec::new()),
    };
    let uploads = config.upload.as_ref().map(|_| UploadLine {
        done: upload_counts.done,
        pending: upload_counts.pending,
        failed: upload_counts.failed,
    });
    let targets = config
        .backup
        .iter()
        .map(|b| {
            let counts = report
                .targets
                .iter()
                .find(|t| t.name == b.name)
                .cloned()
                .unwrap_or_default();
            let (state, free_bytes) = match Target::probe(&b.path, b.require_mount) {
                Presence::Present { free, .. } => (TargetState::Online, free),
                Presence::Absent(_) => (TargetState::Offline, None),
            };
            TargetLine {
                name: b.name.clone(),
                path: b.path.clone(),
                state,
                free_bytes,
                pending: counts.pending,
                verified: counts.verified,
                failed: counts.failed,
            }
        })
        .collect();
    Ok(Status {
        library: config.library.path.clone(),
        journal: path,
        shots: report.stored,
        duplicates: report.duplicates,
        ingesting: report.ingesting,
        failed: report.failed,
        queue_depth: report.queue_depth(),
        relay_queued,
        uploads,
        targets,
        cameras,
    })
}
