//! The relay's settings: the defaults ([`DEFAULT_TOML`], printed by `shotline-relay
//! config default`), then a TOML file (every key optional, unknown keys an error), then
//! the command line. A wrong value is a [`SettingsError`] naming the key and the fix.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::Config;
use crate::tls::TlsFiles;

/// The commented defaults.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// A setting that cannot be used: which key (or file), what is wrong, how to fix it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}: `{key}`: {problem}. Fix: {fix}")]
pub struct SettingsError {
    /// The settings file.
    pub file: String,
    /// The key, or `(file)` for a file that cannot be read or parsed.
    pub key: String,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
}

/// The keys a settings file may hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    history: Option<usize>,
    history_age: Option<String>,
    max_connections: Option<u64>,
    max_frame: Option<usize>,
    publish_rate: Option<u32>,
    queue: Option<usize>,
    origins: Option<Vec<String>>,
    redis: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
}

/// `90s`, `12h`, `30d`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    match text.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => humantime::parse_duration(text).ok(),
    }
}

/// Apply the settings file at `path` over `config`.
pub fn apply_file(config: &mut Config, path: &Path) -> Result<(), SettingsError> {
    let error = |key: &str, problem: String, fix: &str| SettingsError {
        file: path.display().to_string(),
        key: key.into(),
        problem,
        fix: fix.into(),
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        error(
            "(file)",
            format!("cannot be read: {e}"),
            "give --config a readable file",
        )
    })?;
    let f: File = toml::from_str(&text).map_err(|e| {
        error(
            "(file)",
            e.message().to_string(),
            "see `shotline-relay config default` for every key",
        )
    })?;
    if let Some(v) = f.history {
        config.history = v;
    }
    if let Some(v) = f.history_age {
        config.history_age = parse_duration(&v).ok_or_else(|| {
            error(
                "history_age",
                format!("{v:?} is not a duration"),
                "write e.g. \"1h\"",
            )
        })?;
    }
    if let Some(v) = f.max_connections {
        config.max_connections = v;
    }
    if let Some(v) = f.max_frame {
        if v < 1024 {
            return Err(error(
                "max_frame",
                format!("{v} bytes is too small"),
                "write 1024 or more",
            ));
        }
        config.max_frame = v;
    }
    if let Some(v) = f.publish_rate {
        config.publish_rate = v;
    }
    if let Some(v) = f.queue {
        config.queue = v.max(1);
    }
    if let Some(v) = f.origins {
        config.origins = v;
    }
    if f.redis.is_some() {
        config.redis = f.redis;
    }
    match (f.tls_cert, f.tls_key) {
        (Some(cert), Some(key)) => config.tls = Some(TlsFiles { cert, key }),
        (None, None) => {}
        _ => {
            return Err(error(
                "tls_cert",
                "tls_cert and tls_key go together".into(),
                "set both or neither",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_is_the_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("relay.toml");
        std::fs::write(&path, DEFAULT_TOML).expect("write");
        let mut config = Config::new("s".repeat(16));
        apply_file(&mut config, &path).expect("the default file loads");
        let defaults = Config::new("s".repeat(16));
        assert_eq!(config.history, defaults.history);
        assert_eq!(config.history_age, defaults.history_age);
        assert_eq!(config.max_frame, defaults.max_frame);
        assert_eq!(config.publish_rate, defaults.publish_rate);
        assert_eq!(config.queue, defaults.queue);
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("relay.toml");
        let mut config = Config::new("s".repeat(16));
        std::fs::write(&path, "history_age = \"soon\"\n").expect("write");
        let e = apply_file(&mut config, &path).expect_err("refused");
        assert_eq!(e.key, "history_age");
        std::fs::write(&path, "colour = 1\n").expect("write");
        let e = apply_file(&mut config, &path).expect_err("refused");
        assert!(e.to_string().contains("colour"), "{e}");
    }
}
