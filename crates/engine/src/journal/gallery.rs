//! The live gallery in the journal: the shares (a session opened to guests, with its
//! link), and which frames each share has published (each frame's previews: `previews`).

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use shotline_protocol::gallery::{Choose, Downloads};

use crate::preview::watermark::Watermark;

use super::{Journal, now_ms};
use crate::Result;

/// One share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Share {
    /// Its id (in the link, and in its channel `<studio>:gallery:<id>`).
    pub id: String,
    /// The session it shows.
    pub session: String,
    /// A title for its guests.
    pub title: Option<String>,
    /// The guests' link token (once the running engine minted it).
    #[serde(skip)]
    pub token: Option<String>,
    /// The link (once the running engine made it).
    pub link: Option<String>,
    /// Created, ms since the epoch.
    pub created_ms: i64,
    /// Expires, ms since the epoch.
    pub expires_ms: i64,
    /// Revoked, ms since the epoch.
    pub revoked_ms: Option<i64>,
    /// The relay knows it (and, once revoked, that it is closed).
    #[serde(skip)]
    pub registered: bool,
    /// Its PIN's Argon2 hash (never the PIN).
    #[serde(skip)]
    pub pin_hash: Option<String>,
    /// What its guests may download.
    pub downloads: Downloads,
    /// "Choose N".
    pub choose: Option<Choose>,
    /// The watermark burned into what its guests see.
    pub watermark: Option<Watermark>,
    /// Counts the watermark's changes: frames sent with an older one are sent again.
    pub watermark_version: i64,
    /// Counts every change of its settings: the relay is told the latest.
    #[serde(skip)]
    pub settings_version: i64,
    /// When its link's token ends (the share cannot be extended past it).
    #[serde(skip)]
    pub link_exp_ms: Option<i64>,
    /// Its guests see the studio's live view.
    pub live: bool,
    /// The layout overlay its guests see over live view: a PNG kept under the library.
    pub live_overlay: Option<String>,
}

impl Share {
    /// Open: neither revoked nor expired.
    pub fn open(&self) -> bool {
        self.revoked_ms.is_none() && self.expires_ms > now_ms()
    }

    /// `open`, `revoked` or `expired`.
    pub fn state(&self) -> &'static str {
        if self.revoked_ms.is_some() {
            "revoked"
        } else if self.expires_ms <= now_ms() {
            "expired"
        } else {
            "open"
        }
    }
}

/// A frame of a share: what its guests see of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareFrame {
    /// The shot.
    pub shot_id: i64,
    /// The frame's name (the source's).
    pub name: String,
    /// When it was stored, ms since the epoch.
    pub stored_ms: i64,
    /// Upright size, when its thumbnail was made.
    pub size: Option<(u32, u32)>,
    /// Its 2048 px preview is made too (the thumbnail comes first).
    pub preview_made: bool,
    /// The share's watermark version it was sent with (0: none ever set).
    pub version: i64,
}

const SHARE_COLUMNS: &str = "id, session, title, token, link, created_ms, expires_ms, revoked_ms, \
     registered, pin_hash, downloads, choose_min, choose_max, watermark, watermark_version, \
     settings_version, link_exp_ms, live, live_overlay";

fn share(r: &rusqlite::Row<'_>) -> rusqlite::Result<Share> {
    Ok(Share {
        id: r.get(0)?,
        session: r.get(1)?,
        title: r.get(2)?,
        token: r.get(3)?,
        link: r.get(4)?,
        created_ms: r.get(5)?,
        expires_ms: r.get(6)?,
        revoked_ms: r.get(7)?,
        registered: r.get::<_, i64>(8)? != 0,
        pin_hash: r.get(9)?,
        downloads: Downloads::parse(&r.get::<_, String>(10)?).unwrap_or_default(),
        choose: match (r.get::<_, Option<u32>>(11)?, r.get::<_, Option<u32>>(12)?) {
            (Some(min), Some(max)) => Some(Choose { min, max }),
            _ => None,
        },
        watermark: r
            .get::<_, Option<String>>(13)?
            .and_then(|w| serde_json::from_str(&w).ok()),
        watermark_version: r.get(14)?,
        settings_version: r.get(15)?,
        link_exp_ms: r.get(16)?,
        live: r.get::<_, i64>(17)? != 0,
        live_overlay: r.get(18)?,
    })
}

impl Journal {
    /// Keep a new share.
    pub fn create_share(&self, share: &Share) -> Result<()> {
        self.conn().execute(
            &format!(
                "INSERT INTO shares ({SHARE_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
            ),
            params![
                share.id,
                share.session,
                share.title,
                share.token,
                share.link,
                share.created_ms,
                share.expires_ms,
                share.revoked_ms,
                share.registered as i64,
                share.pin_hash,
                share.downloads.as_str(),
                share.choose.map(|c| c.min),
                share.choose.map(|c| c.max),
                share
                    .watermark
                    .as_ref()
                    .and_then(|w| serde_json::to_string(w).ok()),
                share.watermark_version,
                share.settings_version,
                share.link_exp_ms,
                share.live as i64,
                share.live_overlay
            ],
        )?;
        Ok(())
    }

    /// Every share, newest first.
    pub fn shares(&self) -> Result<Vec<Share>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {SHARE_COLUMNS} FROM shares ORDER BY created_ms DESC"
        ))?;
        let rows = stmt.query_map([], share)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One share.
    pub fn share(&self, id: &str) -> Result<Option<Share>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {SHARE_COLUMNS} FROM shares WHERE id = ?1"),
                [id],
                share,
            )
            .optional()?)
    }

    /// Revoke a share; false when there is no such share.
    pub fn revoke_share(&self, id: &str) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE shares SET revoked_ms = COALESCE(revoked_ms, ?2), registered = 0 WHERE id = ?1",
            params![id, now_ms()],
        )?;
        Ok(changed > 0)
    }

    /// The running engine minted the share's token and made its link.
    pub fn share_linked(&self, id: &str, token: &str, link: &str, exp_ms: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE shares SET token = ?2, link = ?3, link_exp_ms = ?4 WHERE id = ?1",
            params![id, token, link, exp_ms],
        )?;
        Ok(())
    }

    /// The relay knows the share as it is now.
    pub fn share_registered(&self, id: &str) -> Result<()> {
        self.conn()
            .execute("UPDATE shares SET registered = 1 WHERE id = ?1", [id])?;
        Ok(())
    }

    /// The relay knows the share's settings as of `version`: registered, unless they
    /// changed since (then it is told again).
    pub fn share_registered_as_of(&self, id: &str, version: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE shares SET registered = 1 WHERE id = ?1 AND settings_version = ?2",
            params![id, version],
        )?;
        Ok(())
    }

    /// Frames of `share`'s session with their thumbnails done (made or not) and not yet
    /// published to it (or published before the share's watermark changed, or before
    /// their 2048 px preview was made), oldest first.
    pub fn frames_to_publish(&self, share: &str, limit: usize) -> Result<Vec<ShareFrame>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT s.id, s.original, s.stored_ms, p.width, p.height, h.watermark_version, \
             p.state = 'made' \
             FROM shares h JOIN shots s ON s.session = h.session AND s.state = 'stored' \
             JOIN previews p ON p.shot_id = s.id \
             LEFT JOIN share_frames f ON f.share = h.id AND f.shot_id = s.id \
             WHERE h.id = ?1 AND (f.shot_id IS NULL OR f.version < h.watermark_version \
               OR (p.state = 'made' AND f.preview = 0)) \
             ORDER BY s.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![share, limit as i64], frame)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Frames of the last `within_ms` whose previews are made and not yet on the studio's
    /// dashboard, newest first (the dashboard shows the newest first).
    pub fn previews_for_studio(&self, within_ms: i64, limit: usize) -> Result<Vec<ShareFrame>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT s.id, s.original, s.stored_ms, p.width, p.height, 0, 1 FROM previews p \
             INDEXED BY previews_for_studio JOIN shots s ON s.id = p.shot_id \
             WHERE p.state = 'made' AND p.studio_ms IS NULL AND s.stored_ms >= ?1 \
             ORDER BY p.shot_id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now_ms() - within_ms, limit as i64], frame)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// `shot`'s previews are on the studio's dashboard.
    pub fn preview_sent_to_studio(&self, shot: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE previews SET studio_ms = ?2 WHERE shot_id = ?1",
            params![shot, now_ms()],
        )?;
        Ok(())
    }

    /// `shot` is published to `share` (with its 2048 px preview, or its thumbnail only).
    pub fn frame_published(
        &self,
        share: &str,
        shot: i64,
        version: i64,
        preview: bool,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO share_frames (share, shot_id, published_ms, version, preview) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (share, shot_id) DO UPDATE SET published_ms = excluded.published_ms, \
             version = MAX(version, excluded.version), preview = excluded.preview",
            params![share, shot, now_ms(), version, preview],
        )?;
        Ok(())
    }

    /// Every frame published to `share`, oldest first.
    pub fn share_frames(&self, share: &str) -> Result<Vec<ShareFrame>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT s.id, s.original, s.stored_ms, p.width, p.height, f.version, \
             p.state = 'made' AND f.preview = 1 FROM share_frames f \
             JOIN shots s ON s.id = f.shot_id LEFT JOIN previews p ON p.shot_id = s.id \
             WHERE f.share = ?1 ORDER BY s.id",
        )?;
        let rows = stmt.query_map([share], frame)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A note the running engine leaves for other processes (the relay's address).
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
        Ok(())
    }

    /// A note from [`Journal::set_meta`].
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }
}

fn frame(r: &rusqlite::Row<'_>) -> rusqlite::Result<ShareFrame> {
    let (w, h): (Option<i64>, Option<i64>) = (r.get(3)?, r.get(4)?);
    Ok(ShareFrame {
        shot_id: r.get(0)?,
        name: r.get(1)?,
        stored_ms: r.get::<_, Option<i64>>(2)?.unwrap_or_default(),
        size: w.zip(h).map(|(w, h)| (w as u32, h as u32)),
        version: r.get(5)?,
        preview_made: r.get::<_, Option<bool>>(6)?.unwrap_or(false),
    })
}
