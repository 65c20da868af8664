//! Shotline's engine: every frame from a hot folder or a tethered camera into
//! the library and onto verified backups, crash-proof. No GUI here; the `shotline` binary
//! and the desktop app both drive this crate.
//!
//! A frame's way through the modules:
//!
//! - [`source`]: hot folders are watched (a file is offered once it is complete), tethered
//!   cameras are served on their own thread (a frame is offered once downloaded).
//! - [`ingest`]: the shot is reserved in the [`journal`], copied into the library under its
//!   [`naming`] template (camera and capture time from [`metadata`]), hashed ([`hash`]),
//!   checked for duplicates, recorded with its jobs.
//! - [`backup`]: jobs copy each shot to every ready target through [`copy`], verified by
//!   re-reading from disk, with [`platform`] primitives for fsync, rename and cache control.
//! - [`bus`]: every state change is an event ([`shotline_protocol::Event`]) for the UIs,
//!   and through [`relay_client`]'s durable outbox for the relay.
//! - [`engine`]: starts and stops these services for one run ([`viewer`]: its state for a
//!   window); [`relay_setup`] picks the relay (configured, or embedded in this process);
//!   [`launch`] is the start-up sequence the `shotline` binary and the desktop app share.
//! - [`upload`]: frames to an S3-compatible bucket.
//! - [`thumbnail`]: previews for a window's frame list, from bytes already in the frame.
//! - [`preview`]: the live gallery's previews of every stored frame, made off the copy
//!   path; [`share`]: shares of a session, sent to the relay for their guests, and their
//!   answers back; [`sidecar`]: guests' ratings and labels in XMP sidecars, and the
//!   studio's metadata ([`stationery`]) written into them as each frame arrives;
//!   [`mail`]: the studio told by mail (selections, the comments' digest, shares ending).
//! - [`live`]: the camera's live view while someone watches, focus drives, and the
//!   pictures' way to the relay.
//! - [`session`]: the session being shot, switched without a restart.
//! - [`config`] and [`paths`]: settings and where things live.
//! - [`verify`] and [`status`]: the read-only checks behind `shotline verify` and `status`.
//! - [`proof`]: the proof of backup: ASC MHL histories on every copy, the transfer
//!   report, and `verify --repair`.

pub mod backup;
pub mod bus;
pub mod config;
pub mod copy;
pub mod engine;
pub mod error;
pub mod hash;
pub mod ingest;
pub mod journal;
pub mod launch;
pub mod live;
pub mod mail;
pub mod metadata;
pub mod naming;
pub mod paths;
pub mod platform;
pub mod preview;
pub mod proof;
pub mod relay_client;
pub mod relay_setup;
pub mod session;
pub mod share;
pub mod shotlist;
pub mod sidecar;
pub mod source;
pub mod stationery;
pub mod status;
pub mod system;
pub mod thumbnail;
pub mod upload;
pub mod verify;
pub mod viewer;

pub use bus::Bus;
pub use config::{Config, ConfigError};
pub use engine::{Engine, Running};
pub use error::{Error, Result};
