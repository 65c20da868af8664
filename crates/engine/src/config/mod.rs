//! Configuration: built-in defaults, then the TOML file, then `SHOTLINE_*` environment
//! variables over it; every key optional, unknown keys an error, and every bad value a
//! [`ConfigError`] that names the key and the fix.
//!
//! - this module: the settings' types and their defaults.
//! - `load`: reading the file (then the environment, then the checks) and writing it.
//! - `env`: the environment overrides.
//! - `validate`: checks that need no file system, and folder checks that do.

mod env;
pub mod gallery;
mod load;
pub mod metadata;
pub mod notify;
mod upload;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::paths;

pub use gallery::Gallery;
pub use load::Loaded;
pub use metadata::Metadata;
pub use notify::Notify;
pub use upload::Upload;
pub use validate::{check_folders, prepare_folders};

/// The commented default configuration, as `shotline config default` prints it.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// A configuration value that is wrong: which key, what is wrong, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config `{key}`: {problem}. Fix: {fix}")]
pub struct ConfigError {
    /// The key, as a TOML path (`backup[1].path`), or the file for a syntax error.
    pub key: String,
    /// What is wrong.
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

impl ConfigError {
    /// A new error on `key`.
    pub fn new(key: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// The whole configuration, with defaults filled in and paths absolute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[studio]`
    pub studio: Studio,
    /// `[[hot_folder]]`
    pub hot_folder: Vec<HotFolder>,
    /// `[library]`
    pub library: Library,
    /// `[[backup]]`
    pub backup: Vec<Backup>,
    /// `[camera]`
    pub camera: Camera,
    /// `[relay]`
    pub relay: Relay,
    /// `[gallery]`
    pub gallery: Gallery,
    /// `[metadata]`: written into every frame's sidecar.
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
    /// `[upload]`; absent: no upload.
    pub upload: Option<Upload>,
    /// `[notify]`: mail to the studio.
    #[serde(skip_serializing_if = "Notify::is_empty")]
    pub notify: Notify,
}

/// `[studio]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Studio {
    /// Channel prefix on the relay.
    pub id: String,
}

/// One `[[hot_folder]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotFolder {
    /// The folder tethering software writes to.
    pub path: PathBuf,
    /// Poll at this interval instead of waiting for file-system events.
    #[serde(
        default,
        with = "duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub poll_interval: Option<Duration>,
}

/// `[library]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Library {
    /// The primary copy.
    pub path: PathBuf,
    /// Naming template, relative to the library.
    pub naming: String,
    /// Warn when the library's disk has less than this free (`20GB`).
    pub warn_below: String,
    /// A critical alert when it has less than this free (`5GB`).
    pub critical_below: String,
}

impl Library {
    /// [`Library::warn_below`] in bytes (validated by `config check`; 20 GiB if unreadable).
    pub fn warn_below_bytes(&self) -> u64 {
        parse_size(&self.warn_below).unwrap_or(20 << 30)
    }

    /// [`Library::critical_below`] in bytes (validated; 5 GiB if unreadable).
    pub fn critical_below_bytes(&self) -> u64 {
        parse_size(&self.critical_below).unwrap_or(5 << 30)
    }
}

/// One `[[backup]]` target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// Name shown in the UI and the journal; defaults to the folder's name.
    #[serde(default)]
    pub name: String,
    /// The folder that holds the library's tree.
    pub path: PathBuf,
    /// Offline unless a file system is mounted at `path`.
    #[serde(default)]
    pub require_mount: bool,
    /// Seal an ASC MHL generation on this target at least this often while frames
    /// arrive (default 10 minutes; also at session end and on `shotline seal`).
    #[serde(
        default,
        with = "duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub seal_every: Option<Duration>,
}

/// Sealing happens this often unless a target's `seal_every` says otherwise.
pub const DEFAULT_SEAL_EVERY: Duration = Duration::from_secs(600);

impl Config {
    /// How often the running engine seals: the shortest `seal_every` of the targets.
    pub fn seal_every(&self) -> Duration {
        self.backup
            .iter()
            .filter_map(|b| b.seal_every)
            .min()
            .unwrap_or(DEFAULT_SEAL_EVERY)
    }
}

/// `[camera]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Camera {
    /// Watch tethered cameras.
    pub enabled: bool,
    /// Delete a frame from the camera's card once it is verified on this many backup
    /// targets; 0 (the default): never delete from the card.
    pub delete_after_verified: u32,
    /// When another program holds a camera, unmount the desktop's gphoto2 volumes (gvfs)
    /// to free it, as tethering tools do.
    pub unmount_gvfs: bool,
    /// Live view pictures per second, at most (1 to 60).
    pub liveview_fps: u32,
    /// Live view ends on the camera after this long with nobody watching (default 2
    /// minutes: a viewer who reloads the page does not restart it).
    #[serde(
        default,
        with = "duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub liveview_idle: Option<Duration>,
}

/// Live view ends after this long unwatched unless `[camera] liveview_idle` says otherwise.
pub const DEFAULT_LIVEVIEW_IDLE: Duration = Duration::from_secs(120);

impl Camera {
    /// How long live view runs unwatched.
    pub fn liveview_idle(&self) -> Duration {
        self.liveview_idle.unwrap_or(DEFAULT_LIVEVIEW_IDLE)
    }
}

/// `[relay]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Relay {
    /// A remote relay's WebSocket URL; absent: the embedded relay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where the embedded relay listens.
    pub listen: String,
    /// How long the embedded relay's tokens (the dashboard link) last.
    #[serde(
        default,
        with = "duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub token_ttl: Option<Duration>,
}

/// The embedded relay's tokens last this long unless `[relay] token_ttl` says otherwise.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(30 * 86_400);

impl Relay {
    /// The embedded relay's token lifetime.
    pub fn token_ttl(&self) -> Duration {
        self.token_ttl.unwrap_or(DEFAULT_TOKEN_TTL)
    }
}

/// `8MB`, `16 MiB`, `5242880`: a size in bytes (KB/MB/GB are powers of 1024 here, as
/// S3's part limits are).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor)
}

impl Default for Config {
    fn default() -> Self {
        let root = paths::default_root();
        Self {
            studio: Studio::default(),
            hot_folder: vec![HotFolder {
                path: root.join("Incoming"),
                poll_interval: None,
            }],
            library: Library::default(),
            backup: vec![Backup {
                name: "backup".into(),
                path: root.join("Backup"),
                require_mount: false,
                seal_every: None,
            }],
            camera: Camera::default(),
            relay: Relay::default(),
            gallery: Gallery::default(),
            notify: Notify::default(),
            metadata: Metadata::default(),
            upload: None,
        }
    }
}

impl Default for Studio {
    fn default() -> Self {
        Self {
            id: "studio".into(),
        }
    }
}

impl Default for Library {
    fn default() -> Self {
        Self {
            path: paths::default_root().join("Library"),
            naming: "{date}/{session}/{original}".into(),
            warn_below: "20GB".into(),
            critical_below: "5GB".into(),
        }
    }
}

impl Default for Camera {
    fn default() -> Self {
        Self {
            enabled: true,
            delete_after_verified: 0,
            unmount_gvfs: false,
            liveview_fps: 30,
            liveview_idle: None,
        }
    }
}

impl Default for Relay {
    fn default() -> Self {
        Self {
            url: None,
            listen: "127.0.0.1:7878".into(),
            token_ttl: None,
        }
    }
}

/// `~` expanded, and a relative path taken relative to `base`.
pub(crate) fn absolute(path: &Path, base: &Path) -> PathBuf {
    let expanded = paths::expand_tilde(path);
    if expanded.is_absolute() {
        expanded
    } else {
        base.join(expanded)
    }
}

impl fmt::Display for Backup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.path.display())
    }
}

/// `Option<Duration>` as a human string: `"5s"`, `"1m 30s"`, `"500ms"`.
mod duration_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map(Some).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration ({e}); write e.g. \"5s\" or \"500ms\""
            ))
        })
    }
}

#[cfg(test)]
mod tests;
