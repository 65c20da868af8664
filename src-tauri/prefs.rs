//! The desktop app's own preferences (not the engine's config): start with the computer,
//! muted notification categories, how long the relay may be unreachable before a critical
//! notification. A JSON file beside the engine's config.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct Prefs {
    /// Start with the computer.
    pub autostart: bool,
    /// Notification categories not to show (`card_full`, `upload_finished`, …).
    pub muted: Vec<String>,
    /// Minutes the relay may be unreachable before a critical notification.
    pub relay_alert_minutes: u32,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            autostart: false,
            muted: Vec::new(),
            relay_alert_minutes: 5,
        }
    }
}

impl Prefs {
    /// Where they are kept: `desktop.json` beside the engine's config file.
    pub fn path(config_file: &Path) -> PathBuf {
        config_file.with_file_name("desktop.json")
    }

    /// Load them; defaults when there is no file or it cannot be read.
    pub fn load(config_file: &Path) -> Self {
        std::fs::read_to_string(Self::path(config_file))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Save them.
    pub fn save(&self, config_file: &Path) -> std::io::Result<()> {
        let path = Self::path(config_file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(self)?)
    }

    /// Whether notifications of `category` are shown.
    pub fn shows(&self, category: &str) -> bool {
        !self.muted.iter().any(|m| m == category)
    }
}
