//! The copy-and-verify core: read a source once, hash it in flight, write it to any number
//! of hidden `.partial` files, fsync them, read each back from disk, and only then rename
//! it into place without replacing anything. Ingest and backup both stand on this.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, sync_channel};

use crate::hash::{CHUNK, Hasher, hash_file};
use crate::platform;

/// The hidden name a file is written under until it is complete: `dir/.name.partial`.
pub fn partial_path(final_path: &Path) -> PathBuf {
    let name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    final_path.with_file_name(format!(".{name}.partial"))
}

/// Create `dir` and any missing parents, fsyncing each parent so the new entries survive a
/// power cut.
pub fn create_dirs(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {
            if let Some(parent) = dir.parent() {
                platform::sync_dir(parent)?;
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// One destination of a copy, written under its partial name.
#[derive(Debug)]
pub struct Sink {
    /// Where the file should end up.
    pub final_path: PathBuf,
    /// Where it is written meanwhile.
    pub partial: PathBuf,
    file: Option<File>,
    /// The first write error, after which this sink takes no more bytes.
    pub error: Option<io::Error>,
}

impl Sink {
    /// Create (or truncate a stale) partial file for `final_path`, creating folders.
    pub fn create(final_path: &Path) -> io::Result<Self> {
        if let Some(dir) = final_path.parent() {
            create_dirs(dir)?;
        }
        let partial = partial_path(final_path);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&partial)?;
        platform::prepare_write(&file);
        Ok(Self {
            final_path: final_path.to_path_buf(),
            partial,
            file: Some(file),
            error: None,
        })
    }

    /// True while writes succeed.
    pub fn healthy(&self) -> bool {
        self.error.is_none()
    }

    fn write(&mut self, bytes: &[u8]) {
        if let (Some(file), None) = (self.file.as_mut(), self.error.as_ref())
            && let Err(e) = file.write_all(bytes)
        {
            self.error = Some(e);
        }
    }

    /// fsync the data and close the file.
    pub fn seal(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        match self.file.take() {
            Some(file) => platform::sync_file(&file),
            None => Ok(()),
        }
    }

    /// Read the sealed partial back from disk and compare with `expected`.
    pub fn verify(&self, expected: &str) -> io::Result<Result<(), String>> {
        let (found, _) = hash_file(&self.partial, true)?;
        Ok(if found == expected {
            Ok(())
        } else {
            Err(found)
        })
    }

    /// Rename the partial into place without replacing anything, and fsync the folder.
    /// `AlreadyExists` means the final name is taken.
    pub fn commit_to(&self, final_path: &Path) -> io::Result<()> {
        platform::rename_noreplace(&self.partial, final_path)?;
        match final_path.parent() {
            Some(dir) => platform::sync_dir(dir),
            None => Ok(()),
        }
    }

    /// Remove the partial file (it is ours, never a photo).
    pub fn discard(mut self) {
        self.file.take();
        let _ = fs::remove_file(&self.partial);
    }
}

/// Chunks a writer may fall behind the reader; also the number of buffers in flight.
const DEPTH: usize = 4;

/// One chunk shared by every writer; its buffer goes back to the pool when the last
/// writer is done with it.
struct Chunk {
    buf: Option<Vec<u8>>,
    len: usize,
    pool: SyncSender<Vec<u8>>,
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            let _ = self.pool.try_send(buf);
        }
    }
}

/// Read `source` to its end once, hashing it, and write it to every healthy sink, each
/// sink on its own thread so that targets (usually separate drives) write in parallel
/// while the next chunks are read. `progress` hears the bytes read so far. A sink that
/// fails stops taking bytes (its error kept) while the others go on; a read error ends
/// the copy.
pub fn fan_out(
    source: &mut impl Read,
    sinks: &mut [Sink],
    mut progress: impl FnMut(u64),
) -> io::Result<(String, u64)> {
    let (pool_tx, pool_rx) = sync_channel::<Vec<u8>>(DEPTH + 1);
    for _ in 0..=DEPTH {
        let _ = pool_tx.try_send(vec![0u8; CHUNK]);
    }
    std::thread::scope(|scope| {
        let writers: Vec<SyncSender<Arc<Chunk>>> = sinks
            .iter_mut()
            .map(|sink| {
                let (tx, rx) = sync_channel::<Arc<Chunk>>(DEPTH);
                scope.spawn(move || {
                    for chunk in rx {
                        if let Some(buf) = &chunk.buf {
                            sink.write(&buf[..chunk.len]);
                        }
                    }
                });
                tx
            })
            .collect();
        let mut hasher = Hasher::new();
        let mut done = 0u64;
        while let Ok(mut buf) = pool_rx.recv() {
            let n = fill(source, &mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            let chunk = Arc::new(Chunk {
                buf: Some(buf),
                len: n,
                pool: pool_tx.clone(),
            });
            for writer in &writers {
                let _ = writer.send(chunk.clone());
            }
            drop(chunk);
            done += n as u64;
            progress(done);
            if n < CHUNK {
                break;
            }
        }
        Ok((hasher.finish_hex(), done))
    })
}

/// Read until `buf` is full or the source ends: whole chunks mean fewer, larger writes.
fn fill(source: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match source.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Size and modification time (ns since the epoch) of a file: what "unchanged" means.
pub fn stamp(meta: &fs::Metadata) -> (u64, i64) {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default();
    (meta.len(), mtime)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hash_bytes;
    use proptest::prelude::*;

    /// A reader that returns at most `step` bytes per call, to vary chunk boundaries.
    struct Dribble<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn every_sink_gets_the_exact_bytes_and_verifies(
            data in proptest::collection::vec(any::<u8>(), 0..300_000),
            step in 1usize..70_000,
            targets in 1usize..4,
        ) {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut sinks: Vec<Sink> = (0..targets)
                .map(|i| Sink::create(&dir.path().join(format!("t{i}/sub/f.raw"))).expect("sink"))
                .collect();
            let (hash, len) = fan_out(&mut Dribble { data: &data, step }, &mut sinks, |_| {}).expect("copy");
            prop_assert_eq!(&hash, &hash_bytes(&data));
            prop_assert_eq!(len, data.len() as u64);
            for mut sink in sinks {
                sink.seal().expect("seal");
                prop_assert_eq!(sink.verify(&hash).expect("read back"), Ok(()));
                let final_path = sink.final_path.clone();
                prop_assert!(!final_path.exists());
                sink.commit_to(&final_path).expect("commit");
                prop_assert_eq!(fs::read(&final_path).expect("read"), data.clone());
                prop_assert!(!partial_path(&final_path).exists());
            }
        }

        #[test]
        fn a_corrupted_copy_fails_verification(data in proptest::collection::vec(any::<u8>(), 1..5000), flip in any::<usize>()) {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut sinks = vec![Sink::create(&dir.path().join("f")).expect("sink")];
            let (hash, _) = fan_out(&mut data.as_slice(), &mut sinks, |_| {}).expect("copy");
            let mut sink = sinks.pop().expect("sink");
            sink.seal().expect("seal");
            let mut bytes = fs::read(&sink.partial).expect("read");
            let i = flip % bytes.len();
            bytes[i] ^= 0x40;
            fs::write(&sink.partial, &bytes).expect("corrupt");
            prop_assert!(sink.verify(&hash).expect("read back").is_err());
        }
    }

    #[test]
    fn a_taken_final_name_is_never_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("a.jpg");
        fs::write(&target, b"theirs").expect("write");
        let mut sinks = vec![Sink::create(&target).expect("sink")];
        fan_out(&mut &b"ours"[..], &mut sinks, |_| {}).expect("copy");
        let mut sink = sinks.pop().expect("sink");
        sink.seal().expect("seal");
        let err = sink.commit_to(&target).expect_err("taken");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&target).expect("read"), b"theirs");
        sink.discard();
        assert_eq!(fs::read_dir(dir.path()).expect("ls").count(), 1);
    }
}
