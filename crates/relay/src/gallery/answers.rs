//! Guests' answers (ratings, labels, likes, comments) on a share, once [`check`](super::check)ed,
//! kept in a durable log per share channel beside the channel's bounded
//! history — files under `--data` (memory without it) on one node, a Redis list in a
//! cluster — so the engine, offline for an hour or past the history's bound, still gets
//! every one (`GET /v1/shares/{id}/answers?after=N`), and a late guest sees them all.
//!
//! An answer's place in the log (`seq`, from 1) is its position; a publish retried with
//! the same id may be kept twice, and readers count an id once.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use crate::backend::Unavailable;

/// Answers a share keeps, at most (a busy event's guests stay far below it).
pub const MAX_ANSWERS: usize = 200_000;
/// Answers per read, at most.
pub const PAGE: usize = 1000;

/// Where the log lives.
#[derive(Debug)]
enum Store {
    /// Files `<dir>/<channel>.jsonl` (or memory without a folder), with every line read.
    Local {
        dir: Option<PathBuf>,
        logs: Mutex<HashMap<String, Vec<String>>>,
    },
    /// A Redis list per channel.
    Redis(super::blobs::LazyRedis),
}

/// The frames a share's guests may answer, from its `state.json`, re-read at most once a
/// second when an unknown frame comes up.
#[derive(Debug, Default)]
struct Known {
    frames: HashSet<i64>,
    read: Option<Instant>,
}

/// The answer logs, and the frames each share shows.
#[derive(Debug)]
pub struct Answers {
    store: Store,
    known: std::sync::Mutex<HashMap<String, Known>>,
}

fn file_name(channel: &str) -> String {
    format!("c_{}.jsonl", channel.replace(':', "+"))
}

fn key(channel: &str) -> String {
    format!("shotline:answers:{channel}")
}

impl Answers {
    /// Logs under `dir/answers` (memory without `dir`), or in Redis at `redis`.
    pub fn open(dir: Option<&std::path::Path>, redis: Option<&str>) -> std::io::Result<Self> {
        let store = match redis {
            Some(url) => Store::Redis(
                super::blobs::LazyRedis::open(url).map_err(|e| std::io::Error::other(e.0))?,
            ),
            None => {
                let dir = dir.map(|d| d.join("answers"));
                if let Some(dir) = &dir {
                    std::fs::create_dir_all(dir)?;
                }
                Store::Local {
                    dir,
                    logs: Mutex::new(HashMap::new()),
                }
            }
        };
        Ok(Self {
            store,
            known: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// A publisher showed `frame` on `channel` (a `gallery_frame`).
    pub fn frame_shown(&self, channel: &str, frame: i64) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known
            .entry(channel.to_string())
            .or_default()
            .frames
            .insert(frame);
    }

    /// Does `channel`'s share show `frame`? Asks `blobs` (its `state.json`) when not
    /// known; the store being away is an error, not a "no".
    pub async fn shows(
        &self,
        blobs: &super::blobs::Blobs,
        channel: &str,
        frame: i64,
    ) -> Result<bool, Unavailable> {
        {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(k) = known.get(channel) {
                if k.frames.contains(&frame) {
                    return Ok(true);
                }
                if k.read.is_some_and(|r| r.elapsed() < Duration::from_secs(1)) {
                    return Ok(false);
                }
            }
        }
        let frames: HashSet<i64> = match blobs.get(channel, "state.json").await? {
            Some(bytes) => serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|s| {
                    s["frames"].as_array().map(|fs| {
                        fs.iter()
                            .filter_map(|f| f["frame"].as_i64())
                            .collect::<HashSet<_>>()
                    })
                })
                .unwrap_or_default(),
            None => HashSet::new(),
        };
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let k = known.entry(channel.to_string()).or_default();
        k.frames.extend(frames);
        k.read = Some(Instant::now());
        Ok(k.frames.contains(&frame))
    }

    /// Keep `entry` (one answer: `{"id","ts","event"}`) in `channel`'s log; its `seq`.
    pub async fn append(&self, channel: &str, entry: &Value) -> Result<u64, AppendError> {
        let line = entry.to_string();
        match &self.store {
            Store::Local { dir, logs } => {
                let mut logs = logs.lock().await;
                let log = match logs.get_mut(channel) {
                    Some(log) => log,
                    None => {
                        let read = read_local(dir.as_ref(), channel).await?;
                        logs.entry(channel.to_string()).or_insert(read)
                    }
                };
                if log.len() >= MAX_ANSWERS {
                    return Err(AppendError::Full);
                }
                if let Some(dir) = dir {
                    let mut file = tokio::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(dir.join(file_name(channel)))
                        .await
                        .map_err(|e| Unavailable(format!("keeping an answer: {e}")))?;
                    // A tokio file's write is done by a blocking task: `write_all` returns
                    // once the bytes are handed over, `flush` once they are in the file. So
                    // the answer is in the file before its `seq` is told (and before a
                    // reader opens it again).
                    file.write_all(format!("{line}\n").as_bytes())
                        .await
                        .map_err(|e| Unavailable(format!("keeping an answer: {e}")))?;
                    file.flush()
                        .await
                        .map_err(|e| Unavailable(format!("keeping an answer: {e}")))?;
                }
                log.push(line);
                Ok(log.len() as u64)
            }
            Store::Redis(redis) => {
                // LLEN then RPUSH: concurrent answers may pass the bound by a few.
                let key = key(channel);
                let length: u64 = redis
                    .run(async |c| redis::cmd("LLEN").arg(&key).query_async(c).await)
                    .await?;
                if length as usize >= MAX_ANSWERS {
                    return Err(AppendError::Full);
                }
                Ok(redis
                    .run(async |c| {
                        redis::cmd("RPUSH")
                            .arg(&key)
                            .arg(&line)
                            .query_async(c)
                            .await
                    })
                    .await?)
            }
        }
    }

    /// Up to `limit` answers of `channel` after `after`, each with its `seq`; the log's
    /// length; and where the next read starts (past any line that is not an answer).
    pub async fn since(
        &self,
        channel: &str,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<Value>, u64, u64), Unavailable> {
        let limit = limit.clamp(1, PAGE);
        let (lines, total): (Vec<String>, u64) = match &self.store {
            Store::Local { dir, logs } => {
                let mut logs = logs.lock().await;
                let log = match logs.get_mut(channel) {
                    Some(log) => log,
                    None => {
                        let read = read_local(dir.as_ref(), channel).await?;
                        logs.entry(channel.to_string()).or_insert(read)
                    }
                };
                let from = (after as usize).min(log.len());
                let to = (from + limit).min(log.len());
                (log[from..to].to_vec(), log.len() as u64)
            }
            Store::Redis(redis) => {
                let key = key(channel);
                redis
                    .run(async |c| {
                        redis::pipe()
                            .cmd("LRANGE")
                            .arg(&key)
                            .arg(after as i64)
                            .arg(after as i64 + limit as i64 - 1)
                            .cmd("LLEN")
                            .arg(&key)
                            .query_async(c)
                            .await
                    })
                    .await?
            }
        };
        let next = (after + lines.len() as u64).min(total.max(after));
        let answers = lines
            .iter()
            .enumerate()
            .filter_map(|(i, line)| {
                let mut v: Value = serde_json::from_str(line).ok()?;
                v["seq"] = json!(after + i as u64 + 1);
                Some(v)
            })
            .collect();
        Ok((answers, total, next))
    }
}

/// A log's lines from its file (none without a folder, or before the first answer). A
/// last line cut short by a crash (its guest got no ack, and sends it again) is cut off
/// the file, so the next answer starts a line of its own; every other line keeps its
/// place, so each answer's `seq` never changes.
async fn read_local(dir: Option<&PathBuf>, channel: &str) -> Result<Vec<String>, Unavailable> {
    let Some(dir) = dir else {
        return Ok(Vec::new());
    };
    let path = dir.join(file_name(channel));
    let text = match tokio::fs::read_to_string(&path).await {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Unavailable(format!("reading answers: {e}"))),
    };
    let whole = text.rfind('\n').map_or(0, |at| at + 1);
    if whole < text.len() {
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .await
            .map_err(|e| Unavailable(format!("mending answers: {e}")))?;
        file.set_len(whole as u64)
            .await
            .map_err(|e| Unavailable(format!("mending answers: {e}")))?;
    }
    Ok(text[..whole].lines().map(String::from).collect())
}

/// An answer not kept.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The log is at [`MAX_ANSWERS`].
    #[error("this gallery holds {MAX_ANSWERS} answers, its most")]
    Full,
    /// The store is away.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_line_cut_short_by_a_crash_is_mended() {
        let dir = tempfile::tempdir().expect("dir");
        let channel = "s:gallery:cut";
        let answers_dir = dir.path().join("answers");
        std::fs::create_dir_all(&answers_dir).expect("mkdir");
        std::fs::write(
            answers_dir.join(file_name(channel)),
            "{\"id\":\"a\"}\nnot json\n{\"id\":\"b\"}\n{\"id\":\"c\",\"ev",
        )
        .expect("write");
        let answers = Answers::open(Some(dir.path()), None).expect("open");
        assert_eq!(
            answers
                .append(channel, &json!({"id": "d"}))
                .await
                .expect("append"),
            4,
            "the cut line is gone, the others keep their places"
        );
        let reopened = Answers::open(Some(dir.path()), None).expect("open");
        let (all, total, next) = reopened.since(channel, 0, 10).await.expect("since");
        assert_eq!(next, 4);
        assert_eq!(total, 4);
        let ids: Vec<_> = all.iter().map(|a| a["id"].clone()).collect();
        assert_eq!(ids, [json!("a"), json!("b"), json!("d")]);
        assert_eq!(all[2]["seq"], 4);
    }

    #[tokio::test]
    async fn a_log_outlives_its_relay() {
        let dir = tempfile::tempdir().expect("dir");
        let channel = "s:gallery:abc";
        {
            let answers = Answers::open(Some(dir.path()), None).expect("open");
            for n in 0..3 {
                let seq = answers
                    .append(channel, &json!({"id": format!("a{n}"), "event": {}}))
                    .await
                    .expect("append");
                assert_eq!(seq, n + 1);
            }
        }
        let answers = Answers::open(Some(dir.path()), None).expect("open");
        let (all, total, _) = answers.since(channel, 1, 10).await.expect("since");
        assert_eq!(total, 3);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0]["id"], "a1");
        assert_eq!(all[0]["seq"], 2);
        assert_eq!(
            answers
                .append(channel, &json!({"id": "a3"}))
                .await
                .expect("append"),
            4
        );
    }
}
