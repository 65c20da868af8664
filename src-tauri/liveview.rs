//! The window's live view panel: the camera's latest picture (asked for one at a time, so
//! the window only ever gets the newest and counts as watching while it asks), focus
//! drives, and the session's layout overlay (a PNG with transparency, e.g. a magazine
//! cover, over live view and the last frame, at an opacity), kept per session in
//! `overlays.json` beside the engine's config.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::shell::Shell;

/// How long a request for the next picture waits for one.
const WAIT: Duration = Duration::from_secs(2);
/// The largest overlay taken: what a share may show its guests too.
const MAX_OVERLAY: u64 = shotline_engine::share::MAX_OVERLAY;

/// The next live picture after `after`: 8 bytes of its number (big-endian), then the JPEG;
/// empty when none came within 2 s (live view off, or starting).
pub async fn next_picture(shell: &Shell, after: u64) -> Result<Vec<u8>, String> {
    let feed = shell.live_feed().await?;
    Ok(match feed.next_for_window(after, WAIT).await {
        Some(picture) => {
            let mut out = Vec::with_capacity(8 + picture.jpeg.len());
            out.extend_from_slice(&picture.seq.to_be_bytes());
            out.extend_from_slice(&picture.jpeg);
            out
        }
        None => Vec::new(),
    })
}

/// The window closed its live view.
pub async fn stop(shell: &Shell) {
    if let Ok(feed) = shell.live_feed().await {
        feed.window_left();
    }
}

/// A session's layout overlay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Overlay {
    /// The PNG.
    pub path: String,
    /// 0 (hidden) to 1.
    pub opacity: f64,
    /// The PNG as a `data:` URL for the window (not stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub data_url: Option<String>,
}

fn store(config_file: &Path) -> PathBuf {
    config_file.with_file_name("overlays.json")
}

fn load(config_file: &Path) -> BTreeMap<String, Overlay> {
    std::fs::read_to_string(store(config_file))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// `path` as a PNG `data:` URL, or why it cannot be one.
fn data_url(path: &str) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_OVERLAY + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{path}: {e}"))?;
    if bytes.len() as u64 > MAX_OVERLAY {
        return Err(format!(
            "{path} is larger than 8 MB: export the layout smaller"
        ));
    }
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(format!(
            "{path} is not a PNG: a layout overlay is a PNG with transparency"
        ));
    }
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// Session `session`'s overlay PNG, if it has one.
pub fn overlay_path(config_file: &Path, session: &str) -> Option<String> {
    load(config_file).remove(session).map(|o| o.path)
}

/// The current session's overlay, with its picture; `None` when it has none.
pub fn overlay(config_file: &Path, session: &str) -> Result<Option<Overlay>, String> {
    let Some(mut overlay) = load(config_file).remove(session) else {
        return Ok(None);
    };
    overlay.data_url = Some(data_url(&overlay.path)?);
    Ok(Some(overlay))
}

/// Set (or with no path, clear) the current session's overlay; returns it as
/// [`overlay`] does. A file that is not a PNG changes nothing.
pub fn set_overlay(
    config_file: &Path,
    session: &str,
    path: Option<String>,
    opacity: f64,
) -> Result<Option<Overlay>, String> {
    let mut all = load(config_file);
    match path {
        Some(path) => {
            data_url(&path)?;
            all.insert(
                session.to_string(),
                Overlay {
                    path,
                    opacity: opacity.clamp(0.0, 1.0),
                    data_url: None,
                },
            );
        }
        None => {
            all.remove(session);
        }
    }
    save(config_file, &all)?;
    overlay(config_file, session)
}

/// Keep a new opacity for the current session's overlay (its picture is not read).
pub fn set_opacity(config_file: &Path, session: &str, opacity: f64) -> Result<(), String> {
    let mut all = load(config_file);
    let Some(overlay) = all.get_mut(session) else {
        return Err("this session has no layout overlay".into());
    };
    overlay.opacity = opacity.clamp(0.0, 1.0);
    save(config_file, &all)
}

fn save(config_file: &Path, all: &BTreeMap<String, Overlay>) -> Result<(), String> {
    let file = store(config_file);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let json = serde_json::to_vec_pretty(all).map_err(|e| e.to_string())?;
    std::fs::write(&file, json).map_err(|e| format!("{}: {e}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlay_is_kept_per_session_and_only_a_png_is_taken() {
        let dir = tempfile::tempdir().expect("test value");
        let config = dir.path().join("shotline.toml");
        let png = dir.path().join("cover.png");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\nrest").expect("test value");
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, b"hello").expect("test value");

        let set = set_overlay(&config, "s1", Some(png.display().to_string()), 1.7)
            .expect("test value")
            .expect("test value");
        assert_eq!(set.opacity, 1.0);
        assert!(
            set.data_url
                .expect("test value")
                .starts_with("data:image/png;base64,")
        );
        assert_eq!(overlay(&config, "s2").expect("test value"), None);
        let refused = set_overlay(&config, "s1", Some(text.display().to_string()), 0.5);
        assert!(refused.expect_err("an error").contains("not a PNG"));
        assert_eq!(
            overlay(&config, "s1")
                .expect("test value")
                .expect("test value")
                .path,
            png.display().to_string()
        );
        set_opacity(&config, "s1", 0.25).expect("test value");
        let kept = overlay(&config, "s1")
            .expect("test value")
            .expect("test value");
        assert_eq!(kept.opacity, 0.25);
        assert_eq!(
            set_overlay(&config, "s1", None, 0.5).expect("test value"),
            None
        );
        assert_eq!(overlay(&config, "s1").expect("test value"), None);
        assert!(
            set_opacity(&config, "s1", 0.5).is_err(),
            "no overlay, no opacity"
        );
    }
}
