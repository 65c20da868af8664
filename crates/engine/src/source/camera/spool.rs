//! Where camera downloads land before ingest: `<library>/.shotline/incoming`. A file is
//! written under a hidden partial name, fsynced, given the camera's time and renamed into
//! place; only then is it offered to ingest, which copies it into the library under the
//! session's template and removes it once stored. Spool names are derived from the
//! camera, folder and name but never contain them raw: names from a camera are untrusted.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

use super::driver::{CardFile, Device, DriverError, Failure};
use crate::copy::{create_dirs, partial_path};
use crate::naming::sanitize_component;
use crate::platform;

/// Bytes kept free on the library's disk beyond what a frame needs: its spool copy and,
/// for a moment, its library copy.
const HEADROOM: u64 = 1 << 20;

/// The spool folder of a library.
pub fn dir(library: &Path) -> PathBuf {
    library.join(".shotline").join("incoming")
}

/// The spool path of a card file: unique per (camera, folder, name), safe as a name.
pub fn path_for(spool: &Path, camera: &str, file: &CardFile) -> PathBuf {
    let id =
        xxhash_rust::xxh3::xxh3_64(format!("{camera}\0{}\0{}", file.folder, file.name).as_bytes());
    spool.join(format!("{id:016x}-{}", sanitize_component(&file.name)))
}

/// Complete files left in the spool by an earlier run (crashed before ingest took them).
pub fn leftovers(spool: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(spool) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .collect();
    out.retain(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            // A partial download: the frame is still on the card and is fetched again.
            let _ = fs::remove_file(p);
            false
        } else {
            true
        }
    });
    out.sort();
    out
}

/// Download `file` from `device` to `to`: partial name, fsync, camera's mtime, rename,
/// fsync of the folder. On any failure the partial file is removed. A host disk that
/// cannot take the file fails with [`Failure::DiskFull`] before anything is written.
pub fn download(device: &mut dyn Device, file: &CardFile, to: &Path) -> Result<(), DriverError> {
    let disk = |e: io::Error| {
        let failure = if platform::is_disk_full(&e) {
            Failure::DiskFull
        } else {
            Failure::Other
        };
        DriverError::new(failure, format!("{}: {e}", to.display()))
    };
    let dir = to.parent().unwrap_or(Path::new("."));
    create_dirs(dir).map_err(disk)?;
    if let Ok((free, _)) = platform::space(dir)
        && free < file.size.saturating_mul(2).saturating_add(HEADROOM)
    {
        return Err(DriverError::new(
            Failure::DiskFull,
            format!(
                "{} needs {} bytes (its download and its library copy), {} has {free} free",
                file.name,
                file.size.saturating_mul(2).saturating_add(HEADROOM),
                dir.display()
            ),
        ));
    }
    let partial = partial_path(to);
    let start = Instant::now();
    let mut transferred = start;
    let mut synced = start;
    let result = (|| {
        device.download(file, &partial)?;
        transferred = Instant::now();
        let f = File::options().write(true).open(&partial).map_err(disk)?;
        let len = f.metadata().map_err(disk)?.len();
        if file.size != 0 && len != file.size {
            // A short file means the disk filled up under libgphoto2, or the cable went.
            let free = platform::space(dir).map(|s| s.0).unwrap_or(u64::MAX);
            let failure = if free < file.size.saturating_sub(len).saturating_add(HEADROOM) {
                Failure::DiskFull
            } else {
                Failure::Other
            };
            return Err(DriverError::new(
                failure,
                format!("{}: got {len} of {} bytes", file.name, file.size),
            ));
        }
        if file.mtime > 0 {
            let _ = f.set_modified(UNIX_EPOCH + Duration::from_secs(file.mtime as u64));
        }
        crate::platform::sync_file(&f).map_err(disk)?;
        synced = Instant::now();
        drop(f);
        fs::rename(&partial, to).map_err(disk)?;
        platform::sync_dir(dir).map_err(disk)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    } else {
        tracing::debug!(
            "camera: {} in the spool in {:.1} ms (transfer {:.1}, fsync {:.1}, rename and folder fsync {:.1})",
            file.name,
            ms(start.elapsed()),
            ms(transferred - start),
            ms(synced - transferred),
            ms(synced.elapsed()),
        );
    }
    result
}

/// A duration in milliseconds, for the timing lines.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(name: &str) -> CardFile {
        CardFile {
            folder: "/DCIM/100NIKON".into(),
            name: name.into(),
            size: 3,
            mtime: 1,
        }
    }

    #[test]
    fn hostile_camera_names_stay_one_safe_component() {
        let spool = Path::new("/spool");
        for name in [
            "../../etc/passwd",
            "a\\..\\b.JPG",
            "CON.JPG",
            "x\u{1}y.NEF",
            "..",
            "/",
            "",
        ] {
            let path = path_for(spool, "cam", &card(name));
            assert_eq!(path.parent(), Some(spool), "{name:?} -> {path:?}");
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            assert!(
                !file.contains(['/', '\\']) && !file.chars().any(char::is_control),
                "{file:?}"
            );
            assert!(!file.starts_with('.'), "{file:?}");
        }
        assert_ne!(
            path_for(spool, "cam", &card("a:b.JPG")),
            path_for(spool, "cam", &card("a?b.JPG")),
            "names that sanitise alike must not collide"
        );
    }
}
