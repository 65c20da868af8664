//! `shotline verify --repair`: every copy re-read from disk, and what is wrong put right.
//!
//! - A backup copy that is missing or damaged is copied again from the library (once the
//!   library's copy is read back and matches the journal) and verified from disk.
//! - A library copy that is damaged or missing is restored from a backup copy that reads
//!   back right.
//! - A damaged file is moved aside into its root's `.shotline/damaged/` (outside the ASC MHL
//!   history, never deleted), never overwritten.
//!
//! Every action is recorded in the journal (the transfer report lists it), told as events
//! through the journal's outbox (a running engine delivers them to the relay), and the
//! copies made go into their roots' next ASC MHL generation.

use std::path::{Path, PathBuf};

use serde::Serialize;
use shotline_protocol::{BackupVerified, Event, Level, Notification};

use super::ProofError;
use super::seal::LIBRARY;
use crate::Config;
use crate::copy::{Sink, fan_out};
use crate::hash::hash_file;
use crate::journal::Journal;
use crate::verify::{Problem, Verification, verify};

/// One thing a repair did or could not do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    /// `library` or the target's name.
    pub place: String,
    /// The copy.
    pub path: PathBuf,
    /// `recopied`, `restored`, `moved_aside` or `failed`.
    pub action: &'static str,
    /// What happened.
    pub detail: String,
}

/// What `verify --repair` found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Repaired {
    /// The verification before repairing.
    pub found: Verification,
    /// Everything done, in order.
    pub actions: Vec<Action>,
}

impl Repaired {
    /// True when every problem was put right.
    pub fn complete(&self) -> bool {
        !self.actions.iter().any(|a| a.action == "failed")
    }
}

/// Where a damaged file goes: `<root>/.shotline/damaged/<rel>.<ms>`.
fn aside(root: &Path, rel: &str) -> PathBuf {
    root.join(".shotline")
        .join("damaged")
        .join(format!("{rel}.{}", crate::journal::now_ms()))
}

/// Copy `from` to `to` (not there yet): partial, fsync, read back, rename without replace.
fn copy_verified(from: &Path, to: &Path, hash: &str) -> std::io::Result<Result<(), String>> {
    let mut source = std::fs::File::open(from)?;
    let mut sinks = vec![Sink::create(to)?];
    let (read, _) = fan_out(&mut source, &mut sinks, |_| {})?;
    let mut sink = sinks.remove(0);
    if read != hash {
        sink.discard();
        return Ok(Err(format!("{} reads {read}, not {hash}", from.display())));
    }
    sink.seal()?;
    if let Err(found) = sink.verify(hash)? {
        sink.discard();
        return Ok(Err(format!("the new copy read back as {found}")));
    }
    sink.commit_to(to)?;
    Ok(Ok(()))
}

/// Move a damaged file aside (never delete it); where it went.
fn move_aside(root: &Path, rel: &str, path: &Path) -> std::io::Result<PathBuf> {
    let to = aside(root, rel);
    if let Some(dir) = to.parent() {
        crate::copy::create_dirs(dir)?;
    }
    crate::platform::rename_noreplace(path, &to)?;
    Ok(to)
}

struct Ctx<'a> {
    config: &'a Config,
    journal: &'a Journal,
    out: Repaired,
    events: Vec<Event>,
}

impl Ctx<'_> {
    fn note(&mut self, shot: i64, place: &str, path: &Path, action: &'static str, detail: String) {
        let _ = self.journal.record_repair(shot, place, action, &detail);
        self.out.actions.push(Action {
            place: place.into(),
            path: path.to_path_buf(),
            action,
            detail,
        });
    }

    fn root_of(&self, place: &str) -> Option<PathBuf> {
        if place == "library" {
            return Some(self.config.library.path.clone());
        }
        self.config
            .backup
            .iter()
            .find(|b| b.name == place)
            .map(|b| b.path.clone())
    }
}

/// Verify every copy and repair what is wrong; `progress` hears each file checked.
pub fn repair(
    config: &Config,
    journal: &Journal,
    progress: impl FnMut(&Path),
) -> Result<Repaired, ProofError> {
    let found = verify(config, journal, None, progress)?;
    let mut ctx = Ctx {
        config,
        journal,
        out: Repaired::default(),
        events: Vec::new(),
    };
    // The library first: backups are copied again from it.
    let (library, backups): (Vec<&Problem>, Vec<&Problem>) =
        found.problems.iter().partition(|p| p.place == "library");
    for problem in library {
        repair_library(&mut ctx, problem)?;
    }
    for problem in backups {
        repair_backup(&mut ctx, problem)?;
    }
    ctx.out.found = found;
    tell(&ctx)?;
    Ok(ctx.out)
}

/// The journal's record of the copy at `problem.path`: (shot, its path in its root, the
/// shot's path in the library, hash).
fn record(
    ctx: &Ctx<'_>,
    problem: &Problem,
) -> Result<Option<(i64, String, String, String)>, ProofError> {
    let Some(root) = ctx.root_of(&problem.place) else {
        return Ok(None);
    };
    let Ok(rel) = problem.path.strip_prefix(&root) else {
        return Ok(None);
    };
    let rel = rel.to_string_lossy().replace('\\', "/");
    let key = if problem.place == "library" {
        LIBRARY
    } else {
        problem.place.as_str()
    };
    Ok(ctx
        .journal
        .copy_at(key, &rel)?
        .map(|(shot, library_rel, hash)| (shot, rel, library_rel, hash)))
}

fn repair_library(ctx: &mut Ctx<'_>, problem: &Problem) -> Result<(), ProofError> {
    let Some((shot, rel, _, hash)) = record(ctx, problem)? else {
        return Ok(());
    };
    let library = ctx.config.library.path.clone();
    let mut sources: Vec<(String, PathBuf)> = Vec::new();
    for b in &ctx.config.backup {
        let on_target = ctx
            .journal
            .copy_path(&b.name, shot)?
            .unwrap_or_else(|| rel.clone());
        let path = b.path.join(on_target);
        if hash_file(&path, true).is_ok_and(|(h, _)| h == hash) {
            sources.push((b.name.clone(), path));
        }
    }
    let Some((from_name, from)) = sources.first().cloned() else {
        ctx.note(
            shot,
            "library",
            &problem.path,
            "failed",
            format!(
                "{} is {} and no backup copy reads back right: nothing to restore it from",
                rel, problem.kind
            ),
        );
        return Ok(());
    };
    if problem.path.exists() {
        match move_aside(&library, &rel, &problem.path) {
            Ok(to) => ctx.note(
                shot,
                "library",
                &problem.path,
                "moved_aside",
                format!(
                    "the damaged copy ({}) is kept at {}",
                    problem.detail,
                    to.display()
                ),
            ),
            Err(e) => {
                ctx.note(
                    shot,
                    "library",
                    &problem.path,
                    "failed",
                    format!("cannot move the damaged copy aside: {e}"),
                );
                return Ok(());
            }
        }
    }
    match copy_verified(&from, &problem.path, &hash) {
        Ok(Ok(())) => {
            ctx.note(
                shot,
                "library",
                &problem.path,
                "restored",
                format!("restored from {from_name} and verified from disk"),
            );
            let _ = ctx.journal.unseal(LIBRARY, shot);
        }
        Ok(Err(why)) => ctx.note(shot, "library", &problem.path, "failed", why),
        Err(e) => ctx.note(
            shot,
            "library",
            &problem.path,
            "failed",
            format!("restoring from {from_name}: {e}"),
        ),
    }
    Ok(())
}

fn repair_backup(ctx: &mut Ctx<'_>, problem: &Problem) -> Result<(), ProofError> {
    let Some((shot, rel, library_rel, hash)) = record(ctx, problem)? else {
        return Ok(());
    };
    let (Some(root), library) = (
        ctx.root_of(&problem.place),
        ctx.config.library.path.join(&library_rel),
    ) else {
        return Ok(());
    };
    if !hash_file(&library, true).is_ok_and(|(h, _)| h == hash) {
        ctx.note(shot, &problem.place, &problem.path, "failed", format!(
            "the library's copy of {rel} does not read back right either; repair the library first"
        ));
        return Ok(());
    }
    if problem.path.exists() {
        match move_aside(&root, &rel, &problem.path) {
            Ok(to) => ctx.note(
                shot,
                &problem.place,
                &problem.path,
                "moved_aside",
                format!(
                    "the damaged copy ({}) is kept at {}",
                    problem.detail,
                    to.display()
                ),
            ),
            Err(e) => {
                ctx.note(
                    shot,
                    &problem.place,
                    &problem.path,
                    "failed",
                    format!("cannot move the damaged copy aside: {e}"),
                );
                return Ok(());
            }
        }
    }
    match copy_verified(&library, &problem.path, &hash) {
        Ok(Ok(())) => {
            ctx.note(
                shot,
                &problem.place,
                &problem.path,
                "recopied",
                "copied again from the library and verified from disk".into(),
            );
            let _ = ctx.journal.unseal(&problem.place, shot);
            ctx.events.push(Event::BackupVerified(BackupVerified {
                shot_id: shot,
                target: problem.place.clone(),
                path: rel,
                hash,
            }));
        }
        Ok(Err(why)) => ctx.note(shot, &problem.place, &problem.path, "failed", why),
        Err(e) => ctx.note(
            shot,
            &problem.place,
            &problem.path,
            "failed",
            format!("copying again: {e}"),
        ),
    }
    Ok(())
}

/// The repair's events, into the outbox for the relay.
fn tell(ctx: &Ctx<'_>) -> Result<(), ProofError> {
    let mut events = ctx.events.clone();
    if !ctx.out.found.problems.is_empty() {
        let fixed = ctx
            .out
            .actions
            .iter()
            .filter(|a| matches!(a.action, "recopied" | "restored"))
            .count();
        let failed = ctx
            .out
            .actions
            .iter()
            .filter(|a| a.action == "failed")
            .count();
        events.push(Event::Notification(Notification {
            level: if failed > 0 {
                Level::Critical
            } else {
                Level::Warning
            },
            category: "repair".into(),
            title: format!("{fixed} copies repaired, {failed} could not be"),
            message: format!(
                "{} problems found by shotline verify --repair",
                ctx.out.found.problems.len()
            ),
        }));
    }
    let studio = &ctx.config.studio.id;
    let rows: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                format!("{studio}:{}", e.channel_suffix()),
                serde_json::to_string(e).unwrap_or_else(|e| unreachable!("events serialise: {e}")),
            )
        })
        .collect();
    if !rows.is_empty() {
        ctx.journal.push_events(&rows)?;
    }
    Ok(())
}
