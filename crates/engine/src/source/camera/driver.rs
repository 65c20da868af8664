//! The camera layer the service drives: a [`Driver`] finds cameras and opens them, a
//! [`Device`] is one open camera. libgphoto2 implements them in [`super::gphoto`]; the
//! service's state machine (unplug, reconnect, busy, card full) is tested with a double.

use std::path::Path;
use std::time::Duration;

pub use crate::journal::CardFile;

/// A camera found by a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Model, e.g. `Nikon DSC D750`.
    pub model: String,
    /// Port, e.g. `usb:001,005`.
    pub port: String,
}

/// What an open camera says about itself; each part when the camera exposes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    /// Serial number, which identifies the camera across ports.
    pub serial: Option<String>,
    /// Battery level in percent.
    pub battery: Option<u8>,
    /// Free space on the card(s) in bytes.
    pub card_free_bytes: Option<u64>,
    /// The key settings it reports (see [`super::settings`]).
    pub settings: Vec<super::settings::CameraSetting>,
}

/// Something a camera reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    /// Nothing within the timeout.
    Timeout,
    /// A new file on the card (a frame was shot).
    NewFile {
        /// Folder on the camera.
        folder: String,
        /// File name (untrusted).
        name: String,
    },
    /// The capture finished (all its files were announced).
    CaptureComplete,
    /// The card ran full (PTP event 0x400a).
    CardFull,
    /// Anything else.
    Other(String),
}

/// Why a camera call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Another program holds the device.
    Busy,
    /// The camera is gone (unplugged, switched off).
    Gone,
    /// The card is full.
    CardFull,
    /// The host disk is full.
    DiskFull,
    /// The camera does not do this.
    NotSupported,
    /// Anything else.
    Other,
}

/// A failed camera call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DriverError {
    /// What kind of failure.
    pub failure: Failure,
    /// libgphoto2's words.
    pub message: String,
}

impl DriverError {
    /// A failure of `failure` kind.
    pub fn new(failure: Failure, message: impl Into<String>) -> Self {
        Self {
            failure,
            message: message.into(),
        }
    }
}

/// A camera call's result.
pub type DriverResult<T> = std::result::Result<T, DriverError>;

/// Finds and opens cameras.
pub trait Driver: Send {
    /// The cameras attached now.
    fn scan(&mut self) -> DriverResult<Vec<Found>>;
    /// Open one.
    fn open(&mut self, found: &Found) -> DriverResult<Box<dyn Device>>;
}

/// One open camera. Every call blocks; the service calls them from its own thread.
pub trait Device: Send {
    /// Serial, battery and card space.
    fn info(&mut self) -> Info;
    /// Make the camera keep frames on its card (not only in its RAM); false when it cannot.
    fn capture_to_card(&mut self) -> bool;
    /// Wait up to `timeout` for the next event.
    fn wait_event(&mut self, timeout: Duration) -> DriverResult<DeviceEvent>;
    /// Fire the shutter; the frames arrive as [`DeviceEvent::NewFile`].
    fn trigger(&mut self) -> DriverResult<()>;
    /// Every file on the card(s).
    fn list(&mut self) -> DriverResult<Vec<CardFile>>;
    /// Size and time of one file.
    fn stat(&mut self, folder: &str, name: &str) -> DriverResult<CardFile>;
    /// Write a file's bytes to `to` (a new file the caller created the path for).
    fn download(&mut self, file: &CardFile, to: &Path) -> DriverResult<()>;
    /// Delete a file from the card.
    fn delete(&mut self, file: &CardFile) -> DriverResult<()>;
    /// Set a configuration value (`iso`, `capturetarget`, `opcode`, …).
    fn set_config(&mut self, key: &str, value: &str) -> DriverResult<()>;
    /// One live view picture (a JPEG), starting live view if it is off.
    fn preview(&mut self) -> DriverResult<Vec<u8>> {
        Err(DriverError::new(
            Failure::NotSupported,
            "this camera has no live view here",
        ))
    }
    /// End live view (the sensor off, the mirror down).
    fn end_preview(&mut self) -> DriverResult<()> {
        Ok(())
    }
    /// Drive the focus; `Ok` with the camera's answer in words.
    fn focus(&mut self, drive: crate::live::Focus) -> DriverResult<String> {
        let _ = drive;
        Err(DriverError::new(
            Failure::NotSupported,
            "this camera cannot be focused from here",
        ))
    }
}

/// No camera support in this build (Windows, or built without the `gphoto2` feature).
#[derive(Debug, Default)]
pub struct NoDriver;

impl Driver for NoDriver {
    fn scan(&mut self) -> DriverResult<Vec<Found>> {
        Ok(Vec::new())
    }

    fn open(&mut self, _: &Found) -> DriverResult<Box<dyn Device>> {
        Err(DriverError::new(
            Failure::NotSupported,
            "this build has no camera support",
        ))
    }
}
