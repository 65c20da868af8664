//! Sources: where new frames come from. Each source offers [`Candidate`]s — files that are
//! complete — to ingest.
//!
//! - [`camera`]: tethered cameras through libgphoto2.
//! - [`filter`]: names that are never frames (hidden, temporary, partial).
//! - [`tracker`]: deciding when a file is complete.
//! - [`hotfolder`]: watching folders with file-system events or polling.
//!
//! [`Candidate`]: crate::ingest::Candidate

pub mod camera;
pub mod filter;
pub mod hotfolder;
pub mod tracker;

pub use hotfolder::HotFolders;
