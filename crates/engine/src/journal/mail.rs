//! Mail to the studio in the journal: each message queued once under what it is about
//! (`selection:<share>:<id>`, `digest:<date>`, `expiry:<share>:<end>`), kept until the
//! SMTP server took it, so a crash or a server away loses none and sends none twice.

use rusqlite::{OptionalExtension, params};

use super::{Journal, now_ms};
use crate::Result;

/// A message waiting to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// What it is about (once).
    pub key: String,
    /// Its subject.
    pub subject: String,
    /// Its text.
    pub body: String,
    /// Tries so far.
    pub attempts: u32,
}

/// A comment for the digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestComment {
    /// The share's title, or its id.
    pub share: String,
    /// The frame's file name.
    pub file: String,
    /// The guest's name.
    pub name: String,
    /// The comment.
    pub text: String,
    /// When, ms since the epoch.
    pub ts_ms: i64,
}

impl Journal {
    /// Queue a message about `key` (nothing when one is queued or sent already); whether
    /// it was new.
    pub fn queue_mail(&self, key: &str, subject: &str, body: &str) -> Result<bool> {
        Ok(self.conn().execute(
            "INSERT OR IGNORE INTO mail_outbox (key, subject, body, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![key, subject, body, now_ms()],
        )? > 0)
    }

    /// Up to `limit` messages not sent yet, those tried least first, then the oldest (one
    /// the server keeps refusing never holds up the others); a message refused 20 times
    /// is given up (its last error stays in the journal).
    pub fn mail_due(&self, limit: usize) -> Result<Vec<Mail>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT key, subject, body, attempts FROM mail_outbox \
             WHERE sent_ms IS NULL AND attempts < 20 ORDER BY attempts, created_ms LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(Mail {
                key: r.get(0)?,
                subject: r.get(1)?,
                body: r.get(2)?,
                attempts: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The server took the message about `key`.
    pub fn mail_sent(&self, key: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE mail_outbox SET sent_ms = ?2, last_error = NULL WHERE key = ?1",
            params![key, now_ms()],
        )?;
        Ok(())
    }

    /// The message about `key` could not go: why.
    pub fn mail_failed(&self, key: &str, error: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE mail_outbox SET attempts = attempts + 1, last_error = ?2 WHERE key = ?1",
            params![key, error],
        )?;
        Ok(())
    }

    /// Was a message about `key` queued?
    pub fn mail_known(&self, key: &str) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM mail_outbox WHERE key = ?1",
                [key],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Comments recorded after the answer row `after_row` (the last digest's), by share
    /// and time — so a comment that reached this computer late still comes in the next
    /// digest; with no digest yet (`0`), those given after `after_ms`. And the row the
    /// next digest starts after.
    pub fn comments_since(
        &self,
        after_row: i64,
        after_ms: i64,
    ) -> Result<(Vec<DigestComment>, i64)> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT COALESCE(h.title, h.id), COALESCE(s.original, ''), COALESCE(a.name, a.sub), \
             a.value, a.ts_ms, a.rowid FROM answers a JOIN shares h ON h.id = a.share \
             LEFT JOIN shots s ON s.id = a.shot_id \
             WHERE a.kind = 'comment' AND a.rowid > ?1 AND (?1 > 0 OR a.ts_ms > ?2) \
             ORDER BY a.share, a.ts_ms",
        )?;
        let mut last = after_row;
        let rows = stmt.query_map(params![after_row, after_ms], |r| {
            Ok((
                DigestComment {
                    share: r.get(0)?,
                    file: r.get(1)?,
                    name: r.get(2)?,
                    text: r.get(3)?,
                    ts_ms: r.get(4)?,
                },
                r.get::<_, i64>(5)?,
            ))
        })?;
        let mut comments = Vec::new();
        for row in rows {
            let (comment, rowid) = row?;
            last = last.max(rowid);
            comments.push(comment);
        }
        if last == after_row {
            // Nothing new: the next digest starts after every answer kept so far.
            last = conn.query_row("SELECT COALESCE(MAX(rowid), 0) FROM answers", [], |r| {
                r.get(0)
            })?;
            last = last.max(after_row);
        }
        Ok((comments, last))
    }
}
