//! The file of a reserved shot into the library under its reserved name: copied from a
//! hot folder (to a hidden partial name while hashed, re-checked against a changing
//! source, fsynced, renamed without replacing anything), or, for a camera download already
//! fsynced in the spool on the library's disk, hashed and renamed into place. A copy left
//! under the reserved name by a crash is adopted when it is the same content.

use std::fs::File;
use std::path::Path;

use shotline_protocol::ShotSource;

use super::{COPY_TRIES, Candidate, Ingest, Outcome};
use crate::copy::{Sink, fan_out, stamp};
use crate::error::IoContext;
use crate::hash::hash_file;
use crate::journal::Shot;
use crate::{Error, Result};

impl Ingest {
    pub(super) fn store(&self, c: &Candidate, shot: &Shot) -> Result<Outcome> {
        let mut rel = shot.rel_path.clone().unwrap_or_default();
        // A crash after the rename but before the journal heard of it leaves our copy
        // under the reserved name: adopt it if it is the same content, else move aside.
        let existing = self.library.join(&rel);
        if existing.symlink_metadata().is_ok() {
            let (theirs, _) = hash_file(&existing, true).at(&existing)?;
            let (ours, size) = hash_file(&c.path, false).at(&c.path)?;
            if theirs == ours {
                return self.finish(shot, &rel, size, &ours, &c.camera);
            }
            rel = self.journal.rereserve(shot.id, &rel, |r| {
                self.library.join(r).symlink_metadata().is_ok()
            })?;
        }
        if c.source == ShotSource::Camera
            && let Some(outcome) = self.move_download(c, shot, &rel)?
        {
            return Ok(outcome);
        }
        let (mut sink, hash, size) = self.copy_stable(c, &self.library.join(&rel))?;
        if let Some(first) = self.journal.find_stored_by_hash(&hash)? {
            sink.discard();
            return self.duplicate(shot, size, &hash, &first);
        }
        sink.seal().at(&sink.partial.clone())?;
        loop {
            let final_path = self.library.join(&rel);
            match sink.commit_to(&final_path) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    rel = self.journal.rereserve(shot.id, &rel, |r| {
                        self.library.join(r).symlink_metadata().is_ok()
                    })?;
                }
                Err(e) => {
                    let partial = sink.partial.clone();
                    sink.discard();
                    return Err(Error::io(partial, e));
                }
            }
        }
        self.finish(shot, &rel, size, &hash, &c.camera)
    }

    /// Copy to a partial file, re-checking the source's size and mtime around the copy and
    /// copying again if it changed underneath.
    fn copy_stable(&self, c: &Candidate, final_path: &Path) -> Result<(Sink, String, u64)> {
        for _ in 0..COPY_TRIES {
            let mut source = File::open(&c.path).at(&c.path)?;
            let before = stamp(&source.metadata().at(&c.path)?);
            let mut sinks = vec![Sink::create(final_path).at(final_path)?];
            let copied = fan_out(&mut source, &mut sinks, |_| {});
            let mut sink = sinks.pop().unwrap_or_else(|| unreachable!("one sink"));
            let (hash, size) = match copied {
                Ok(done) => done,
                Err(e) => {
                    sink.discard();
                    return Err(Error::io(&c.path, e));
                }
            };
            if let Some(e) = sink.error.take() {
                sink.discard();
                return Err(Error::io(final_path, e));
            }
            let after = std::fs::metadata(&c.path).map(|m| stamp(&m)).at(&c.path)?;
            if before == after && size == after.0 {
                return Ok((sink, hash, size));
            }
            sink.discard();
        }
        Err(Error::Unstable(c.path.clone()))
    }

    /// A camera download is already a complete, fsynced file on the library's disk (the
    /// spool): hash it and rename it into place instead of copying it. `None` when the
    /// rename cannot cross to the library's folder (another file system): copy then.
    fn move_download(&self, c: &Candidate, shot: &Shot, rel: &str) -> Result<Option<Outcome>> {
        let start = std::time::Instant::now();
        let (hash, size) = hash_file(&c.path, false).at(&c.path)?;
        let hashed = std::time::Instant::now();
        if let Some(first) = self.journal.find_stored_by_hash(&hash)? {
            return self.duplicate(shot, size, &hash, &first).map(Some);
        }
        let mut rel = rel.to_string();
        loop {
            let final_path = self.library.join(&rel);
            let dir = final_path.parent().unwrap_or(&self.library).to_path_buf();
            crate::copy::create_dirs(&dir).at(&dir)?;
            match crate::platform::rename_noreplace(&c.path, &final_path) {
                Ok(()) => {
                    crate::platform::sync_dir(&dir).at(&dir)?;
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    rel = self.journal.rereserve(shot.id, &rel, |r| {
                        self.library.join(r).symlink_metadata().is_ok()
                    })?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => return Ok(None),
                Err(e) => return Err(Error::io(&c.path, e)),
            }
        }
        let moved = std::time::Instant::now();
        let outcome = self.finish(shot, &rel, size, &hash, &c.camera)?;
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        tracing::debug!(
            "ingest: {} moved in from the spool in {:.1} ms (hash {:.1}, rename and folder fsync {:.1}, journal {:.1})",
            c.original,
            ms(start.elapsed()),
            ms(hashed - start),
            ms(moved - hashed),
            ms(moved.elapsed()),
        );
        Ok(Some(outcome))
    }
}
