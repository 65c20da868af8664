//! The relay outbox: every event is written here (in batches) before the relay client
//! sends it, and removed only when the relay acknowledged it. Ids are
//! `<journal id>-<seq>`, unique for the relay's duplicate check even across restarts.

use rusqlite::params;

use super::{Journal, now_ms};
use crate::Result;

/// Events kept at most; the oldest go first when a relay has been away for very long.
const MAX_ROWS: i64 = 200_000;

/// One event waiting for the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Order of the outbox.
    pub seq: i64,
    /// Unique id for the relay.
    pub id: String,
    /// Relay channel.
    pub channel: String,
    /// The event, as JSON text.
    pub event: String,
}

impl Journal {
    /// Append events (channel, JSON text) in one transaction.
    pub fn push_events(&self, events: &[(String, String)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let journal_id: String =
            tx.query_row("SELECT value FROM meta WHERE key = 'journal_id'", [], |r| {
                r.get(0)
            })?;
        for (channel, event) in events {
            tx.execute(
                "INSERT INTO outbox (channel, ts_ms, event) VALUES (?1, ?2, ?3)",
                params![channel, now_ms(), event],
            )?;
            let seq = tx.last_insert_rowid();
            tx.execute(
                "UPDATE outbox SET id = ?2 WHERE seq = ?1",
                params![seq, format!("{journal_id}-{seq}")],
            )?;
        }
        tx.execute(
            "DELETE FROM outbox WHERE seq <= (SELECT MAX(seq) FROM outbox) - ?1",
            [MAX_ROWS],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Up to `limit` events after `after`, in order.
    pub fn events_after(&self, after: i64, limit: usize) -> Result<Vec<Outgoing>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT seq, id, channel, event FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit as i64], |r| {
            Ok(Outgoing {
                seq: r.get(0)?,
                id: r.get(1)?,
                channel: r.get(2)?,
                event: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The relay has these events: forget them.
    pub fn events_delivered(&self, seqs: &[i64]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for seq in seqs {
            tx.execute("DELETE FROM outbox WHERE seq = ?1", [seq])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Events waiting.
    pub fn outbox_len(&self) -> Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get::<_, i64>(0))?
            as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_never_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::open(&dir.path().join("j.sqlite")).expect("open");
        j.push_events(&[
            ("s:camera".into(), "{}".into()),
            ("s:backup".into(), "{}".into()),
        ])
        .expect("push");
        let first = j.events_after(0, 10).expect("read");
        assert_eq!(first.len(), 2);
        j.events_delivered(&[first[1].seq]).expect("ack");
        j.push_events(&[("s:camera".into(), "{}".into())])
            .expect("push");
        let now = j.events_after(0, 10).expect("read");
        assert_eq!(now.len(), 2);
        assert_ne!(now[1].id, first[1].id, "a delivered event's id came back");
        assert!(now[1].seq > first[1].seq);
        assert_eq!(j.events_after(now[0].seq, 10).expect("read").len(), 1);
        let other = Journal::open(&dir.path().join("k.sqlite")).expect("open");
        other
            .push_events(&[("s:camera".into(), "{}".into())])
            .expect("push");
        assert_ne!(
            other.events_after(0, 1).expect("read")[0].id,
            first[0].id,
            "two journals, same ids"
        );
    }
}
