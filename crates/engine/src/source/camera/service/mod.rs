//! The camera thread: every libgphoto2 call of the engine happens here. It rescans about
//! every second, opens new cameras (set to keep frames on the card), serves the open ones
//! in turn with short `wait_event` timeouts, downloads each new file through the spool
//! into ingest, takes what was shot while a camera was away (reconciliation), carries out
//! capture and config requests, and tells every change as a `camera_status` event.
//!
//! - this module: the thread's loop and each camera's slot.
//! - `detect`: rescans, opening, busy and lost cameras, status events.
//! - `frames`: downloads, reconciliation, captures answered, full cards, deletion.
//! - `requests`: capture and config requests from this process and from others.
//! - `live`: live view between the rest, and focus drives.

mod detect;
mod frames;
mod live;
mod requests;

pub use requests::{request, statuses};

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use shotline_protocol::{CameraStatus, ShotSource};
use tokio::sync::{mpsc, oneshot};

use super::Answer;
use super::driver::{CardFile, Device, Driver, Found, Info};
use super::spool;
use crate::Bus;
use crate::config;
use crate::ingest::Candidate;
use crate::journal::Journal;
use crate::naming::sanitize_component;

/// How often cameras are looked for.
const SCAN_EVERY: Duration = Duration::from_secs(1);
/// Time spent waiting for events per round, shared by the open cameras. A request (a
/// capture, a setting) waits for the round in progress: libgphoto2's wait cannot be cut
/// short. So the first shot after a quiet spell waits up to this (`bench camera`'s first
/// command: 76-84 ms at 100 ms); a waiting camera costs a wake-up per round.
pub(super) const ROUND: Duration = Duration::from_millis(50);
/// The round while someone is shooting through Shotline (a request came within
/// [`QUICK_FOR`]) and no capture waits for its frames: the next request is taken within
/// this instead of `ROUND`. A request waits for the wait in progress (`bench camera`:
/// request to shutter 5 ms median at 5 ms, 12-21 ms at 20 ms).
pub(super) const QUICK_ROUND: Duration = Duration::from_millis(5);
/// The round while a capture waits for its frames and their "capture complete": one long
/// wait, as the gphoto2 tool's `--wait-event-and-download` makes. libgphoto2's virtual
/// camera hands over at once an event due within the wait (its new file is due 100 ms
/// after the shutter); with 5 ms rounds here instead, `bench camera` saw the file 100 ms
/// after the shutter, not 2. On a real Nikon, Canon EOS or Sony, libgphoto2 polls the
/// camera within a wait, sleeping 50 ms more after each empty look (at most 200 ms), so
/// a long wait may see an event up to 150 ms late and short rounds would see it sooner:
/// not measurable here without such a camera.
pub(super) const CAPTURE_ROUND: Duration = Duration::from_millis(300);
/// The shortest event wait asked of one camera, however many share the round.
const MIN_WAIT: Duration = Duration::from_millis(5);
/// How long after a request the rounds stay quick.
const QUICK_FOR: Duration = Duration::from_secs(60);
/// How often requests from other processes are looked for in the journal when nothing
/// rings the bell (it could not be watched).
const REQUESTS_EVERY: Duration = Duration::from_millis(50);
/// How often they are looked for anyway while the bell is watched.
const REQUESTS_RUNG_EVERY: Duration = Duration::from_secs(1);
/// Longest wait for a command while no camera is open: how soon a stop is seen when
/// nothing wakes the thread (the engine does, at shutdown). The loop wakes sooner for the
/// next scan (once a second) or look at the journal (once a second while the bell is
/// watched, every 50 ms when it could not be), so with no camera and the bell watched the
/// thread wakes about once a second.
const IDLE_WAIT: Duration = Duration::from_secs(1);
/// How often battery and card space are read again.
const INFO_EVERY: Duration = Duration::from_secs(30);
/// A capture whose camera sends no frame within this is answered with an error.
const CAPTURE_TIMEOUT: Duration = Duration::from_secs(30);
/// After the last frame of a capture, how long to wait for more (RAW + JPEG) when the
/// camera sends no "capture complete".
const CAPTURE_SETTLE: Duration = Duration::from_millis(1500);
/// Consecutive event errors after which a camera is closed and opened again.
const MAX_EVENT_ERRORS: u32 = 3;
/// How often the card is checked for frames verified enough to delete.
const DELETE_EVERY: Duration = Duration::from_secs(2);
/// Download attempts of one file before it is left for the next reconciliation.
const MAX_DOWNLOAD_TRIES: u32 = 5;

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
    /// Drive the focus.
    Focus {
        /// The camera; `None`: the first connected one.
        port: Option<String>,
        /// Which way and how far.
        drive: crate::live::Focus,
        /// Gets the camera's answer.
        reply: oneshot::Sender<Answer>,
    },
    /// Someone started watching live view, or another process queued a request in the
    /// journal and rang the bell.
    Rung,
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
    delete_at: Instant,
    gvfs_tried: bool,
    card_full: bool,
    was_connected: bool,
    /// How many times longer than asked this camera's event wait lasts when nothing comes
    /// (see [`Service::poll`]); its waits ask for the round divided by this.
    wait_scale: u32,
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
            delete_at: now,
            gvfs_tried: false,
            card_full: false,
            was_connected: false,
            wait_scale: 1,
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
    pub session: crate::session::Session,
    /// The library folder (the spool is inside it).
    pub library: PathBuf,
    /// `[camera]`.
    pub config: config::Camera,
    /// Where downloaded frames go.
    pub candidates: mpsc::UnboundedSender<Candidate>,
    /// Live view's pictures and viewers.
    pub live: crate::live::LiveFeed,
}

/// The camera thread's state.
pub struct Service {
    driver: Box<dyn Driver>,
    ctx: Context,
    spool: PathBuf,
    slots: Vec<Slot>,
    commands: std_mpsc::Receiver<Command>,
    disk_full: bool,
    /// How often the journal is looked at for requests without a ring.
    requests_every: Duration,
    /// Rounds are quick until then (see [`QUICK_ROUND`]).
    quick_until: Option<Instant>,
    /// Live view.
    live: live::Live,
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
            requests_every: REQUESTS_EVERY,
            quick_until: None,
            live: live::Live::default(),
        }
    }

    /// The bell is watched ([`Command::Rung`] comes with each request from another
    /// process): the journal is looked at once a second only, as a fallback.
    pub fn bell_watched(mut self) -> Self {
        self.requests_every = REQUESTS_RUNG_EVERY;
        self
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
                // What a request that came meanwhile waited for, besides the round.
                tracing::debug!(
                    "camera: scan took {:.1} ms",
                    now.elapsed().as_secs_f64() * 1e3
                );
                next_scan = now + SCAN_EVERY;
            }
            while let Ok(command) = self.commands.try_recv() {
                self.command(command);
            }
            if now >= next_requests {
                self.journal_requests();
                next_requests = now + self.requests_every;
            }
            let open: Vec<usize> = (0..self.slots.len())
                .filter(|&i| self.slots[i].device.is_some())
                .collect();
            if open.is_empty() {
                // Nothing to poll: sleep until a command, the next look, or a stop.
                let wait = next_scan
                    .min(next_requests)
                    .saturating_duration_since(Instant::now())
                    .clamp(Duration::from_millis(1), IDLE_WAIT);
                if let Ok(command) = self.commands.recv_timeout(wait) {
                    self.command(command);
                }
                continue;
            }
            let timeout = (self.round(&open) / open.len() as u32).max(MIN_WAIT);
            for i in open {
                self.poll(i, timeout);
                self.downloads(i);
                self.housekeeping(i);
            }
            self.live_view();
        }
    }

    /// This round's time for waiting on the cameras in `open`.
    fn round(&self, open: &[usize]) -> Duration {
        let shooting = self.quick_until.is_some_and(|t| Instant::now() < t);
        let capturing = open.iter().any(|&i| !self.slots[i].captures.is_empty());
        if capturing {
            CAPTURE_ROUND
        } else if self.live_wanted() {
            // Pictures are due every few tens of ms; events are looked at in between.
            QUICK_ROUND
        } else if shooting {
            QUICK_ROUND
        } else {
            ROUND
        }
    }

    /// A request came: keep the rounds quick for a while.
    fn requested(&mut self) {
        self.quick_until = Some(Instant::now() + QUICK_FOR);
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
}
