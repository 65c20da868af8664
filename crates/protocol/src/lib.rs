//! Wire types shared by the Shotline engine, the relay and the web UIs.
//!
//! - [`event`]: the typed [`Event`]s the engine publishes for every state change, serialised
//!   as `{"type": <event type>, "payload": {..}}` exactly as the relay contract states.
//! - [`gallery`]: the live gallery's events (frames, and guests' answers).
//! - [`relay`]: the frames of the relay's WebSocket and its error codes.
//! - [`env`](mod@env): the environment variables every Shotline program reads, in one table.
//! - [`retry`]: backoff with jitter, for everything that retries.
//!
//! Everything here is plain data with `serde` derives; nothing performs I/O.

pub mod env;
pub mod event;
pub mod gallery;
pub mod relay;
pub mod retry;

pub use event::{
    BackupProgress, BackupVerified, CameraSetting, CameraState, CameraStatus, DiskSpace, Event,
    FramePreview, Level, LibrarySpace, LiveView, Notification, QueueStatus, ShotCaptured, ShotItem,
    ShotSource, ShotStored, SpaceState, SystemStatus, TargetState, TargetStatus, UploadComplete,
    UploadProgress,
};
pub use gallery::{GalleryComment, GalleryFrame, GalleryLabel, GalleryLike, GalleryRating, Label};
