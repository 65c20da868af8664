//! Reading a running engine's state off the async runtime, for a window: the status,
//! the latest frames and whether work is paused, in one go.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::journal::Journal;
use crate::{Config, Result};

/// A cheap handle for reading a running engine's state off the async runtime.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub(crate) config: Config,
    pub(crate) journal: Arc<Journal>,
    pub(crate) paused: Arc<AtomicBool>,
}

/// Everything a window shows of a running engine, read in one go.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Shots, targets (probed now), uploads, cameras.
    pub status: crate::status::Status,
    /// The latest frames with each copy's state.
    pub recent: Vec<crate::journal::RecentShot>,
    /// Whether backups and uploads are paused.
    pub paused: bool,
}

impl Viewer {
    /// Read the status and the `recent` latest frames. Blocking (SQLite, and a probe of
    /// every target): call it from `spawn_blocking`.
    pub fn snapshot(&self, recent: usize) -> Result<Snapshot> {
        Ok(Snapshot {
            status: crate::status::status_of(&self.config, Some(&self.journal))?,
            recent: self.journal.recent_shots(recent)?,
            paused: self.paused.load(Ordering::Relaxed),
        })
    }

    /// The running config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The journal of the run.
    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }
}
