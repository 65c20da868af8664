//! One node's answer logs: a file per share channel under `--data` (in memory without
//! one), streamed from disk when read. The relay keeps only an index per log — where
//! each line starts, the ids already kept, and the bytes each guest has left — so its
//! memory does not grow with what guests write.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{AppendError, Lock, Quotas};
use crate::backend::Unavailable;

/// A log as this node knows it.
#[derive(Debug, Default)]
pub(super) struct Log {
    /// Where each line starts in the file (in memory: the lines themselves).
    starts: Vec<u64>,
    /// The file's length (the end of the last whole line).
    end: u64,
    /// Lines of a log kept in memory (no data folder).
    lines: Option<Vec<String>>,
    /// Hashes of the answer ids kept.
    ids: HashSet<u64>,
    /// Bytes kept per guest.
    by_guest: HashMap<String, u64>,
    /// Guests whose selection is sent (and not unlocked since).
    locked: HashSet<String>,
}

fn id_hash(id: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// A kept line's id, guest (`payload.sub`), and what it did to the guest's selection.
fn parts(line: &str) -> (Option<String>, String, Lock) {
    let v: Value = serde_json::from_str(line).unwrap_or_default();
    (
        v["id"].as_str().map(str::to_string),
        v["event"]["payload"]["sub"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        Lock::of(&v),
    )
}

fn io(what: &str) -> impl Fn(std::io::Error) -> Unavailable + '_ {
    move |e| Unavailable(format!("{what}: {e}"))
}

impl Log {
    /// Index the log in `path` (empty when there is none). A last line cut short by a
    /// crash (its guest got no ack, and sends it again) is cut off the file, so the next
    /// answer starts a line of its own; every other line keeps its place, so each
    /// answer's `seq` never changes.
    pub(super) async fn read(path: Option<&Path>) -> Result<Self, Unavailable> {
        let Some(path) = path else {
            return Ok(Self {
                lines: Some(Vec::new()),
                ..Self::default()
            });
        };
        let file = match tokio::fs::File::open(path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(io("reading answers")(e)),
        };
        let mut log = Self::default();
        let mut reader = tokio::io::BufReader::new(file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .await
                .map_err(io("reading answers"))?;
            if n == 0 || line.last() != Some(&b'\n') {
                break;
            }
            let text = String::from_utf8_lossy(&line[..n - 1]);
            log.index(&text, n as u64);
        }
        let length = tokio::fs::metadata(path)
            .await
            .map_err(io("reading answers"))?
            .len();
        if length > log.end {
            let file = tokio::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .await
                .map_err(io("mending answers"))?;
            file.set_len(log.end).await.map_err(io("mending answers"))?;
        }
        Ok(log)
    }

    /// Count one kept line of `size` bytes (its newline included).
    fn index(&mut self, line: &str, size: u64) {
        let (id, guest, lock) = parts(line);
        self.starts.push(self.end);
        self.end += size;
        if let Some(id) = id {
            self.ids.insert(id_hash(&id));
        }
        match lock {
            Lock::Submit => {
                self.locked.insert(guest.clone());
            }
            Lock::Unlock(target) => {
                self.locked.remove(&target);
            }
            Lock::Pick | Lock::None => {}
        }
        *self.by_guest.entry(guest).or_default() += size;
    }

    /// Answers kept.
    pub(super) fn len(&self) -> usize {
        self.starts.len()
    }

    /// Keep `line` (answer `id` by `guest`) at the end of the log in `path`; its `seq`.
    pub(super) async fn append(
        &mut self,
        path: Option<&Path>,
        id: &str,
        guest: &str,
        line: &str,
        quotas: &Quotas,
        lock: &Lock,
    ) -> Result<u64, AppendError> {
        // The lock first: a locked guest's pick under an id kept before is refused, not
        // taken for a retry (which would go out live).
        if matches!(lock, Lock::Pick | Lock::Submit) && self.locked.contains(guest) {
            return Err(AppendError::Locked);
        }
        if self.ids.contains(&id_hash(id)) {
            return Err(AppendError::Duplicate);
        }
        let size = line.len() as u64 + 1;
        if self.len() >= super::MAX_ANSWERS || self.end + size > quotas.share {
            return Err(AppendError::Full);
        }
        if self.by_guest.get(guest).copied().unwrap_or(0) + size > quotas.guest {
            return Err(AppendError::GuestFull);
        }
        if let Some(path) = path {
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await
                .map_err(io("keeping an answer"))?;
            // A tokio file's write is done by a blocking task: `write_all` returns once
            // the bytes are handed over, `flush` once they are in the file. So the answer
            // is in the file before its `seq` is told (and before a reader opens it).
            let written = async {
                file.write_all(format!("{line}\n").as_bytes()).await?;
                file.flush().await
            }
            .await;
            if let Err(e) = written {
                // Whatever part went in (a full disk) is cut off again, so the next
                // answer starts where the index says.
                let _ = file.set_len(self.end).await;
                return Err(io("keeping an answer")(e).into());
            }
        }
        if let Some(lines) = &mut self.lines {
            lines.push(line.to_string());
        }
        self.index(line, size);
        Ok(self.len() as u64)
    }

    /// Where up to `limit` lines after the `after`th are (at most [`PAGE_BYTES`] of
    /// them, one at least), to read with [`Page::read`] once the log is let go; the log's
    /// length.
    pub(super) fn page(&self, after: u64, limit: usize) -> (Page, u64) {
        let from = usize::try_from(after).unwrap_or(usize::MAX).min(self.len());
        let mut to = from.saturating_add(limit).min(self.len());
        let end_of = |i: usize| self.starts.get(i).copied().unwrap_or(self.end);
        while to > from + 1 && end_of(to) - self.starts[from] > PAGE_BYTES {
            to -= 1;
        }
        let page = match &self.lines {
            Some(lines) => Page::Lines(lines[from..to].to_vec()),
            None if from == to => Page::Lines(Vec::new()),
            None => Page::File((from..=to).map(end_of).collect()),
        };
        (page, self.len() as u64)
    }
}

/// The most a page of answers reads, in bytes (a page holds one answer at least).
pub(super) const PAGE_BYTES: u64 = 1 << 20;

/// A page of a log: its lines (in memory), or where they lie in the file.
#[derive(Debug)]
pub(super) enum Page {
    /// The lines themselves.
    Lines(Vec<String>),
    /// Where each line starts, and where the last one ends.
    File(Vec<u64>),
}

impl Page {
    /// The page's lines, read from `path` when they are in the file.
    pub(super) async fn read(self, path: Option<&Path>) -> Result<Vec<String>, Unavailable> {
        let bounds = match self {
            Page::Lines(lines) => return Ok(lines),
            Page::File(bounds) => bounds,
        };
        let (Some(path), Some(&start), Some(&stop)) = (path, bounds.first(), bounds.last()) else {
            return Ok(Vec::new());
        };
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(io("reading answers"))?;
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(io("reading answers"))?;
        let mut bytes = vec![0; (stop - start) as usize];
        file.read_exact(&mut bytes)
            .await
            .map_err(io("reading answers"))?;
        // Exactly the indexed lines, each without its newline.
        Ok(bounds
            .windows(2)
            .map(|w| {
                let (a, b) = ((w[0] - start) as usize, (w[1] - start) as usize);
                String::from_utf8_lossy(&bytes[a..b.saturating_sub(1).max(a)]).into_owned()
            })
            .collect())
    }
}

/// The logs of one node, each behind a lock of its own.
#[derive(Debug)]
pub(super) struct Local {
    dir: Option<PathBuf>,
    logs: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Log>>>>>,
}

impl Local {
    /// Logs under `dir` (memory without it).
    pub(super) fn new(dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            logs: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn path(&self, channel: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(super::file_name(channel)))
    }

    fn slot(&self, channel: &str) -> Arc<tokio::sync::Mutex<Option<Log>>> {
        self.logs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(channel.to_string())
            .or_default()
            .clone()
    }

    /// Run `f` on `channel`'s log (indexed first if need be), holding that log alone.
    pub(super) async fn with<T>(
        &self,
        channel: &str,
        f: impl AsyncFnOnce(&mut Log, Option<&Path>) -> T,
    ) -> Result<T, Unavailable> {
        let path = self.path(channel);
        let slot = self.slot(channel);
        let mut held = slot.lock().await;
        if held.is_none() {
            *held = Some(Log::read(path.as_deref()).await?);
        }
        let log = held
            .as_mut()
            .unwrap_or_else(|| unreachable!("indexed just above"));
        Ok(f(log, path.as_deref()).await)
    }

    /// Up to `limit` lines of `channel`'s log after the `after`th, read without holding
    /// the log; the log's length.
    pub(super) async fn lines(
        &self,
        channel: &str,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<String>, u64), Unavailable> {
        let (page, total) = self
            .with(channel, async |log, _| log.page(after, limit))
            .await?;
        Ok((page.read(self.path(channel).as_deref()).await?, total))
    }

    /// Forget `channel`'s log, its file too.
    pub(super) async fn forget(&self, channel: &str) -> Result<(), Unavailable> {
        let slot = self.slot(channel);
        let mut held = slot.lock().await;
        *held = None;
        self.logs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(channel);
        if let Some(path) = self.path(channel) {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("removing answers")(e)),
            }
        }
        Ok(())
    }
}
