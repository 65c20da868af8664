//! The backup scheduler: probes targets, hands due jobs to blocking workers (one library
//! read per shot for every ready target, a bounded number of shots at once), records the
//! outcome in the journal and turns it into events.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shotline_protocol::{BackupProgress, BackupVerified, Event, Level, QueueStatus, TargetState};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::retry_delay;
use super::target::{Presence, Target};
use super::worker::{Copied, Dest, SourceProblem, copy_shot};
use crate::Bus;
use crate::config::Backup;
use crate::journal::{Job, Journal, now_ms};

/// How often targets are probed and due jobs looked for, when nothing wakes us sooner.
const TICK: Duration = Duration::from_millis(500);
/// Shots copied at once. Measured with `cargo xtask bench backup`: 4 keeps a disk's queue
/// full while fsyncs and read-backs wait (2: 1.00x the naive pipeline, 4: 1.06-1.21x).
const CONCURRENCY: usize = 4;
/// Verification failures before a copy is given up on and a person is told.
const MAX_MISMATCHES: u32 = 3;
/// Other write errors before a copy is given up on.
const MAX_ERRORS: u32 = 10;
/// Progress events at most every this many bytes per copy.
const PROGRESS_STEP: u64 = 8 << 20;

/// What a finished shot tells the scheduler about each target.
#[derive(Debug)]
enum Signal {
    Full(u64),
    Offline,
    Error(String),
}

/// The backup stage.
#[derive(Debug)]
pub struct Scheduler {
    journal: Arc<Journal>,
    library: PathBuf,
    targets: Vec<Target>,
    announced: HashSet<String>,
    bus: Bus,
    wake: Arc<Notify>,
    concurrency: usize,
    last_queue: Option<QueueStatus>,
    paused: Arc<std::sync::atomic::AtomicBool>,
}

impl Scheduler {
    /// A scheduler for the targets of `backups`; `wake` is notified when new jobs exist.
    pub fn new(
        journal: Arc<Journal>,
        library: PathBuf,
        backups: &[Backup],
        bus: Bus,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            journal,
            library,
            targets: backups.iter().map(Target::new).collect(),
            announced: HashSet::new(),
            bus,
            wake,
            concurrency: CONCURRENCY,
            last_queue: None,
            paused: Arc::default(),
        }
    }

    /// Start no new copy while `paused` holds (copies under way finish).
    pub fn with_pause(mut self, paused: Arc<std::sync::atomic::AtomicBool>) -> Self {
        self.paused = paused;
        self
    }

    /// Run until `shutdown` turns true, then let the copies under way finish.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut tasks: JoinSet<Vec<(String, Signal)>> = JoinSet::new();
        let mut in_flight: HashSet<i64> = HashSet::new();
        let mut ids = std::collections::HashMap::new();
        let mut looked: Option<Instant> = None;
        loop {
            // Probing the targets and counting the journal cost disk work: once per tick,
            // not on every wake of a busy offload.
            if looked.is_none_or(|t| t.elapsed() >= TICK) {
                self.probe_all().await;
                self.publish_queue();
                looked = Some(Instant::now());
            }
            if !self.paused.load(std::sync::atomic::Ordering::Relaxed) {
                self.dispatch(&mut tasks, &mut in_flight, &mut ids);
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
                Some(done) = tasks.join_next_with_id() => self.finished(done, &mut in_flight, &mut ids),
                _ = shutdown.changed() => break,
            }
        }
        while let Some(done) = tasks.join_next_with_id().await {
            self.finished(done, &mut in_flight, &mut ids);
        }
        self.publish_queue();
    }

    async fn probe_all(&mut self) {
        let wanted: Vec<_> = self
            .targets
            .iter()
            .map(|t| (t.root.clone(), t.require_mount))
            .collect();
        let probes = tokio::task::spawn_blocking(move || {
            wanted
                .into_iter()
                .map(|(root, mount)| Target::probe(&root, mount))
                .collect::<Vec<Presence>>()
        })
        .await
        .unwrap_or_default();
        let now = Instant::now();
        for (i, presence) in probes.into_iter().enumerate() {
            let before_free = self.targets[i].free;
            let changed = self.targets[i].apply(presence, now);
            let first = self.announced.insert(self.targets[i].name.clone());
            if changed.is_some() || first {
                self.announce(i, first);
            } else if moved_much(before_free, self.targets[i].free) {
                self.bus
                    .publish(Event::TargetStatus(self.targets[i].status()));
            }
        }
    }

    /// Tell the world a target changed state.
    fn announce(&self, i: usize, first: bool) {
        let t = &self.targets[i];
        self.bus.publish(Event::TargetStatus(t.status()));
        let why = t.message.clone().unwrap_or_default();
        match t.state {
            TargetState::Online if !first => {
                let _ = self.journal.jobs_due_now(&t.name);
                self.bus.notify(
                    Level::Info,
                    "target_online",
                    format!("Backup {} is back", t.name),
                    "Copies it missed are being made now.",
                );
                self.wake.notify_one();
            }
            TargetState::Online => {}
            TargetState::Offline => self.bus.notify(
                Level::Critical,
                "target_offline",
                format!("Backup {} is offline", t.name),
                format!("{why}. Frames wait and are copied when it returns."),
            ),
            TargetState::Full => self.bus.notify(
                Level::Critical,
                "target_full",
                format!("Backup {} is full", t.name),
                format!("{why}. Other targets go on."),
            ),
            TargetState::Error => self.bus.notify(
                Level::Warning,
                "target_error",
                format!("Backup {} is failing", t.name),
                format!("{why}. Retrying."),
            ),
        }
    }

    fn dispatch(
        &self,
        tasks: &mut JoinSet<Vec<(String, Signal)>>,
        in_flight: &mut HashSet<i64>,
        ids: &mut std::collections::HashMap<tokio::task::Id, i64>,
    ) {
        if tasks.len() >= self.concurrency {
            return;
        }
        let online: Vec<String> = self
            .targets
            .iter()
            .filter(|t| t.state == TargetState::Online)
            .map(|t| t.name.clone())
            .collect();
        let jobs = match self.journal.due_jobs(&online, 256) {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::error!("reading due jobs: {e}");
                return;
            }
        };
        let mut by_shot: BTreeMap<i64, Vec<Job>> = BTreeMap::new();
        for job in jobs.into_iter().filter(|j| !in_flight.contains(&j.shot_id)) {
            by_shot.entry(job.shot_id).or_default().push(job);
        }
        for (shot_id, jobs) in by_shot {
            if tasks.len() >= self.concurrency {
                break;
            }
            let dests = jobs
                .iter()
                .filter_map(|job| {
                    let t = self.targets.iter().find(|t| t.name == job.target)?;
                    Some(Dest {
                        target: t.name.clone(),
                        root: t.root.clone(),
                        require_mount: t.require_mount,
                        rel: job
                            .rel_path
                            .clone()
                            .unwrap_or_else(|| job.shot_path.clone()),
                    })
                })
                .collect::<Vec<_>>();
            let ctx = ShotCopy {
                journal: self.journal.clone(),
                bus: self.bus.clone(),
                library: self.library.clone(),
                jobs,
                dests,
            };
            in_flight.insert(shot_id);
            let handle = tasks.spawn_blocking(move || ctx.run());
            ids.insert(handle.id(), shot_id);
        }
    }

    fn finished(
        &mut self,
        done: Result<(tokio::task::Id, Vec<(String, Signal)>), tokio::task::JoinError>,
        in_flight: &mut HashSet<i64>,
        ids: &mut std::collections::HashMap<tokio::task::Id, i64>,
    ) {
        let (id, signals) = match done {
            Ok(done) => done,
            Err(e) => {
                tracing::error!("backup task failed: {e}");
                if let Some(shot) = ids.remove(&e.id()) {
                    in_flight.remove(&shot);
                }
                return;
            }
        };
        if let Some(shot) = ids.remove(&id) {
            in_flight.remove(&shot);
        }
        for (name, signal) in signals {
            let Some(i) = self.targets.iter().position(|t| t.name == name) else {
                continue;
            };
            let changed = match signal {
                Signal::Full(needs) => self.targets[i].mark_full(needs),
                Signal::Error(why) => {
                    self.targets[i].mark_error(why, Instant::now() + retry_delay(3))
                }
                Signal::Offline => {
                    let presence =
                        Target::probe(&self.targets[i].root, self.targets[i].require_mount);
                    self.targets[i].apply(presence, Instant::now()).is_some()
                }
            };
            if changed {
                self.announce(i, false);
            }
        }
        self.wake.notify_one();
    }

    fn publish_queue(&mut self) {
        let names: Vec<String> = self.targets.iter().map(|t| t.name.clone()).collect();
        if let Ok(report) = self.journal.report(&names) {
            let status = report.queue_status();
            if self.last_queue.as_ref() != Some(&status) {
                self.bus.publish(Event::QueueStatus(status.clone()));
                self.last_queue = Some(status);
            }
        }
    }
}

/// Free space moved by more than 1 % of... a visible amount: worth a status event.
fn moved_much(before: Option<u64>, after: Option<u64>) -> bool {
    match (before, after) {
        (Some(a), Some(b)) => a.abs_diff(b) > (a / 100).max(64 << 20),
        (a, b) => a.is_some() != b.is_some(),
    }
}

/// One shot's copies, run on a blocking thread.
struct ShotCopy {
    journal: Arc<Journal>,
    bus: Bus,
    library: PathBuf,
    jobs: Vec<Job>,
    dests: Vec<Dest>,
}

impl ShotCopy {
    fn run(self) -> Vec<(String, Signal)> {
        let Some(first) = self.jobs.first() else {
            return Vec::new();
        };
        let (shot_id, size, hash) = (first.shot_id, first.size, first.hash.clone());
        let source = self.library.join(&first.shot_path);
        let mut next_report = PROGRESS_STEP;
        let progress = |done: u64| {
            if done >= next_report || done == size {
                next_report = done + PROGRESS_STEP;
                for dest in &self.dests {
                    self.bus.publish(Event::BackupProgress(BackupProgress {
                        shot_id,
                        target: dest.target.clone(),
                        bytes_done: done,
                        bytes_total: size,
                    }));
                }
            }
        };
        match copy_shot(&source, &hash, &self.dests, progress) {
            Ok(results) => results
                .into_iter()
                .filter_map(|(target, copied)| self.record(shot_id, size, &hash, target, copied))
                .collect(),
            Err(problem) => {
                let why = match problem {
                    SourceProblem::Io(e) => {
                        format!("cannot read the library copy {}: {e}", source.display())
                    }
                    SourceProblem::Changed { found } => format!(
                        "the library copy {} changed (hash {found}, recorded {hash})",
                        source.display()
                    ),
                };
                for job in &self.jobs {
                    self.fail_or_retry(
                        job.shot_id,
                        &job.target,
                        &why,
                        MAX_MISMATCHES,
                        "library_damaged",
                    );
                }
                Vec::new()
            }
        }
    }

    fn record(
        &self,
        shot_id: i64,
        size: u64,
        hash: &str,
        target: String,
        copied: Copied,
    ) -> Option<(String, Signal)> {
        let result = match copied {
            Copied::Verified { rel } => {
                if let Err(e) = self.journal.job_verified(shot_id, &target, &rel, hash) {
                    tracing::error!("recording a verified copy: {e}");
                    return None;
                }
                self.bus.publish(Event::BackupVerified(BackupVerified {
                    shot_id,
                    target: target.clone(),
                    path: rel,
                    hash: hash.to_string(),
                }));
                None
            }
            Copied::Mismatch { found } => {
                let why = format!("read back {found} instead of {hash}");
                self.fail_or_retry(shot_id, &target, &why, MAX_MISMATCHES, "verify_failed");
                None
            }
            Copied::Failed(e) if crate::platform::is_disk_full(&e) => {
                let _ =
                    self.journal
                        .job_retry(shot_id, &target, &format!("disk full: {e}"), 0, false);
                Some(Signal::Full(size + (1 << 20)))
            }
            Copied::Failed(e) => {
                let root_gone = self
                    .dests
                    .iter()
                    .find(|d| d.target == target)
                    .is_some_and(|d| !d.present());
                if root_gone {
                    let _ = self.journal.job_retry(
                        shot_id,
                        &target,
                        &format!("target offline: {e}"),
                        0,
                        false,
                    );
                    Some(Signal::Offline)
                } else {
                    let why = e.to_string();
                    self.fail_or_retry(shot_id, &target, &why, MAX_ERRORS, "copy_failed");
                    Some(Signal::Error(why))
                }
            }
        };
        result.map(|signal| (target, signal))
    }

    fn fail_or_retry(&self, shot_id: i64, target: &str, why: &str, limit: u32, category: &str) {
        let attempts = self
            .journal
            .job_retry(shot_id, target, why, now_ms(), true)
            .unwrap_or(limit);
        if attempts >= limit {
            let _ = self.journal.job_failed(shot_id, target, why);
            let name = self
                .jobs
                .first()
                .map(|j| j.shot_path.clone())
                .unwrap_or_default();
            self.bus.notify(Level::Critical, category, format!("Backup of {name} to {target} failed"), format!("{why} ({attempts} attempts). Check the drive; `shotline verify` lists every copy."));
        } else {
            let at = now_ms() + retry_delay(attempts).as_millis() as i64;
            let _ = self.journal.job_retry(shot_id, target, why, at, false);
            tracing::warn!(
                target,
                "copy of shot {shot_id} failed ({why}); retry {attempts}/{limit}"
            );
        }
    }
}
