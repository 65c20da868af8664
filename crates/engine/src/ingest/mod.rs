//! Ingest: a complete source file becomes a shot in the library (the primary copy).
//!
//! The order is what makes a crash harmless: the shot and its library name are committed
//! to the journal first; then the file is copied to a hidden partial name while hashed,
//! fsynced, checked against a duplicate in the library, renamed into place without
//! replacing anything, and finally marked stored together with its backup jobs. A restart
//! finds the reservation and finishes under the same name, so nothing is copied twice
//! under two names.
//!
//! - this module: one candidate into the library ([`Ingest::ingest`]): the journal's side
//!   (reservation, duplicate, stored, events).
//! - `place`: the file itself into the library, copied or moved from the camera's spool.
//! - [`queue`]: the queue every source feeds, with retries and the disk-full alert.

mod place;
pub mod queue;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Local};
use shotline_protocol::{Event, ShotCaptured, ShotSource, ShotStored};

use crate::copy::stamp;
use crate::hash::hash_file;
use crate::journal::{Journal, NewShot, Shot, ShotState};
use crate::naming::{Fields, Template};
use crate::{Bus, Error, Result};

/// How often a file that changes during its copy is copied again before we wait for it.
const COPY_TRIES: usize = 3;

/// A complete file offered by a source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// The file.
    pub path: PathBuf,
    /// Path relative to the hot folder (`/`-separated), or the camera's file name.
    pub original: String,
    /// The camera model, or the hot folder's name.
    pub camera: String,
    /// Where it came from.
    pub source: ShotSource,
}

/// What became of a candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// This version of the file was already handled.
    Known,
    /// Now in the library.
    Stored(Shot),
    /// Its content was already in the library.
    Duplicate(Shot),
    /// The file vanished before it could be copied.
    Gone,
}

/// The ingest stage of one library and session.
#[derive(Debug, Clone)]
pub struct Ingest {
    journal: Arc<Journal>,
    library: PathBuf,
    template: Template,
    session: crate::session::Session,
    targets: Vec<String>,
    bus: Bus,
    stationery: Stationery,
}

/// The studio's metadata for every frame's sidecar, and how sidecars are named.
#[derive(Debug, Clone, Default)]
pub struct Stationery {
    /// What to write (nothing when empty).
    pub metadata: crate::config::Metadata,
    /// How a frame's sidecar is named.
    pub naming: crate::sidecar::Naming,
}

impl Ingest {
    /// An ingest stage writing into `library`, creating jobs for `targets`.
    pub fn new(
        journal: Arc<Journal>,
        library: PathBuf,
        template: Template,
        session: crate::session::Session,
        targets: Vec<String>,
        bus: Bus,
    ) -> Self {
        Self {
            journal,
            library,
            template,
            session,
            targets,
            bus,
            stationery: Stationery::default(),
        }
    }

    /// With the studio's metadata written into each frame's sidecar.
    pub fn with_stationery(mut self, stationery: Stationery) -> Self {
        self.stationery = stationery;
        self
    }

    /// Bring one candidate into the library. Blocking: call from a blocking thread.
    /// Errors are worth retrying later ([`Error::is_retryable`]) unless they are not.
    pub fn ingest(&self, candidate: &Candidate) -> Result<Outcome> {
        let key = candidate.path.to_string_lossy().into_owned();
        let meta = match std::fs::metadata(&candidate.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(shot) = self.journal.find_ingesting(&key)? {
                    // A camera download moved into the library just before a crash.
                    if candidate.source == ShotSource::Camera
                        && let Some(rel) = shot.rel_path.clone()
                        && let Ok((hash, size)) = hash_file(&self.library.join(&rel), true)
                    {
                        return self.finish(&shot, &rel, size, &hash, &candidate.camera);
                    }
                    self.journal.mark_shot_failed(
                        shot.id,
                        "the source file vanished before it was copied",
                    )?;
                }
                return Ok(Outcome::Gone);
            }
            Err(e) => return Err(Error::io(&candidate.path, e)),
        };
        let (size, mtime) = stamp(&meta);
        if let Some(shot) = self.journal.find_source(&key, size, mtime)?
            && shot.state != ShotState::Ingesting
        {
            return Ok(Outcome::Known);
        }
        let shot = match self.journal.find_ingesting(&key)? {
            Some(shot) => {
                if (shot.source_size, shot.source_mtime_ns) != (size, mtime) {
                    self.journal.update_source(shot.id, size, mtime)?;
                }
                shot
            }
            None => {
                let start = std::time::Instant::now();
                let shot = self.reserve(candidate, &key, size, mtime, &meta)?;
                tracing::debug!(
                    "ingest: {} reserved in {:.1} ms",
                    candidate.original,
                    start.elapsed().as_secs_f64() * 1e3
                );
                shot
            }
        };
        match self.store(candidate, &shot) {
            Ok(outcome) => Ok(outcome),
            Err(e) => {
                self.journal.note_shot_error(shot.id, &e.to_string())?;
                Err(e)
            }
        }
    }

    fn reserve(
        &self,
        c: &Candidate,
        key: &str,
        size: u64,
        mtime: i64,
        meta: &std::fs::Metadata,
    ) -> Result<Shot> {
        // The camera's own word first (EXIF), then the file system's.
        let capture = crate::metadata::read(&c.path);
        let (date, time) = match capture.taken {
            Some(taken) => (
                taken.format("%Y-%m-%d").to_string(),
                taken.format("%H%M%S").to_string(),
            ),
            None => {
                let when: DateTime<Local> = meta
                    .modified()
                    .map(DateTime::from)
                    .unwrap_or_else(|_| Local::now());
                (
                    when.format("%Y-%m-%d").to_string(),
                    when.format("%H%M%S").to_string(),
                )
            }
        };
        let camera = capture.model.unwrap_or_else(|| c.camera.clone());
        let session = self.session.current();
        let new = NewShot {
            session: &session,
            source: c.source,
            source_path: key,
            size,
            mtime_ns: mtime,
            original: &c.original,
        };
        let placed = std::cell::RefCell::new(None);
        let shot = self.journal.reserve(
            &new,
            |seq, slot| {
                *placed.borrow_mut() = Some(slot.clone());
                let fields = Fields {
                    date: &date,
                    time: &time,
                    session: &session,
                    camera: &camera,
                    seq,
                    original: &c.original,
                    slot: Some(slot),
                };
                rel_string(&self.template.render(&fields))
            },
            |rel| self.library.join(rel).symlink_metadata().is_ok(),
        )?;
        self.bus.publish(Event::ShotCaptured(ShotCaptured {
            shot_id: shot.id,
            session: shot.session.clone(),
            source: c.source,
            original: c.original.clone(),
            size,
            item: placed
                .into_inner()
                .filter(|slot| slot.code != crate::shotlist::UNSORTED)
                .map(|slot| shotline_protocol::ShotItem {
                    code: slot.code,
                    name: slot.item,
                    view: slot.view,
                    n: slot.n,
                }),
        }));
        Ok(shot)
    }

    fn duplicate(&self, shot: &Shot, size: u64, hash: &str, first: &Shot) -> Result<Outcome> {
        self.journal.mark_duplicate(shot.id, size, hash, first.id)?;
        self.publish_stored(
            shot,
            first.rel_path.as_deref().unwrap_or_default(),
            size,
            hash,
            Some(first.id),
        );
        let shot = self.journal.shot(shot.id)?.unwrap_or_else(|| shot.clone());
        Ok(Outcome::Duplicate(shot))
    }

    fn finish(
        &self,
        shot: &Shot,
        rel: &str,
        size: u64,
        hash: &str,
        camera: &str,
    ) -> Result<Outcome> {
        // Before the frame counts as stored: a crash in between finishes it again, and
        // the sidecar with it.
        self.write_stationery(shot, rel, camera);
        self.journal
            .mark_stored(shot.id, size, hash, &self.targets)?;
        self.publish_stored(shot, rel, size, hash, None);
        let shot = self.journal.shot(shot.id)?.unwrap_or_else(|| shot.clone());
        Ok(Outcome::Stored(shot))
    }

    /// The studio's metadata into the sidecar of the library file `rel` (`camera`: the
    /// camera or hot folder it came from, when its EXIF does not say); a sidecar that
    /// cannot be written is told, and the frame is stored all the same.
    fn write_stationery(&self, shot: &Shot, rel: &str, camera: &str) {
        let s = &self.stationery;
        // The session's own metadata over the studio's.
        let mut metadata = s.metadata.clone();
        match self.journal.session_meta(&shot.session) {
            Ok(pairs) => {
                for (key, value) in pairs {
                    if let Err(e) = metadata.set(&key, &value) {
                        tracing::warn!("session metadata {key}: {e}");
                    }
                }
            }
            Err(e) => tracing::warn!("reading the session's metadata: {e}"),
        }
        if metadata.is_empty() {
            return;
        }
        let file = self.library.join(rel);
        let ctx = crate::stationery::Context::of(&file, &shot.session, camera);
        let fields = crate::stationery::fields(&metadata, &ctx);
        let sidecar = s.naming.path(&file);
        if let Err(e) = crate::sidecar::write_fields(&sidecar, &fields) {
            self.bus.notify(
                shotline_protocol::Level::Warning,
                "metadata",
                "The studio's metadata was not written",
                format!(
                    "{}: {e}. The frame itself is stored and backed up.",
                    sidecar.display()
                ),
            );
        }
    }

    fn publish_stored(
        &self,
        shot: &Shot,
        rel: &str,
        size: u64,
        hash: &str,
        duplicate_of: Option<i64>,
    ) {
        self.bus.publish(Event::ShotStored(ShotStored {
            shot_id: shot.id,
            session: shot.session.clone(),
            path: rel.to_string(),
            size,
            hash: hash.to_string(),
            duplicate_of,
        }));
    }

    /// Shots a previous run left unfinished, as candidates to finish under their
    /// reserved names.
    pub fn unfinished(&self) -> Result<Vec<Candidate>> {
        Ok(self
            .journal
            .shots_in(ShotState::Ingesting)?
            .into_iter()
            .map(|shot| Candidate {
                path: PathBuf::from(&shot.source_path),
                original: shot.original,
                camera: String::new(),
                source: shot.source,
            })
            .collect())
    }
}

/// A relative path as the journal stores it: `/`-separated on every platform.
pub fn rel_string(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::tests::tiff_with_exif;

    #[test]
    fn camera_and_capture_time_come_from_exif_else_from_the_folder_and_mtime() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (hot, library) = (dir.path().join("Studio A"), dir.path().join("lib"));
        std::fs::create_dir_all(&hot).expect("mkdir");
        let journal = Arc::new(Journal::open(&dir.path().join("j.sqlite")).expect("journal"));
        let template = Template::parse("{camera}/{date}/{time}-{name}").expect("template");
        let ingest = Ingest::new(
            journal,
            library.clone(),
            template,
            "s".into(),
            vec![],
            Bus::new(),
        );
        let candidate = |name: &str| Candidate {
            path: hot.join(name),
            original: name.into(),
            camera: "Studio A".into(),
            source: ShotSource::HotFolder,
        };

        std::fs::write(
            hot.join("DSC_0001.NEF"),
            tiff_with_exif("NIKON D750", "2024:05:06 07:08:09"),
        )
        .expect("raw");
        let Outcome::Stored(shot) = ingest.ingest(&candidate("DSC_0001.NEF")).expect("ingest")
        else {
            panic!("not stored")
        };
        assert_eq!(
            shot.rel_path.as_deref(),
            Some("NIKON D750/2024-05-06/070809-DSC_0001.NEF")
        );

        std::fs::write(hot.join("plain.jpg"), b"no exif here").expect("jpg");
        let Outcome::Stored(shot) = ingest.ingest(&candidate("plain.jpg")).expect("ingest") else {
            panic!("not stored")
        };
        let rel = shot.rel_path.unwrap_or_default();
        let today = chrono::Local::now().format("%Y-%m-%d").to_string();
        assert!(
            rel.starts_with(&format!("Studio A/{today}/")) && rel.ends_with("-plain.jpg"),
            "{rel}"
        );
        assert_eq!(
            std::fs::read(library.join(&rel)).expect("stored"),
            b"no exif here"
        );
    }
}
