//! Names that are never frames: hidden files, temporary and partial files of tethering
//! tools, browsers and copy programs, and system clutter.

use std::path::Path;

const SUFFIXES: &[&str] = &[
    ".partial",
    ".part",
    ".tmp",
    ".temp",
    ".crdownload",
    ".download",
    ".filepart",
    ".!sync",
    ".swp",
    ".lock",
    "~",
];
const NAMES: &[&str] = &["thumbs.db", "desktop.ini", "icon\r"];

/// True when a file at `relative` (relative to the hot folder) must be ignored: its name
/// or the name of any folder on its way is hidden, temporary or clutter.
pub fn is_ignored(relative: &Path) -> bool {
    relative.components().any(|c| {
        let name = c.as_os_str().to_string_lossy().to_lowercase();
        name.starts_with('.')
            || name.starts_with('~')
            || NAMES.contains(&name.as_str())
            || SUFFIXES.iter().any(|s| name.ends_with(s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_and_hidden_names_are_ignored() {
        for name in [
            ".DS_Store",
            "a.jpg.partial",
            "a.tmp",
            "a.NEF~",
            "~$a.jpg",
            ".hidden/a.jpg",
            "Thumbs.db",
            "x.JPG.TMP",
            "._a.jpg",
            "a.crdownload",
        ] {
            assert!(is_ignored(Path::new(name)), "{name}");
        }
        for name in [
            "a.jpg",
            "sub/DSC_0001.NEF",
            "Ünïcødé 写真.jpg",
            "empty",
            "a.tiff",
        ] {
            assert!(!is_ignored(Path::new(name)), "{name}");
        }
    }
}
