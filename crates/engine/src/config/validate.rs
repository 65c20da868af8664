//! Validation: [`validate`] checks values without touching the disk; [`check_folders`]
//! looks at the folders without changing them; [`prepare_folders`] creates what a run needs.

use std::collections::HashSet;
use std::path::Path;

use super::{Config, ConfigError};
use crate::naming::Template;
use crate::paths::normalize;
use crate::platform;

const POLL_MIN_MS: u128 = 100;
const POLL_MAX_MS: u128 = 3_600_000;

/// Every problem with the values, without touching the disk.
pub(super) fn validate(config: &Config) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let id = &config.studio.id;
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        errors.push(ConfigError::new(
            "studio.id",
            format!("`{id}` is not a valid studio id"),
            "use 1 to 64 letters, digits, `_`, `.` or `-`, e.g. id = \"north-studio\"",
        ));
    }
    let library = &config.library;
    for (key, text) in [
        ("library.warn_below", &library.warn_below),
        ("library.critical_below", &library.critical_below),
    ] {
        if super::parse_size(text).is_none() {
            errors.push(ConfigError::new(
                key,
                format!("`{text}` is not a size"),
                "write it like warn_below = \"20GB\" (free space on the library's disk)",
            ));
        }
    }
    if let (Some(warn), Some(critical)) = (
        super::parse_size(&library.warn_below),
        super::parse_size(&library.critical_below),
    ) && critical > warn
    {
        errors.push(ConfigError::new(
            "library.critical_below",
            format!("`{}` is more than warn_below `{}`", library.critical_below, library.warn_below),
            "the critical threshold must be at most the warning one, e.g. warn_below = \"20GB\", critical_below = \"5GB\"",
        ));
    }
    if let Err(e) = Template::parse(&config.library.naming) {
        errors.push(ConfigError::new("library.naming", e.to_string(), "use tokens from `shotline config default`, e.g. naming = \"{date}/{session}/{original}\""));
    }
    for (i, hot) in config.hot_folder.iter().enumerate() {
        if let Some(d) = hot.poll_interval
            && (d.as_millis() < POLL_MIN_MS || d.as_millis() > POLL_MAX_MS)
        {
            errors.push(ConfigError::new(
                format!("hot_folder[{i}].poll_interval"),
                format!("{d:?} is outside 100ms to 1h"),
                "use a value like \"2s\" or \"30s\"",
            ));
        }
    }
    check_overlaps(config, &mut errors);
    check_backup_names(config, &mut errors);
    if config
        .relay
        .token_ttl
        .is_some_and(|d| d < std::time::Duration::from_secs(60))
    {
        errors.push(ConfigError::new(
            "relay.token_ttl",
            "tokens shorter than a minute would expire before anyone used them",
            "write e.g. token_ttl = \"30d\"",
        ));
    }
    if config.relay_listen().is_none() {
        errors.push(ConfigError::new(
            "relay.listen",
            format!("`{}` is not an address and port", config.relay.listen),
            "write it like listen = \"127.0.0.1:7878\"",
        ));
    }
    if let Some(url) = &config.relay.url
        && !(url.starts_with("ws://") || url.starts_with("wss://"))
    {
        errors.push(ConfigError::new(
                "relay.url",
                format!("`{url}` is not a WebSocket URL"),
                "write it like url = \"wss://relay.example.com/v1/ws\", or remove it to use the embedded relay",
            ));
    }
    if let Some((key, problem)) = config.metadata.problem() {
        errors.push(ConfigError::new(
            format!("metadata.{key}"),
            problem,
            format!(
                "use only {} in it",
                super::metadata::PLACEHOLDERS.join(", ")
            ),
        ));
    }
    for (key, problem, fix) in config.gallery.problems() {
        errors.push(ConfigError::new(key, problem, fix));
    }
    if let Some(email) = &config.notify.email {
        for (key, problem) in email.problems() {
            errors.push(ConfigError::new(
                key,
                problem,
                "see [notify.email] in `shotline config default`",
            ));
        }
    }
    let targets = config.backup.len() as u32;
    if config.camera.delete_after_verified > targets {
        errors.push(ConfigError::new(
            "camera.delete_after_verified",
            format!(
                "{} is more than the {targets} backup target(s), so no frame would ever be deleted",
                config.camera.delete_after_verified
            ),
            format!("write a number from 0 (never delete from the card) to {targets}"),
        ));
    }
    if let Some(upload) = &config.upload {
        if !(upload.endpoint.starts_with("https://") || upload.endpoint.starts_with("http://")) {
            errors.push(ConfigError::new(
                "upload.endpoint",
                format!("`{}` is not an http(s) URL", upload.endpoint),
                "write it like endpoint = \"https://s3.example.com\"",
            ));
        }
        if let Err(e) = Template::parse_key(&upload.key) {
            errors.push(ConfigError::new(
                "upload.key",
                e.to_string(),
                "use {studio} {session} {name} {path} {stem} {ext}, e.g. key = \"{studio}/{session}/{name}\"",
            ));
        }
        if upload.bucket.is_empty() {
            errors.push(ConfigError::new(
                "upload.bucket",
                "is empty",
                "name the bucket, e.g. bucket = \"studio-shots\"",
            ));
        }
        match super::parse_size(&upload.part_size) {
            Some(size) if (5 << 20..=5 << 30).contains(&size) => {}
            _ => errors.push(ConfigError::new(
                "upload.part_size",
                format!("`{}` is not a size from 5MB to 5GB", upload.part_size),
                "write it like part_size = \"8MB\" (S3 parts are 5 MiB to 5 GiB)",
            )),
        }
        if upload.bandwidth.is_some() && upload.bandwidth_bytes().is_none() {
            errors.push(ConfigError::new(
                "upload.bandwidth",
                format!(
                    "`{}` is not a rate",
                    upload.bandwidth.as_deref().unwrap_or_default()
                ),
                "write it like bandwidth = \"20MB/s\", or remove it for no limit",
            ));
        }
        if upload.concurrency == 0 || upload.concurrency > 64 {
            errors.push(ConfigError::new(
                "upload.concurrency",
                format!("{} is outside 1 to 64", upload.concurrency),
                "write e.g. concurrency = 4",
            ));
        }
    }
    errors
}

/// The folders of `config`, each with its key.
fn folders(config: &Config) -> Vec<(String, &Path)> {
    let mut out = Vec::new();
    for (i, hot) in config.hot_folder.iter().enumerate() {
        out.push((format!("hot_folder[{i}].path"), hot.path.as_path()));
    }
    out.push(("library.path".to_string(), config.library.path.as_path()));
    for (i, backup) in config.backup.iter().enumerate() {
        out.push((format!("backup[{i}].path"), backup.path.as_path()));
    }
    out
}

/// No folder may be inside another: a library inside a hot folder would ingest itself, a
/// backup inside the library would be copied into itself, two targets on one path are one.
fn check_overlaps(config: &Config, errors: &mut Vec<ConfigError>) {
    let all: Vec<_> = folders(config)
        .into_iter()
        .map(|(key, path)| (key, path, normalize(path)))
        .collect();
    for (i, (key_a, a, na)) in all.iter().enumerate() {
        for (key_b, b, nb) in all.iter().skip(i + 1) {
            // Reported on the folder that is inside the other; a shared folder on the later key.
            let (key, problem) = if na == nb {
                (
                    key_b,
                    format!("{} is the same folder as `{key_a}`", b.display()),
                )
            } else if na.starts_with(nb) {
                (
                    key_a,
                    format!("{} is inside `{key_b}` ({})", a.display(), b.display()),
                )
            } else if nb.starts_with(na) {
                (
                    key_b,
                    format!("{} is inside `{key_a}` ({})", b.display(), a.display()),
                )
            } else {
                continue;
            };
            errors.push(ConfigError::new(
                key.clone(),
                problem,
                "give the hot folders, the library and each backup target folders of their own, none inside another",
            ));
        }
    }
}

fn check_backup_names(config: &Config, errors: &mut Vec<ConfigError>) {
    let mut seen = HashSet::new();
    for (i, backup) in config.backup.iter().enumerate() {
        let name = &backup.name;
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || " _.-".contains(c))
        {
            errors.push(ConfigError::new(
                format!("backup[{i}].name"),
                format!("`{name}` is not a valid target name"),
                "use 1 to 64 letters, digits, spaces, `_`, `.` or `-`",
            ));
        } else if !seen.insert(name.to_lowercase()) {
            errors.push(ConfigError::new(
                format!("backup[{i}].name"),
                format!("another target is already named `{name}`"),
                "give every [[backup]] its own name",
            ));
        }
    }
}

/// What a run would find wrong with the folders, without changing anything: a folder that
/// is not a folder, cannot be created, or cannot be written. A `require_mount` target whose
/// drive is not mounted is not an error: it is offline until it is.
pub fn check_folders(config: &Config) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    for (i, hot) in config.hot_folder.iter().enumerate() {
        check_folder(
            &format!("hot_folder[{i}].path"),
            &hot.path,
            true,
            &mut errors,
        );
    }
    check_folder("library.path", &config.library.path, true, &mut errors);
    for (i, backup) in config.backup.iter().enumerate() {
        let key = format!("backup[{i}].path");
        if backup.require_mount {
            if backup.path.exists() && !platform::is_mount_point(&backup.path).unwrap_or(false) {
                continue; // offline until the drive is mounted
            }
            if !backup.path.exists() {
                continue;
            }
        }
        if is_default_backup(backup) {
            // The built-in backup folder is made with its parents, as the library is.
            check_folder(&key, &backup.path, true, &mut errors);
            continue;
        }
        let parent_ok = backup.path.parent().is_some_and(|p| will_exist(config, p));
        if !backup.path.exists() && !parent_ok {
            errors.push(ConfigError::new(
                key,
                format!("{} does not exist, nor does its parent folder", backup.path.display()),
                "connect the drive, create the folder, or set require_mount = true for a drive that comes and goes",
            ));
            continue;
        }
        check_folder(&key, &backup.path, false, &mut errors);
    }
    errors
}

/// True for the built-in backup target (a config without `[[backup]]`): a folder beside
/// the default library, created like it.
fn is_default_backup(backup: &super::Backup) -> bool {
    let default = Config::default();
    default
        .backup
        .first()
        .is_some_and(|d| d.path == backup.path && d.name == backup.name && !backup.require_mount)
}

/// True when `dir` exists, or a run creates it on the way to a hot folder or the library.
fn will_exist(config: &Config, dir: &Path) -> bool {
    dir.is_dir()
        || config.library.path.starts_with(dir)
        || config.hot_folder.iter().any(|h| h.path.starts_with(dir))
}

fn check_folder(key: &str, path: &Path, create_parents: bool, errors: &mut Vec<ConfigError>) {
    if path.exists() {
        if !path.is_dir() {
            errors.push(ConfigError::new(
                key,
                format!("{} is not a folder", path.display()),
                "point it at a folder",
            ));
        } else if let Err(e) = probe_writable(path) {
            errors.push(ConfigError::new(
                key,
                format!("cannot write to {}: {e}", path.display()),
                "give your user write permission on it, or choose another folder",
            ));
        }
        return;
    }
    let mut ancestor = path.parent();
    while let Some(dir) = ancestor {
        if dir.exists() {
            if !create_parents && Some(dir) != path.parent() {
                break;
            }
            if let Err(e) = probe_writable(dir) {
                errors.push(ConfigError::new(
                    key,
                    format!(
                        "{} does not exist and cannot be created in {}: {e}",
                        path.display(),
                        dir.display()
                    ),
                    "create the folder yourself, or choose one under your home folder",
                ));
            }
            return;
        }
        ancestor = dir.parent();
    }
}

fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".shotline-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// Create the folders a run needs (hot folders and library with their parents; a plain
/// backup folder when its parent exists), then check them all. Returns the errors.
pub fn prepare_folders(config: &Config) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let mut create = |key: String, path: &Path, parents: bool| {
        let made = if parents {
            std::fs::create_dir_all(path)
        } else {
            std::fs::create_dir(path)
        };
        if let Err(e) = made
            && e.kind() != std::io::ErrorKind::AlreadyExists
        {
            errors.push(ConfigError::new(
                key,
                format!("cannot create {}: {e}", path.display()),
                "create the folder yourself, or choose another",
            ));
        }
    };
    for (i, hot) in config.hot_folder.iter().enumerate() {
        create(format!("hot_folder[{i}].path"), &hot.path, true);
    }
    create("library.path".into(), &config.library.path, true);
    for (i, backup) in config.backup.iter().enumerate() {
        let parent_ok = backup.path.parent().is_some_and(Path::is_dir);
        if is_default_backup(backup) && !backup.path.exists() {
            create(format!("backup[{i}].path"), &backup.path, true);
        } else if !backup.require_mount && parent_ok && !backup.path.exists() {
            create(format!("backup[{i}].path"), &backup.path, false);
        }
    }
    if errors.is_empty() {
        errors = check_folders(config);
    }
    errors
}
