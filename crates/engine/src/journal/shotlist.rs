//! Each session's shot list in the journal: its items, the item being shot now (set by
//! `shotline shot next CODE` or the window, read by ingest), and each frame's slot (item,
//! view, number), decided in the same transaction that reserves the frame's name, so a
//! crash mid-item loses nothing and the next frame continues the item.

use rusqlite::{OptionalExtension, Transaction, params};

use super::Journal;
use crate::Result;
use crate::shotlist::{Item, Progress, Slot, Status, UNSORTED};

fn item_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    let views: String = row.get(2)?;
    Ok(Item {
        code: row.get(0)?,
        name: row.get(1)?,
        views: serde_json::from_str(&views).unwrap_or_default(),
    })
}

/// The item `session` is shooting now, if any.
fn current(tx: &Transaction<'_>, session: &str) -> rusqlite::Result<Option<Item>> {
    tx.query_row(
        "SELECT i.code, i.name, i.views FROM shotlist_current c \
         JOIN shotlist_items i ON i.session = c.session AND i.code = c.code \
         WHERE c.session = ?1",
        [session],
        item_of,
    )
    .optional()
}

/// Where the next frame of `session` goes (and its number there).
pub(super) fn next_slot(tx: &Transaction<'_>, session: &str) -> rusqlite::Result<Slot> {
    let Some(item) = current(tx, session)? else {
        let n: u64 = tx.query_row(
            "SELECT COUNT(*) FROM shots WHERE session = ?1 AND item_code IS NULL AND item_n IS NOT NULL",
            [session],
            |r| r.get(0),
        )?;
        return Ok(Slot::unsorted(n + 1));
    };
    let mut statement =
        tx.prepare_cached("SELECT item_view FROM shots WHERE session = ?1 AND item_code = ?2")?;
    let shot: Vec<String> = statement
        .query_map(params![session, item.code], |r| {
            r.get::<_, Option<String>>(0)
        })?
        .filter_map(|v| v.ok().flatten())
        .collect();
    Ok(Slot::next(&item, &shot, shot.len() as u64))
}

/// Note the slot of shot `id`.
pub(super) fn place(tx: &Transaction<'_>, id: i64, slot: &Slot) -> rusqlite::Result<()> {
    let unsorted = slot.code == UNSORTED;
    tx.execute(
        "UPDATE shots SET item_code = ?2, item_view = ?3, item_n = ?4 WHERE id = ?1",
        params![
            id,
            (!unsorted).then_some(&slot.code),
            (!unsorted).then_some(&slot.view),
            slot.n as i64
        ],
    )?;
    Ok(())
}

impl Journal {
    /// Make `items` the shot list of `session` (replacing one loaded before); the item
    /// being shot stays chosen if it is still on the list.
    pub fn load_shotlist(&self, session: &str, items: &[Item]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM shotlist_items WHERE session = ?1", [session])?;
        for (pos, item) in items.iter().enumerate() {
            tx.execute(
                "INSERT INTO shotlist_items (session, code, name, views, pos) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    session,
                    item.code,
                    item.name,
                    serde_json::to_string(&item.views).unwrap_or_default(),
                    pos as i64
                ],
            )?;
        }
        tx.execute(
            "DELETE FROM shotlist_current WHERE session = ?1 AND code NOT IN \
             (SELECT code FROM shotlist_items WHERE session = ?1)",
            [session],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Shoot item `code` of `session` from the next frame on (`None`: no item, the frames
    /// are unsorted). False, and nothing changed, when the list has no such code.
    pub fn choose_item(&self, session: &str, code: Option<&str>) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let Some(code) = code else {
            tx.execute("DELETE FROM shotlist_current WHERE session = ?1", [session])?;
            tx.commit()?;
            return Ok(true);
        };
        let known: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM shotlist_items WHERE session = ?1 AND code = ?2)",
            params![session, code],
            |r| r.get(0),
        )?;
        if known {
            tx.execute(
                "INSERT INTO shotlist_current (session, code) VALUES (?1, ?2) \
                 ON CONFLICT(session) DO UPDATE SET code = excluded.code",
                params![session, code],
            )?;
        }
        tx.commit()?;
        Ok(known)
    }

    /// `session`'s shot list as shot so far (`None` when it has none).
    pub fn shotlist_status(&self, session: &str) -> Result<Option<Status>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let items: Vec<Item> = {
            let mut statement = tx.prepare(
                "SELECT code, name, views FROM shotlist_items WHERE session = ?1 ORDER BY pos",
            )?;
            statement
                .query_map([session], item_of)?
                .collect::<rusqlite::Result<_>>()?
        };
        if items.is_empty() {
            return Ok(None);
        }
        let mut progress = Vec::with_capacity(items.len());
        {
            let mut statement = tx.prepare(
                "SELECT item_view FROM shots WHERE session = ?1 AND item_code = ?2 ORDER BY item_n",
            )?;
            for item in items {
                let views: Vec<String> = statement
                    .query_map(params![session, item.code], |r| {
                        r.get::<_, Option<String>>(0)
                    })?
                    .filter_map(|v| v.ok().flatten())
                    .collect();
                let shot: Vec<String> = item
                    .views
                    .iter()
                    .filter(|v| views.contains(v))
                    .cloned()
                    .collect();
                let missing = item
                    .views
                    .iter()
                    .filter(|v| !views.contains(v))
                    .cloned()
                    .collect();
                let extra = views.iter().filter(|v| !item.views.contains(v)).count() as u64;
                progress.push(Progress {
                    item,
                    shot,
                    missing,
                    extra,
                });
            }
        }
        let unsorted: u64 = tx.query_row(
            "SELECT COUNT(*) FROM shots WHERE session = ?1 AND item_code IS NULL AND item_n IS NOT NULL",
            [session],
            |r| r.get(0),
        )?;
        let current = tx
            .query_row(
                "SELECT code FROM shotlist_current WHERE session = ?1",
                [session],
                |r| r.get(0),
            )
            .optional()?;
        Ok(Some(Status {
            items: progress,
            unsorted,
            current,
        }))
    }
}
