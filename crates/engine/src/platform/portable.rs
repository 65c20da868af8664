//! The other Unix systems (FreeBSD and the like): the POSIX calls alone.

use std::fs::File;
use std::io;
use std::path::Path;

pub(super) use super::posix::is_disk_full_code;

/// A plain descriptor: no portable call bypasses the cache, so the log says so.
pub type MediumReader = File;

/// `fsync(2)`.
pub(super) fn sync_file(file: &File) -> io::Result<()> {
    file.sync_all()
}

/// A plain open, read through the OS cache.
pub(super) fn open_from_medium(path: &Path) -> io::Result<MediumReader> {
    super::fallback(
        "verified through the OS cache: this system has no uncached read Shotline knows",
        Some(path),
    );
    File::open(path)
}

/// Nothing: the page cache is dropped before the verify read instead.
pub(super) fn prepare_write(_file: &File) {}

/// `fsync(2)` on the folder.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    super::posix::fsync_dir(dir)
}

/// A hard link and an unlink, or a checked rename.
pub(super) fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    super::link_then_unlink(from, to)
}

/// No mandatory sharing modes.
pub(super) fn is_still_being_written(_code: Option<i32>) -> bool {
    false
}

/// Where the device number changes.
pub(super) fn is_mount_point(path: &Path) -> io::Result<bool> {
    super::posix::is_mount_point_by_device(path)
}

/// Nothing: no portable spelling.
pub(super) fn background_thread() {}
