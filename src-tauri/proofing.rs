//! The share dialog's proofing: what a share asks of its guests (PIN, watermark,
//! downloads, "choose N"), changed from the window; its activity and the guests' sent
//! selections, each of which the studio may unlock; and "Extend".

use std::time::Duration;

use shotline_engine::journal::{Journal, Share, ShareChange, now_ms};
use shotline_engine::preview::watermark::{Position, Watermark};
use shotline_protocol::gallery::{Choose, Downloads};

use crate::dto::{ActivityView, SelectionView, ShareView};
use crate::shell::Shell;

/// Fill `view`'s proofing fields from the journal.
pub fn fill(journal: &Journal, share: &Share, view: &mut ShareView) -> Result<(), String> {
    view.pin = share.pin_hash.is_some();
    view.watermark = share.watermark.as_ref().and_then(|w| w.text.clone());
    if let Some(w) = &share.watermark {
        view.watermark_logo = w.logo.as_deref().map(|l| {
            std::path::Path::new(l)
                .file_name()
                .map_or_else(|| l.to_string(), |n| n.to_string_lossy().into_owned())
        });
        view.watermark_position = w.position.as_str().into();
        view.watermark_size = w.size;
        view.watermark_opacity = w.opacity;
    }
    view.downloads = share.downloads.as_str().to_string();
    view.live = share.live;
    view.live_overlay = share.live_overlay.is_some();
    view.choose = share.choose.map(|c| {
        if c.min == c.max {
            c.max.to_string()
        } else {
            format!("{}-{}", c.min, c.max)
        }
    });
    let mut latest = std::collections::BTreeMap::new();
    for s in journal.selections(&share.id).map_err(|e| e.to_string())? {
        latest.insert(s.sub.clone(), s);
    }
    view.selections = latest
        .into_values()
        .map(|s| {
            let files: Vec<(i64, String)> = s
                .frames
                .iter()
                .filter_map(|f| {
                    journal
                        .shot(*f)
                        .ok()
                        .flatten()
                        .and_then(|shot| shot.rel_path)
                        .map(|r| (*f, r))
                })
                .collect();
            SelectionView {
                name: s.name.clone().unwrap_or_else(|| s.sub.clone()),
                guest: s.sub,
                count: files.len() as u32,
                sent_ms: s.submitted_ms,
                filter: shotline_engine::share::selection::filter_line(&files),
            }
        })
        .collect();
    let mut activity = journal.activity(&share.id).map_err(|e| e.to_string())?;
    activity.reverse();
    view.activity = activity
        .into_iter()
        .take(50)
        .map(|a| {
            let who = a.name.or(a.sub).unwrap_or_else(|| "Someone".into());
            let text = match a.kind.as_str() {
                "opened" => format!("{who} opened the gallery"),
                "pin_failed" => format!("A wrong PIN ({} so far)", a.detail),
                "download" => format!("{who} downloaded {}", a.detail),
                "submit" => format!("{who} sent a selection of {}", a.detail),
                "unlock" => "The studio unlocked a selection".to_string(),
                other => other.to_string(),
            };
            ActivityView {
                ts_ms: a.ts_ms,
                text,
            }
        })
        .collect();
    Ok(())
}

/// The proofing settings the window sends: each as the dialog's field says it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Settings {
    /// A new PIN; empty: none; absent: as it is.
    pub pin: Option<String>,
    /// The watermark's text; empty: none.
    pub watermark: String,
    /// A new PNG logo's path; empty: none; absent: as it is.
    #[serde(default)]
    pub logo: Option<String>,
    /// Where the watermark goes.
    pub position: String,
    /// Its width, in percent of the picture's (5 to 90).
    pub size: u8,
    /// Its opacity, in percent (5 to 100).
    pub opacity: u8,
    /// `off`, `web` or `originals`.
    pub downloads: String,
    /// `20`, `10-20`, or empty for none.
    pub choose: String,
    /// Guests see the studio's live view.
    #[serde(default)]
    pub live: bool,
    /// With the session's layout overlay over it.
    #[serde(default)]
    pub live_overlay: bool,
}

/// Change share `id` as `settings` say.
pub async fn apply(shell: &Shell, id: String, settings: Settings) -> Result<(), String> {
    let (journal, config) = shell.journal().await.ok_or("the engine is not running")?;
    let config_file = shell.config_file().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let share = journal
            .share(&id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no share {id}"))?;
        // The dialog sets the text, the logo (a new one is copied under the library),
        // where, how large and how opaque.
        let text = Some(settings.watermark.trim())
            .filter(|t| !t.is_empty())
            .map(String::from);
        let current = share.watermark.clone();
        let logo = match settings.logo.as_deref().map(str::trim) {
            None => current.as_ref().and_then(|w| w.logo.clone()),
            Some("") => None,
            Some(path) => Some(shotline_engine::share::keep_logo(
                &config.library.path,
                &id,
                std::path::Path::new(path),
            )?),
        };
        let position = Position::parse(&settings.position)
            .ok_or_else(|| format!("{:?} is not a watermark position", settings.position))?;
        let wanted = (text.is_some() || logo.is_some()).then_some(Watermark {
            text,
            logo,
            position,
            size: settings.size,
            opacity: settings.opacity,
        });
        if let Some(w) = &wanted {
            w.check()?;
        }
        let choose = match settings.choose.trim() {
            "" => None,
            text => Some(Choose::parse(text)?),
        };
        let change = ShareChange {
            pin_hash: match settings.pin.as_deref().map(str::trim) {
                None => None,
                Some("") => share.pin_hash.is_some().then_some(None),
                Some(pin) => Some(Some(shotline_engine::share::hash_pin(pin)?)),
            },
            downloads: match Downloads::parse(&settings.downloads) {
                None => {
                    return Err("downloads are off, web size or originals".to_string());
                }
                d => d.filter(|d| *d != share.downloads),
            },
            choose: (choose != share.choose).then_some(choose),
            expires_ms: None,
            watermark: (current != wanted).then_some(wanted),
            live: (settings.live != share.live).then_some(settings.live),
            // The session's layout overlay (Live view → Layout overlay…), copied for the
            // share on each Apply while ticked (it may have changed); taken off when not.
            live_overlay: match (settings.live_overlay && settings.live, &share.live_overlay) {
                (true, kept) => {
                    match crate::liveview::overlay_path(&config_file, &share.session) {
                        Some(source) => Some(Some(shotline_engine::share::keep_overlay(
                            &config.library.path,
                            &id,
                            std::path::Path::new(&source),
                        )?)),
                        // The session's was taken off since: the share keeps its copy.
                        None if kept.is_some() => None,
                        None => {
                            return Err(
                                "this session has no layout overlay: choose one in Live view first"
                                    .into(),
                            );
                        }
                    }
                }
                (false, Some(_)) => Some(None),
                _ => None,
            },
        };
        if change != ShareChange::default() {
            journal
                .change_share(&id, &change)
                .map_err(|e| e.to_string())?;
            // The copy of a replaced or removed layout overlay goes.
            if let (Some(_), Some(old)) = (&change.live_overlay, &share.live_overlay) {
                let _ = std::fs::remove_file(old);
            }
        }
        Ok(())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Keep share `id` open `days` longer (up to its link's end).
pub async fn extend(shell: &Shell, id: String, days: u32) -> Result<(), String> {
    let (journal, _) = shell.journal().await.ok_or("the engine is not running")?;
    tokio::task::spawn_blocking(move || {
        let share = journal
            .share(&id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no share {id}"))?;
        let by = Duration::from_secs(u64::from(days) * 86_400).as_millis() as i64;
        let mut until = share.expires_ms.max(now_ms()) + by;
        if let Some(end) = share.link_exp_ms {
            until = until.min(end);
        }
        if until <= share.expires_ms {
            return Err("the link cannot last longer: make a new share".into());
        }
        let change = ShareChange {
            expires_ms: Some(until),
            ..ShareChange::default()
        };
        journal
            .change_share(&id, &change)
            .map(drop)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Let `guest` change their sent selection in share `id`.
pub async fn unlock(shell: &Shell, id: String, guest: String) -> Result<(), String> {
    let (journal, config) = shell.journal().await.ok_or("the engine is not running")?;
    tokio::task::spawn_blocking(move || {
        shotline_engine::share::unlock(&journal, &config.studio.id, &id, &guest)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}
