//! `SHOTLINE_*` environment variables over the file.

use std::ffi::OsString;
use std::path::PathBuf;

use shotline_protocol::env;

use super::{Backup, Config, ConfigError, HotFolder, Upload};

/// Apply every `SHOTLINE_*` override found in `vars`. Unknown `SHOTLINE_*` names are left
/// alone: they may belong to another Shotline program (the relay's secret, tokens).
pub(super) fn apply(
    config: &mut Config,
    vars: impl Iterator<Item = (OsString, OsString)>,
) -> Result<(), ConfigError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    for (name, value) in vars {
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with("SHOTLINE_") {
            continue;
        }
        let text = || value.to_string_lossy().into_owned();
        let path = || super::absolute(&PathBuf::from(&value), &cwd);
        match name {
            env::STUDIO_ID => config.studio.id = text(),
            env::LIBRARY_PATH => config.library.path = path(),
            env::LIBRARY_NAMING => config.library.naming = text(),
            env::HOT_FOLDER | env::HOT_FOLDER_PATH => {
                config.hot_folder = std::env::split_paths(&value)
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(|p| HotFolder {
                        path: super::absolute(&p, &cwd),
                        poll_interval: None,
                    })
                    .collect();
            }
            env::BACKUP | env::BACKUP_PATH => config.backup = backups(&value, &cwd),
            env::CAMERA_ENABLED => config.camera.enabled = boolean(name, &text())?,
            env::RELAY_URL => config.relay.url = Some(text()).filter(|u| !u.is_empty()),
            env::RELAY_LISTEN => config.relay.listen = text(),
            env::UPLOAD_ENDPOINT => upload(config).endpoint = text(),
            env::UPLOAD_REGION => upload(config).region = text(),
            env::UPLOAD_BUCKET => upload(config).bucket = text(),
            env::UPLOAD_KEY => upload(config).key = text(),
            _ => {}
        }
    }
    Ok(())
}

fn upload(config: &mut Config) -> &mut Upload {
    config.upload.get_or_insert_with(Upload::default)
}

fn backups(value: &OsString, cwd: &std::path::Path) -> Vec<Backup> {
    let mut out: Vec<Backup> = Vec::new();
    for (i, entry) in std::env::split_paths(value).enumerate() {
        let entry = entry.to_string_lossy().into_owned();
        if entry.is_empty() {
            continue;
        }
        let (name, path) = match entry.split_once('=') {
            Some((name, path)) if !name.contains(['/', '\\']) => {
                (name.to_string(), path.to_string())
            }
            _ => (String::new(), entry.clone()),
        };
        let path = super::absolute(std::path::Path::new(&path), cwd);
        let name = if name.is_empty() {
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| format!("backup{}", i + 1))
        } else {
            name
        };
        out.push(Backup {
            name,
            path,
            require_mount: false,
            seal_every: None,
        });
    }
    out
}

fn boolean(name: &str, text: &str) -> Result<bool, ConfigError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(
            name,
            format!("`{text}` is not true or false"),
            format!("set {name}=true or {name}=false"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> impl Iterator<Item = (OsString, OsString)> {
        list.iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// An absolute path on this platform (`/mnt/b`, `C:\\mnt\\b`).
    fn abs(rel: &str) -> PathBuf {
        std::env::temp_dir().join(rel)
    }

    #[test]
    fn overrides_replace_file_values() {
        let mut config = Config::default();
        // The platform's list separator: `:` here, `;` on Windows, where `:` is a drive's.
        let list = std::env::join_paths([
            format!("usb={}", abs("usb/b").display()),
            abs("nas").display().to_string(),
        ])
        .expect("join");
        apply(
            &mut config,
            vars(&[
                ("SHOTLINE_STUDIO_ID", "north"),
                ("SHOTLINE_BACKUP", &list.to_string_lossy()),
                ("SHOTLINE_CAMERA_ENABLED", "off"),
                ("SHOTLINE_RELAY_SECRET", "ignored"),
            ]),
        )
        .expect("apply");
        assert_eq!(config.studio.id, "north");
        assert!(!config.camera.enabled);
        let names: Vec<_> = config.backup.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["usb", "nas"]);
        assert_eq!(config.backup[0].path, abs("usb/b"));
    }

    #[test]
    fn single_folder_spellings_are_accepted() {
        let mut config = Config::default();
        apply(
            &mut config,
            vars(&[
                ("SHOTLINE_HOT_FOLDER_PATH", &abs("in").display().to_string()),
                ("SHOTLINE_BACKUP_PATH", &abs("b").display().to_string()),
            ]),
        )
        .expect("apply");
        assert_eq!(config.hot_folder[0].path, abs("in"));
        assert_eq!(
            (
                config.backup[0].name.as_str(),
                config.backup[0].path.as_path()
            ),
            ("b", abs("b").as_path())
        );
    }

    #[test]
    fn a_bad_boolean_names_the_variable() {
        let mut config = Config::default();
        let err = apply(&mut config, vars(&[("SHOTLINE_CAMERA_ENABLED", "maybe")]))
            .expect_err("must fail");
        assert_eq!(err.key, "SHOTLINE_CAMERA_ENABLED");
    }
}
