//! Proofing in the journal: a share's options changed after it was made (PIN, downloads,
//! "choose N", expiry), the selections guests sent (each with the frames picked when it
//! was sent, and whether its export and notification are done), and the share's activity
//! as the relay recorded it (who opened it, wrong PINs, downloads).

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use shotline_protocol::gallery::{Choose, Downloads};

use super::{Journal, now_ms};
use crate::Result;
use crate::preview::watermark::Watermark;

/// What to change of a share (`None`: leave as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareChange {
    /// The PIN's hash, or no PIN.
    pub pin_hash: Option<Option<String>>,
    /// Downloads.
    pub downloads: Option<Downloads>,
    /// "Choose N", or none.
    pub choose: Option<Option<Choose>>,
    /// A new expiry, ms since the epoch.
    pub expires_ms: Option<i64>,
    /// A new watermark, or none: every frame is sent again.
    pub watermark: Option<Option<Watermark>>,
    /// Share the studio's live view with its guests, or stop.
    pub live: Option<bool>,
    /// A layout overlay over it (a kept PNG), or none.
    pub live_overlay: Option<Option<String>>,
}

/// A selection a guest sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// The share.
    pub share: String,
    /// The submit's id in the relay's log.
    pub submit_id: String,
    /// The guest.
    pub sub: String,
    /// Their name.
    pub name: Option<String>,
    /// When they sent it, ms since the epoch.
    pub submitted_ms: i64,
    /// The frames picked (shot ids), in the order they were taken.
    pub frames: Vec<i64>,
    /// Where its export was written.
    pub export: Option<String>,
}

/// One entry of a share's activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// Its id in the relay's log.
    pub id: String,
    /// Its place in the relay's log.
    pub seq: u64,
    /// When, ms since the epoch.
    pub ts_ms: i64,
    /// `opened`, `pin_failed`, `download` (the relay's), or `submit` / `unlock`.
    pub kind: String,
    /// The guest, when known.
    pub sub: Option<String>,
    /// Their name, when known.
    pub name: Option<String>,
    /// What else: the wrong guesses so far, what was downloaded.
    pub detail: String,
}

fn selection(r: &rusqlite::Row<'_>) -> rusqlite::Result<Selection> {
    let frames: String = r.get(5)?;
    Ok(Selection {
        share: r.get(0)?,
        submit_id: r.get(1)?,
        sub: r.get(2)?,
        name: r.get(3)?,
        submitted_ms: r.get(4)?,
        frames: serde_json::from_str(&frames).unwrap_or_default(),
        export: r.get(6)?,
    })
}

const SELECTION_COLUMNS: &str = "share, submit_id, sub, name, submitted_ms, frames, export";

impl Journal {
    /// Change share `id` as `change` says; the running engine tells the relay again.
    /// False when there is no such share.
    pub fn change_share(&self, id: &str, change: &ShareChange) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let exists = tx
            .query_row("SELECT 1 FROM shares WHERE id = ?1", [id], |_| Ok(()))
            .optional()?
            .is_some();
        if !exists {
            return Ok(false);
        }
        if let Some(pin) = &change.pin_hash {
            tx.execute(
                "UPDATE shares SET pin_hash = ?2 WHERE id = ?1",
                params![id, pin],
            )?;
        }
        if let Some(downloads) = change.downloads {
            tx.execute(
                "UPDATE shares SET downloads = ?2 WHERE id = ?1",
                params![id, downloads.as_str()],
            )?;
        }
        if let Some(choose) = change.choose {
            tx.execute(
                "UPDATE shares SET choose_min = ?2, choose_max = ?3 WHERE id = ?1",
                params![id, choose.map(|c| c.min), choose.map(|c| c.max)],
            )?;
        }
        if let Some(watermark) = &change.watermark {
            tx.execute(
                "UPDATE shares SET watermark = ?2, watermark_version = watermark_version + 1 \
                 WHERE id = ?1",
                params![
                    id,
                    watermark
                        .as_ref()
                        .and_then(|w| serde_json::to_string(w).ok())
                ],
            )?;
        }
        if let Some(overlay) = &change.live_overlay {
            tx.execute(
                "UPDATE shares SET live_overlay = ?2 WHERE id = ?1",
                params![id, overlay],
            )?;
        }
        if let Some(live) = change.live {
            tx.execute(
                "UPDATE shares SET live = ?2 WHERE id = ?1",
                params![id, live as i64],
            )?;
        }
        if let Some(expires) = change.expires_ms {
            tx.execute(
                "UPDATE shares SET expires_ms = ?2 WHERE id = ?1",
                params![id, expires],
            )?;
        }
        tx.execute(
            "UPDATE shares SET registered = 0, settings_version = settings_version + 1 \
             WHERE id = ?1 AND revoked_ms IS NULL",
            [id],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// The frames guest `sub` had picked in `share` before the answer at `seq` (their
    /// latest pick or unpick of each frame), in the order they were picked.
    pub fn picks_before(&self, share: &str, sub: &str, seq: u64) -> Result<Vec<i64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT a.shot_id FROM answers a WHERE a.share = ?1 AND a.sub = ?2 \
             AND a.kind = 'pick' AND a.seq < ?3 AND a.value = 'true' \
             AND a.seq = (SELECT MAX(b.seq) FROM answers b WHERE b.share = a.share \
                          AND b.sub = a.sub AND b.kind = 'pick' AND b.shot_id = a.shot_id \
                          AND b.seq < ?3) \
             ORDER BY a.seq",
        )?;
        let rows = stmt.query_map(params![share, sub, seq as i64], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every selection sent (a `submit` answer) not kept as a selection yet.
    pub fn submits_unrecorded(&self) -> Result<Vec<super::Answer>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT a.share, a.id, a.seq, a.ts_ms, a.sub, a.name, a.shot_id, a.kind, a.value \
             FROM answers a WHERE a.kind = 'submit' AND NOT EXISTS \
             (SELECT 1 FROM selections s WHERE s.share = a.share AND s.submit_id = a.id) \
             ORDER BY a.seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(super::Answer {
                share: r.get(0)?,
                id: r.get(1)?,
                seq: r.get::<_, i64>(2)? as u64,
                ts_ms: r.get(3)?,
                sub: r.get(4)?,
                name: r.get(5)?,
                shot_id: r.get(6)?,
                frame_name: String::new(),
                kind: r.get(7)?,
                value: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Read `share`'s activity log again from its start (the relay's is shorter than what
    /// was read: a relay without its data folder); what is known already counts once.
    pub fn reset_activity_seq(&self, share: &str) -> Result<()> {
        self.conn()
            .execute("UPDATE shares SET activity_seq = 0 WHERE id = ?1", [share])?;
        Ok(())
    }

    /// Keep a selection sent (once per submit).
    pub fn record_selection(&self, selection: &Selection) -> Result<()> {
        self.conn().execute(
            &format!(
                "INSERT OR IGNORE INTO selections ({SELECTION_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ),
            params![
                selection.share,
                selection.submit_id,
                selection.sub,
                selection.name,
                selection.submitted_ms,
                serde_json::to_string(&selection.frames).unwrap_or_else(|_| "[]".into()),
                selection.export
            ],
        )?;
        Ok(())
    }

    /// Selections whose export and notification are not done yet (a crash in between
    /// does them again).
    pub fn selections_pending(&self) -> Result<Vec<Selection>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SELECTION_COLUMNS} FROM selections WHERE done_ms IS NULL \
             ORDER BY submitted_ms"
        ))?;
        let rows = stmt.query_map([], selection)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A selection's export is written (at `export`) and the studio told.
    pub fn selection_done(&self, share: &str, submit_id: &str, export: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE selections SET export = ?3, done_ms = ?4 WHERE share = ?1 AND submit_id = ?2",
            params![share, submit_id, export, now_ms()],
        )?;
        Ok(())
    }

    /// Every selection sent in `share`, oldest first.
    pub fn selections(&self, share: &str) -> Result<Vec<Selection>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SELECTION_COLUMNS} FROM selections WHERE share = ?1 ORDER BY submitted_ms"
        ))?;
        let rows = stmt.query_map([share], selection)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How far `share`'s activity log on the relay is read.
    pub fn activity_seq(&self, share: &str) -> Result<u64> {
        Ok(self
            .conn()
            .query_row(
                "SELECT activity_seq FROM shares WHERE id = ?1",
                [share],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0) as u64)
    }

    /// Record `entries` of `share`'s activity and that its log is read up to `seq`, in one
    /// transaction; the entries not seen before.
    pub fn record_activity(
        &self,
        share: &str,
        entries: &[Activity],
        seq: u64,
    ) -> Result<Vec<Activity>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut new = Vec::new();
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO share_activity (share, id, seq, ts_ms, kind, sub, name, detail) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for a in entries {
                if insert.execute(params![
                    share,
                    a.id,
                    a.seq as i64,
                    a.ts_ms,
                    a.kind,
                    a.sub,
                    a.name,
                    a.detail
                ])? > 0
                {
                    new.push(a.clone());
                }
            }
        }
        tx.execute(
            "UPDATE shares SET activity_seq = MAX(activity_seq, ?2) WHERE id = ?1",
            params![share, seq as i64],
        )?;
        tx.commit()?;
        Ok(new)
    }

    /// `share`'s activity, oldest first: the relay's records and, from the answers, every
    /// selection sent and unlocked.
    pub fn activity(&self, share: &str) -> Result<Vec<Activity>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, seq, ts_ms, kind, sub, name, detail FROM share_activity WHERE share = ?1 \
             UNION ALL \
             SELECT id, seq, ts_ms, kind, sub, name, value FROM answers \
             WHERE share = ?1 AND kind IN ('submit', 'unlock') \
             ORDER BY 3, 2",
        )?;
        let rows = stmt.query_map([share], |r| {
            Ok(Activity {
                id: r.get(0)?,
                seq: r.get::<_, i64>(1)? as u64,
                ts_ms: r.get(2)?,
                kind: r.get(3)?,
                sub: r.get(4)?,
                name: r.get(5)?,
                detail: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
