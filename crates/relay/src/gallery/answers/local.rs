//! One node's answer logs: a file per share channel under `--data` (in memory without
//! one), streamed from disk when read. The relay keeps only an index per log — where
//! each line starts, the ids already kept, and the bytes each guest has left — so its
//! memory does not grow with what guests write.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{AppendError, Quotas};
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
}

fn id_hash(id: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// A kept line's id and guest (`payload.sub`).
fn parts(line: &str) -> (Option<String>, String) {
    let v: Value = serde_json::from_str(line).unwrap_or_default();
    (
        v["id"].as_str().map(str::to_string),
        v["event"]["payload"]["sub"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
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
        let (id, guest) = parts(line);
        self.starts.push(self.end);
        self.end += size;
        if let Some(id) = id {
            self.ids.insert(id_hash(&id));
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
    ) -> Result<u64, AppendError> {
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
            file.write_all(format!("{line}\n").as_bytes())
                .await
                .map_err(io("keeping an answer"))?;
            file.flush().await.map_err(io("keeping an answer"))?;
        }
        if let Some(lines) = &mut self.lines {
            lines.push(line.to_string());
        }
        self.index(line, size);
        Ok(self.len() as u64)
    }

    /// Up to `limit` lines after the `after`th, from `path` (or memory).
    pub(super) async fn lines(
        &self,
        path: Option<&Path>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<String>, Unavailable> {
        let from = usize::try_from(after).unwrap_or(usize::MAX).min(self.len());
        let to = from.saturating_add(limit).min(self.len());
        if from == to {
            return Ok(Vec::new());
        }
        if let Some(lines) = &self.lines {
            return Ok(lines[from..to].to_vec());
        }
        let Some(path) = path else {
            return Ok(Vec::new());
        };
        let start = self.starts[from];
        let stop = self.starts.get(to).copied().unwrap_or(self.end);
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
        Ok(String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect())
    }
}

/// The logs of one node.
#[derive(Debug)]
pub(super) struct Local {
    dir: Option<PathBuf>,
    logs: tokio::sync::Mutex<HashMap<String, Log>>,
}

impl Local {
    /// Logs under `dir` (memory without it).
    pub(super) fn new(dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            logs: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    fn path(&self, channel: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(super::file_name(channel)))
    }

    /// Run `f` on `channel`'s log, indexed first if need be.
    pub(super) async fn with<T>(
        &self,
        channel: &str,
        f: impl AsyncFnOnce(&mut Log, Option<&Path>) -> T,
    ) -> Result<T, Unavailable> {
        let path = self.path(channel);
        let mut logs = self.logs.lock().await;
        let log = match logs.get_mut(channel) {
            Some(log) => log,
            None => {
                let read = Log::read(path.as_deref()).await?;
                logs.entry(channel.to_string()).or_insert(read)
            }
        };
        Ok(f(log, path.as_deref()).await)
    }

    /// Forget `channel`'s log, its file too.
    pub(super) async fn forget(&self, channel: &str) -> Result<(), Unavailable> {
        let mut logs = self.logs.lock().await;
        logs.remove(channel);
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
