//! Sealing: one ASC MHL generation per root — the library and every backup target — that
//! lists the copies verified since the root's last generation, with the hashes the
//! journal already holds (nothing is read again). Run at session end, on `shotline seal`,
//! and every `seal_every` while frames arrive; a target that is offline is skipped and
//! gets its generation once it is back.

use std::path::PathBuf;

use chrono::{DateTime, Local};

use super::ProofError;
use super::history::{FOLDER, History};
use super::mhl::{Action, Generation, HashEntry};
use crate::Config;
use crate::backup::target::{Presence, Target};
use crate::journal::Journal;

/// Ignore patterns of every generation: the reference tool's defaults, Shotline's own
/// folder and partial files, and what file systems add by themselves.
pub const IGNORE: &[&str] = &[
    ".DS_Store",
    "ascmhl",
    "ascmhl/",
    ".shotline/",
    "*.partial",
    "._*",
    "Thumbs.db",
];

/// The journal's key of the library root.
pub const LIBRARY: &str = "";

/// A root that gets a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// The journal's key: [`LIBRARY`] or the target's name.
    pub key: String,
    /// `library` or the target's name, for people.
    pub label: String,
    /// Its folder.
    pub path: PathBuf,
    /// A drive that must be mounted to count as there.
    pub require_mount: bool,
}

/// The library and every backup target of `config`.
pub fn roots(config: &Config) -> Vec<Root> {
    let mut roots = vec![Root {
        key: LIBRARY.into(),
        label: "library".into(),
        path: config.library.path.clone(),
        require_mount: false,
    }];
    roots.extend(config.backup.iter().map(|b| Root {
        key: b.name.clone(),
        label: b.name.clone(),
        path: b.path.clone(),
        require_mount: b.require_mount,
    }));
    roots
}

/// A generation written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sealed {
    /// `library` or the target's name.
    pub root: String,
    /// The generation's number.
    pub generation: u32,
    /// Its file, under the root.
    pub file: PathBuf,
    /// Frames it lists.
    pub frames: usize,
}

/// What a seal of every root did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Generations written.
    pub sealed: Vec<Sealed>,
    /// Roots with nothing new.
    pub unchanged: Vec<String>,
    /// Roots not there now (a drive unplugged): sealed when they are back.
    pub offline: Vec<String>,
    /// Roots whose history cannot be trusted, or that could not be written.
    pub failed: Vec<(String, ProofError)>,
}

/// Who sealed, for the creator info.
#[derive(Debug, Clone)]
pub struct Creator {
    /// The studio id.
    pub studio: String,
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn local(ms: i64) -> DateTime<Local> {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&Local)
}

/// Seal every root of `config` that has copies verified since its last generation. One
/// sealer at a time (a lock in the library's `.shotline/`).
pub fn seal_all(config: &Config, journal: &Journal) -> Outcome {
    let creator = Creator {
        studio: config.studio.id.clone(),
    };
    let mut outcome = Outcome::default();
    let lock_path = journal
        .path()
        .parent()
        .map(|d| d.join("seal.lock"))
        .unwrap_or_else(|| PathBuf::from("seal.lock"));
    let lock = std::fs::File::create(&lock_path).and_then(|f| f.lock().map(|()| f));
    let _lock = match lock {
        Ok(lock) => lock,
        Err(e) => {
            outcome
                .failed
                .push(("library".into(), ProofError::io(&lock_path, e)));
            return outcome;
        }
    };
    for root in roots(config) {
        if matches!(
            Target::probe(&root.path, root.require_mount),
            Presence::Absent(_)
        ) {
            outcome.offline.push(root.label);
            continue;
        }
        match seal_root(journal, &root, &creator) {
            Ok(Some(sealed)) => outcome.sealed.push(sealed),
            Ok(None) => outcome.unchanged.push(root.label),
            Err(e) => outcome.failed.push((root.label, e)),
        }
    }
    outcome
}

/// Seal one root: a generation of what was verified there since the last one; `None`
/// when there is nothing new. Call it under [`seal_all`]'s lock.
pub fn seal_root(
    journal: &Journal,
    root: &Root,
    creator: &Creator,
) -> Result<Option<Sealed>, ProofError> {
    let unsealed = journal.unsealed(&root.key)?;
    if unsealed.is_empty() {
        return Ok(None);
    }
    let mut history = History::load(&root.path)?;
    let mut sessions: Vec<&str> = unsealed.iter().map(|u| u.session.as_str()).collect();
    sessions.sort_unstable();
    sessions.dedup();
    let hashes: Vec<HashEntry> = unsealed
        .iter()
        .map(|u| HashEntry {
            path: u.rel_path.clone(),
            size: u.size,
            // A stat, not a read: the hash is the journal's, taken when the copy was verified.
            modified: std::fs::metadata(root.path.join(&u.rel_path))
                .and_then(|m| m.modified())
                .ok()
                .map(DateTime::<Local>::from),
            xxh128: u.hash.clone(),
            action: if history.knows(&u.rel_path) {
                Action::Verified
            } else {
                Action::Original
            },
            hashdate: local(u.verified_ms),
        })
        .collect();
    let generation = Generation {
        number: history.next_number(),
        created: Local::now(),
        hostname: hostname(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        location: Some(creator.studio.clone()),
        comment: Some(format!(
            "Shotline proof of backup of the {}: studio {}, {} {}, {} frame(s)",
            root.label,
            creator.studio,
            if sessions.len() == 1 {
                "session"
            } else {
                "sessions"
            },
            sessions.join(", "),
            unsealed.len()
        )),
        ignore: IGNORE.iter().map(|p| p.to_string()).collect(),
        hashes,
    };
    let file = history.append(&generation)?;
    let shots: Vec<i64> = unsealed.iter().map(|u| u.shot_id).collect();
    journal.record_seal(&root.key, generation.number, &file, &shots)?;
    tracing::info!(
        "sealed {} frame(s) of the {} into {FOLDER}/{file}",
        shots.len(),
        root.label
    );
    Ok(Some(Sealed {
        root: root.label.clone(),
        generation: generation.number,
        file: PathBuf::from(FOLDER).join(file),
        frames: shots.len(),
    }))
}
