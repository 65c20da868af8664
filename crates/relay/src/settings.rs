//! The relay's settings: the defaults ([`DEFAULT_TOML`], printed by `shotline-relay
//! config default`), then a TOML file (every key optional, unknown keys an error), then
//! the command line. A wrong value is a [`SettingsError`] naming the key and the fix.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::tls::TlsFiles;

mod units;
pub use units::{parse_duration, parse_size};

/// Settings of one relay.
#[derive(Debug, Clone)]
pub struct Config {
    /// Token signing secret.
    pub secret: Vec<u8>,
    /// Events kept per channel for resume.
    pub history: usize,
    /// Oldest event kept for resume.
    pub history_age: Duration,
    /// WebSocket connections at most.
    pub max_connections: u64,
    /// Largest frame or request body, in bytes.
    pub max_frame: usize,
    /// Publishes per second per connection (bursts up to twice that).
    pub publish_rate: u32,
    /// Browser origins allowed to open a WebSocket; empty: any.
    pub origins: Vec<String>,
    /// Frames a subscriber may fall behind before it is cut off.
    pub queue: usize,
    /// Redis URL shared by several relay nodes; `None`: channels in memory.
    pub redis: Option<String>,
    /// Serve TLS (`https://`, `wss://`) from these PEM files; `None`: plain TCP.
    pub tls: Option<TlsFiles>,
    /// How often the relay pings a WebSocket.
    pub ping_interval: Duration,
    /// A WebSocket silent this long is closed.
    pub ping_timeout: Duration,
    /// Guest publishes a minute, per guest.
    pub guest_rate: u32,
    /// Largest frame a guest may send, in bytes.
    pub guest_max_frame: usize,
    /// A studio backend's public key (PEM): EdDSA or RS256 tokens it signs are accepted.
    pub jwt_public_key: Option<Vec<u8>>,
    /// Where what must outlive the relay is kept (revocations, shares, the gallery's
    /// previews); `None`: in memory only (or in Redis, with `redis`).
    pub data: Option<PathBuf>,
    /// The gallery's previews kept at most, in bytes; past it the oldest shares' go first.
    pub previews_limit: u64,
    /// Originals the engine sent for guests, kept at most, in bytes.
    pub originals_limit: u64,
    /// Of `max_connections`, kept for publishers and admins (the studio's engine).
    pub publisher_reserve: u64,
    /// Guest connections from one address at most.
    pub max_per_address: u64,
    /// Connections of one guest (tabs, devices) at most.
    pub max_per_guest: u64,
    /// Channels one connection may follow at once.
    pub max_subscriptions: usize,
    /// New guests one link lets in from one address: all at once, then this many an hour.
    pub guest_joins: u32,
    /// Answer bytes one address may add to one share's log at once.
    pub address_answers: u64,
    /// ... and then a minute (shared fairly among that address's guests).
    pub address_answers_rate: u64,
    /// Answer bytes one guest may keep in one share's log.
    pub guest_answers: u64,
    /// Answer bytes one share's log keeps at most.
    pub share_answers: u64,
}

impl Config {
    /// Defaults around `secret`.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            secret: secret.into(),
            history: 1000,
            history_age: Duration::from_secs(3600),
            max_connections: 10_000,
            max_frame: 64 * 1024,
            publish_rate: 200,
            origins: Vec::new(),
            queue: 1024,
            redis: None,
            tls: None,
            ping_interval: Duration::from_secs(20),
            ping_timeout: Duration::from_secs(60),
            guest_rate: 60,
            guest_max_frame: 16 * 1024,
            jwt_public_key: None,
            data: None,
            previews_limit: 2_000_000_000,
            originals_limit: 4_000_000_000,
            publisher_reserve: 64,
            max_per_address: 512,
            max_per_guest: 8,
            max_subscriptions: 256,
            guest_joins: 300,
            address_answers: 2_000_000,
            address_answers_rate: 1_000_000,
            guest_answers: 1_000_000,
            share_answers: 64_000_000,
        }
    }
}

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
    ping_interval: Option<String>,
    ping_timeout: Option<String>,
    guest_rate: Option<u32>,
    jwt_public_key: Option<String>,
    data: Option<PathBuf>,
    previews_limit: Option<String>,
    originals_limit: Option<String>,
    publisher_reserve: Option<u64>,
    max_per_address: Option<u64>,
    max_per_guest: Option<u64>,
    max_subscriptions: Option<usize>,
    guest_joins: Option<u32>,
    address_answers: Option<String>,
    address_answers_rate: Option<String>,
    guest_answers: Option<String>,
    share_answers: Option<String>,
}

/// A public key setting: the PEM itself, or the path of a PEM file; checked to be a key.
pub fn public_key(value: &str) -> Result<Vec<u8>, String> {
    let pem = if value.trim_start().starts_with("-----BEGIN") {
        value.as_bytes().to_vec()
    } else {
        std::fs::read(value).map_err(|e| format!("{value}: {e}"))?
    };
    crate::auth::Verifier::new(b"check", Some(&pem)).map_err(|e| e.to_string())?;
    Ok(pem)
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
    let duration = |key: &str, v: &str| {
        parse_duration(v)
            .filter(|d| *d >= Duration::from_secs(1))
            .ok_or_else(|| {
                error(
                    key,
                    format!("{v:?} is not a duration of 1s or more"),
                    "write e.g. \"20s\"",
                )
            })
    };
    if let Some(v) = &f.ping_interval {
        config.ping_interval = duration("ping_interval", v)?;
    }
    if let Some(v) = &f.ping_timeout {
        config.ping_timeout = duration("ping_timeout", v)?;
    }
    if config.ping_timeout <= config.ping_interval {
        return Err(error(
            "ping_timeout",
            format!(
                "{:?} is not longer than ping_interval ({:?})",
                config.ping_timeout, config.ping_interval
            ),
            "make it two or three times ping_interval, e.g. 60s for 20s",
        ));
    }
    if let Some(v) = f.guest_rate {
        if v == 0 {
            return Err(error(
                "guest_rate",
                "0 would refuse every guest answer".into(),
                "write 1 or more (publishes a minute)",
            ));
        }
        config.guest_rate = v;
    }
    if let Some(v) = &f.jwt_public_key {
        config.jwt_public_key = Some(public_key(v).map_err(|problem| {
            error(
                "jwt_public_key",
                problem,
                "give the path of a PEM file (BEGIN PUBLIC KEY), or the PEM itself",
            )
        })?);
    }
    if f.data.is_some() {
        config.data = f.data;
    }
    if let Some(v) = &f.previews_limit {
        config.previews_limit = parse_size(v).filter(|n| *n >= 1_000_000).ok_or_else(|| {
            error(
                "previews_limit",
                format!("{v:?} is not a size of 1MB or more"),
                "write e.g. \"2GB\"",
            )
        })?;
    }
    if let Some(v) = &f.originals_limit {
        config.originals_limit = parse_size(v).filter(|n| *n >= 1_000_000).ok_or_else(|| {
            error(
                "originals_limit",
                format!("{v:?} is not a size of 1MB or more"),
                "write e.g. \"4GB\"",
            )
        })?;
    }
    let at_least_one = |key: &str, v: Option<u64>| match v {
        Some(0) => Err(error(
            key,
            "0 would refuse everyone".into(),
            "write 1 or more",
        )),
        v => Ok(v),
    };
    if let Some(v) = f.publisher_reserve {
        config.publisher_reserve = v;
    }
    if let Some(v) = at_least_one("max_per_address", f.max_per_address)? {
        config.max_per_address = v;
    }
    if let Some(v) = at_least_one("max_per_guest", f.max_per_guest)? {
        config.max_per_guest = v;
    }
    if let Some(v) = at_least_one("max_subscriptions", f.max_subscriptions.map(|v| v as u64))? {
        config.max_subscriptions = v as usize;
    }
    if let Some(v) = at_least_one("guest_joins", f.guest_joins.map(u64::from))? {
        config.guest_joins = u32::try_from(v).unwrap_or(u32::MAX);
    }
    let size = |key: &str, v: &str, least: u64| {
        parse_size(v).filter(|n| *n >= least).ok_or_else(|| {
            error(
                key,
                format!("{v:?} is not a size of {least} bytes or more"),
                "write e.g. \"2MB\" or \"100KB\"",
            )
        })
    };
    if let Some(v) = &f.address_answers {
        config.address_answers = size("address_answers", v, 16_384)?;
    }
    if let Some(v) = &f.address_answers_rate {
        config.address_answers_rate = size("address_answers_rate", v, 1_024)?;
    }
    if let Some(v) = &f.guest_answers {
        config.guest_answers = size("guest_answers", v, 16_384)?;
    }
    if let Some(v) = &f.share_answers {
        config.share_answers = size("share_answers", v, 1_000_000)?;
    }
    if config.publisher_reserve >= config.max_connections {
        return Err(error(
            "publisher_reserve",
            format!(
                "{} leaves no room below max_connections ({})",
                config.publisher_reserve, config.max_connections
            ),
            "keep it well below max_connections, e.g. 64",
        ));
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
mod tests;
