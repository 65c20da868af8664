//! Guests' answers (ratings, labels, likes, comments) on a share, once [`check`](super::check)ed,
//! kept in a durable log per share channel beside the channel's bounded
//! history — files under `--data` (memory without it) on one node, a Redis list in a
//! cluster — so the engine, offline for an hour or past the history's bound, still gets
//! every one (`GET /v1/shares/{id}/answers?after=N`), and a late guest sees them all.
//!
//! An answer's place in the log (`seq`, from 1) is its position. An id already kept is
//! not kept again ([`AppendError::Duplicate`]); a log holds at most `share_answers`
//! bytes, and each guest's answers in it `guest_answers` bytes.
//!
//! - this module: the logs' API.
//! - `local`: one node's files, streamed from disk, with an index in memory.
//! - `redis`: a cluster's logs in Redis, checked and appended by one script.

mod local;
mod redis;
pub mod shown;

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::backend::Unavailable;

/// Answers a share keeps, at most (a busy event's guests stay far below it).
pub const MAX_ANSWERS: usize = 200_000;
/// Answers per read, at most.
pub const PAGE: usize = 1000;

/// Where the log lives.
#[derive(Debug)]
enum Store {
    /// Files `<dir>/<channel>.jsonl` (or memory without a folder).
    Local(local::Local),
    /// A Redis list per channel, with its ids, bytes per guest and total bytes.
    Redis(Box<redis::Logs>),
}

/// How much a log may hold, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    /// One share's log.
    pub share: u64,
    /// One guest's answers in one share's log.
    pub guest: u64,
}

/// The answer logs, and what each share shows.
#[derive(Debug)]
pub struct Answers {
    store: Store,
    quotas: Quotas,
    /// The frames and pictures each share shows.
    pub shown: shown::Shown,
}

fn file_name(channel: &str) -> String {
    format!("c_{}.jsonl", channel.replace(':', "+"))
}

impl Answers {
    /// Logs under `dir/answers` (memory without `dir`), or in Redis at `redis`, each
    /// held to `quotas`.
    pub fn open(
        dir: Option<&std::path::Path>,
        redis: Option<&str>,
        quotas: Quotas,
    ) -> std::io::Result<Self> {
        let store = match redis {
            Some(url) => Store::Redis(Box::new(
                redis::Logs::open(url).map_err(|e| std::io::Error::other(e.0))?,
            )),
            None => {
                let dir: Option<PathBuf> = dir.map(|d| d.join("answers"));
                if let Some(dir) = &dir {
                    std::fs::create_dir_all(dir)?;
                }
                Store::Local(local::Local::new(dir))
            }
        };
        Ok(Self {
            store,
            quotas,
            shown: shown::Shown::default(),
        })
    }

    /// Keep `entry` (one answer: `{"id","ts","event"}`, stamped with its guest) in
    /// `channel`'s log; its `seq`. An id already kept, a full log or a guest past its
    /// quota is refused before anything is written.
    pub async fn append(&self, channel: &str, entry: &Value) -> Result<u64, AppendError> {
        let line = entry.to_string();
        let id = entry["id"].as_str().unwrap_or_default();
        let guest = entry["event"]["payload"]["sub"]
            .as_str()
            .unwrap_or_default();
        let lock = Lock::of(entry);
        match &self.store {
            Store::Local(local) => {
                let quotas = self.quotas;
                local
                    .with(channel, async |log, path| {
                        log.append(path, id, guest, &line, &quotas, &lock).await
                    })
                    .await?
            }
            Store::Redis(logs) => {
                logs.append(channel, &line, id, guest, &self.quotas, &lock)
                    .await
            }
        }
    }

    /// Forget `channel`'s log (its share is long gone).
    pub async fn forget(&self, channel: &str) -> Result<(), Unavailable> {
        self.shown.forget(channel);
        match &self.store {
            Store::Local(local) => local.forget(channel).await,
            Store::Redis(logs) => logs.forget(channel).await,
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
            Store::Local(local) => local.lines(channel, after, limit).await?,
            Store::Redis(logs) => logs.since(channel, after, limit).await?,
        };
        let next = after
            .saturating_add(lines.len() as u64)
            .min(total.max(after));
        let answers = lines
            .iter()
            .enumerate()
            .filter_map(|(i, line)| {
                let mut v: Value = serde_json::from_str(line).ok()?;
                v["seq"] = json!(after.saturating_add(i as u64 + 1));
                Some(v)
            })
            .collect();
        Ok((answers, total, next))
    }
}

/// What an answer means for its guest's selection ("choose N"): a pick or a submit is
/// refused once the guest's selection is sent; a submit locks it; the studio's
/// `gallery_unlock` opens it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Lock {
    /// Nothing to do with the selection.
    None,
    /// A pick: refused while locked.
    Pick,
    /// The selection sent: refused while locked, then locks.
    Submit,
    /// The studio unlocks this guest.
    Unlock(String),
}

impl Lock {
    /// What `entry` (`{"id","ts","event"}`) means for its guest's selection.
    pub(super) fn of(entry: &Value) -> Self {
        let event = &entry["event"];
        match event["type"].as_str().unwrap_or_default() {
            "gallery_pick" => Lock::Pick,
            "gallery_submit" => Lock::Submit,
            "gallery_unlock" => Lock::Unlock(
                event["payload"]["guest"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ),
            _ => Lock::None,
        }
    }
}

/// An answer not kept.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The log is at [`MAX_ANSWERS`] or its byte quota.
    #[error("this gallery holds as many answers as it may; the studio has every one of them")]
    Full,
    /// The guest has left its quota of answers on this share.
    #[error(
        "you have left as many answers on this gallery as one person may; the studio has them all"
    )]
    GuestFull,
    /// The guest's selection is sent: no more picks until the studio unlocks it.
    #[error("your selection is sent and locked; ask the studio to unlock it to change it")]
    Locked,
    /// The answer's id is in the log already (a retry): it is not kept twice.
    #[error("this answer was kept already")]
    Duplicate,
    /// The store is away.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUOTAS: Quotas = Quotas {
        share: 64_000_000,
        guest: 1_000_000,
    };

    fn answer(id: &str, guest: &str, text: &str) -> Value {
        json!({"id": id, "ts": 1, "event": {"type": "gallery_comment",
            "payload": {"frame": 1, "text": text, "sub": guest}}})
    }

    #[tokio::test]
    async fn a_kept_id_is_not_kept_again_and_quotas_hold_across_a_restart() {
        let dir = tempfile::tempdir().expect("dir");
        let channel = "s:gallery:q";
        let quotas = Quotas {
            share: 2_600,
            guest: 1_400,
        };
        let answers = Answers::open(Some(dir.path()), None, quotas).expect("open");
        assert_eq!(
            answers
                .append(channel, &answer("a", "ana", "hi"))
                .await
                .expect("kept"),
            1
        );
        assert!(matches!(
            answers.append(channel, &answer("a", "ana", "hi")).await,
            Err(AppendError::Duplicate)
        ));
        let long = "x".repeat(600);
        assert!(
            answers
                .append(channel, &answer("b", "ana", &long))
                .await
                .is_ok()
        );
        assert!(matches!(
            answers.append(channel, &answer("c", "ana", &long)).await,
            Err(AppendError::GuestFull)
        ));
        assert!(
            answers
                .append(channel, &answer("d", "ben", &long))
                .await
                .is_ok()
        );
        let reopened = Answers::open(Some(dir.path()), None, quotas).expect("open");
        assert!(
            matches!(
                reopened.append(channel, &answer("a", "ana", "hi")).await,
                Err(AppendError::Duplicate)
            ),
            "ids are known again after a restart"
        );
        assert!(matches!(
            reopened.append(channel, &answer("e", "ana", &long)).await,
            Err(AppendError::GuestFull)
        ));
        assert!(
            reopened
                .append(channel, &answer("f", "cat", &long))
                .await
                .is_ok()
        );
        assert!(matches!(
            reopened.append(channel, &answer("g", "dan", &long)).await,
            Err(AppendError::Full)
        ));
        let (all, total, _) = reopened.since(channel, 0, 10).await.expect("since");
        assert_eq!((all.len(), total), (4, 4));
        reopened.forget(channel).await.expect("forget");
        assert_eq!(reopened.since(channel, 0, 10).await.expect("since").1, 0);
        assert!(
            std::fs::read_dir(dir.path().join("answers"))
                .expect("dir")
                .next()
                .is_none()
        );
    }

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
        let answers = Answers::open(Some(dir.path()), None, QUOTAS).expect("open");
        assert_eq!(
            answers
                .append(channel, &json!({"id": "d"}))
                .await
                .expect("append"),
            4,
            "the cut line is gone, the others keep their places"
        );
        let reopened = Answers::open(Some(dir.path()), None, QUOTAS).expect("open");
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
            let answers = Answers::open(Some(dir.path()), None, QUOTAS).expect("open");
            for n in 0..3 {
                let seq = answers
                    .append(channel, &json!({"id": format!("a{n}"), "event": {}}))
                    .await
                    .expect("append");
                assert_eq!(seq, n + 1);
            }
        }
        let answers = Answers::open(Some(dir.path()), None, QUOTAS).expect("open");
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
