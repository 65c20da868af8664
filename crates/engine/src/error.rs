//! The engine's error type and `Result` alias.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is wrong; names the key and the fix.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Several configuration values are wrong.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    ConfigMany(Vec<crate::config::ConfigError>),
    /// The journal database failed.
    #[error("journal: {0}")]
    Journal(#[from] rusqlite::Error),
    /// A file operation failed on a path.
    #[error("{path}: {cause}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error (shown in the message, so not also a `source`).
        cause: io::Error,
    },
    /// Another `shotline run` already holds this library.
    #[error("the library {0} is in use by another Shotline process")]
    Locked(PathBuf),
    /// A file changed while it was being copied, more times than we retry.
    #[error("{0} keeps changing while it is copied; will retry when it is quiet")]
    Unstable(PathBuf),
    /// A copy read back from disk did not match the hash of the original.
    #[error("{path}: read back {found}, expected {expected}")]
    Mismatch {
        /// The copy that did not match.
        path: PathBuf,
        /// The hash it should have.
        expected: String,
        /// The hash read back.
        found: String,
    },
}

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] on `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }

    /// True when retrying later may succeed (a full disk, a vanished drive, a busy file);
    /// false for errors that need a person (a bad config, a corrupt journal).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Io { .. } | Error::Unstable(_) | Error::Mismatch { .. } => true,
            Error::Journal(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::SystemIoFailure
            ),
            _ => false,
        }
    }

    /// True when another program still has `file` open for writing (a tethering tool
    /// mid-save, on Windows): it is not complete yet, nothing failed.
    pub fn is_still_being_written(&self, file: &std::path::Path) -> bool {
        matches!(self, Error::Io { path, cause } if path == file && crate::platform::is_still_being_written(cause))
    }

    /// True when the error means the disk is full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            Error::Io { cause, .. } => crate::platform::is_disk_full(cause),
            Error::Journal(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            _ => false,
        }
    }
}

/// Attach a path to an `io::Result`.
pub trait IoContext<T> {
    /// Wrap the error as [`Error::Io`] on `path`.
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
