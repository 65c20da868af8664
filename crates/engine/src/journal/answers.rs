//! The guests' answers in the journal — the studio's record of them: every rating, label,
//! like and comment each share's guests gave, as fetched from the relay's answer log
//! (each once, by its publish id), how far each share's log has been read, and what each
//! frame's XMP sidecar was last given.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Journal, now_ms};
use crate::Result;

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The share.
    pub share: String,
    /// The publish id (a retried publish counts once).
    pub id: String,
    /// Its place in the relay's log.
    pub seq: u64,
    /// When the relay took it, ms since the epoch.
    pub ts_ms: i64,
    /// The guest (`sub` of their token).
    pub sub: String,
    /// The guest's display name.
    pub name: Option<String>,
    /// The frame (shot id).
    pub shot_id: i64,
    /// The frame's file name (in listings; empty when recording).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub frame_name: String,
    /// `rating`, `label`, `like` or `comment`.
    pub kind: String,
    /// Stars (`0`–`5`), the label (`red` … `none`), `true`/`false`, or the comment.
    pub value: String,
}

/// A frame's marks for its sidecar: the latest rating and label any guest gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    /// Stars.
    pub rating: Option<u8>,
    /// The label, as guests give it (`red` … `none`).
    pub label: Option<String>,
}

/// What the guests said of a frame, for the studio's window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Feedback {
    /// The latest rating any guest gave.
    pub rating: Option<u8>,
    /// The latest label any guest gave (`none` left out).
    pub label: Option<String>,
    /// Guests who like it now.
    pub likes: u32,
    /// Comments.
    pub comments: u32,
    /// The latest comment, `Name: text`.
    pub last_comment: Option<String>,
}

impl Feedback {
    /// One line: `★4 · red · 2 likes · 1 comment — Ana: can we see it without the hat?`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = self.rating {
            parts.push(format!("★{r}"));
        }
        if let Some(l) = &self.label {
            parts.push(l.clone());
        }
        let plural = |n: u32, one: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {one}s")
            }
        };
        if self.likes > 0 {
            parts.push(plural(self.likes, "like"));
        }
        if self.comments > 0 {
            parts.push(plural(self.comments, "comment"));
        }
        let mut line = parts.join(" · ");
        if let Some(c) = &self.last_comment {
            let short: String = c.chars().take(80).collect();
            line.push_str(&format!(" — {short}"));
        }
        line
    }
}

/// `shot`'s feedback (`?1`): latest rating, latest label, likes, comments, the latest
/// comment, and how many answers it has. Likes count each guest whose latest like (by
/// time, then log order) is `true`: one pass over the frame's likes with a window
/// function, not a self-join, which was quadratic in them under the journal's lock.
/// `RANK() = 1` keeps what the self-join counted exactly, ties included.
pub(super) const FEEDBACK: &str = "SELECT \
   (SELECT value FROM answers WHERE shot_id = ?1 AND kind = 'rating' ORDER BY ts_ms DESC, seq DESC LIMIT 1), \
   (SELECT value FROM answers WHERE shot_id = ?1 AND kind = 'label' ORDER BY ts_ms DESC, seq DESC LIMIT 1), \
   (SELECT COUNT(*) FROM (SELECT value, RANK() OVER (PARTITION BY sub ORDER BY ts_ms DESC, seq DESC) AS latest \
      FROM answers WHERE shot_id = ?1 AND kind = 'like') WHERE latest = 1 AND value = 'true'), \
   (SELECT COUNT(*) FROM answers WHERE shot_id = ?1 AND kind = 'comment'), \
   (SELECT COALESCE(name, 'A guest') || ': ' || value FROM answers WHERE shot_id = ?1 \
      AND kind = 'comment' ORDER BY ts_ms DESC, seq DESC LIMIT 1), \
   (SELECT COUNT(*) FROM answers WHERE shot_id = ?1)";

/// `shot`'s feedback on an open connection (`None`: no guest answered it).
pub(super) fn feedback_of(conn: &rusqlite::Connection, shot: i64) -> Result<Option<Feedback>> {
    let found = conn.prepare_cached(FEEDBACK)?.query_row([shot], |r| {
        Ok((
            Feedback {
                rating: r.get::<_, Option<String>>(0)?.and_then(|v| v.parse().ok()),
                label: r.get::<_, Option<String>>(1)?.filter(|l| l != "none"),
                likes: r.get::<_, i64>(2)? as u32,
                comments: r.get::<_, i64>(3)? as u32,
                last_comment: r.get(4)?,
            },
            r.get::<_, i64>(5)?,
        ))
    })?;
    Ok((found.1 > 0).then_some(found.0))
}

impl Journal {
    /// How far `share`'s answer log has been read (its last `seq`).
    pub fn answers_seq(&self, share: &str) -> Result<u64> {
        Ok(self
            .conn()
            .query_row(
                "SELECT answers_seq FROM shares WHERE id = ?1",
                [share],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0) as u64)
    }

    /// Record `answers` of `share` and that its log is read up to `seq`, in one
    /// transaction; the answers not seen before.
    pub fn record_answers(&self, share: &str, answers: &[Answer], seq: u64) -> Result<Vec<Answer>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut new = Vec::new();
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO answers (share, id, seq, ts_ms, sub, name, shot_id, kind, value) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for a in answers {
                let n = insert.execute(params![
                    share,
                    a.id,
                    a.seq as i64,
                    a.ts_ms,
                    a.sub,
                    a.name,
                    a.shot_id,
                    a.kind,
                    a.value
                ])?;
                if n > 0 {
                    new.push(a.clone());
                }
            }
            tx.execute(
                "UPDATE shares SET answers_seq = MAX(answers_seq, ?2) WHERE id = ?1",
                params![share, seq as i64],
            )?;
        }
        tx.commit()?;
        Ok(new)
    }

    /// Read `share`'s answer log again from its start (the relay's is shorter than it was).
    pub fn reset_answers_seq(&self, share: &str) -> Result<()> {
        self.conn()
            .execute("UPDATE shares SET answers_seq = 0 WHERE id = ?1", [share])?;
        Ok(())
    }

    /// Every answer to `share`, in the order the relay took them, with frame names.
    pub fn answers(&self, share: &str) -> Result<Vec<Answer>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT a.share, a.id, a.seq, a.ts_ms, a.sub, a.name, a.shot_id, COALESCE(s.original, ''), \
             a.kind, a.value FROM answers a LEFT JOIN shots s ON s.id = a.shot_id \
             WHERE a.share = ?1 ORDER BY a.seq, a.id",
        )?;
        let rows = stmt.query_map([share], |r| {
            Ok(Answer {
                share: r.get(0)?,
                id: r.get(1)?,
                seq: r.get::<_, i64>(2)? as u64,
                ts_ms: r.get(3)?,
                sub: r.get(4)?,
                name: r.get(5)?,
                shot_id: r.get(6)?,
                frame_name: r.get(7)?,
                kind: r.get(8)?,
                value: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// `shot`'s marks: the latest rating and the latest label any guest of any share gave.
    pub fn marks(&self, shot: i64) -> Result<Marks> {
        let conn = self.conn();
        let latest = |kind: &str| -> Result<Option<String>> {
            Ok(conn
                .query_row(
                    "SELECT value FROM answers WHERE shot_id = ?1 AND kind = ?2 \
                     ORDER BY ts_ms DESC, seq DESC LIMIT 1",
                    params![shot, kind],
                    |r| r.get(0),
                )
                .optional()?)
        };
        Ok(Marks {
            rating: latest("rating")?.and_then(|v| v.parse().ok()),
            label: latest("label")?,
        })
    }

    /// The marks `shot`'s sidecar was last given.
    pub fn sidecar_marks(&self, shot: i64) -> Result<Option<Marks>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT rating, label FROM sidecars WHERE shot_id = ?1 AND state = 'written'",
                [shot],
                |r| {
                    Ok(Marks {
                        rating: r.get::<_, Option<i64>>(0)?.map(|v| v as u8),
                        label: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// `shot`'s sidecar was given `marks` (or could not be: `error`).
    pub fn sidecar_done(&self, shot: i64, marks: &Marks, error: Option<&str>) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO sidecars (shot_id, rating, label, state, error, written_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                shot,
                marks.rating.map(i64::from),
                marks.label,
                if error.is_some() { "failed" } else { "written" },
                error,
                now_ms()
            ],
        )?;
        Ok(())
    }
}
