//! Proof of backup: a standard, tool-independent record of every verified copy (ASC MHL),
//! a transfer report to file with the job, and repair of what went bad.
//!
//! - [`c4`]: C4 ids, how the ASC MHL chain names each generation.
//! - [`mhl`]: generation and chain files, written and read with `quick-xml`.
//! - [`history`]: one root's `ascmhl/` history, checked before anything is added and
//!   extended one generation at a time, crash-safely.
//! - [`seal`]: a generation per root (the library, each target) of the copies verified
//!   since the last, hashes from the journal (no frame is read again).
//! - [`sealer`]: the running engine's checkpoints and its seal at session end.
//! - [`report`]: the transfer report of a session, as PDF (`pdf`) and CSV.
//! - [`repair`]: `shotline verify --repair`.

pub mod c4;
pub mod history;
pub mod mhl;
mod pdf;
pub mod repair;
pub mod report;
pub mod seal;
pub mod sealer;

use std::path::{Path, PathBuf};

/// What went wrong with a root's proof.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The history was changed by hand, or its chain is broken: Shotline adds nothing to it.
    #[error(
        "the ASC MHL history of {} cannot be trusted: {detail}; Shotline adds nothing to it until it is restored (or moved aside for a new one)",
        root.display()
    )]
    Tampered {
        /// The root.
        root: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] crate::Error),
}

impl ProofError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        ProofError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
