//! The engine inside the app: started on the config, restarted when Settings are saved,
//! stopped on quit. The commands and the tray call one method here each.

use std::path::PathBuf;
use std::sync::Mutex;

use base64::Engine as _;
use shotline_engine::config::{Backup, HotFolder, Upload};
use shotline_engine::engine::default_session;
use shotline_engine::naming::{Fields, Template};
use shotline_engine::relay_setup::{self, RelaySetup};
use shotline_engine::{Bus, Config, Engine, Running};

use crate::dto::{
    BackupForm, FieldError, FrameView, Settings, Snapshot, TargetView, Totals, UploadForm,
    UploadView,
};
use crate::health::Health;
use crate::prefs::Prefs;
use crate::secrets::{self, Secret};

/// Frames the window lists.
const RECENT: usize = 60;

struct Live {
    running: Running,
    relay: RelaySetup,
    config: Config,
}

/// The app's engine and what the tray shows.
pub struct Shell {
    live: tokio::sync::Mutex<Option<Live>>,
    /// A copy of the running config, for calls that must not wait on `live`.
    config: Mutex<Option<Config>>,
    dashboard: Mutex<Option<String>>,
    bus: Bus,
    session: String,
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
            session: default_session(),
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
                *lock(&self.dashboard) = started.relay.dashboard.clone();
                lock(&self.health).set_engine_problem(None);
                *live = Some(started);
            }
            Err(problem) => {
                tracing::error!("engine did not start: {problem}");
                lock(&self.health).set_engine_problem(Some(problem));
            }
        }
    }

    async fn open(&self) -> Result<Live, String> {
        let config = self.load().map_err(|e| e.to_string())?;
        let engine = Engine::open(config.clone(), self.session.clone(), self.bus.clone())
            .map_err(|e| e.to_string())?
            .with_upload_credentials(secrets::upload_credentials());
        let mut relay = relay_setup::setup(&config, Secret::RelayToken.get()).await;
        if let Some(problem) = &relay.problem {
            tracing::warn!("relay: {problem}");
        }
        let running = engine.start(relay.target.take());
        Ok(Live {
            running,
            relay,
            config,
        })
    }

    /// Stop the engine (copies under way finish).
    pub async fn stop(&self) {
        if let Some(mut live) = self.live.lock().await.take() {
            live.running.shutdown().await;
            live.relay.stop();
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
            .map(|l| l.running.relay_status())
    }

    /// Pause or resume backups and uploads.
    pub async fn set_paused(&self, paused: bool) {
        if let Some(live) = self.live.lock().await.as_ref() {
            live.running.set_paused(paused);
            lock(&self.health).set_paused(paused);
        }
    }

    /// Whether backups and uploads are paused.
    pub async fn paused(&self) -> bool {
        self.live
            .lock()
            .await
            .as_ref()
            .is_some_and(|l| l.running.paused())
    }

    /// Fire the first connected camera.
    pub async fn capture(&self) -> Result<String, String> {
        let control = self
            .live
            .lock()
            .await
            .as_ref()
            .and_then(|l| l.running.camera());
        match control {
            Some(control) => control.capture(None).await,
            None => Err("cameras are off (Settings → Cameras)".into()),
        }
    }

    /// The library folder.
    pub fn library(&self) -> Option<PathBuf> {
        lock(&self.config).as_ref().map(|c| c.library.path.clone())
    }

    /// The live dashboard's URL.
    pub fn dashboard(&self) -> Option<String> {
        lock(&self.dashboard).clone()
    }

    /// Everything the window shows.
    pub async fn snapshot(&self) -> Snapshot {
        let (problem, state, summary) = {
            let h = lock(&self.health);
            (h.problem(), h.state(), h.summary())
        };
        let live = self.live.lock().await;
        let mut snap = Snapshot {
            problem,
            state,
            summary,
            paused: live.as_ref().is_some_and(|l| l.running.paused()),
            session: self.session.clone(),
            library: String::new(),
            totals: Totals::default(),
            targets: Vec::new(),
            uploads: None,
            cameras: Vec::new(),
            relay: live
                .as_ref()
                .map_or("offline", |l| l.running.relay_status().borrow().state)
                .to_string(),
            dashboard: live.as_ref().and_then(|l| l.relay.dashboard.clone()),
            frames: Vec::new(),
        };
        let Some(live) = live.as_ref() else {
            return snap;
        };
        snap.library = live.config.library.path.display().to_string();
        if let Ok(status) = shotline_engine::status::status(&live.config) {
            snap.totals = Totals {
                stored: status.shots,
                duplicates: status.duplicates,
                failed: status.failed,
                queue: status.queue_depth,
            };
            snap.targets = status
                .targets
                .iter()
                .map(|t| TargetView {
                    name: t.name.clone(),
                    path: t.path.display().to_string(),
                    state: t.state.as_str().to_string(),
                    free_bytes: t.free_bytes,
                    verified: t.verified,
                    pending: t.pending,
                    failed: t.failed,
                })
                .collect();
            snap.uploads = status.uploads.map(|u| UploadView {
                done: u.done,
                pending: u.pending,
                failed: u.failed,
            });
            snap.cameras = status.cameras;
        }
        snap.frames = live
            .running
            .journal()
            .recent_shots(RECENT)
            .unwrap_or_default()
            .into_iter()
            .map(|s| FrameView {
                id: s.id,
                name: s.original,
                path: s.rel_path,
                state: s.state,
                size: s.size,
                targets: s.targets,
                upload: s.upload,
            })
            .collect();
        snap
    }

    /// A frame's preview as a `data:` URL.
    pub async fn thumbnail(&self, shot_id: i64) -> Option<String> {
        let (journal, library) = {
            let live = self.live.lock().await;
            let live = live.as_ref()?;
            (live.running.journal(), live.config.library.path.clone())
        };
        let rel = journal.shot(shot_id).ok()??.rel_path?;
        let bytes = tokio::task::spawn_blocking(move || {
            shotline_engine::thumbnail::preview(&library.join(rel))
        })
        .await
        .ok()??;
        Some(format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    /// Settings as the window shows them.
    pub fn settings(&self) -> Settings {
        let config = self
            .load()
            .unwrap_or_else(|_| lock(&self.config).clone().unwrap_or_default());
        Settings {
            hot_folders: config
                .hot_folder
                .iter()
                .map(|h| h.path.display().to_string())
                .collect(),
            library: config.library.path.display().to_string(),
            naming: config.library.naming.clone(),
            backups: config
                .backup
                .iter()
                .map(|b| BackupForm {
                    name: b.name.clone(),
                    path: b.path.display().to_string(),
                    require_mount: b.require_mount,
                })
                .collect(),
            camera_enabled: config.camera.enabled,
            relay_url: config.relay.url.clone().unwrap_or_default(),
            relay_listen: config.relay.listen.clone(),
            relay_token: String::new(),
            relay_token_stored: Secret::RelayToken.get().is_some(),
            upload: config.upload.as_ref().map(|u| UploadForm {
                endpoint: u.endpoint.clone(),
                region: u.region.clone(),
                bucket: u.bucket.clone(),
                key: u.key.clone(),
            }),
            upload_access_key: String::new(),
            upload_secret: String::new(),
            upload_keys_stored: secrets::upload_credentials().is_some(),
            prefs: lock(&self.prefs).clone(),
        }
    }

    /// Check and save Settings: the config file, the keychain, the preferences. Every
    /// refused value comes back with its key; nothing is saved then.
    pub fn save_settings(&self, form: &Settings) -> Result<(), Vec<FieldError>> {
        let mut config = self
            .load()
            .unwrap_or_else(|_| lock(&self.config).clone().unwrap_or_default());
        apply(&mut config, form);
        let mut errors: Vec<FieldError> = config
            .check()
            .into_iter()
            .map(|e| FieldError {
                key: e.key,
                message: format!("{}. {}", e.problem, e.fix),
            })
            .collect();
        if form.prefs.relay_alert_minutes == 0 {
            errors.push(FieldError {
                key: "prefs.relay_alert_minutes".into(),
                message: "0 would alert at every reconnect. Write 1 or more minutes.".into(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut put = |secret: Secret, value: &str, key: &str| {
            if !value.is_empty()
                && let Err(message) = secret.set(value)
            {
                errors.push(FieldError {
                    key: key.into(),
                    message,
                });
            }
        };
        put(Secret::RelayToken, form.relay_token.trim(), "relay.token");
        put(
            Secret::UploadKey,
            form.upload_access_key.trim(),
            "upload.keys",
        );
        put(
            Secret::UploadSecret,
            form.upload_secret.trim(),
            "upload.keys",
        );
        if !errors.is_empty() {
            return Err(errors);
        }
        config.save(&self.config_file).map_err(|e| {
            vec![FieldError {
                key: "config".into(),
                message: e.to_string(),
            }]
        })?;
        form.prefs.save(&self.config_file).map_err(|e| {
            vec![FieldError {
                key: "prefs".into(),
                message: e.to_string(),
            }]
        })?;
        *lock(&self.prefs) = form.prefs.clone();
        Ok(())
    }
}

impl Default for Shell {
    fn default() -> Self {
        Self::new()
    }
}

/// The form's values onto `config` (everything the form does not show is kept).
fn apply(config: &mut Config, form: &Settings) {
    let keep_poll = |path: &str| {
        config
            .hot_folder
            .iter()
            .find(|h| h.path.display().to_string() == path)
            .and_then(|h| h.poll_interval)
    };
    config.hot_folder = form
        .hot_folders
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| HotFolder {
            path: PathBuf::from(p.trim()),
            poll_interval: keep_poll(p.trim()),
        })
        .collect();
    config.library.path = PathBuf::from(form.library.trim());
    config.library.naming = form.naming.clone();
    config.backup = form
        .backups
        .iter()
        .filter(|b| !b.path.trim().is_empty())
        .map(|b| {
            let path = PathBuf::from(b.path.trim());
            let name = if b.name.trim().is_empty() {
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "backup".into())
            } else {
                b.name.trim().to_string()
            };
            Backup {
                name,
                path,
                require_mount: b.require_mount,
            }
        })
        .collect();
    config.camera.enabled = form.camera_enabled;
    config.relay.url = Some(form.relay_url.trim().to_string()).filter(|u| !u.is_empty());
    config.relay.listen = form.relay_listen.trim().to_string();
    config.upload = match (&form.upload, config.upload.take()) {
        (None, _) => None,
        (Some(f), old) => {
            let mut u: Upload = old.unwrap_or_default();
            u.endpoint = f.endpoint.trim().to_string();
            u.region = f.region.trim().to_string();
            u.bucket = f.bucket.trim().to_string();
            u.key = f.key.trim().to_string();
            Some(u)
        }
    };
}

/// What `template` makes of a sample frame, or why it cannot be used.
pub fn naming_example(template: &str, session: &str) -> Result<String, String> {
    let template = Template::parse(template)?;
    let now = chrono_like_now();
    let path = template.render(&Fields {
        date: &now.0,
        time: &now.1,
        session,
        camera: "NIKON D750",
        seq: 1,
        original: "DSC_0001.NEF",
    });
    Ok(path.to_string_lossy().replace('\\', "/"))
}

fn chrono_like_now() -> (String, String) {
    let session = default_session();
    (session, "143005".into())
}
