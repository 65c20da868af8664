//! `shotline verify`: re-read every recorded copy from disk — the library and each
//! target's — and compare its hash with the journal's.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::hash::hash_file;
use crate::journal::{JobState, Journal, ShotState};
use crate::{Config, Result};

/// One copy that is not what the journal says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `library` or the target's name.
    pub place: String,
    /// The file.
    pub path: PathBuf,
    /// What is wrong: `missing`, `mismatch` or `unreadable`.
    pub kind: &'static str,
    /// Details (the hash found, the error).
    pub detail: String,
}

/// What a verification found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    /// Copies re-read and matched.
    pub ok: u64,
    /// Copies that are missing or differ.
    pub problems: Vec<Problem>,
}

/// Verify the library and every target (or only `target`). `progress` hears each file as
/// it is checked. Errors only if the journal cannot be read or the target is unknown.
pub fn verify(
    config: &Config,
    journal: &Journal,
    target: Option<&str>,
    mut progress: impl FnMut(&Path),
) -> Result<Verification> {
    let mut out = Verification::default();
    let mut check = |place: &str, path: PathBuf, expected: &str, out: &mut Verification| {
        progress(&path);
        match hash_file(&path, true) {
            Ok((found, _)) if found == expected => out.ok += 1,
            Ok((found, _)) => out.problems.push(Problem {
                place: place.into(),
                path,
                kind: "mismatch",
                detail: format!("read {found}, recorded {expected}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => out.problems.push(Problem {
                place: place.into(),
                path,
                kind: "missing",
                detail: String::new(),
            }),
            Err(e) => out.problems.push(Problem {
                place: place.into(),
                path,
                kind: "unreadable",
                detail: e.to_string(),
            }),
        }
    };
    if target.is_none() {
        for shot in journal.shots_in(ShotState::Stored)? {
            let (Some(rel), Some(hash)) = (shot.rel_path, shot.hash) else {
                continue;
            };
            check("library", config.library.path.join(rel), &hash, &mut out);
        }
    }
    for job in journal.jobs(target)? {
        if job.state != JobState::Verified {
            continue;
        }
        let Some(backup) = config.backup.iter().find(|b| b.name == job.target) else {
            continue;
        };
        let rel = job.rel_path.unwrap_or(job.shot_path);
        check(&job.target, backup.path.join(rel), &job.hash, &mut out);
    }
    Ok(out)
}
