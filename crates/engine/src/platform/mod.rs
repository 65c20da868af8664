//! File-system primitives whose spelling differs per operating system, each behind one
//! function here; the rest of the engine calls only these. One file per OS holds its
//! spellings, each documented with the OS call it uses and its fallback:
//!
//! | primitive | Linux (`linux.rs`) | macOS (`macos.rs`) | Windows (`windows.rs`) |
//! | --- | --- | --- | --- |
//! | [`sync_file`] | `fdatasync` | `F_FULLFSYNC`, `fsync` where refused | `FlushFileBuffers` |
//! | [`open_from_medium`] | `posix_fadvise(DONTNEED)` | `F_NOCACHE` | `FILE_FLAG_NO_BUFFERING` |
//! | [`prepare_write`] | nothing | `F_NOCACHE` | nothing |
//! | [`sync_dir`] | `fsync` the folder | `F_FULLFSYNC` the folder | `FlushFileBuffers` the folder |
//! | [`rename_noreplace`] | `renameat2(NOREPLACE)` | `renamex_np(RENAME_EXCL)` | `MoveFileExW` |
//! | [`is_mount_point`] | mount table | device numbers | `GetVolumePathNameW` |
//! | [`is_still_being_written`] | never | never | sharing violation |
//! | [`background_thread`] | nice 10, `ioprio` idle | QoS utility | below normal |
//!
//! Where a file system refuses a primitive and a weaker one stands in, the weakening is
//! logged (once per kind) and kept in [`fallbacks`].

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Mutex;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as imp;

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos as imp;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
mod portable;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
use portable as imp;

#[cfg(unix)]
mod posix;

/// Make a written file's data (and its size) durable on the medium. The handle must be
/// open for writing (Windows' `FlushFileBuffers` refuses a read-only one).
pub fn sync_file(file: &File) -> io::Result<()> {
    imp::sync_file(file)
}

/// Open `path` for a read that comes from the medium, not from the OS's cache: what
/// "verified" means. The file must have been made durable ([`sync_file`]) first.
pub fn open_from_medium(path: &Path) -> io::Result<MediumReader> {
    imp::open_from_medium(path)
}

pub use imp::MediumReader;

/// Set up a file just created for a copy that will be verified: on macOS its pages are
/// kept out of the cache, so the read-back cannot be served from memory.
pub fn prepare_write(file: &File) {
    imp::prepare_write(file);
}

/// Flush a directory's entries (new names, renames) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    imp::sync_dir(dir)
}

/// Rename `from` to `to`, failing with `AlreadyExists` instead of replacing `to`.
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    imp::rename_noreplace(from, to)
}

/// True when `err`, met opening or reading a file, means another program still has it
/// open for writing (a tethering tool mid-save): "not complete yet", not a failure.
pub fn is_still_being_written(err: &io::Error) -> bool {
    imp::is_still_being_written(err.raw_os_error())
}

/// A weaker primitive stood in for the documented one: logged once per kind, and listed
/// by [`fallbacks`].
pub(crate) fn fallback(what: &'static str, path: Option<&Path>) {
    let mut seen = FALLBACKS.lock().unwrap_or_else(|e| e.into_inner());
    if !seen.contains(&what) {
        match path {
            Some(path) => tracing::warn!(path = %path.display(), "{what}"),
            None => tracing::warn!("{what}"),
        }
        seen.push(what);
    }
}

static FALLBACKS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// Every weakened guarantee this process has met so far (see the module docs): e.g.
/// "verified through the OS cache: the volume refuses unbuffered reads".
pub fn fallbacks() -> Vec<&'static str> {
    FALLBACKS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Lower the calling thread's CPU (and, where the OS has it, I/O) priority, for work
/// nothing waits on (the gallery's 2048 px previews): the copies, the relay and the
/// window come first. Best effort; the thread keeps it for its life.
pub fn background_thread() {
    imp::background_thread();
}

/// True when a file system is mounted exactly at `path`.
pub fn is_mount_point(path: &Path) -> io::Result<bool> {
    imp::is_mount_point(path)
}

/// True when `err` means "no space left on device" (or quota exceeded).
pub fn is_disk_full(err: &io::Error) -> bool {
    if err.kind() == io::ErrorKind::StorageFull || err.kind() == io::ErrorKind::QuotaExceeded {
        return true;
    }
    imp::is_disk_full_code(err.raw_os_error())
}

/// Bytes available to this user and total size of the file system holding `path`.
pub fn space(path: &Path) -> io::Result<(u64, u64)> {
    Ok((fs4::available_space(path)?, fs4::total_space(path)?))
}

/// The Unix fallback for [`rename_noreplace`] where the file system has no atomic form:
/// a hard link (fails if `to` exists) and an unlink; and where hard links are not
/// supported either (exFAT, FAT), a checked rename.
#[cfg(unix)]
fn link_then_unlink(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::hard_link(from, to) {
        Ok(()) => std::fs::remove_file(from),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => {
            if to.symlink_metadata().is_ok() {
                return Err(io::Error::from(io::ErrorKind::AlreadyExists));
            }
            std::fs::rename(from, to)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_noreplace_never_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, b"new").expect("write a");
        std::fs::write(&b, b"old").expect("write b");
        let err = rename_noreplace(&a, &b).expect_err("must not replace");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&b).expect("read b"), b"old");
        std::fs::remove_file(&b).expect("rm b");
        rename_noreplace(&a, &b).expect("rename");
        assert_eq!(std::fs::read(&b).expect("read b"), b"new");
        assert!(!a.exists());
    }

    #[cfg(unix)]
    #[test]
    fn fallback_never_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, b"new").expect("write a");
        std::fs::write(&b, b"old").expect("write b");
        assert!(link_then_unlink(&a, &b).is_err());
        assert_eq!(std::fs::read(&b).expect("read b"), b"old");
    }

    #[test]
    fn a_synced_file_reads_back_from_the_medium_whole() {
        use std::io::{Read, Write};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("frame.nef");
        // Not a multiple of any sector size, and more than one read's worth.
        let data: Vec<u8> = (0..(3 << 20) + 4097u32).map(|i| (i % 251) as u8).collect();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .expect("create");
        file.write_all(&data).expect("write");
        sync_file(&file).expect("a handle open for writing syncs");
        drop(file);
        let mut back = Vec::new();
        open_from_medium(&path)
            .expect("open")
            .read_to_end(&mut back)
            .expect("read");
        assert_eq!(back.len(), data.len());
        assert!(back == data, "the bytes read back differ");
        // An empty file too.
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").expect("write");
        let mut back = Vec::new();
        open_from_medium(&empty)
            .expect("open")
            .read_to_end(&mut back)
            .expect("read");
        assert!(back.is_empty());
    }

    #[test]
    fn a_plain_error_is_not_a_file_still_being_written() {
        assert!(!is_still_being_written(&io::Error::from(
            io::ErrorKind::NotFound
        )));
    }

    #[test]
    fn root_is_a_mount_point_and_a_plain_folder_is_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(!is_mount_point(dir.path()).expect("probe"));
        #[cfg(unix)]
        assert!(is_mount_point(Path::new("/")).expect("probe"));
        #[cfg(windows)]
        assert!(is_mount_point(Path::new("C:\\")).expect("probe"));
    }
}
