//! Copy one shot from the library to several targets: one read of the library file, each
//! copy written to a hidden partial, fsynced, read back from disk and compared, and only
//! then renamed into place without replacing anything.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::target::{Presence, Target};
use crate::copy::{Sink, create_dirs, fan_out};
use crate::hash::hash_file;
use crate::naming::with_suffix;

/// One copy to make.
#[derive(Debug, Clone)]
pub struct Dest {
    /// Target name.
    pub target: String,
    /// The target's folder.
    pub root: PathBuf,
    /// Offline unless a drive is mounted at `root`.
    pub require_mount: bool,
    /// Path inside it, `/`-separated.
    pub rel: String,
}

impl Dest {
    /// Whether the target is there right now, by the same probe the scheduler uses (a
    /// folder that exists is not enough: an unmounted drive leaves an empty mount point).
    pub fn present(&self) -> bool {
        matches!(
            Target::probe(&self.root, self.require_mount),
            Presence::Present { .. }
        )
    }
}

/// How one copy ended.
#[derive(Debug)]
pub enum Copied {
    /// On the target under `rel`, read back from disk as the expected hash.
    Verified {
        /// Path inside the target (the library path, or a suffixed one if that was taken).
        rel: String,
    },
    /// Read back from disk with another hash; the partial was removed.
    Mismatch {
        /// What was read back.
        found: String,
    },
    /// An I/O error; the partial was removed.
    Failed(io::Error),
}

/// Why nothing could be copied: the library file itself is unreadable or not what the
/// journal says it is.
#[derive(Debug)]
pub enum SourceProblem {
    /// Reading it failed.
    Io(io::Error),
    /// Its content no longer has the recorded hash.
    Changed {
        /// What it hashes to now.
        found: String,
    },
}

/// Copy `library_file` (which should hash to `expected`) to every dest. `progress` hears
/// the bytes read so far. Blocking.
pub fn copy_shot(
    library_file: &Path,
    expected: &str,
    dests: &[Dest],
    progress: impl FnMut(u64),
) -> Result<Vec<(String, Copied)>, SourceProblem> {
    let mut results = Vec::new();
    let mut sinks = Vec::new();
    let mut names = Vec::new();
    for dest in dests {
        match prepare(dest, expected) {
            Ok(Prepared::AlreadyThere(rel)) => {
                results.push((dest.target.clone(), Copied::Verified { rel }))
            }
            Ok(Prepared::Write(sink)) => {
                names.push(dest.clone());
                sinks.push(sink);
            }
            Err(e) => results.push((dest.target.clone(), Copied::Failed(e))),
        }
    }
    if sinks.is_empty() {
        return Ok(results);
    }
    let mut source = File::open(library_file).map_err(SourceProblem::Io)?;
    let (found, _) = match fan_out(&mut source, &mut sinks, progress) {
        Ok(done) => done,
        Err(e) => {
            sinks.into_iter().for_each(Sink::discard);
            return Err(SourceProblem::Io(e));
        }
    };
    if found != expected {
        sinks.into_iter().for_each(Sink::discard);
        return Err(SourceProblem::Changed { found });
    }
    // fsync and read back in parallel: each target is usually its own device.
    let finished: Vec<(String, Copied)> = std::thread::scope(|scope| {
        let handles: Vec<_> = sinks
            .into_iter()
            .zip(names)
            .map(|(sink, dest)| {
                scope.spawn(move || (dest.target.clone(), finish(sink, &dest, expected)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    (
                        String::new(),
                        Copied::Failed(io::Error::other("copy thread panicked")),
                    )
                })
            })
            .collect()
    });
    results.extend(finished);
    Ok(results)
}

enum Prepared {
    AlreadyThere(String),
    Write(Sink),
}

/// A copy already under the final name (a crash after the rename) with the right content
/// is adopted; a different file there is never touched, ours goes beside it.
fn prepare(dest: &Dest, expected: &str) -> io::Result<Prepared> {
    // The scheduler's view may be a tick old: look again right before writing anything.
    if !dest.present() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is offline", dest.root.display()),
        ));
    }
    let mut rel = dest.rel.clone();
    let mut n = 0;
    loop {
        let path = dest.root.join(&rel);
        if path.symlink_metadata().is_err() {
            break;
        }
        if path.is_file() && hash_file(&path, true).is_ok_and(|(h, _)| h == expected) {
            return Ok(Prepared::AlreadyThere(rel));
        }
        n += 1;
        rel = with_suffix(Path::new(&dest.rel), n)
            .to_string_lossy()
            .replace('\\', "/");
    }
    let final_path = dest.root.join(&rel);
    if let Some(dir) = final_path.parent() {
        create_dirs_below(dest, dir)?;
    }
    Sink::create(&final_path).map(Prepared::Write)
}

/// Create `dir` inside `root` but never `root` itself: if the drive vanished, its empty
/// mount point must stay empty.
fn create_dirs_below(dest: &Dest, dir: &Path) -> io::Result<()> {
    if !dest.present() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is offline", dest.root.display()),
        ));
    }
    create_dirs(dir)
}

fn finish(mut sink: Sink, dest: &Dest, expected: &str) -> Copied {
    if let Err(e) = sink.seal() {
        sink.discard();
        return Copied::Failed(e);
    }
    match sink.verify(expected) {
        Ok(Ok(())) => {}
        Ok(Err(found)) => {
            sink.discard();
            return Copied::Mismatch { found };
        }
        Err(e) => {
            sink.discard();
            return Copied::Failed(e);
        }
    }
    let mut rel = dest.rel.clone();
    let mut n = 0;
    loop {
        match sink.commit_to(&dest.root.join(&rel)) {
            Ok(()) => return Copied::Verified { rel },
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                n += 1;
                rel = with_suffix(Path::new(&dest.rel), n)
                    .to_string_lossy()
                    .replace('\\', "/");
            }
            Err(e) => {
                sink.discard();
                return Copied::Failed(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hash_bytes;

    fn dest(root: &Path, name: &str) -> Dest {
        Dest {
            target: name.into(),
            root: root.to_path_buf(),
            require_mount: false,
            rel: "2026/s/a.jpg".into(),
        }
    }

    #[test]
    fn an_empty_mount_point_is_never_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lib = dir.path().join("lib.jpg");
        std::fs::write(&lib, b"frame").expect("write");
        let mount_point = dir.path().join("drive");
        std::fs::create_dir(&mount_point).expect("empty mount point");
        let dest = Dest {
            require_mount: true,
            ..dest(&mount_point, "d")
        };
        let out = copy_shot(&lib, &hash_bytes(b"frame"), &[dest], |_| {}).expect("copy");
        assert!(matches!(out[0].1, Copied::Failed(_)));
        assert_eq!(
            std::fs::read_dir(&mount_point).expect("ls").count(),
            0,
            "wrote onto the system disk"
        );
    }

    #[test]
    fn copies_to_every_target_and_keeps_strangers_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lib = dir.path().join("lib.jpg");
        std::fs::write(&lib, b"frame").expect("write");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(b.join("2026/s")).expect("mkdir");
        std::fs::create_dir(&a).expect("mkdir");
        std::fs::write(b.join("2026/s/a.jpg"), b"stranger").expect("write");
        let out = copy_shot(
            &lib,
            &hash_bytes(b"frame"),
            &[dest(&a, "a"), dest(&b, "b")],
            |_| {},
        )
        .expect("copy");
        let rels: Vec<_> = out
            .iter()
            .map(|(t, c)| match c {
                Copied::Verified { rel } => format!("{t}:{rel}"),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(rels, ["a:2026/s/a.jpg", "b:2026/s/a-1.jpg"]);
        assert_eq!(
            std::fs::read(b.join("2026/s/a.jpg")).expect("read"),
            b"stranger"
        );
        assert_eq!(
            std::fs::read(b.join("2026/s/a-1.jpg")).expect("read"),
            b"frame"
        );
        // Copying again adopts the verified copies instead of writing more.
        let again = copy_shot(&lib, &hash_bytes(b"frame"), &[dest(&a, "a")], |_| {
            panic!("no read")
        })
        .expect("copy");
        assert!(matches!(&again[0].1, Copied::Verified { rel } if rel == "2026/s/a.jpg"));
    }

    #[test]
    fn a_vanished_target_is_not_recreated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lib = dir.path().join("lib.jpg");
        std::fs::write(&lib, b"frame").expect("write");
        let gone = dir.path().join("unplugged");
        let out =
            copy_shot(&lib, &hash_bytes(b"frame"), &[dest(&gone, "u")], |_| {}).expect("copy");
        assert!(matches!(out[0].1, Copied::Failed(_)));
        assert!(!gone.exists());
    }

    #[test]
    fn a_changed_library_file_copies_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lib = dir.path().join("lib.jpg");
        std::fs::write(&lib, b"rotted").expect("write");
        let a = dir.path().join("a");
        std::fs::create_dir(&a).expect("mkdir");
        let err =
            copy_shot(&lib, &hash_bytes(b"frame"), &[dest(&a, "a")], |_| {}).expect_err("changed");
        assert!(matches!(err, SourceProblem::Changed { .. }));
        assert!(!crate::copy::partial_path(&a.join("2026/s/a.jpg")).exists());
    }
}
