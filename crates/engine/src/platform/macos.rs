//! macOS spellings of the platform primitives.
//!
//! `fcntl` commands and `renamex_np` are called through `libc`: nix spells neither
//! `F_NOCACHE`, `F_BARRIERFSYNC` nor `renamex_np`. Each call takes a descriptor we own or
//! NUL-terminated paths we built, and reports failure through `errno`.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::libc;

pub(super) use super::posix::is_disk_full_code;

/// A file read from the medium: a descriptor with `F_NOCACHE` set.
pub type MediumReader = File;

/// `fcntl(fd, cmd, arg)`, `Ok` unless it answered -1.
fn fcntl(file: &File, cmd: libc::c_int, arg: libc::c_int) -> io::Result<()> {
    // SAFETY: `file` is an open descriptor for the whole call; these commands take an int.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), cmd, arg) };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The answers of a volume that does not implement an `fcntl` command (SMB, NFS, exFAT,
/// NTFS through a third-party driver).
fn refused(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ENOTSUP | libc::EINVAL | libc::ENOTTY)
    )
}

/// `fsync(2)` itself (std's `sync_all` is `F_FULLFSYNC` on Apple systems), again after
/// an interruption.
fn fsync(file: &File) -> io::Result<()> {
    loop {
        // SAFETY: `file` is an open descriptor for the whole call.
        if unsafe { libc::fsync(file.as_raw_fd()) } == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// `F_FULLFSYNC`: the data reaches the medium, through the drive's own cache (`fsync`
/// alone on macOS stops at the drive). Volumes that refuse it get `fsync`, as libuv and Go
/// do, and the log says the drive's cache may hold the last writes.
pub(super) fn sync_file(file: &File) -> io::Result<()> {
    match fcntl(file, libc::F_FULLFSYNC, 0) {
        Ok(()) => Ok(()),
        Err(e) if refused(&e) => {
            super::fallback(
                "durable write by fsync: the volume refuses F_FULLFSYNC, so the drive's cache may hold the last writes",
                None,
            );
            fsync(file)
        }
        Err(e) => Err(e),
    }
}

/// `F_NOCACHE` on the writing descriptor too: the unified buffer cache keeps no copy of
/// what is written, so the verify read that follows cannot be served one. Advice only:
/// a volume that refuses it is read back through `F_NOCACHE` alone.
pub(super) fn prepare_write(file: &File) {
    let _ = fcntl(file, libc::F_NOCACHE, 1);
}

/// `F_NOCACHE` on the verify descriptor: its reads bypass the unified buffer cache. A
/// volume that refuses it is read through the cache, and the log says so.
pub(super) fn open_from_medium(path: &Path) -> io::Result<MediumReader> {
    let file = File::open(path)?;
    if let Err(e) = fcntl(&file, libc::F_NOCACHE, 1) {
        if !refused(&e) {
            return Err(e);
        }
        super::fallback(
            "verified through the OS cache: the volume refuses F_NOCACHE",
            Some(path),
        );
    }
    Ok(file)
}

/// `F_FULLFSYNC` on the folder, so its new entries reach the medium as the files' data
/// did; `fsync` where the volume refuses it.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    let folder = File::open(dir)?;
    match fcntl(&folder, libc::F_FULLFSYNC, 0) {
        Err(e) if refused(&e) => fsync(&folder),
        other => other,
    }
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))
}

/// `renamex_np(RENAME_EXCL)`: atomic, and `EEXIST` when `to` exists. Volumes without it
/// (exFAT, FAT, some network ones) get a hard link and an unlink, or a checked rename.
pub(super) fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    let (c_from, c_to) = (c_path(from)?, c_path(to)?);
    // SAFETY: both are NUL-terminated strings that live through the call.
    let rc = unsafe { libc::renamex_np(c_from.as_ptr(), c_to.as_ptr(), libc::RENAME_EXCL) };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if refused(&err) {
        super::fallback(
            "rename without replacing by link and unlink: the volume refuses renamex_np(RENAME_EXCL)",
            Some(to),
        );
        return super::link_then_unlink(from, to);
    }
    Err(err)
}

/// macOS has no mandatory sharing modes: a file open for writing can always be read.
pub(super) fn is_still_being_written(_code: Option<i32>) -> bool {
    false
}

/// Where the device number changes.
pub(super) fn is_mount_point(path: &Path) -> io::Result<bool> {
    super::posix::is_mount_point_by_device(path)
}

/// `pthread_set_qos_class_self_np(QOS_CLASS_UTILITY)`: the scheduler (CPU and I/O) puts
/// the thread behind interactive and default work.
pub(super) fn background_thread() {
    // SAFETY: takes two plain values and changes only the calling thread.
    unsafe {
        libc::pthread_set_qos_class_self_np(libc::qos_class_t::QOS_CLASS_UTILITY, 0);
    }
}
