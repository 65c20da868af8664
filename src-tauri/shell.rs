//! The engine inside the app: started on the config, restarted when Settings are saved,
//! stopped on quit. The commands and the tray call one method here each.

use std::path::PathBuf;
use std::sync::Mutex;

use base64::Engine as _;
use shotline_engine::engine::default_session;
use shotline_engine::launch::{self, Launched, Secrets};
use shotline_engine::source::camera::CameraControl;
use shotline_engine::{Bus, Config};

use crate::dto::{FieldError, Settings, Snapshot};
use crate::health::Health;
use crate::prefs::Prefs;
use crate::secrets::{self, Secret};
use crate::{settings, view};

/// Frames the window lists.
const RECENT: usize = 60;

struct Live {
    launched: Launched,
    config: Config,
}

/// The app's engine and what the tray shows.
pub struct Shell {
    live: tokio::sync::Mutex<Option<Live>>,
    /// A copy of the running config, for calls that must not wait on `live`.
    config: Mutex<Option<Config>>,
    dashboard: Mutex<Option<String>>,
    bus: Bus,
    /// The session being shot (kept across engine restarts).
    session: Mutex<String>,
    config_file: PathBuf,
    /// The tray's state, folded from events.
    pub health: Mutex<Health>,
    /// The app's preferences.
    pub prefs: Mutex<Prefs>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shell {
    /// A shell for today's session on the platform's config file (or `$SHOTLINE_CONFIG`);
    /// the engine starts with [`Shell::start`].
    pub fn new() -> Self {
        Self::for_config(shotline_engine::paths::config_file())
    }

    /// A shell on the config file `config_file` (preferences beside it).
    pub fn for_config(config_file: PathBuf) -> Self {
        let prefs = Prefs::load(&config_file);
        Self {
            live: tokio::sync::Mutex::new(None),
            config: Mutex::new(None),
            dashboard: Mutex::new(None),
            bus: Bus::new(),
            session: Mutex::new(default_session()),
            config_file,
            health: Mutex::new(Health::default()),
            prefs: Mutex::new(prefs),
        }
    }

    fn load(&self) -> shotline_engine::Result<Config> {
        Config::load_from(&self.config_file, false).map(|l| l.config)
    }

    /// The engine's events.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Start the engine on the config file; a problem is kept for the window and tray.
    pub async fn start(&self) {
        let mut live = self.live.lock().await;
        if live.is_some() {
            return;
        }
        match self.open().await {
            Ok(started) => {
                *lock(&self.config) = Some(started.config.clone());
                *lock(&self.dashboard) = started.launched.relay.dashboard.clone();
                lock(&self.health).set_engine_problem(None);
                *live = Some(started);
            }
            Err(problem) => {
                tracing::error!("engine did not start: {problem}");
                lock(&self.health).set_engine_problem(Some(problem.to_string()));
            }
        }
    }

    async fn open(&self) -> shotline_engine::Result<Live> {
        let config = self.load()?;
        let secrets = Secrets {
            relay_token: Secret::RelayToken.get(),
            relay_secret: config.relay.url.is_none().then(secrets::relay_secret),
            upload: secrets::upload_credentials(),
            smtp_password: Secret::SmtpPassword.get(),
        };
        let launched =
            launch::launch(config.clone(), self.session(), self.bus.clone(), secrets).await?;
        Ok(Live { launched, config })
    }

    /// Stop the engine (copies under way finish).
    pub async fn stop(&self) {
        if let Some(live) = self.live.lock().await.take() {
            live.launched.shutdown().await;
        }
    }

    /// Stop and start again (after Settings changed).
    pub async fn restart(&self) {
        self.stop().await;
        self.start().await;
    }

    /// The relay client's state, while the engine runs.
    pub async fn relay_status(
        &self,
    ) -> Option<tokio::sync::watch::Receiver<shotline_engine::relay_client::RelayStatus>> {
        self.live
            .lock()
            .await
            .as_ref()
            .map(|l| l.launched.running.relay_status())
    }

    /// Pause or resume backups and uploads.
    pub async fn set_paused(&self, paused: bool) {
        if let Some(live) = self.live.lock().await.as_ref() {
            live.launched.running.set_paused(paused);
            lock(&self.health).set_paused(paused);
        }
    }

    /// Whether backups and uploads are paused.
    pub async fn paused(&self) -> bool {
        self.live
            .lock()
            .await
            .as_ref()
            .is_some_and(|l| l.launched.running.paused())
    }

    /// The camera thread's controls, or why there are none.
    async fn camera(&self) -> Result<CameraControl, String> {
        self.live
            .lock()
            .await
            .as_ref()
            .and_then(|l| l.launched.running.camera())
            .ok_or_else(|| "cameras are off (Settings → Cameras)".into())
    }

    /// Live view's pictures, while the engine runs with cameras on.
    pub async fn live_feed(&self) -> Result<shotline_engine::live::LiveFeed, String> {
        self.live
            .lock()
            .await
            .as_ref()
            .filter(|l| l.launched.running.camera().is_some())
            .map(|l| l.launched.running.live())
            .ok_or_else(|| "cameras are off (Settings → Cameras)".into())
    }

    /// Drive the focus of the camera on `port` (or the first); the camera's answer.
    pub async fn camera_focus(&self, port: Option<String>, drive: &str) -> Result<String, String> {
        let drive = shotline_engine::live::Focus::parse(drive)?;
        let control = self.camera().await?;
        control.focus(port, drive).await.map_err(|e| e.to_string())
    }

    /// The engine's config file (the window's own files live beside it).
    pub fn config_file(&self) -> &std::path::Path {
        &self.config_file
    }

    /// Fire the first connected camera.
    pub async fn capture(&self) -> Result<String, String> {
        let control = self.camera().await?;
        control.capture(None).await.map_err(|e| e.to_string())
    }

    /// Set a setting of the camera on `port`; the value it reads back.
    pub async fn camera_set(
        &self,
        port: String,
        name: String,
        value: String,
    ) -> Result<String, String> {
        let control = self.camera().await?;
        control
            .set(Some(port), name, value)
            .await
            .map_err(|e| e.to_string())
    }

    /// The session being shot.
    pub fn session(&self) -> String {
        lock(&self.session).clone()
    }

    /// Shoot in session `name` from now on, without a restart; the name as kept.
    pub async fn switch_session(&self, name: &str) -> Result<String, String> {
        let name = match self.live.lock().await.as_ref() {
            Some(live) => live
                .launched
                .running
                .switch_session(name)
                .map_err(|e| e.to_string())?,
            None => shotline_engine::session::check(name).map_err(|e| e.to_string())?,
        };
        *lock(&self.session) = name.clone();
        Ok(name)
    }

    /// The running engine's journal and config.
    pub async fn journal(
        &self,
    ) -> Option<(std::sync::Arc<shotline_engine::journal::Journal>, Config)> {
        let live = self.live.lock().await;
        let live = live.as_ref()?;
        Some((live.launched.running.journal(), live.config.clone()))
    }

    /// The library folder.
    pub fn library(&self) -> Option<PathBuf> {
        lock(&self.config).as_ref().map(|c| c.library.path.clone())
    }

    /// The live dashboard's URL.
    pub fn dashboard(&self) -> Option<String> {
        lock(&self.dashboard).clone()
    }

    /// Everything the window shows: read off the async runtime, without holding the
    /// engine's lock while the journal is read and the targets probed.
    pub async fn snapshot(&self) -> Snapshot {
        let (viewer, relay, dashboard) = {
            let live = self.live.lock().await;
            match live.as_ref() {
                Some(l) => (
                    Some(l.launched.running.viewer()),
                    l.launched.running.relay_status().borrow().state,
                    l.launched.relay.dashboard.clone(),
                ),
                None => (None, "offline", None),
            }
        };
        let engine = match viewer {
            Some(viewer) => tokio::task::spawn_blocking(move || viewer.snapshot(RECENT))
                .await
                .ok()
                .and_then(|r| r.map_err(|e| tracing::warn!("snapshot: {e}")).ok()),
            None => None,
        };
        let session = self.session();
        let health = lock(&self.health);
        match engine {
            Some(engine) => view::running(&health, &session, engine, relay, dashboard),
            None => view::idle(&health, &session),
        }
    }

    /// A frame's preview as a `data:` URL.
    pub async fn thumbnail(&self, shot_id: i64) -> Option<String> {
        let (journal, library) = {
            let live = self.live.lock().await;
            let live = live.as_ref()?;
            (
                live.launched.running.journal(),
                live.config.library.path.clone(),
            )
        };
        let rel = journal.shot(shot_id).ok()??.rel_path?;
        let bytes = tokio::task::spawn_blocking(move || {
            // The engine's own 400 px thumbnail (the gallery's) once made; until then the
            // frame's embedded preview.
            let (_, thumb) = shotline_engine::preview::paths(&library, shot_id);
            std::fs::read(thumb)
                .ok()
                .or_else(|| shotline_engine::thumbnail::preview(&library.join(rel)))
        })
        .await
        .ok()??;
        Some(format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    /// What a click on a frame opens: its 2048 px preview once made, else the frame.
    pub async fn frame_file(&self, shot_id: i64) -> Result<PathBuf, String> {
        let (journal, library) = {
            let live = self.live.lock().await;
            let live = live.as_ref().ok_or("the engine is not running")?;
            (
                live.launched.running.journal(),
                live.config.library.path.clone(),
            )
        };
        let shot = journal
            .shot(shot_id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no frame {shot_id}"))?;
        let (preview, _) = shotline_engine::preview::paths(&library, shot_id);
        if preview.is_file() {
            return Ok(preview);
        }
        shot.rel_path
            .map(|rel| library.join(rel))
            .ok_or_else(|| "the frame is not in the library yet".into())
    }

    /// Write the current session's transfer report (PDF) under the library's
    /// `.shotline/reports/`; its path.
    pub async fn transfer_report(&self) -> Result<PathBuf, String> {
        let (config, journal) = {
            let live = self.live.lock().await;
            let live = live.as_ref().ok_or("the engine is not running")?;
            (live.config.clone(), live.launched.running.journal())
        };
        let session = self.session();
        tokio::task::spawn_blocking(move || {
            shotline_engine::proof::report::write(
                &config,
                &journal,
                &session,
                shotline_engine::proof::report::Format::Pdf,
                None,
            )
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
    }

    /// Settings as the window shows them.
    pub fn settings(&self) -> Settings {
        settings::form(&self.current_config(), &lock(&self.prefs))
    }

    /// Check and save Settings: the config file, the keychain, the preferences. Every
    /// refused value comes back with its key; nothing is saved then.
    pub fn save_settings(&self, form: &Settings) -> Result<(), Vec<FieldError>> {
        settings::save(&self.config_file, self.current_config(), form)?;
        *lock(&self.prefs) = form.prefs.clone();
        Ok(())
    }

    /// The config file as it is, else the running config.
    fn current_config(&self) -> Config {
        self.load()
            .unwrap_or_else(|_| lock(&self.config).clone().unwrap_or_default())
    }
}

impl Default for Shell {
    fn default() -> Self {
        Self::new()
    }
}
