//! Originals for guests, when the studio allows them (a share's `downloads` is
//! `originals`). The relay never holds the studio's files or cloud credentials: it asks
//! the engine, which answers with the file or a presigned address of its cloud copy.
//!
//! - `GET /v1/shares/{id}/original/{frame}` (any token of the share's channel): the
//!   frame's original as an attachment, or a `302` to its presigned cloud address. Asked
//!   with `Accept: application/json` (the page, which fetches with its token): `{"url"}`,
//!   the cloud address or `?ticket=T` on this one — a one-use ticket good for a minute —
//!   which the page then opens, so the browser saves the file as it comes and no token
//!   goes into an address (a bucket without CORS serves it too). When
//!   neither is here yet the request waits up to [`WAIT`] for the engine, then answers
//!   `unavailable` (503, `Retry-After`): the studio's computer may be off, and the wait
//!   is kept for [`WANTED_FOR`](store::WANTED_FOR) so a retry finds it sent. At most
//!   [`MAX_WAITS`] requests wait at once on a node, [`MAX_WAITS_PER_ADDRESS`] for one
//!   address.
//! - `GET /v1/originals/wanted` (a publisher's token): `{"wanted":[{"share","frame",
//!   "asked"}]}`, the originals guests wait for on the channels the token covers (the
//!   engine asks every second).
//! - `PUT /v1/shares/{id}/original/{frame}?name=FILE` (a publisher's token for the share's
//!   channel): the file, with its `Content-Length` (kept for
//!   [`KEPT_FOR`](store::KEPT_FOR) within `originals_limit`; a file that does not fit
//!   is refused with `overloaded` until others expire); or, as `application/json`,
//!   `{"url": "https://…", "expires_in": <seconds>}`, a presigned address of the studio's
//!   cloud copy, good for that long (handed out until a minute before). Only for an open
//!   share that allows originals.
//!
//! Each download is recorded in the share's activity.
//!
//! - [`store`]: the area; `put`: what the engine sends.
//! - [`local`]: one node's, in files.
//! - [`cluster`]: the area in Redis (its scripts in `lua`).

pub mod cluster;
pub mod local;
mod lua;
mod put;
pub mod store;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use shotline_protocol::gallery::Downloads;
use shotline_protocol::relay::ErrorCode;

use super::downloads::{DownloadQuery, allowed, attachment, record, shown};
use super::slots::Slots;
use crate::auth::Role;
use crate::http::{Remote, TokenQuery, authenticate, error_response, unavailable};
use store::Kept;

/// A guest's request waits this long for the engine to send the original.
pub const WAIT: Duration = Duration::from_secs(25);
/// Requests waiting at once on a node, at most.
pub const MAX_WAITS: usize = 64;
/// Of them, for one address.
pub const MAX_WAITS_PER_ADDRESS: usize = 4;

pub use put::put;

static WAITS: LazyLock<Slots> = LazyLock::new(|| Slots::new(MAX_WAITS, MAX_WAITS_PER_ADDRESS));

/// `name` as a downloaded file's name: no path, odd characters out, its extension kept.
fn file_name(name: &str, frame: i64) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.'))
        .take(120)
        .collect();
    let clean = clean.trim_matches(|c| c == '.' || c == ' ');
    if clean.is_empty() {
        format!("frame-{frame}")
    } else {
        clean.to_string()
    }
}

fn serve(kept: Kept, frame: i64, headers: &HeaderMap) -> Response {
    let private = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    match kept {
        Kept::Url(url) if wants_json(headers) => {
            ([private], Json(json!({ "url": url }))).into_response()
        }
        Kept::Url(url) => match HeaderValue::from_str(&url) {
            Ok(location) => {
                (StatusCode::FOUND, [(header::LOCATION, location), private]).into_response()
            }
            Err(_) => error_response(ErrorCode::Unavailable, "the studio sent a bad address"),
        },
        Kept::File { name, size, body } => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    attachment(&file_name(&name, frame)),
                ),
                (header::CONTENT_LENGTH, HeaderValue::from(size)),
                private,
            ],
            body,
        )
            .into_response(),
    }
}

/// `kept` for a guest: a page (asking for JSON) gets the address to open — the cloud's,
/// or a ticket's on this relay; anything else gets the file or the redirect.
async fn answer(
    state: &crate::State,
    id: &str,
    frame: i64,
    kept: Kept,
    headers: &HeaderMap,
) -> Response {
    if !wants_json(headers) || matches!(kept, Kept::Url(_)) {
        return serve(kept, frame, headers);
    }
    match state.originals.ticket(id, frame).await {
        Ok(Some(ticket)) => (
            [(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            )],
            Json(json!({ "url": format!("/v1/shares/{id}/original/{frame}?ticket={ticket}") })),
        )
            .into_response(),
        Ok(None) => error_response(
            ErrorCode::Overloaded,
            "many originals are being downloaded right now: try again in a minute",
        ),
        Err(e) => unavailable(&e),
    }
}

/// The file of a ticket (once, for its share and frame, while the share allows it).
async fn redeem(state: &crate::State, id: &str, frame: i64, ticket: &str) -> Response {
    let refused = || {
        error_response(
            ErrorCode::Unauthorized,
            "this download address was used or is too old: download the original again from the gallery",
        )
    };
    match state.originals.redeem(ticket).await {
        Ok(Some((share, f))) if share == id && f == frame => {}
        Ok(_) => return refused(),
        Err(e) => return unavailable(&e),
    }
    let open = state.access.share(id).await.is_some_and(|s| {
        s.state(crate::auth::now_secs()) == crate::access::shares::ShareState::Open
            && s.downloads == Downloads::Originals
    });
    if !open {
        return error_response(
            ErrorCode::Forbidden,
            "this gallery no longer offers originals",
        );
    }
    match state.originals.get(id, frame).await {
        Ok(Some(kept)) => serve(kept, frame, &HeaderMap::new()),
        Ok(None) => error_response(
            ErrorCode::NotFound,
            "the original is no longer kept: download it again from the gallery",
        ),
        Err(e) => unavailable(&e),
    }
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// `GET /v1/shares/{id}/original/{frame}`.
pub async fn get(
    State(state): State<Arc<crate::State>>,
    Path((id, frame)): Path<(String, i64)>,
    Query(q): Query<DownloadQuery>,
    Remote(remote): Remote,
    headers: HeaderMap,
) -> Response {
    if let Some(ticket) = q.ticket.as_deref() {
        return redeem(&state, &id, frame, ticket).await;
    }
    let (share, claims) = match allowed(&state, &id, &headers, q.token.as_deref()).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    if share.downloads != Downloads::Originals {
        return error_response(
            ErrorCode::Forbidden,
            "the studio allows web-size downloads from this gallery, not originals",
        );
    }
    let frames = shown(&state, &share.channel).await;
    let Some(shown) = frames.iter().find(|f| f.frame == frame) else {
        return error_response(
            ErrorCode::NotFound,
            format!("no frame {frame} in this gallery"),
        );
    };
    let what = format!("{} (original)", file_name(&shown.name, frame));
    match state.originals.get(&id, frame).await {
        Ok(Some(kept)) => {
            record(&state, &share, &claims, what).await;
            return answer(&state, &id, frame, kept, &headers).await;
        }
        Ok(None) => {}
        Err(e) => return unavailable(&e),
    }
    let Some(_slot) = WAITS.take(crate::access::gate::address(&remote)) else {
        return error_response(
            ErrorCode::Overloaded,
            "many originals are being asked for right now: try again in a minute",
        );
    };
    match state.originals.want(&id, &share.channel, frame).await {
        Ok(true) => {}
        Ok(false) => {
            return error_response(
                ErrorCode::Overloaded,
                "many originals are being asked for right now: try again in a minute",
            );
        }
        Err(e) => return unavailable(&e),
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = state.stopping() => break,
        }
        match state.originals.get(&id, frame).await {
            Ok(Some(kept)) => {
                record(&state, &share, &claims, what).await;
                return answer(&state, &id, frame, kept, &headers).await;
            }
            Ok(None) if tokio::time::Instant::now() < deadline => {}
            Ok(None) => break,
            Err(e) => return unavailable(&e),
        }
    }
    let mut response = error_response(
        ErrorCode::Unavailable,
        "the studio's computer has not sent this original yet (it may be off or busy): try again in a few minutes",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    response
}

/// `GET /v1/originals/wanted`.
pub async fn wanted(
    State(state): State<Arc<crate::State>>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let claims = match authenticate(&state, &headers, q.token.as_deref()) {
        Ok(claims) => claims,
        Err(response) => return response,
    };
    if claims.role < Role::Publisher {
        return error_response(ErrorCode::Forbidden, "the studio's engine asks this");
    }
    match state.originals.wanted().await {
        Ok(list) => Json(json!({
            "wanted": list
                .iter()
                .filter(|w| claims.allows(&w.channel))
                .map(|w| json!({"share": w.share, "frame": w.frame, "asked": w.asked_ms}))
                .collect::<Vec<_>>()
        }))
        .into_response(),
        Err(e) => unavailable(&e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_originals_name_keeps_its_extension_and_loses_its_path() {
        assert_eq!(super::file_name("2026/IMG_0001.NEF", 1), "IMG_0001.NEF");
        assert_eq!(super::file_name("..\\..\\boot.ini", 1), "boot.ini");
        assert_eq!(super::file_name("...", 4), "frame-4");
    }
}
