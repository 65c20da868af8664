//! One run of the engine: take the library's lock, open the journal, finish what a previous
//! run left, then run the hot folders, ingest and backup services until shutdown.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use shotline_protocol::Level;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

use crate::backup::Scheduler;
use crate::error::IoContext;
use crate::ingest::{Candidate, Ingest};
use crate::journal::Journal;
use crate::relay_client::{self, RelayStatus, RelayTarget};
use crate::session::{Session, SwitchError};
use crate::source::HotFolders;
use crate::source::camera::{self, CameraControl};
use crate::upload::Uploader;
pub use crate::viewer::{Snapshot, Viewer};
use crate::{Bus, Config, Error, Result};

/// An engine ready to start: folders prepared, library locked, journal open.
#[derive(Debug)]
pub struct Engine {
    config: Config,
    session: Session,
    journal: Arc<Journal>,
    bus: Bus,
    upload_credentials: Option<(String, String)>,
    smtp_password: Option<String>,
    _lock: File,
}

/// A started engine.
#[derive(Debug)]
pub struct Running {
    shutdown: watch::Sender<bool>,
    paused: Arc<AtomicBool>,
    wake: Arc<Notify>,
    bus: Bus,
    tasks: JoinSet<()>,
    /// The outbox writer and the relay client: stopped last, once nothing publishes.
    relay_tasks: JoinSet<()>,
    relay_stop: watch::Sender<bool>,
    camera: Option<(CameraControl, Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
    live: crate::live::LiveFeed,
    journal: Arc<Journal>,
    config: Config,
    session: Session,
    relay_status: watch::Receiver<RelayStatus>,
    _lock: File,
}

/// Today's date, the default session name.
pub fn default_session() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

impl Engine {
    /// Prepare a run: create the folders, lock the library against a second process, open
    /// the journal and create jobs for targets added since the last run.
    pub fn open(config: Config, session: String, bus: Bus) -> Result<Self> {
        let errors = crate::config::prepare_folders(&config);
        if !errors.is_empty() {
            return Err(Error::ConfigMany(errors));
        }
        let journal_path = Journal::path_for(&config.library.path);
        let state_dir = journal_path.parent().map(PathBuf::from).unwrap_or_default();
        std::fs::create_dir_all(&state_dir).at(&state_dir)?;
        let lock_path = state_dir.join("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .at(&lock_path)?;
        if lock.try_lock().is_err() {
            return Err(Error::Locked(config.library.path.clone()));
        }
        let journal = Arc::new(Journal::open(&journal_path)?);
        journal.ensure_jobs(&config.target_names())?;
        // For other processes (`shotline share create`): the session being shot.
        journal.set_meta("session", &session)?;
        Ok(Self {
            config,
            session: Session::new(session),
            journal,
            bus,
            upload_credentials: None,
            smtp_password: None,
            _lock: lock,
        })
    }

    /// Upload with these credentials (access key, secret) instead of the environment's:
    /// the desktop app keeps them in the OS keychain.
    pub fn with_upload_credentials(mut self, credentials: Option<(String, String)>) -> Self {
        self.upload_credentials = credentials;
        self
    }

    /// Mail with this SMTP password instead of the environment's (the keychain's).
    pub fn with_smtp_password(mut self, password: Option<String>) -> Self {
        self.smtp_password = password;
        self
    }

    /// The journal of this run.
    pub fn journal(&self) -> Arc<Journal> {
        self.journal.clone()
    }

    /// Start every service on the current Tokio runtime; with a relay, deliver every event
    /// to it (they wait in the journal's outbox either way).
    pub fn start(self, relay: Option<RelayTarget>) -> Running {
        let (shutdown, shutdown_rx) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let mut tasks = JoinSet::new();
        let (relay_stop, relay_tasks, relay_status_rx) = self.start_relay(relay.clone());
        let paused = Arc::new(AtomicBool::new(false));
        let scheduler = Scheduler::new(
            self.journal.clone(),
            self.config.library.path.clone(),
            &self.config.backup,
            self.bus.clone(),
            wake.clone(),
        )
        .with_pause(paused.clone());
        tasks.spawn(scheduler.run(shutdown_rx.clone()));
        let mut cloud = None;
        if let Some(upload) = &self.config.upload {
            match Uploader::new(
                upload,
                &self.config.studio.id,
                self.journal.clone(),
                self.config.library.path.clone(),
                self.bus.clone(),
                self.upload_credentials.clone(),
            ) {
                Ok(uploader) => {
                    cloud = upload.presign_for_guests().then(|| uploader.client());
                    tasks.spawn(uploader.with_pause(paused.clone()).run(shutdown_rx.clone()));
                }
                Err(why) => self.bus.notify(
                    Level::Critical,
                    "upload_settings",
                    "Uploads are off",
                    format!("{why}; frames stay in the library and on the backups"),
                ),
            }
        }

        if let Some(email) = &self.config.notify.email {
            let mailer = crate::mail::Mailer::new(
                self.journal.clone(),
                email.clone(),
                self.smtp_password.clone(),
            );
            tasks.spawn(crate::mail::run(mailer, shutdown_rx.clone()));
        }
        let preview_wake = Arc::new(Notify::new());
        let preview_made = Arc::new(Notify::new());
        tasks.spawn(crate::preview::worker::run(
            self.journal.clone(),
            self.config.library.path.clone(),
            preview_wake.clone(),
            preview_made.clone(),
            shutdown_rx.clone(),
        ));
        if let Some(target) = &relay {
            crate::share::spawn(
                &mut tasks,
                &self.config,
                &self.journal,
                &self.bus,
                target,
                preview_made,
                cloud,
                &shutdown_rx,
            );
        }
        let ingest_wake = vec![wake.clone(), preview_wake];
        let ingest = Ingest::new(
            self.journal.clone(),
            self.config.library.path.clone(),
            self.config.naming(),
            self.session.clone(),
            self.config.target_names(),
            self.bus.clone(),
        )
        .with_stationery(crate::ingest::Stationery {
            metadata: self.config.metadata.clone(),
            naming: crate::sidecar::Naming::parse(&self.config.gallery.sidecar).unwrap_or_default(),
        });
        let (candidates, rx) = mpsc::unbounded_channel();
        let live = crate::live::LiveFeed::new();
        let camera = if self.config.camera.enabled {
            self.start_camera(camera::default_driver(), candidates.clone(), live.clone())
        } else {
            None
        };
        if let Some(target) = &relay
            && camera.is_some()
        {
            tasks.spawn(crate::live::uplink::run(
                live.clone(),
                target.clone(),
                format!("{}:live", self.config.studio.id),
                shutdown_rx.clone(),
            ));
        }
        tasks.spawn(crate::ingest::queue::run(
            ingest,
            rx,
            ingest_wake,
            self.bus.clone(),
            shutdown_rx.clone(),
        ));
        tasks.spawn(crate::proof::sealer::run(
            self.config.clone(),
            self.journal.clone(),
            self.bus.clone(),
            shutdown_rx.clone(),
        ));
        tasks.spawn(crate::system::run(
            self.config.clone(),
            self.journal.clone(),
            self.bus.clone(),
            self.session.clone(),
            shutdown_rx.clone(),
        ));
        tasks.spawn(
            HotFolders::new(&self.config.hot_folder, self.bus.clone()).run(candidates, shutdown_rx),
        );
        Running {
            shutdown,
            paused,
            wake,
            bus: self.bus.clone(),
            tasks,
            relay_tasks,
            relay_stop,
            camera,
            live,
            journal: self.journal,
            config: self.config,
            session: self.session,
            relay_status: relay_status_rx,
            _lock: self._lock,
        }
    }
}

impl Engine {
    /// The outbox writer (on the bus's durable stream, attached before any service
    /// starts) and, with a relay, its delivery; both stop on their own signal.
    fn start_relay(
        &self,
        relay: Option<RelayTarget>,
    ) -> (
        watch::Sender<bool>,
        JoinSet<()>,
        watch::Receiver<RelayStatus>,
    ) {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let wake = Arc::new(Notify::new());
        let (status, status_rx) = watch::channel(RelayStatus {
            state: "offline",
            queued: 0,
        });
        tasks.spawn(relay_client::write_outbox(
            self.journal.clone(),
            self.bus.attach_outbox(),
            self.config.studio.id.clone(),
            wake.clone(),
            stopped.clone(),
        ));
        if let Some(target) = relay {
            tasks.spawn(relay_client::deliver(
                self.journal.clone(),
                target,
                wake,
                status,
                stopped,
            ));
        }
        (stop, tasks, status_rx)
    }

    fn start_camera(
        &self,
        driver: Box<dyn camera::driver::Driver>,
        candidates: mpsc::UnboundedSender<Candidate>,
        live: crate::live::LiveFeed,
    ) -> Option<(CameraControl, Arc<AtomicBool>, std::thread::JoinHandle<()>)> {
        if !camera::SUPPORTED {
            tracing::info!("camera: this build has no libgphoto2; hot folders only");
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let ctx = camera::Context {
            journal: self.journal.clone(),
            bus: self.bus.clone(),
            session: self.session.clone(),
            library: self.config.library.path.clone(),
            config: self.config.camera.clone(),
            candidates,
            live,
        };
        match camera::spawn(driver, ctx, stop.clone()) {
            Ok((control, handle)) => Some((control, stop, handle)),
            Err(e) => {
                self.bus.notify(
                    Level::Critical,
                    "camera_failed",
                    "Cameras are off",
                    format!("the camera thread did not start: {e}"),
                );
                None
            }
        }
    }
}

impl Running {
    /// Pause or resume backups and uploads. Frames still go into the library while
    /// paused (that copy is what keeps them safe); copies under way finish.
    pub fn set_paused(&self, paused: bool) {
        if self.paused.swap(paused, Ordering::Relaxed) != paused {
            self.wake.notify_one();
            let (title, message) = if paused {
                (
                    "Backups and uploads paused",
                    "New frames still go into the library.",
                )
            } else {
                ("Backups and uploads resumed", "Waiting copies start now.")
            };
            self.bus.notify(Level::Info, "paused", title, message);
        }
    }

    /// Whether backups and uploads are paused.
    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    /// The camera thread's controls (capture, settings); `None` when cameras are off.
    pub fn camera(&self) -> Option<CameraControl> {
        self.camera.as_ref().map(|c| c.0.clone())
    }

    /// Live view's pictures, for a window that shows them.
    pub fn live(&self) -> crate::live::LiveFeed {
        self.live.clone()
    }

    /// The journal of this run.
    pub fn journal(&self) -> Arc<Journal> {
        self.journal.clone()
    }

    /// A handle for reading this run's state (see [`Viewer::snapshot`]).
    pub fn viewer(&self) -> Viewer {
        Viewer {
            config: self.config.clone(),
            journal: self.journal.clone(),
            paused: self.paused.clone(),
        }
    }

    /// The running config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The session being shot now.
    pub fn session(&self) -> String {
        self.session.current()
    }

    /// Shoot in session `name` from now on (a new one, or an earlier one again).
    pub fn switch_session(&self, name: &str) -> std::result::Result<String, SwitchError> {
        self.session.switch(name, &self.journal)
    }

    /// The relay client's state, as it changes.
    pub fn relay_status(&self) -> watch::Receiver<RelayStatus> {
        self.relay_status.clone()
    }

    /// Stop: services finish what they are doing (a copy under way completes), the
    /// session's last ASC MHL generations are sealed, then the outbox takes the last
    /// events, then return.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some((control, stop, handle)) = self.camera.take() {
            stop.store(true, Ordering::Relaxed);
            control.wake();
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        while self.tasks.join_next().await.is_some() {}
        // Session end: what was verified since the last checkpoint gets its generation.
        crate::proof::sealer::round(
            &self.config,
            &self.journal,
            &self.bus,
            &mut Default::default(),
        )
        .await;
        let _ = self.relay_stop.send(true);
        while self.relay_tasks.join_next().await.is_some() {}
    }
}
