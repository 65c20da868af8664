//! Where things live on this platform: config file, Pictures folder, home, `~` expansion.

use std::path::{Component, Path, PathBuf};

use directories::{BaseDirs, ProjectDirs, UserDirs};

/// Environment variable naming the config file, over the platform default.
pub const CONFIG_ENV: &str = shotline_protocol::env::CONFIG;

/// The config file: `$SHOTLINE_CONFIG`, else `config.toml` in the platform config dir
/// (`~/.config/shotline` on Linux, `~/Library/Application Support/studio.shotline.Shotline`
/// on macOS, `%APPDATA%\Shotline\Shotline\config` on Windows).
pub fn config_file() -> PathBuf {
    if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    match ProjectDirs::from("studio", "Shotline", "Shotline") {
        Some(dirs) => dirs.config_dir().join("config.toml"),
        None => PathBuf::from("shotline.toml"),
    }
}

/// The user's home folder.
pub fn home_dir() -> PathBuf {
    BaseDirs::new()
        .map(|d| d.home_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The user's Pictures folder (XDG `PICTURES` on Linux), else `~/Pictures`.
pub fn pictures_dir() -> PathBuf {
    UserDirs::new()
        .and_then(|d| d.picture_dir().map(Path::to_path_buf))
        .unwrap_or_else(|| home_dir().join("Pictures"))
}

/// The folder Shotline's default hot folder, library and backup live in.
pub fn default_root() -> PathBuf {
    pictures_dir().join("Shotline")
}

/// Expand a leading `~` to the home folder.
pub fn expand_tilde(path: &Path) -> PathBuf {
    let mut components = path.components();
    match components.next() {
        Some(Component::Normal(first)) if first == "~" => home_dir().join(components.as_path()),
        _ => path.to_path_buf(),
    }
}

/// The absolute, symlink-free form of `path` as far as it exists, with `.`/`..` folded
/// lexically in the part that does not exist yet. Used to compare folders for nesting.
pub fn normalize(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            let mut out = canonical;
            for part in rest.iter().rev() {
                push_lexical(&mut out, Path::new(part));
            }
            return out;
        }
        // The last component, `..` and `.` too (which `file_name` does not give), so the
        // existing part is canonical in the same spelling as `outer`'s (`\\?\C:\..` on
        // Windows) before the rest is folded onto it.
        let last = existing.components().next_back();
        match (last, existing.parent()) {
            (
                Some(last @ (Component::Normal(_) | Component::ParentDir | Component::CurDir)),
                Some(parent),
            ) => {
                rest.push(last.as_os_str().to_os_string());
                existing = parent.to_path_buf();
            }
            _ => {
                let mut out = PathBuf::new();
                push_lexical(&mut out, path);
                return out;
            }
        }
    }
}

fn push_lexical(out: &mut PathBuf, path: &Path) {
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
}

/// True when `inner` is `outer` or below it (both normalised first).
pub fn is_within(inner: &Path, outer: &Path) -> bool {
    normalize(inner).starts_with(normalize(outer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_expands_to_home() {
        assert_eq!(expand_tilde(Path::new("~/x/y")), home_dir().join("x/y"));
        assert_eq!(expand_tilde(Path::new("/a/~")), PathBuf::from("/a/~"));
    }

    #[test]
    fn nesting_is_detected_through_missing_parts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a");
        assert!(is_within(&a.join("b/../c"), &a));
        assert!(!is_within(&dir.path().join("ab"), &a));
        assert!(is_within(&a, &a));
    }
}
