//! What Linux, macOS and the other Unix systems spell alike: a folder is flushed by
//! `fsync` on a descriptor opened on it; a mount point is where the device number changes;
//! a full disk is `ENOSPC` or `EDQUOT`.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// `fsync(2)` on the folder: its entries (new names, renames) reach the medium.
pub(super) fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A folder whose device differs from its parent's, or that is its own parent (`/`).
pub(super) fn is_mount_point_by_device(path: &Path) -> io::Result<bool> {
    let canonical = path.canonicalize()?;
    let meta = std::fs::metadata(&canonical)?;
    let parent = match canonical.parent() {
        Some(parent) => std::fs::metadata(parent)?,
        None => return Ok(true),
    };
    Ok(meta.dev() != parent.dev() || meta.ino() == parent.ino())
}

/// `ENOSPC` (no space left on the device) or `EDQUOT` (quota exceeded).
pub(super) fn is_disk_full_code(code: Option<i32>) -> bool {
    matches!(code, Some(c) if c == nix::libc::ENOSPC || c == nix::libc::EDQUOT)
}
