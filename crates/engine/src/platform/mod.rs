//! File-system primitives whose spelling differs per platform: directory fsync, rename
//! without replacing, dropping a file from the page cache, mount points, free space,
//! and the "disk full" error test. The rest of the engine calls only these.

use std::fs::File;
use std::io;
use std::path::Path;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as imp;

#[cfg(not(unix))]
mod other;
#[cfg(not(unix))]
use other as imp;

/// Flush a directory's entries (new names, renames) to disk. A no-op where the platform
/// cannot open directories (Windows flushes metadata with the file).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    imp::sync_dir(dir)
}

/// Rename `from` to `to`, failing with `AlreadyExists` instead of replacing `to`.
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    imp::rename_noreplace(from, to)
}

/// Ask the OS to forget the cached pages of `file`, so the next read comes from disk.
/// The file must be fsynced first: dirty pages are not dropped.
pub fn drop_cache(file: &File) -> io::Result<()> {
    imp::drop_cache(file)
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

/// The fallback for [`rename_noreplace`] where the file system has no atomic form:
/// a hard link (fails if `to` exists) and an unlink; and where hard links are not
/// supported either (exFAT, FAT), a checked rename.
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
    fn root_is_a_mount_point_and_a_plain_folder_is_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(!is_mount_point(dir.path()).expect("probe"));
        #[cfg(unix)]
        assert!(is_mount_point(Path::new("/")).expect("probe"));
    }
}
