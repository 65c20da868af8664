//! Windows spellings of the platform primitives.
//!
//! `MoveFileExW` and `GetVolumePathNameW` are called through `windows-sys`; each takes
//! NUL-terminated wide strings we built, and reports failure through `GetLastError`.
#![allow(unsafe_code)]

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::OpenOptionsExt;
use std::path::Path;

use windows_sys::Win32::Storage::FileSystem::{
    FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_NO_BUFFERING, GetVolumePathNameW, MOVEFILE_WRITE_THROUGH,
    MoveFileExW,
};

/// `ERROR_SHARING_VIOLATION`, `ERROR_LOCK_VIOLATION`.
const STILL_OPEN: [i32; 2] = [32, 33];
/// `ERROR_HANDLE_DISK_FULL`, `ERROR_DISK_FULL`.
const DISK_FULL: [i32; 2] = [39, 112];
/// `ERROR_INVALID_PARAMETER`: what a volume that cannot read unbuffered answers.
const INVALID_PARAMETER: i32 = 87;
/// Unbuffered reads must start on a sector boundary and span whole sectors, into memory
/// aligned to the sector: 4096 covers 512-byte and 4K-native drives.
const SECTOR: usize = 4096;
/// Bytes asked of each unbuffered read (a whole number of sectors).
const CHUNK: usize = crate::hash::CHUNK;

/// `FlushFileBuffers` (what `sync_all` calls): the handle must be open for writing, which
/// every caller's is (a read-only handle answers "Access denied").
pub(super) fn sync_file(file: &File) -> io::Result<()> {
    file.sync_all()
}

/// A file read from the medium: opened with `FILE_FLAG_NO_BUFFERING`, so every read goes
/// to the volume, in whole sectors into sector-aligned memory. A volume that refuses
/// unbuffered handles or reads is read through the cache, and the log says so.
pub struct MediumReader {
    file: File,
    /// Holds `SECTOR` bytes more than `CHUNK`, so an aligned `CHUNK` fits at `start`.
    buf: Vec<u8>,
    start: usize,
    /// The bytes of the last read not handed out yet: `buf[start + pos..start + filled]`.
    pos: usize,
    filled: usize,
    /// A short read has been seen: the next would start past the end, off a sector.
    eof: bool,
    unbuffered: bool,
}

pub(super) fn open_from_medium(path: &Path) -> io::Result<MediumReader> {
    let (file, unbuffered) = match OpenOptions::new()
        .read(true)
        .custom_flags(FILE_FLAG_NO_BUFFERING)
        .open(path)
    {
        Ok(file) => (file, true),
        Err(e) if e.raw_os_error() == Some(INVALID_PARAMETER) => {
            super::fallback(
                "verified through the OS cache: the volume refuses unbuffered reads",
                Some(path),
            );
            (File::open(path)?, false)
        }
        Err(e) => return Err(e),
    };
    let buf = vec![0u8; CHUNK + SECTOR];
    let start = buf.as_ptr().align_offset(SECTOR);
    Ok(MediumReader {
        file,
        buf,
        start,
        pos: 0,
        filled: 0,
        eof: false,
        unbuffered,
    })
}

impl MediumReader {
    /// One unbuffered read of a whole chunk into the aligned window.
    fn refill(&mut self) -> io::Result<()> {
        let window = &mut self.buf[self.start..self.start + CHUNK];
        let n = match self.file.read(window) {
            Ok(n) => n,
            // A volume that opened unbuffered but refuses the aligned read: read the
            // rest through the cache from where this one stopped.
            Err(e) if e.raw_os_error() == Some(INVALID_PARAMETER) => {
                super::fallback(
                    "verified through the OS cache: the volume refuses unbuffered reads",
                    None,
                );
                self.unbuffered = false;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        // Only the end of the file reads short of a whole sector; a short read of whole
        // sectors may be followed by more.
        self.eof = n == 0 || n % SECTOR != 0;
        self.pos = 0;
        self.filled = n;
        Ok(())
    }
}

impl Read for MediumReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.filled && self.unbuffered && !self.eof {
            self.refill()?;
        }
        if self.pos == self.filled {
            return if self.unbuffered || self.eof {
                Ok(0)
            } else {
                self.file.read(out)
            };
        }
        let n = out.len().min(self.filled - self.pos);
        let from = self.start + self.pos;
        out[..n].copy_from_slice(&self.buf[from..from + n]);
        self.pos += n;
        Ok(n)
    }
}

/// `FlushFileBuffers` on the folder, opened for writing with `FILE_FLAG_BACKUP_SEMANTICS`
/// (the only way Windows opens a folder): its entries reach the medium. Where the volume
/// or the account refuses such a handle, the folder is left to the file system's journal,
/// and the log says so.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    let flushed = OpenOptions::new()
        .write(true)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
        .open(dir)
        .and_then(|folder| folder.sync_all());
    match flushed {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(e),
        Err(_) => {
            super::fallback(
                "folder entries left to the file system's journal: the volume refuses to flush a folder",
                Some(dir),
            );
            Ok(())
        }
    }
}

/// Nothing: the verify read opens its own unbuffered handle.
pub(super) fn prepare_write(_file: &File) {}

/// A NUL-terminated wide path, in the `\\?\` form past `MAX_PATH` (which takes the
/// path as it is, so `/` becomes `\`; the engine's paths hold no `..`).
fn wide(path: &Path) -> Vec<u16> {
    let units: Vec<u16> = path.as_os_str().encode_wide().collect();
    let (back, slash, question) = (u16::from(b'\\'), u16::from(b'/'), u16::from(b'?'));
    let mut out = Vec::with_capacity(units.len() + 9);
    if units.len() >= 248 && path.is_absolute() && !units.starts_with(&[back, back, question]) {
        // `\\server\share\..` is `\\?\UNC\server\share\..`.
        let unc = units.starts_with(&[back, back]);
        out.extend(OsStr::new(if unc { r"\\?\UNC" } else { r"\\?\" }).encode_wide());
        let rest = if unc { &units[1..] } else { &units[..] };
        out.extend(rest.iter().map(|&u| if u == slash { back } else { u }));
    } else {
        out.extend(units);
    }
    out.push(0);
    out
}

/// `MoveFileExW` without `MOVEFILE_REPLACE_EXISTING` fails atomically with
/// `ERROR_ALREADY_EXISTS` when `to` exists, on every file system (exFAT and FAT too);
/// `MOVEFILE_WRITE_THROUGH` returns only once the move is on the medium.
pub(super) fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    let (from, to) = (wide(from), wide(to));
    // SAFETY: both are NUL-terminated wide strings that live through the call.
    let ok = unsafe { MoveFileExW(from.as_ptr(), to.as_ptr(), MOVEFILE_WRITE_THROUGH) };
    if ok == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A sharing or lock violation: the tethering tool still has the file open for writing.
pub(super) fn is_still_being_written(code: Option<i32>) -> bool {
    matches!(code, Some(c) if STILL_OPEN.contains(&c))
}

/// `GetVolumePathNameW`: the root of the volume holding `path` (a drive, `D:\`, or a
/// folder a volume is mounted on); `path` is a mount point when it is that root.
pub(super) fn is_mount_point(path: &Path) -> io::Result<bool> {
    let absolute = std::path::absolute(path)?;
    if !absolute.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is not a folder", absolute.display()),
        ));
    }
    let name = wide(&absolute);
    let mut root = vec![0u16; 32_768];
    // SAFETY: `name` is NUL-terminated; `root` holds as many u16s as we say.
    let ok = unsafe { GetVolumePathNameW(name.as_ptr(), root.as_mut_ptr(), root.len() as u32) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let end = root.iter().position(|&c| c == 0).unwrap_or(root.len());
    let root = String::from_utf16_lossy(&root[..end]);
    Ok(same_folder(&root, &absolute.to_string_lossy()))
}

/// Two spellings of one folder: case, a trailing separator, `/` for `\` and the `\\?\`
/// prefix aside.
fn same_folder(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let s = s.replace('/', "\\");
        let s = match s.strip_prefix(r"\\?\UNC\") {
            Some(unc) => format!(r"\\{unc}"),
            None => s.strip_prefix(r"\\?\").unwrap_or(&s).to_string(),
        };
        s.trim_end_matches('\\').to_lowercase()
    };
    norm(a) == norm(b)
}

pub(super) fn is_disk_full_code(code: Option<i32>) -> bool {
    matches!(code, Some(c) if DISK_FULL.contains(&c))
}

/// `SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_BELOW_NORMAL)`.
pub(super) fn background_thread() {
    use windows_sys::Win32::System::Threading::{
        GetCurrentThread, SetThreadPriority, THREAD_PRIORITY_BELOW_NORMAL,
    };
    // SAFETY: the pseudo-handle of the calling thread needs no closing.
    unsafe {
        SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_BELOW_NORMAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_roots_match_in_any_spelling() {
        assert!(same_folder(r"D:\", "d:"));
        assert!(same_folder(r"C:\Mounts\Card\", r"\\?\C:\mounts\card"));
        assert!(!same_folder(r"C:\", r"C:\Users"));
        assert!(same_folder(r"\\?\UNC\nas\shots\", r"\\NAS\shots"));
    }

    #[test]
    fn a_file_held_open_without_sharing_is_still_being_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("IMG_0001.CR3");
        let _writer = OpenOptions::new()
            .write(true)
            .create(true)
            .share_mode(0)
            .open(&path)
            .expect("create");
        let err = File::open(&path).expect_err("the writer shares nothing");
        assert!(super::super::is_still_being_written(&err), "{err:?}");
    }

    #[test]
    fn a_read_only_handle_is_not_what_sync_file_gets() {
        // FlushFileBuffers needs write access: the bug that stopped every backup.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a");
        std::fs::write(&path, b"x").expect("write");
        let writer = OpenOptions::new().write(true).open(&path).expect("open");
        sync_file(&writer).expect("a write handle syncs");
        let mut back = String::new();
        open_from_medium(&path)
            .expect("open")
            .read_to_string(&mut back)
            .expect("read");
        assert_eq!(back, "x");
    }

    #[test]
    fn rename_writes_through_and_never_replaces_a_long_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let deep = dir.path().join("d".repeat(120)).join("e".repeat(120));
        std::fs::create_dir_all(&deep).expect("mkdir");
        let (a, b) = (deep.join("a.partial"), deep.join("b.nef"));
        std::fs::write(&a, b"new").expect("write");
        std::fs::write(&b, b"old").expect("write");
        let err = rename_noreplace(&a, &b).expect_err("replaced");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&b).expect("read"), b"old");
        std::fs::remove_file(&b).expect("rm");
        rename_noreplace(&a, &b).expect("rename");
        assert_eq!(std::fs::read(&b).expect("read"), b"new");
    }
}
