//! Sessions and shares, for the window and the tray: the session being shot, earlier
//! ones to go back to, "New session…", and "Share session…" — a share of the current
//! session made in the journal, its link (made by the engine's gallery task on its relay)
//! with a QR code to scan, and Revoke.

use shotline_engine::preview::watermark::Position;
use std::time::{Duration, Instant};

use base64::Engine as _;
use qrcode::QrCode;
use qrcode::render::svg;

use crate::dto::{SessionsView, ShareView};
use crate::shell::Shell;

/// How long "Share session…" waits for the engine to make the link.
const LINK_WAIT: Duration = Duration::from_secs(20);

/// The current session and the earlier ones, newest first.
pub async fn list(shell: &Shell) -> SessionsView {
    let current = shell.session();
    let earlier = match shell.journal().await {
        Some((journal, _)) => tokio::task::spawn_blocking(move || journal.sessions())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    SessionsView {
        earlier: earlier
            .into_iter()
            .rev()
            .filter(|s| *s != current)
            .collect(),
        current,
    }
}

/// Shoot in `name` from now on (new, or an earlier one again).
pub async fn switch(shell: &Shell, name: &str) -> Result<SessionsView, String> {
    shell.switch_session(name).await?;
    Ok(list(shell).await)
}

/// A QR code of `text` as an SVG `data:` URL.
pub fn qr(text: &str) -> Result<String, String> {
    let code = QrCode::new(text.as_bytes()).map_err(|e| e.to_string())?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(image)
    ))
}

fn view(
    journal: &shotline_engine::journal::Journal,
    share: &shotline_engine::journal::Share,
    note: Option<String>,
) -> Result<ShareView, String> {
    let mut view = ShareView {
        id: share.id.clone(),
        session: share.session.clone(),
        qr: match &share.link {
            Some(link) => Some(qr(link)?),
            None => None,
        },
        link: share.link.clone(),
        note,
        expires_ms: share.expires_ms,
        pin: false,
        watermark: None,
        watermark_logo: None,
        watermark_position: Position::default().as_str().into(),
        watermark_size: 25,
        watermark_opacity: 50,
        downloads: String::new(),
        choose: None,
        live: false,
        live_overlay: false,
        selections: Vec::new(),
        activity: Vec::new(),
    };
    crate::proofing::fill(journal, share, &mut view)?;
    Ok(view)
}

/// The open shares of the current session, newest first.
pub async fn shares(shell: &Shell) -> Result<Vec<ShareView>, String> {
    let (journal, _) = shell.journal().await.ok_or("the engine is not running")?;
    let session = shell.session();
    tokio::task::spawn_blocking(move || {
        let note = journal
            .meta("gallery_note")
            .ok()
            .flatten()
            .filter(|n| !n.is_empty());
        journal
            .shares()
            .map_err(|e| e.to_string())?
            .iter()
            .filter(|s| s.open() && s.session == session)
            .map(|s| view(&journal, s, note.clone()))
            .collect()
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Share the current session: its open share if it has one, else a new one; with the
/// link once the engine has made it.
pub async fn share(shell: &Shell) -> Result<ShareView, String> {
    if let Some(open) = shares(shell).await?.into_iter().find(|s| s.link.is_some()) {
        return Ok(open);
    }
    let (journal, config) = shell.journal().await.ok_or("the engine is not running")?;
    let session = shell.session();
    tokio::task::spawn_blocking(move || {
        let ttl = if config.relay.url.is_none() {
            shotline_engine::share::DEFAULT_TTL.min(config.relay.token_ttl())
        } else {
            shotline_engine::share::DEFAULT_TTL
        };
        // A new share asks for what the config's [gallery] defaults say.
        let settings = config
            .gallery
            .share_defaults(&config.library.path)
            .map_err(|e| format!("[gallery]: {e}"))?;
        let share = shotline_engine::share::create(&journal, &session, None, ttl, settings)
            .map_err(|e| e.to_string())?;
        let start = Instant::now();
        loop {
            let now = journal
                .share(&share.id)
                .map_err(|e| e.to_string())?
                .ok_or("the share vanished")?;
            if now.link.is_some() {
                let note = journal
                    .meta("gallery_note")
                    .ok()
                    .flatten()
                    .filter(|n| !n.is_empty());
                return view(&journal, &now, note);
            }
            let error = journal
                .meta(&format!("share_error:{}", share.id))
                .ok()
                .flatten();
            if let Some(why) = error.as_deref().and_then(|e| e.strip_prefix("refused: ")) {
                return Err(format!("the relay refused the share: {why}"));
            }
            if start.elapsed() > LINK_WAIT {
                return Err(format!(
                    "no link yet ({}): is the relay reachable? Try again in a moment",
                    error.unwrap_or_else(|| "the relay has not answered".into())
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Close share `id`: its open pages are cut off, its link answers 410.
pub async fn revoke(shell: &Shell, id: &str) -> Result<(), String> {
    let (journal, _) = shell.journal().await.ok_or("the engine is not running")?;
    let id = id.to_string();
    tokio::task::spawn_blocking(move || match journal.revoke_share(&id) {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("no share {id}")),
        Err(e) => Err(e.to_string()),
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Keep `pairs` (`[metadata]` keys and values) as the current session's own metadata,
/// written into each of its frames' sidecars over the studio's; a bad key or placeholder
/// is refused with its name.
pub async fn set_meta(shell: &Shell, pairs: Vec<(String, String)>) -> Result<(), String> {
    let mut checked = shotline_engine::config::Metadata::default();
    for (key, value) in &pairs {
        checked.set(key, value)?;
    }
    if let Some((key, problem)) = checked.problem() {
        return Err(format!("{key}: {problem}"));
    }
    let (journal, _) = shell.journal().await.ok_or("the engine is not running")?;
    let session = shell.session();
    tokio::task::spawn_blocking(move || {
        journal
            .set_session_meta(&session, &pairs)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_link_becomes_an_svg_qr_code() {
        let url = super::qr("http://192.168.1.20:7878/g/abc#token").expect("qr");
        let svg = url
            .strip_prefix("data:image/svg+xml;base64,")
            .and_then(|b| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.decode(b).ok()
            })
            .expect("a base64 SVG");
        assert!(String::from_utf8_lossy(&svg).contains("<svg"));
    }
}
