//! Hot folders: recursive file-system watches (inotify, FSEvents, ReadDirectoryChanges) or
//! polling (per folder via `poll_interval`, and as the fallback when the watch limit is
//! hit), a scan at start for what arrived while Shotline was not running, and a periodic
//! scan as a safety net for lost events.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{EventKind, PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};
use shotline_protocol::{Level, ShotSource};
use tokio::sync::{mpsc, watch};

use super::filter::is_ignored;
use super::tracker::{Hint, Tracker};
use crate::Bus;
use crate::config::HotFolder;
use crate::ingest::Candidate;

/// How often pending files are re-checked (only while there are some: an idle folder
/// costs no wake-up).
const CHECK: Duration = Duration::from_millis(100);
/// How often every folder is scanned in full, whatever the watcher says.
const RESCAN: Duration = Duration::from_secs(30);
/// Poll interval when event watching is not possible.
const FALLBACK_POLL: Duration = Duration::from_secs(2);

/// What the watcher threads send.
#[derive(Debug)]
enum Raw {
    Path(PathBuf, Hint),
    Scan(PathBuf),
    Failed(String),
}

struct Root {
    config: HotFolder,
    name: String,
    tracker: Tracker,
    watcher: Option<Box<dyn Watcher + Send>>,
    missing: bool,
    /// Files the start-up scan found that are not offered yet (`None` once all are).
    initial: Option<(usize, std::collections::HashSet<PathBuf>)>,
}

/// All hot folders of a run.
pub struct HotFolders {
    roots: Vec<Root>,
    bus: Bus,
    raw_tx: mpsc::UnboundedSender<Raw>,
    raw_rx: mpsc::UnboundedReceiver<Raw>,
}

impl HotFolders {
    /// Hot folders from the config; nothing is watched until [`HotFolders::run`].
    pub fn new(folders: &[HotFolder], bus: Bus) -> Self {
        let (raw_tx, raw_rx) = mpsc::unbounded_channel();
        let roots = folders
            .iter()
            .map(|config| Root {
                name: config
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "hot folder".into()),
                tracker: Tracker::new(cfg!(target_os = "linux") && config.poll_interval.is_none()),
                config: config.clone(),
                watcher: None,
                missing: false,
                initial: None,
            })
            .collect();
        Self {
            roots,
            bus,
            raw_tx,
            raw_rx,
        }
    }

    /// Watch until `shutdown`, sending every complete file to `out`.
    pub async fn run(
        mut self,
        out: mpsc::UnboundedSender<Candidate>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        for i in 0..self.roots.len() {
            self.start_watch(i);
            self.scan(i).await;
            let found = self.roots[i].tracker.pending_paths();
            self.roots[i].initial = Some((found.len(), found));
        }
        let mut check = tokio::time::interval(CHECK);
        // Back from idle, the first check is at once, then every CHECK (not a burst).
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut rescan = tokio::time::interval(RESCAN);
        rescan.tick().await;
        loop {
            let waiting = self
                .roots
                .iter()
                .any(|r| r.tracker.pending() > 0 || r.initial.is_some());
            tokio::select! {
                Some(raw) = self.raw_rx.recv() => self.raw(raw).await,
                _ = check.tick(), if waiting => self.offer(&out),
                _ = rescan.tick() => {
                    for i in 0..self.roots.len() {
                        self.scan(i).await;
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    }

    fn start_watch(&mut self, i: usize) {
        let root = &mut self.roots[i];
        let path = root.config.path.clone();
        let tx = self.raw_tx.clone();
        let handler = move |res: notify::Result<notify::Event>| match res {
            Ok(event) => translate(event, &tx),
            Err(e) => {
                let _ = tx.send(Raw::Failed(e.to_string()));
            }
        };
        let made: notify::Result<Box<dyn Watcher + Send>> = match root.config.poll_interval {
            Some(every) => poll_watcher(handler, every, &path),
            None => RecommendedWatcher::new(handler.clone(), notify::Config::default())
                .and_then(|mut w| w.watch(&path, RecursiveMode::Recursive).map(|()| w))
                .map(|w| Box::new(w) as Box<dyn Watcher + Send>)
                .or_else(|e| {
                    self.bus.notify(
                        Level::Warning,
                        "watch_fallback",
                        format!("Polling {}", path.display()),
                        format!("File-system events are not available ({e}); checking every {}s instead. On Linux, raise fs.inotify.max_user_watches.", FALLBACK_POLL.as_secs()),
                    );
                    poll_watcher(handler, FALLBACK_POLL, &path)
                }),
        };
        let root = &mut self.roots[i];
        match made {
            Ok(w) => {
                root.watcher = Some(w);
                if root.config.poll_interval.is_some() || !cfg!(target_os = "linux") {
                    root.tracker = Tracker::new(false);
                }
            }
            Err(e) => {
                root.watcher = None;
                tracing::warn!(
                    "cannot watch {}: {e}; scanning every {}s",
                    path.display(),
                    RESCAN.as_secs()
                );
            }
        }
    }

    /// Scan one folder in full; notice it vanishing and coming back.
    async fn scan(&mut self, i: usize) {
        let path = self.roots[i].config.path.clone();
        let walked = tokio::task::spawn_blocking({
            let path = path.clone();
            move || walk(&path)
        })
        .await
        .unwrap_or(None);
        let Some(files) = walked else {
            if !self.roots[i].missing {
                self.roots[i].missing = true;
                self.bus.notify(
                    Level::Warning,
                    "hot_folder_missing",
                    format!("Hot folder {} is missing", path.display()),
                    "New frames cannot arrive there until it is back.",
                );
            }
            return;
        };
        if self.roots[i].missing {
            self.roots[i].missing = false;
            self.start_watch(i);
            self.bus.notify(
                Level::Info,
                "hot_folder_back",
                format!("Hot folder {} is back", path.display()),
                "Watching it again.",
            );
        }
        let now = Instant::now();
        for file in files {
            self.roots[i].tracker.hint(file, Hint::Found, now);
        }
    }

    async fn raw(&mut self, raw: Raw) {
        match raw {
            Raw::Path(path, hint) => {
                if let Some(i) = self.root_of(&path) {
                    let rel = path
                        .strip_prefix(&self.roots[i].config.path)
                        .unwrap_or(&path)
                        .to_path_buf();
                    if path.is_dir() {
                        // A folder moved in brings files that send no events of their own.
                        let files = tokio::task::spawn_blocking(move || walk(&path))
                            .await
                            .unwrap_or(None);
                        let now = Instant::now();
                        for file in files.unwrap_or_default() {
                            self.roots[i].tracker.hint(file, Hint::Found, now);
                        }
                    } else if !is_ignored(&rel) {
                        self.roots[i].tracker.hint(path, hint, Instant::now());
                    }
                }
            }
            Raw::Scan(path) => {
                if let Some(i) =
                    self.root_of(&path)
                        .or(if self.roots.len() == 1 { Some(0) } else { None })
                {
                    self.scan(i).await;
                } else {
                    for i in 0..self.roots.len() {
                        self.scan(i).await;
                    }
                }
            }
            Raw::Failed(e) => tracing::warn!("hot folder watcher: {e}"),
        }
    }

    fn root_of(&self, path: &Path) -> Option<usize> {
        self.roots
            .iter()
            .enumerate()
            .filter(|(_, r)| path.starts_with(&r.config.path))
            .max_by_key(|(_, r)| r.config.path.as_os_str().len())
            .map(|(i, _)| i)
    }

    fn offer(&mut self, out: &mpsc::UnboundedSender<Candidate>) {
        let now = Instant::now();
        for root in &mut self.roots {
            for path in root.tracker.ready(now) {
                let rel = path.strip_prefix(&root.config.path).unwrap_or(&path);
                let original = crate::ingest::rel_string(rel);
                let _ = out.send(Candidate {
                    path: path.clone(),
                    original,
                    camera: root.name.clone(),
                    source: ShotSource::HotFolder,
                });
            }
            if let Some((count, left)) = &mut root.initial {
                left.retain(|p| root.tracker.is_pending(p));
                if left.is_empty() {
                    tracing::info!(
                        "hot folder {}: initial scan done, {count} file(s) found at start offered",
                        root.config.path.display()
                    );
                    root.initial = None;
                }
            }
        }
    }
}

fn poll_watcher(
    handler: impl notify::EventHandler,
    every: Duration,
    path: &Path,
) -> notify::Result<Box<dyn Watcher + Send>> {
    let mut w = PollWatcher::new(handler, notify::Config::default().with_poll_interval(every))?;
    w.watch(path, RecursiveMode::Recursive)?;
    Ok(Box::new(w))
}

/// Turn a notify event into hints.
fn translate(event: notify::Event, tx: &mpsc::UnboundedSender<Raw>) {
    if event.need_rescan() {
        for path in &event.paths {
            let _ = tx.send(Raw::Scan(path.clone()));
        }
        if event.paths.is_empty() {
            let _ = tx.send(Raw::Scan(PathBuf::new()));
        }
        return;
    }
    let (hint, paths): (Hint, Vec<PathBuf>) = match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => (Hint::Complete, event.paths),
        EventKind::Modify(ModifyKind::Name(RenameMode::To)) => (Hint::Complete, event.paths),
        // [from, to]: only the new name matters.
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
            (Hint::Complete, event.paths.into_iter().skip(1).collect())
        }
        EventKind::Modify(ModifyKind::Name(_)) => return,
        EventKind::Create(CreateKind::Folder) => (Hint::Found, event.paths),
        EventKind::Create(_) | EventKind::Modify(_) => (Hint::Changed, event.paths),
        _ => return,
    };
    for path in paths {
        let _ = tx.send(Raw::Path(path, hint));
    }
}

/// Every non-ignored regular file below `root` (symlinks are not followed); `None` when
/// `root` is not there.
pub fn walk(root: &Path) -> Option<Vec<PathBuf>> {
    if !root.is_dir() {
        return None;
    }
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap_or(&path);
            if is_ignored(rel) {
                continue;
            }
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => out.push(path),
                _ => {}
            }
        }
    }
    out.sort();
    Some(out)
}
