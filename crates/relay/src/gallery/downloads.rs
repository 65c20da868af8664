//! Downloads of a share's frames, when the studio allows them (`downloads` of the share:
//! `web` or `originals`; `off` by default):
//!
//! - `GET /v1/shares/{id}/download/{frame}` — the frame's web-size picture (the 2048 px
//!   preview, as the share shows it: watermarked when the share is), as an attachment
//!   named after the frame.
//! - `GET /v1/shares/{id}/download.zip?frames=1,2,3` — several of them as one ZIP
//!   (at most [`MAX_ZIP_FRAMES`]), streamed a picture at a time; at most
//!   [`MAX_ZIPS`] are written at once on a node, [`MAX_ZIPS_PER_ADDRESS`] for one
//!   address, each within [`ZIP_TIME`].
//!
//! Any token of the share's channel may download (guests and the studio); each download
//! is recorded in the share's activity for the studio. A share set to `originals` serves
//! these too; its originals come from the engine ([`originals`](super::originals)).

use std::sync::{Arc, LazyLock};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use shotline_protocol::gallery::Downloads;
use shotline_protocol::relay::ErrorCode;

use super::slots::Slots;
use crate::access::shares::{ShareRecord, ShareState};
use crate::auth::{Claims, now_secs};
use crate::http::{Remote, error_response, unavailable};

/// Frames in one ZIP, at most.
pub const MAX_ZIP_FRAMES: usize = 500;
/// ZIPs written at once on one node, at most.
pub const MAX_ZIPS: usize = 16;

/// ZIPs written at once for one address, at most.
pub const MAX_ZIPS_PER_ADDRESS: usize = 2;
/// A ZIP is written within this long, or cut off (a reader too slow holds a slot).
pub const ZIP_TIME: std::time::Duration = std::time::Duration::from_secs(600);

static ZIPS: LazyLock<Slots> = LazyLock::new(|| Slots::new(MAX_ZIPS, MAX_ZIPS_PER_ADDRESS));

/// `?token=` and, for a ZIP, `frames=`.
#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    #[serde(default)]
    pub(super) token: Option<String>,
    #[serde(default)]
    frames: Option<String>,
    /// A one-use ticket for an original (its page opens this address).
    #[serde(default)]
    pub(super) ticket: Option<String>,
}

/// The open share `id` that allows downloads, and the caller's claims; or the refusal.
#[allow(clippy::result_large_err)]
pub(super) async fn allowed(
    state: &crate::State,
    id: &str,
    headers: &HeaderMap,
    token: Option<&str>,
) -> Result<(ShareRecord, Claims), Response> {
    let Some(share) = state.access.share(id).await else {
        return Err(error_response(
            ErrorCode::NotFound,
            format!("no share {id}"),
        ));
    };
    let claims = crate::http::authorize(state, headers, token, &share.channel)?;
    if share.state(now_secs()) != ShareState::Open {
        return Err(error_response(
            ErrorCode::Forbidden,
            "this gallery has closed",
        ));
    }
    if share.downloads == Downloads::Off {
        return Err(error_response(
            ErrorCode::Forbidden,
            "the studio has not allowed downloads from this gallery",
        ));
    }
    Ok((share, claims))
}

/// A frame of the share as its `state.json` says: its id, file name, and the blob of its
/// web-size picture (as the share shows it: watermarked when the share is), if it has one.
pub(super) struct Shown {
    pub(super) frame: i64,
    pub(super) name: String,
    /// None for a frame without a preview (one no picture could be made of).
    blob: Option<String>,
}

/// The frames the share shows, from its `state.json`.
pub(super) async fn shown(state: &crate::State, channel: &str) -> Vec<Shown> {
    let Ok(Some(bytes)) = state.blobs.get(channel, "state.json").await else {
        return Vec::new();
    };
    let state: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let prefix = format!("/v1/blobs/{channel}/");
    state["frames"]
        .as_array()
        .map(|frames| {
            frames
                .iter()
                .filter_map(|f| {
                    let blob = f["preview"]
                        .as_str()
                        .and_then(|p| p.strip_prefix(&prefix))
                        .filter(|b| super::blobs::valid_name(b));
                    Some(Shown {
                        frame: f["frame"].as_i64()?,
                        name: f["name"].as_str().unwrap_or_default().to_string(),
                        blob: blob.map(str::to_string),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `name` as a downloaded JPEG's name: its stem (path and odd characters out) + `.jpg`.
fn jpeg_name(name: Option<&str>, frame: i64) -> String {
    let stem = name
        .and_then(|n| n.rsplit(['/', '\\']).next())
        .map(|n| n.rsplit_once('.').map_or(n, |(s, _)| s))
        .map(|s| {
            s.chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.'))
                .take(100)
                .collect::<String>()
        })
        .map(|s| s.trim_matches(|c| c == '.' || c == ' ').to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("frame-{frame}"));
    format!("{stem}.jpg")
}

pub(super) fn attachment(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

pub(super) async fn record(
    state: &crate::State,
    share: &ShareRecord,
    claims: &Claims,
    what: String,
) {
    super::door::record(
        state,
        &share.channel,
        "gallery_download",
        json!({"sub": claims.sub, "name": claims.name, "what": what}),
    )
    .await;
}

/// `GET /v1/shares/{id}/download/{frame}`.
pub async fn one(
    State(state): State<Arc<crate::State>>,
    Path((id, frame)): Path<(String, i64)>,
    Query(q): Query<DownloadQuery>,
    headers: HeaderMap,
) -> Response {
    let (share, claims) = match allowed(&state, &id, &headers, q.token.as_deref()).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let frames = shown(&state, &share.channel).await;
    let Some((shown, blob)) = frames
        .iter()
        .find(|f| f.frame == frame)
        .and_then(|f| Some((f, f.blob.as_deref()?)))
    else {
        return error_response(ErrorCode::NotFound, format!("no picture of frame {frame}"));
    };
    let bytes = match state.blobs.get(&share.channel, blob).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return error_response(ErrorCode::NotFound, format!("no picture of frame {frame}"));
        }
        Err(e) => return unavailable(&e),
    };
    let name = jpeg_name(Some(&shown.name), frame);
    record(&state, &share, &claims, format!("{name} (web size)")).await;
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (header::CONTENT_DISPOSITION, attachment(&name)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /v1/shares/{id}/download.zip?frames=…`.
pub async fn zip(
    State(state): State<Arc<crate::State>>,
    Path(id): Path<String>,
    Query(q): Query<DownloadQuery>,
    Remote(remote): Remote,
    headers: HeaderMap,
) -> Response {
    let (share, claims) = match allowed(&state, &id, &headers, q.token.as_deref()).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let mut asked: Vec<i64> = Vec::new();
    for part in q
        .frames
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|p| !p.is_empty())
    {
        match part.trim().parse::<i64>() {
            Ok(f) if !asked.contains(&f) => asked.push(f),
            Ok(_) => {}
            Err(_) => {
                return error_response(
                    ErrorCode::BadFrame,
                    "frames is a comma-separated list of frame ids",
                );
            }
        }
    }
    if asked.is_empty() || asked.len() > MAX_ZIP_FRAMES {
        return error_response(
            ErrorCode::BadFrame,
            format!("a ZIP holds 1 to {MAX_ZIP_FRAMES} frames"),
        );
    }
    let Some(permit) = ZIPS.take(crate::access::gate::address(&remote)) else {
        return error_response(
            ErrorCode::Overloaded,
            "many downloads are being made right now: try again in a minute",
        );
    };
    let deadline = std::time::Instant::now() + ZIP_TIME;
    // Only what the share shows, in the order asked.
    let mut shown_now = shown(&state, &share.channel).await;
    let frames: Vec<Shown> = asked
        .iter()
        .filter_map(|f| {
            let at = shown_now.iter().position(|s| s.frame == *f)?;
            Some(shown_now.swap_remove(at))
        })
        .collect();
    if frames.is_empty() {
        return error_response(
            ErrorCode::NotFound,
            "none of these frames is in this gallery",
        );
    }
    record(
        &state,
        &share,
        &claims,
        format!("{} frames as a ZIP (web size)", frames.len()),
    )
    .await;
    // Written by a task of its own into a short channel, so a reader who stops reading
    // holds its slot until the deadline at most (then the archive is cut off).
    let channel = share.channel.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::spawn(async move {
        let _slot = permit;
        let deadline = tokio::time::Instant::from_std(deadline);
        let mut zip = super::zip::Zip::default();
        for shown in frames {
            // A frame without a picture is left out.
            let Some(blob) = shown.blob.as_deref() else {
                continue;
            };
            let chunk = match state.blobs.get(&channel, blob).await {
                Ok(Some(bytes)) => zip
                    .file(&jpeg_name(Some(&shown.name), shown.frame), &bytes)
                    .map_err(std::io::Error::other),
                // A frame whose picture is gone is left out.
                Ok(None) => continue,
                Err(e) => Err(std::io::Error::other(e.to_string())),
            };
            let failed = chunk.is_err();
            if tokio::time::timeout_at(deadline, tx.send(chunk))
                .await
                .is_err()
                || failed
            {
                return;
            }
        }
        let _ = tokio::time::timeout_at(deadline, tx.send(Ok(zip.finish()))).await;
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            ),
            (
                header::CONTENT_DISPOSITION,
                attachment(&format!("{id}-picks.zip")),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloaded_names_are_the_frames_own_without_paths() {
        assert_eq!(jpeg_name(Some("IMG_0001.NEF"), 1), "IMG_0001.jpg");
        assert_eq!(jpeg_name(Some("../../etc/passwd"), 1), "passwd.jpg");
        assert_eq!(jpeg_name(Some("\u{202e}.."), 7), "frame-7.jpg");
        assert_eq!(jpeg_name(None, 3), "frame-3.jpg");
        assert!(
            attachment("Été.jpg")
                .to_str()
                .is_ok_and(|h| h.contains("filename*=UTF-8''%C3%89t%C3%A9.jpg"))
        );
    }
}
