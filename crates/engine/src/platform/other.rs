//! Portable spellings of the platform primitives (Windows and anything not Unix).

use std::fs::File;
use std::io;
use std::path::Path;

pub(super) fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

pub(super) fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    super::link_then_unlink(from, to)
}

pub(super) fn drop_cache(file: &File) -> io::Result<()> {
    file.sync_all()
}

pub(super) fn is_mount_point(path: &Path) -> io::Result<bool> {
    let canonical = path.canonicalize()?;
    // A drive root (`C:\`, `\\?\Volume{..}\`) has no parent.
    Ok(canonical.parent().is_none())
}

pub(super) fn is_disk_full_code(code: Option<i32>) -> bool {
    // ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL
    matches!(code, Some(39) | Some(112))
}
