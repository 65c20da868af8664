//! The camera thread: every libgphoto2 call of the engine happens here. It rescans about
//! every second, opens new cameras (set to keep frames on the card), serves the open ones
//! in turn with short `wait_event` timeouts, downloads each new file through the spool
//! into ingest, takes what was shot while a camera was away (reconciliation), carries out
//! capture and config requests, and tells every change as a `camera_status` event.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use shotline_protocol::{CameraState, CameraStatus, Event, Level, ShotSource};
use tokio::sync::{mpsc, oneshot};

use super::driver::{CardFile, Device, DeviceEvent, Driver, DriverError, Failure, Found, Info};
use super::{holder, spool};
use crate::config;
use crate::ingest::Candidate;
use crate::journal::Journal;
use crate::naming::sanitize_component;
use crate::source::filter;
use crate::{Bus, Result};

/// How often cameras are looked for.
const SCAN_EVERY: Duration = Duration::from_secs(1);
/// Time spent waiting for events per round, shared by the open cameras.
const ROUND: Duration = Duration::from_millis(100);
/// How often requests from other processes are looked for in the journal.
const REQUESTS_EVERY: Duration = Duration::from_millis(50);
/// How often battery and card space are read again.
const INFO_EVERY: Duration = Duration::from_secs(30);
/// A capture whose camera sends no frame within this is answered with an error.
const CAPTURE_TIMEOUT: Duration = Duration::from_secs(30);
/// After the last frame of a capture, how long to wait for more (RAW + JPEG) when the
/// camera sends no "capture complete".
const CAPTURE_SETTLE: Duration = Duration::from_millis(1500);
/// Consecutive event errors after which a camera is closed and opened again.
const MAX_EVENT_ERRORS: u32 = 3;
/// Download attempts of one file before it is left for the next reconciliation.
const MAX_DOWNLOAD_TRIES: u32 = 5;

/// The answer to a request: the downloaded file names, or what went wrong.
pub type Answer = std::result::Result<String, String>;

/// A request for the camera thread from this process (the desktop app, the CLI).
#[derive(Debug)]
pub enum Command {
    /// Fire the shutter of the camera on `port` (or the first connected one).
    Capture {
        /// The camera; `None`: the first connected one.
        port: Option<String>,
        /// Gets the file names once the frames are downloaded.
        reply: oneshot::Sender<Answer>,
    },
    /// Set a configuration value.
    Set {
        /// The camera; `None`: the first connected one.
        port: Option<String>,
        /// Config key, e.g. `iso`.
        key: String,
        /// New value.
        value: String,
        /// Gets the outcome.
        reply: oneshot::Sender<Answer>,
    },
}

/// Where an answer goes.
#[derive(Debug)]
enum Reply {
    Channel(oneshot::Sender<Answer>),
    Journal(i64),
}

/// A capture waiting for its frames.
#[derive(Debug)]
struct Waiting {
    reply: Reply,
    since: Instant,
    files: Vec<String>,
    last_file: Option<Instant>,
}

/// One camera, by port.
struct Slot {
    found: Found,
    /// Identity in the journal: the serial where the camera reports one, else the model.
    key: String,
    device: Option<Box<dyn Device>>,
    status: Option<CameraStatus>,
    info: Info,
    info_at: Instant,
    downloads: VecDeque<(CardFile, u32)>,
    download_at: Instant,
    captures: Vec<Waiting>,
    event_errors: u32,
    open_at: Instant,
    gvfs_tried: bool,
    card_full: bool,
    was_connected: bool,
}

impl Slot {
    fn new(found: Found) -> Self {
        let now = Instant::now();
        Self {
            key: format!("model:{}", found.model),
            found,
            device: None,
            status: None,
            info: Info::default(),
            info_at: now,
            downloads: VecDeque::new(),
            download_at: now,
            captures: Vec::new(),
            event_errors: 0,
            open_at: now,
            gvfs_tried: false,
            card_full: false,
            was_connected: false,
        }
    }
}

/// What the camera thread needs from the engine.
#[derive(Debug, Clone)]
pub struct Context {
    /// The journal.
    pub journal: Arc<Journal>,
    /// Events.
    pub bus: Bus,
    /// The session frames are shot in.
    pub session: String,
    /// The library folder (the spool is inside it).
    pub library: PathBuf,
    /// `[camera]`.
    pub config: config::Camera,
    /// Where downloaded frames go.
    pub candidates: mpsc::UnboundedSender<Candidate>,
}

/// The camera thread's state.
pub struct Service {
    driver: Box<dyn Driver>,
    ctx: Context,
    spool: PathBuf,
    slots: Vec<Slot>,
    commands: std_mpsc::Receiver<Command>,
    disk_full: bool,
}

impl Service {
    /// A service over `driver`, taking commands from `commands`.
    pub fn new(
        driver: Box<dyn Driver>,
        ctx: Context,
        commands: std_mpsc::Receiver<Command>,
    ) -> Self {
        Self {
            driver,
            spool: spool::dir(&ctx.library),
            ctx,
            slots: Vec::new(),
            commands,
            disk_full: false,
        }
    }

    /// Run until `stop` is set. Blocking: this is the camera thread.
    pub fn run(mut self, stop: &AtomicBool) {
        if let Err(e) = self.ctx.journal.clear_camera_status() {
            tracing::warn!("camera: {e}");
        }
        for path in spool::leftovers(&self.spool) {
            self.offer_leftover(path);
        }
        let mut next_scan = Instant::now();
        let mut next_requests = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if now >= next_scan {
                self.scan();
                next_scan = now + SCAN_EVERY;
            }
            while let Ok(command) = self.commands.try_recv() {
                self.command(command);
            }
            if now >= next_requests {
                self.journal_requests();
                next_requests = now + REQUESTS_EVERY;
            }
            let open: Vec<usize> = (0..self.slots.len())
                .filter(|&i| self.slots[i].device.is_some())
                .collect();
            if open.is_empty() {
                match self.commands.recv_timeout(REQUESTS_EVERY) {
                    Ok(command) => self.command(command),
                    Err(_) => continue,
                }
                continue;
            }
            let timeout = (ROUND / open.len() as u32).max(Duration::from_millis(20));
            for i in open {
                self.poll(i, timeout);
                self.downloads(i);
                self.housekeeping(i);
            }
        }
    }

    /// Offer a download an earlier run left in the spool.
    fn offer_leftover(&self, path: PathBuf) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Spool names are `<16 hex>-<sanitised name>`.
        let fallback = name.split_once('-').map_or(name.as_str(), |(_, n)| n);
        let camera = self
            .slots
            .iter()
            .find(|s| s.device.is_some())
            .map(|s| s.found.model.clone())
            .unwrap_or_else(|| "camera".into());
        let _ = self.ctx.candidates.send(Candidate {
            path,
            original: sanitize_component(fallback),
            camera,
            source: ShotSource::Camera,
        });
    }

    // ---- detection ----

    fn scan(&mut self) {
        let found = match self.driver.scan() {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!("camera scan: {e}");
                return;
            }
        };
        for i in 0..self.slots.len() {
            let present = found.iter().any(|f| f.port == self.slots[i].found.port);
            if !present
                && self.slots[i].status.as_ref().map(|s| s.state) != Some(CameraState::Disconnected)
            {
                self.disconnect(i, "unplugged or switched off");
            }
        }
        for f in found {
            let i = match self.slots.iter().position(|s| s.found.port == f.port) {
                Some(i) => {
                    if self.slots[i].found.model != f.model {
                        // Another camera on the same port.
                        self.slots[i] = Slot::new(f);
                    }
                    i
                }
                None => {
                    self.slots.push(Slot::new(f));
                    self.slots.len() - 1
                }
            };
            if self.slots[i].device.is_none() && Instant::now() >= self.slots[i].open_at {
                self.open(i);
            }
        }
    }

    fn open(&mut self, i: usize) {
        let found = self.slots[i].found.clone();
        match self.driver.open(&found) {
            Ok(mut device) => {
                let on_card = device.capture_to_card();
                let info = device.info();
                let slot = &mut self.slots[i];
                slot.key = match &info.serial {
                    Some(serial) => format!("serial:{serial}"),
                    None => format!("model:{}", found.model),
                };
                slot.info = info;
                slot.info_at = Instant::now();
                slot.device = Some(device);
                slot.event_errors = 0;
                slot.gvfs_tried = false;
                let back = slot.was_connected;
                slot.was_connected = true;
                tracing::info!(
                    "camera {} on {} connected{}",
                    found.model,
                    found.port,
                    if on_card {
                        ", capturing to its card"
                    } else {
                        ""
                    }
                );
                self.publish(i, CameraState::Connected, None);
                if back {
                    self.ctx.bus.notify(
                        Level::Info,
                        "camera_back",
                        format!("{} is back", found.model),
                        "Frames shot while it was away are being taken now.",
                    );
                }
                self.reconcile(i);
            }
            Err(e) if e.failure == Failure::Busy => {
                let holders = holder::holders(&found.port);
                let unmount = self.ctx.config.unmount_gvfs
                    && !self.slots[i].gvfs_tried
                    && (holders.is_empty() || holders.iter().any(|(_, n)| n.starts_with("gvfs")));
                if unmount {
                    self.slots[i].gvfs_tried = true;
                    if holder::unmount_gvfs() {
                        tracing::info!(
                            "camera on {}: unmounted gvfs's gphoto2 volumes",
                            found.port
                        );
                        return; // opened again at the next scan
                    }
                }
                let message = holder::busy_message(&found.port, &holders);
                if self.publish(i, CameraState::Busy, Some(message.clone())) {
                    self.ctx.bus.notify(
                        Level::Warning,
                        "camera_busy",
                        format!("{} is held by another program", found.model),
                        message,
                    );
                }
                self.slots[i].open_at = Instant::now() + SCAN_EVERY;
            }
            Err(e) => {
                let message = format!("cannot open the camera: {e}; retrying");
                self.publish(i, CameraState::Error, Some(message));
                self.slots[i].open_at = Instant::now() + Duration::from_secs(3);
            }
        }
    }

    fn disconnect(&mut self, i: usize, why: &str) {
        let slot = &mut self.slots[i];
        let had_device = slot.device.take().is_some();
        slot.downloads.clear();
        slot.card_full = false;
        let model = slot.found.model.clone();
        for w in std::mem::take(&mut slot.captures) {
            answer(
                &self.ctx.journal,
                w.reply,
                Err(format!("{model} disconnected")),
            );
        }
        self.publish(i, CameraState::Disconnected, Some(why.to_string()));
        if had_device {
            self.ctx.bus.notify(
                Level::Critical,
                "camera_lost",
                format!("{model} disconnected"),
                format!("{why}. Shotline picks it up again when it is back and takes any frame shot meanwhile."),
            );
        }
    }

    /// Publish a status when it changed; true when it did.
    fn publish(&mut self, i: usize, state: CameraState, message: Option<String>) -> bool {
        let slot = &mut self.slots[i];
        let connected = state == CameraState::Connected;
        let status = CameraStatus {
            port: slot.found.port.clone(),
            model: slot.found.model.clone(),
            state,
            battery: slot.info.battery.filter(|_| connected),
            card_free_bytes: slot.info.card_free_bytes.filter(|_| connected),
            message,
        };
        if slot.status.as_ref() == Some(&status) {
            return false;
        }
        slot.status = Some(status.clone());
        if let Ok(json) = serde_json::to_string(&status)
            && let Err(e) = self.ctx.journal.set_camera_status(&status.port, &json)
        {
            tracing::warn!("camera status: {e}");
        }
        self.ctx.bus.publish(Event::CameraStatus(status));
        true
    }

    // ---- frames ----

    /// Take every file on the card that was not there when the session first saw this
    /// camera and that Shotline has not taken yet.
    fn reconcile(&mut self, i: usize) {
        let (key, session) = (self.slots[i].key.clone(), self.ctx.session.clone());
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        let files = match device.list() {
            Ok(files) => files,
            Err(e) => {
                tracing::warn!("camera: cannot list the card: {e}");
                return;
            }
        };
        let journal = &self.ctx.journal;
        match journal.has_card_baseline(&key, &session) {
            Ok(false) => {
                if let Err(e) = journal.record_card_baseline(&key, &session, &files) {
                    tracing::warn!("camera: {e}");
                }
                tracing::info!(
                    "camera: {} file(s) already on the card belong to earlier shoots; left alone",
                    files.len()
                );
                return;
            }
            Ok(true) => {}
            Err(e) => {
                tracing::warn!("camera: {e}");
                return;
            }
        }
        let mut missing = 0;
        for f in files {
            if filter::is_ignored(Path::new(&f.name)) {
                continue;
            }
            if matches!(journal.card_file_state(&key, &f), Ok(None))
                && !self.slots[i].downloads.iter().any(|(d, _)| *d == f)
            {
                missing += 1;
                self.slots[i].downloads.push_back((f, 0));
            }
        }
        if missing > 0 {
            tracing::info!(
                "camera: taking {missing} frame(s) shot while Shotline was not connected"
            );
        }
    }

    fn poll(&mut self, i: usize, timeout: Duration) {
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        match device.wait_event(timeout) {
            Ok(event) => {
                self.slots[i].event_errors = 0;
                match event {
                    DeviceEvent::Timeout | DeviceEvent::Other(_) => {}
                    DeviceEvent::NewFile { folder, name } => self.new_file(i, folder, name),
                    DeviceEvent::CaptureComplete => {
                        let now = Instant::now();
                        for w in &mut self.slots[i].captures {
                            if !w.files.is_empty() {
                                w.last_file = Some(now - CAPTURE_SETTLE);
                            }
                        }
                        // The card's free space changed: read it again once things settle.
                        self.slots[i].info_at = now.checked_sub(INFO_EVERY).unwrap_or(now);
                    }
                    DeviceEvent::CardFull => self.card_full(i, "the camera reported its card full"),
                }
            }
            Err(e) if e.failure == Failure::Gone => self.disconnect(i, &format!("lost: {e}")),
            Err(e) => {
                let slot = &mut self.slots[i];
                slot.event_errors += 1;
                tracing::warn!("camera on {}: {e}", slot.found.port);
                if slot.event_errors >= MAX_EVENT_ERRORS {
                    self.disconnect(i, &format!("stopped answering: {e}"));
                }
            }
        }
    }

    fn new_file(&mut self, i: usize, folder: String, name: String) {
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        let file = match device.stat(&folder, &name) {
            Ok(file) => file,
            Err(e) => {
                tracing::warn!("camera: new file {folder}/{name}: {e}");
                CardFile {
                    folder,
                    name,
                    size: 0,
                    mtime: 0,
                }
            }
        };
        self.slots[i].card_full = false;
        self.slots[i].downloads.push_front((file, 0));
        self.slots[i].download_at = Instant::now();
    }

    fn downloads(&mut self, i: usize) {
        let now = Instant::now();
        while now >= self.slots[i].download_at {
            let Some((file, tries)) = self.slots[i].downloads.pop_front() else {
                break;
            };
            let key = self.slots[i].key.clone();
            if !matches!(self.ctx.journal.card_file_state(&key, &file), Ok(None)) {
                continue;
            }
            let to = spool::path_for(&self.spool, &key, &file);
            let Some(device) = self.slots[i].device.as_mut() else {
                return;
            };
            match spool::download(device.as_mut(), &file, &to) {
                Ok(()) => {
                    if let Err(e) = self.ctx.journal.record_card_taken(
                        &key,
                        &self.ctx.session,
                        &file,
                        &to.to_string_lossy(),
                    ) {
                        tracing::warn!("camera: {e}");
                    }
                    if self.disk_full {
                        self.disk_full = false;
                        self.ctx.bus.notify(
                            Level::Info,
                            "camera_disk_ok",
                            "Camera downloads go on",
                            "The library's disk has room again.",
                        );
                    }
                    let model = self.slots[i].found.model.clone();
                    let _ = self.ctx.candidates.send(Candidate {
                        path: to,
                        // Untrusted: one safe component, whatever the camera sent.
                        original: sanitize_component(&file.name),
                        camera: model,
                        source: ShotSource::Camera,
                    });
                    for w in &mut self.slots[i].captures {
                        w.files.push(file.name.clone());
                        w.last_file = Some(Instant::now());
                    }
                }
                Err(e) => {
                    self.download_failed(i, file, tries, e);
                    return;
                }
            }
        }
    }

    fn download_failed(&mut self, i: usize, file: CardFile, tries: u32, e: DriverError) {
        match e.failure {
            Failure::Gone => {
                self.disconnect(i, &format!("lost during a download: {e}"));
            }
            Failure::DiskFull => {
                if !self.disk_full {
                    self.disk_full = true;
                    self.ctx.bus.notify(
                        Level::Critical,
                        "library_full",
                        "The library disk is full",
                        format!("{e}. The frame stays on the camera's card and is downloaded when space returns."),
                    );
                }
                let slot = &mut self.slots[i];
                for w in std::mem::take(&mut slot.captures) {
                    answer(
                        &self.ctx.journal,
                        w.reply,
                        Err(format!(
                            "the library disk is full: {} stays on the card and is downloaded when space returns",
                            file.name
                        )),
                    );
                }
                slot.downloads.push_front((file, tries));
                slot.download_at = Instant::now() + Duration::from_secs(2);
            }
            _ if tries + 1 < MAX_DOWNLOAD_TRIES => {
                tracing::warn!("camera: download of {} failed: {e}; retrying", file.name);
                let slot = &mut self.slots[i];
                slot.downloads.push_front((file, tries + 1));
                slot.download_at = Instant::now() + Duration::from_millis(500 << tries);
            }
            _ => self.ctx.bus.notify(
                Level::Warning,
                "camera_download",
                format!("Cannot download {}", file.name),
                format!("{e}. It stays on the card and is tried again when the camera reconnects."),
            ),
        }
    }

    fn card_full(&mut self, i: usize, why: &str) {
        let slot = &mut self.slots[i];
        slot.info_at = slot.info_at.checked_sub(INFO_EVERY).unwrap_or(slot.info_at);
        let model = slot.found.model.clone();
        for w in std::mem::take(&mut slot.captures) {
            answer(
                &self.ctx.journal,
                w.reply,
                Err(format!("{model}: the card is full")),
            );
        }
        if !slot.card_full {
            slot.card_full = true;
            self.ctx.bus.notify(
                Level::Critical,
                "card_full",
                format!("{model}: the memory card is full"),
                format!("{why}. Every frame on it is taken; swap or empty the card to shoot on."),
            );
        }
    }

    fn housekeeping(&mut self, i: usize) {
        let now = Instant::now();
        // Captures: answered once their frames are in (or the camera went quiet).
        let slot = &mut self.slots[i];
        let mut k = 0;
        while k < slot.captures.len() {
            let w = &slot.captures[k];
            let settled = w
                .last_file
                .is_some_and(|t| now.duration_since(t) >= CAPTURE_SETTLE)
                && slot.downloads.is_empty();
            let late = now.duration_since(w.since) >= CAPTURE_TIMEOUT;
            if settled || late {
                let w = slot.captures.remove(k);
                let result = if w.files.is_empty() {
                    Err(format!(
                        "{} fired but sent no frame within {}s",
                        slot.found.model,
                        CAPTURE_TIMEOUT.as_secs()
                    ))
                } else {
                    Ok(w.files.join("\n"))
                };
                answer(&self.ctx.journal, w.reply, result);
            } else {
                k += 1;
            }
        }
        let slot = &self.slots[i];
        if now.duration_since(slot.info_at) >= INFO_EVERY
            && slot.captures.is_empty()
            && slot.downloads.is_empty()
        {
            self.refresh_info(i);
        }
        if self.ctx.config.delete_after_verified > 0 {
            self.delete_verified(i);
        }
    }

    fn refresh_info(&mut self, i: usize) {
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        let info = device.info();
        let slot = &mut self.slots[i];
        slot.info_at = Instant::now();
        if slot.info != info {
            slot.info = info;
            let message = slot.status.as_ref().and_then(|s| s.message.clone());
            self.publish(i, CameraState::Connected, message);
        }
    }

    fn delete_verified(&mut self, i: usize) {
        let key = self.slots[i].key.clone();
        let files = match self
            .ctx
            .journal
            .card_files_to_delete(&key, self.ctx.config.delete_after_verified)
        {
            Ok(files) => files,
            Err(e) => {
                tracing::warn!("camera: {e}");
                return;
            }
        };
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        for f in files {
            match device.delete(&f) {
                Ok(()) => {
                    tracing::info!("camera: deleted {} from the card (verified)", f.name);
                    let _ = self.ctx.journal.record_card_deleted(&key, &f);
                }
                Err(e) if e.failure == Failure::NotSupported => {
                    let _ = self.ctx.journal.record_card_deleted(&key, &f);
                    tracing::warn!("camera: cannot delete {} from the card: {e}", f.name);
                }
                Err(e) => {
                    tracing::warn!("camera: cannot delete {} from the card: {e}", f.name);
                    return;
                }
            }
        }
    }

    // ---- requests ----

    fn journal_requests(&mut self) {
        let requests = match self.ctx.journal.pending_camera_requests() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("camera requests: {e}");
                return;
            }
        };
        for r in requests {
            let _ = self.ctx.journal.finish_camera_request(r.id, "running", "");
            let reply = Reply::Journal(r.id);
            match r.action.as_str() {
                "capture" => self.capture(r.port.as_deref(), reply),
                "set" => match r.arg.split_once('=') {
                    Some((k, v)) => self.set(r.port.as_deref(), k, v, reply),
                    None => answer(
                        &self.ctx.journal,
                        reply,
                        Err(format!("`{}` is not key=value", r.arg)),
                    ),
                },
                other => answer(
                    &self.ctx.journal,
                    reply,
                    Err(format!("unknown action `{other}`")),
                ),
            }
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Capture { port, reply } => {
                self.capture(port.as_deref(), Reply::Channel(reply))
            }
            Command::Set {
                port,
                key,
                value,
                reply,
            } => self.set(port.as_deref(), &key, &value, Reply::Channel(reply)),
        }
    }

    fn pick(&self, port: Option<&str>) -> std::result::Result<usize, String> {
        let open = |s: &Slot| s.device.is_some();
        match port {
            Some(port) => match self.slots.iter().position(|s| s.found.port == port) {
                Some(i) if open(&self.slots[i]) => Ok(i),
                Some(i) => Err(self.slots[i]
                    .status
                    .as_ref()
                    .and_then(|s| s.message.clone())
                    .unwrap_or_else(|| format!("the camera on {port} is not connected"))),
                None => Err(format!("no camera on {port}")),
            },
            None => self
                .slots
                .iter()
                .position(open)
                .ok_or_else(|| "no camera is connected".to_string()),
        }
    }

    fn capture(&mut self, port: Option<&str>, reply: Reply) {
        let i = match self.pick(port) {
            Ok(i) => i,
            Err(e) => return answer(&self.ctx.journal, reply, Err(e)),
        };
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        match device.trigger() {
            Ok(()) => {
                if let Reply::Journal(id) = &reply {
                    let _ = self.ctx.journal.camera_request_fired(*id);
                }
                self.slots[i].captures.push(Waiting {
                    reply,
                    since: Instant::now(),
                    files: Vec::new(),
                    last_file: None,
                });
            }
            // A camera whose card ran full refuses further captures, often with no more
            // than a generic error.
            Err(e)
                if e.failure == Failure::CardFull
                    || e.message.to_ascii_lowercase().contains("full")
                    || self.slots[i].card_full =>
            {
                answer(
                    &self.ctx.journal,
                    reply,
                    Err(format!("the card is full: {e}")),
                );
                self.card_full(i, &format!("a capture failed: {e}"));
            }
            Err(e) if e.failure == Failure::Gone => {
                answer(&self.ctx.journal, reply, Err(e.to_string()));
                self.disconnect(i, &format!("lost: {e}"));
            }
            Err(e) => answer(
                &self.ctx.journal,
                reply,
                Err(format!("the capture failed: {e}")),
            ),
        }
    }

    fn set(&mut self, port: Option<&str>, key: &str, value: &str, reply: Reply) {
        let i = match self.pick(port) {
            Ok(i) => i,
            Err(e) => return answer(&self.ctx.journal, reply, Err(e)),
        };
        let Some(device) = self.slots[i].device.as_mut() else {
            return;
        };
        let result = device
            .set_config(key, value)
            .map(|()| format!("{key} = {value}"))
            .map_err(|e| format!("cannot set {key}: {e}"));
        answer(&self.ctx.journal, reply, result);
    }
}

fn answer(journal: &Journal, reply: Reply, result: Answer) {
    match reply {
        Reply::Channel(tx) => {
            let _ = tx.send(result);
        }
        Reply::Journal(id) => {
            let (state, text) = match &result {
                Ok(text) => ("done", text.as_str()),
                Err(text) => ("failed", text.as_str()),
            };
            if let Err(e) = journal.finish_camera_request(id, state, text) {
                tracing::warn!("camera request {id}: {e}");
            }
        }
    }
}

/// A request from another process through the journal: queue it, wait for the running
/// engine's answer; its request id and the answer.
pub fn request(
    journal: &Journal,
    port: Option<&str>,
    action: &str,
    arg: &str,
    timeout: Duration,
) -> Result<(i64, Answer)> {
    let id = journal.request_camera(port, action, arg)?;
    Ok((id, wait_answer(journal, id, timeout)?))
}

fn wait_answer(journal: &Journal, id: i64, timeout: Duration) -> Result<Answer> {
    let start = Instant::now();
    loop {
        if let Some((state, result)) = journal.camera_request(id)? {
            match state.as_str() {
                "done" => return Ok(Ok(result.unwrap_or_default())),
                "failed" => return Ok(Err(result.unwrap_or_default())),
                "pending" if start.elapsed() > Duration::from_secs(5) => {
                    journal.finish_camera_request(id, "failed", "no running engine took it")?;
                    return Ok(Err("no `shotline run` took the request within 5 s: is the camera source enabled?".into()));
                }
                _ => {}
            }
        }
        if start.elapsed() > timeout {
            return Ok(Err(format!(
                "no answer from the camera within {}s",
                timeout.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Statuses of cameras from the journal (for `status`).
pub fn statuses(journal: &Journal) -> Vec<CameraStatus> {
    journal
        .camera_statuses()
        .unwrap_or_default()
        .iter()
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect()
}
