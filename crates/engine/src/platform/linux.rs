//! Linux spellings of the platform primitives.

use std::fs::File;
use std::io;
use std::path::Path;

pub(super) use super::posix::is_disk_full_code;

/// A file read from the medium: a plain descriptor whose cached pages were dropped.
pub type MediumReader = File;

/// `fdatasync(2)`: the data and the size, without the times nobody reads back.
pub(super) fn sync_file(file: &File) -> io::Result<()> {
    file.sync_data()
}

/// `posix_fadvise(POSIX_FADV_DONTNEED)` on the whole file drops its clean cached pages, so
/// the reads that follow come from the device. A file system that refuses the advice
/// (some FUSE ones) is read through the cache, and the log says so.
pub(super) fn open_from_medium(path: &Path) -> io::Result<MediumReader> {
    use nix::fcntl::{PosixFadviseAdvice, posix_fadvise};
    let file = File::open(path)?;
    if posix_fadvise(&file, 0, 0, PosixFadviseAdvice::POSIX_FADV_DONTNEED).is_err() {
        super::fallback(
            "verified through the OS cache: the file system refuses posix_fadvise(DONTNEED)",
            Some(path),
        );
    }
    Ok(file)
}

/// Nothing: the page cache is dropped before the verify read instead.
pub(super) fn prepare_write(_file: &File) {}

/// `fsync(2)` on the folder.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    super::posix::fsync_dir(dir)
}

/// `renameat2(RENAME_NOREPLACE)`; where the file system lacks it (some FUSE, NFS, older
/// kernels), a hard link and an unlink.
pub(super) fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
    match renameat2(AT_FDCWD, from, AT_FDCWD, to, RenameFlags::RENAME_NOREPLACE) {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOSYS) => {
            super::fallback(
                "rename without replacing by link and unlink: the file system refuses renameat2(RENAME_NOREPLACE)",
                Some(to),
            );
            super::link_then_unlink(from, to)
        }
        Err(e) => Err(io::Error::from(e)),
    }
}

/// Linux has no sharing modes: a file open for writing can always be read.
pub(super) fn is_still_being_written(_code: Option<i32>) -> bool {
    false
}

/// The mount table (`/proc/self/mountinfo`), else the device numbers.
pub(super) fn is_mount_point(path: &Path) -> io::Result<bool> {
    let canonical = path.canonicalize()?;
    if let Ok(table) = std::fs::read_to_string("/proc/self/mountinfo") {
        return Ok(table
            .lines()
            .filter_map(|line| line.split(' ').nth(4))
            .any(|mount| Path::new(&unescape_mountinfo(mount)) == canonical));
    }
    super::posix::is_mount_point_by_device(&canonical)
}

/// Mount points in mountinfo escape space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let digits = &field[i + 1..i + 4];
            if let Ok(value) = u8::from_str_radix(digits, 8) {
                out.push(value);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `setpriority(PRIO_PROCESS, 0, 10)` (on Linux, the calling thread's nice value) and
/// `ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE)` (its I/O: only when the disk is
/// otherwise idle).
#[allow(unsafe_code)]
pub(super) fn background_thread() {
    use nix::libc;
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    const IOPRIO_CLASS_IDLE: libc::c_long = 3;
    const IOPRIO_CLASS_SHIFT: libc::c_long = 13;
    // SAFETY: both calls take plain integers and touch only the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
        libc::syscall(
            libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            0,
            IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape_mountinfo(r"/media/a\040b"), "/media/a b");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
    }
}
