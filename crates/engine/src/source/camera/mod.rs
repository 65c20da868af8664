//! Tethered cameras: frames downloaded the moment they are shot, through unplugs, busy
//! devices and full cards, into the same ingest as hot-folder files.
//!
//! - [`driver`]: the camera layer the service drives (libgphoto2, or a test double).
//! - `gphoto`: that layer over libgphoto2 (feature `gphoto2`; not on Windows).
//! - [`hotplug`]: whether libgphoto2 needs asking for cameras, from the kernel's listing.
//! - [`settings`]: the key settings (ISO, shutter speed, aperture, white balance, image
//!   format) and a wanted value checked against the camera's choices.
//! - [`service`]: the camera thread (detection, events, downloads, reconciliation,
//!   requests).
//! - [`spool`]: downloads under a hidden partial name, fsynced, renamed into place.
//! - [`holder`]: who holds a busy camera, and freeing it from gvfs.

pub mod driver;
#[cfg(all(feature = "gphoto2", not(windows)))]
pub mod gphoto;
pub mod holder;
pub mod hotplug;
pub mod service;
pub mod settings;
pub mod spool;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use tokio::sync::oneshot;

pub use service::{Command, Context};

/// The answer to a camera request: the downloaded file names (one a line), or why not.
pub type Answer = std::result::Result<String, CameraError>;

/// Why a camera request was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraError {
    /// No camera (or not that one) is connected, or no engine serves cameras.
    #[error("{0}")]
    NotReady(String),
    /// The camera's card is full.
    #[error("{0}")]
    CardFull(String),
    /// The library's disk is full: the frame stays on the card.
    #[error("{0}")]
    DiskFull(String),
    /// The camera went away while the request was carried out.
    #[error("{0}")]
    Disconnected(String),
    /// The camera refused or failed (a setting it does not take, a capture error).
    #[error("{0}")]
    Failed(String),
    /// No answer in time.
    #[error("{0}")]
    Timeout(String),
}

impl CameraError {
    /// True when the same request may work later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self, CameraError::Timeout(_) | CameraError::Disconnected(_))
    }
}

/// The camera layer of this build: libgphoto2 where it is built in, else none.
pub fn default_driver() -> Box<dyn driver::Driver> {
    #[cfg(all(feature = "gphoto2", not(windows)))]
    {
        match gphoto::Gphoto::new() {
            Ok(g) => return Box::new(g),
            Err(e) => tracing::error!("camera: libgphoto2 did not start: {e}"),
        }
    }
    Box::new(driver::NoDriver)
}

/// Whether this build can talk to cameras.
pub const SUPPORTED: bool = cfg!(all(feature = "gphoto2", not(windows)));

/// Controls the camera thread from this process (what the desktop app calls).
#[derive(Debug, Clone)]
pub struct CameraControl {
    tx: std_mpsc::Sender<Command>,
}

impl CameraControl {
    /// Fire the shutter of the camera on `port` (or the first connected camera); resolves
    /// to the names of the frames once they are downloaded.
    pub async fn capture(&self, port: Option<String>) -> Answer {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Capture { port, reply }, rx).await
    }

    /// Set a camera configuration value (`iso`, `capturetarget`, …).
    pub async fn set(&self, port: Option<String>, key: String, value: String) -> Answer {
        let (reply, rx) = oneshot::channel();
        self.send(
            Command::Set {
                port,
                key,
                value,
                reply,
            },
            rx,
        )
        .await
    }

    /// Drive the focus of the camera on `port` (or the first connected one); resolves to
    /// the camera's answer.
    pub async fn focus(&self, port: Option<String>, drive: crate::live::Focus) -> Answer {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Focus { port, drive, reply }, rx).await
    }

    /// Wake the camera thread from its idle wait, so it sees a stop at once.
    pub fn wake(&self) {
        let _ = self.tx.send(Command::Rung);
    }

    async fn send(&self, command: Command, rx: oneshot::Receiver<Answer>) -> Answer {
        if self.tx.send(command).is_err() {
            return Err(CameraError::NotReady(
                "the camera service is not running".into(),
            ));
        }
        match tokio::time::timeout(Duration::from_secs(60), rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(CameraError::NotReady("the camera service stopped".into())),
            Err(_) => Err(CameraError::Timeout(
                "no answer from the camera within 60 s".into(),
            )),
        }
    }
}

/// Start the camera thread over `driver`; it runs until `stop` is set. Requests other
/// processes queue in the journal wake it through the journal's camera bell.
pub fn spawn(
    driver: Box<dyn driver::Driver>,
    ctx: Context,
    stop: Arc<AtomicBool>,
) -> std::io::Result<(CameraControl, std::thread::JoinHandle<()>)> {
    let (tx, rx) = std_mpsc::channel();
    let bell = watch_bell(&ctx.journal.camera_bell(), tx.clone());
    let handle = std::thread::Builder::new()
        .name("camera".into())
        .spawn(move || {
            let service = service::Service::new(driver, ctx, rx);
            let service = match &bell {
                Some(_) => service.bell_watched(),
                None => service,
            };
            service.run(&stop);
            drop(bell);
        })?;
    Ok((CameraControl { tx }, handle))
}

/// Watch `bell` (created if missing): each ring sends [`Command::Rung`]. `None` when it
/// cannot be watched; the journal is then looked at every 50 ms.
fn watch_bell(
    bell: &std::path::Path,
    tx: std_mpsc::Sender<Command>,
) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let made = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(bell);
    if let Err(e) = made {
        tracing::warn!("camera request bell {}: {e}", bell.display());
        return None;
    }
    let watched = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| e.kind.is_modify() || e.kind.is_create()) {
            let _ = tx.send(Command::Rung);
        }
    })
    .and_then(|mut watcher| {
        watcher.watch(bell, notify::RecursiveMode::NonRecursive)?;
        Ok(watcher)
    });
    match watched {
        Ok(watcher) => Some(watcher),
        Err(e) => {
            tracing::warn!("camera request bell {}: {e}", bell.display());
            None
        }
    }
}
