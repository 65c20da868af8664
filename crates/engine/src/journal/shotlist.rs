//! Each session's own things in the journal: its shot list (its items, the item being
//! shot now — set by `shotline shot next CODE` or the window, read by ingest — and each
//! frame's slot: item, view, number, decided in the same transaction that reserves the
//! frame's name, so a crash mid-item loses nothing and the next frame continues the
//! item), and its metadata over `[metadata]` (`--meta`, the window's session dialog).

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

/// `name` without its extension: a RAW and its JPEG share it.
fn stem(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.rsplit_once('.').map_or(base, |(stem, _)| stem)
}

/// Where the next frame of `session`, `original`, goes (and its number there). The other
/// half of a RAW+JPEG pair (the session's latest frame has the same name but for its
/// extension) shares that frame's slot: one exposure, one view. A duplicate (its content
/// was already in the library) or a frame that vanished is no new exposure: it takes no
/// view.
pub(super) fn next_slot(
    tx: &Transaction<'_>,
    session: &str,
    original: &str,
) -> rusqlite::Result<Slot> {
    let latest: Option<(Option<String>, Option<String>, u64, String)> = tx
        .query_row(
            "SELECT item_code, item_view, item_n, original FROM shots \
             WHERE session = ?1 AND item_n IS NOT NULL AND state NOT IN ('duplicate', 'failed') \
             ORDER BY id DESC LIMIT 1",
            [session],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    if let Some((code, view, n, theirs)) = latest
        && theirs != original
        && stem(&theirs) == stem(original)
    {
        return Ok(match code {
            None => Slot::unsorted(n),
            Some(code) => {
                let item: String = tx
                    .query_row(
                        "SELECT name FROM shotlist_items WHERE session = ?1 AND code = ?2",
                        params![session, code],
                        |r| r.get(0),
                    )
                    .optional()?
                    .unwrap_or_else(|| code.clone());
                Slot {
                    code,
                    item,
                    view: view.unwrap_or_default(),
                    n,
                }
            }
        });
    }
    let Some(item) = current(tx, session)? else {
        let n: u64 = tx.query_row(
            "SELECT COUNT(DISTINCT item_n) FROM shots WHERE session = ?1 AND item_code IS NULL \
             AND item_n IS NOT NULL AND state NOT IN ('duplicate', 'failed')",
            [session],
            |r| r.get(0),
        )?;
        return Ok(Slot::unsorted(n + 1));
    };
    let mut statement = tx.prepare_cached(
        "SELECT item_view, item_n FROM shots WHERE session = ?1 AND item_code = ?2 \
         AND state NOT IN ('duplicate', 'failed')",
    )?;
    let rows: Vec<(Option<String>, u64)> = statement
        .query_map(params![session, item.code], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let shot: Vec<String> = rows.iter().filter_map(|(v, _)| v.clone()).collect();
    let frames = rows
        .iter()
        .map(|(_, n)| *n)
        .collect::<std::collections::HashSet<_>>()
        .len() as u64;
    Ok(Slot::next(&item, &shot, frames))
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
        // Immediate: another process (the engine) may be writing; wait for it, not fail.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
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
        // Immediate: a scan while the engine writes waits for it instead of failing.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
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
                // One row an exposure (a RAW+JPEG pair shares its slot).
                "SELECT DISTINCT item_view, item_n FROM shots WHERE session = ?1 AND item_code = ?2 \
                 AND state NOT IN ('duplicate', 'failed') ORDER BY item_n",
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
            "SELECT COUNT(DISTINCT item_n) FROM shots WHERE session = ?1 AND item_code IS NULL \
             AND item_n IS NOT NULL AND state NOT IN ('duplicate', 'failed')",
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

impl Journal {
    /// Keep `pairs` (`[metadata]` keys and values, as `--meta` gives them) as session
    /// `session`'s own metadata, over what it had; keywords add up, an empty value clears
    /// the key.
    pub fn set_session_meta(&self, session: &str, pairs: &[(String, String)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (key, value) in pairs {
            let value = if key == "keywords" && !value.trim().is_empty() {
                let had: Option<String> = tx
                    .query_row(
                        "SELECT value FROM session_meta WHERE session = ?1 AND key = 'keywords'",
                        [session],
                        |r| r.get(0),
                    )
                    .optional()?;
                match had {
                    Some(had) if !had.is_empty() => format!("{had},{value}"),
                    _ => value.clone(),
                }
            } else {
                value.clone()
            };
            tx.execute(
                "INSERT INTO session_meta (session, key, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(session, key) DO UPDATE SET value = excluded.value",
                params![session, key, value],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Session `session`'s own metadata: (key, value), keywords comma-separated.
    pub fn session_meta(&self, session: &str) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT key, value FROM session_meta WHERE session = ?1 ORDER BY key",
        )?;
        let pairs = statement
            .query_map([session], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(pairs)
    }
}
