//! Unix spellings of the platform primitives (Linux and macOS).

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(target_os = "linux")]
pub(super) fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
    match renameat2(AT_FDCWD, from, AT_FDCWD, to, RenameFlags::RENAME_NOREPLACE) {
        Ok(()) => Ok(()),
        // File systems without RENAME_NOREPLACE (some FUSE, NFS, older kernels).
        Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOSYS) => {
            super::link_then_unlink(from, to)
        }
        Err(e) => Err(io::Error::from(e)),
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    super::link_then_unlink(from, to)
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub(super) fn drop_cache(file: &File) -> io::Result<()> {
    use nix::fcntl::{PosixFadviseAdvice, posix_fadvise};
    posix_fadvise(file, 0, 0, PosixFadviseAdvice::POSIX_FADV_DONTNEED).map_err(io::Error::from)
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(super) fn drop_cache(file: &File) -> io::Result<()> {
    // macOS has no fadvise; F_NOCACHE on the reading descriptor is set by the caller's
    // fresh open, and a full sync makes the data durable before the re-read.
    file.sync_all()
}

pub(super) fn is_mount_point(path: &Path) -> io::Result<bool> {
    let canonical = path.canonicalize()?;
    #[cfg(target_os = "linux")]
    if let Ok(table) = std::fs::read_to_string("/proc/self/mountinfo") {
        return Ok(table
            .lines()
            .filter_map(|line| line.split(' ').nth(4))
            .any(|mount| Path::new(&unescape_mountinfo(mount)) == canonical));
    }
    let meta = std::fs::metadata(&canonical)?;
    let parent = match canonical.parent() {
        Some(parent) => std::fs::metadata(parent)?,
        None => return Ok(true),
    };
    Ok(meta.dev() != parent.dev() || meta.ino() == parent.ino())
}

/// Mount points in mountinfo escape space, tab, newline and backslash as `\ooo`.
#[cfg(target_os = "linux")]
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

pub(super) fn is_disk_full_code(code: Option<i32>) -> bool {
    matches!(code, Some(c) if c == nix::libc::ENOSPC || c == nix::libc::EDQUOT)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape_mountinfo(r"/media/a\040b"), "/media/a b");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
    }
}
