//! The environment variables Shotline's programs read — the engine (`shotline`), the relay
//! (`shotline-relay`) and the desktop app — in one table, so a name is spelled once.
//! Settings that a config file can hold have an override here too (`SHOTLINE_LIBRARY_PATH`
//! over `[library] path`); secrets live only here or in the OS keychain.

/// Log filter for every program (`info`, `shotline_engine=debug`, …).
pub const LOG: &str = "SHOTLINE_LOG";
/// The engine's config file, instead of the platform's default place.
pub const CONFIG: &str = "SHOTLINE_CONFIG";
/// `[studio] id`.
pub const STUDIO_ID: &str = "SHOTLINE_STUDIO_ID";
/// `[library] path`.
pub const LIBRARY_PATH: &str = "SHOTLINE_LIBRARY_PATH";
/// `[library] naming`.
pub const LIBRARY_NAMING: &str = "SHOTLINE_LIBRARY_NAMING";
/// The hot folders, a path list (`:`-separated; `;` on Windows).
pub const HOT_FOLDER: &str = "SHOTLINE_HOT_FOLDER";
/// Another spelling of [`HOT_FOLDER`].
pub const HOT_FOLDER_PATH: &str = "SHOTLINE_HOT_FOLDER_PATH";
/// The backup targets, a path list of `name=path` or `path`.
pub const BACKUP: &str = "SHOTLINE_BACKUP";
/// Another spelling of [`BACKUP`].
pub const BACKUP_PATH: &str = "SHOTLINE_BACKUP_PATH";
/// `[camera] enabled`.
pub const CAMERA_ENABLED: &str = "SHOTLINE_CAMERA_ENABLED";
/// `[relay] url`.
pub const RELAY_URL: &str = "SHOTLINE_RELAY_URL";
/// `[relay] listen` for the engine; `serve --listen` for the relay.
pub const RELAY_LISTEN: &str = "SHOTLINE_RELAY_LISTEN";
/// The engine's publisher token for a relay at `[relay] url`.
pub const RELAY_TOKEN: &str = "SHOTLINE_RELAY_TOKEN";
/// The relay's token signing secret (at least 16 characters).
pub const RELAY_SECRET: &str = "SHOTLINE_RELAY_SECRET";
/// The relay's settings file (`serve --config`).
pub const RELAY_CONFIG: &str = "SHOTLINE_RELAY_CONFIG";
/// The relay's Redis URL (`serve --redis`).
pub const RELAY_REDIS: &str = "SHOTLINE_RELAY_REDIS";
/// The relay's data folder (`serve --data`).
pub const RELAY_DATA: &str = "SHOTLINE_RELAY_DATA";
/// The relay's TLS certificate chain, PEM (`serve --tls-cert`).
pub const RELAY_TLS_CERT: &str = "SHOTLINE_RELAY_TLS_CERT";
/// The relay's TLS private key, PEM (`serve --tls-key`).
pub const RELAY_TLS_KEY: &str = "SHOTLINE_RELAY_TLS_KEY";
/// `[upload] endpoint`.
pub const UPLOAD_ENDPOINT: &str = "SHOTLINE_UPLOAD_ENDPOINT";
/// `[upload] region`.
pub const UPLOAD_REGION: &str = "SHOTLINE_UPLOAD_REGION";
/// `[upload] bucket`.
pub const UPLOAD_BUCKET: &str = "SHOTLINE_UPLOAD_BUCKET";
/// `[upload] key`.
pub const UPLOAD_KEY: &str = "SHOTLINE_UPLOAD_KEY";
/// The bucket's access key id (`AWS_ACCESS_KEY_ID` works too).
pub const UPLOAD_ACCESS_KEY_ID: &str = "SHOTLINE_UPLOAD_ACCESS_KEY_ID";
/// The bucket's secret access key (`AWS_SECRET_ACCESS_KEY` works too).
pub const UPLOAD_SECRET_ACCESS_KEY: &str = "SHOTLINE_UPLOAD_SECRET_ACCESS_KEY";
/// The SMTP password of `[notify.email]` (the desktop app keeps it in the keychain).
pub const SMTP_PASSWORD: &str = "SHOTLINE_SMTP_PASSWORD";
/// A share's PIN for `shotline share create|set --pin`.
pub const SHARE_PIN: &str = "SHOTLINE_SHARE_PIN";
