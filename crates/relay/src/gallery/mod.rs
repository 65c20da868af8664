//! The live gallery on the relay: the shares the studio opens, their previews, and the
//! page guests see.
//!
//! - `PUT /v1/shares/{id}` `{"channel","exp","title"?}` (a publisher's token for the
//!   channel): the share is open until `exp`; `DELETE /v1/shares/{id}` closes it: its
//!   tokens are refused, its pages cut off (4003) and its previews forgotten, on every
//!   node.
//! - `PUT /v1/blobs/{channel}/{name}` (publisher) and `GET` (any token for the channel):
//!   the [`blobs`] store; previews are served as immutable.
//! - `GET /v1/shares/{id}/answers?after=N&limit=M` (any token for the share's channel):
//!   its guests' answers after the `N`th, from the [`answers`](mod@answers) log —
//!   `{"answers":[{"seq","id","ts","event"}],"total","next"}` (`next`: the `after` of the
//!   next page).
//! - `GET /v1/shares/{id}/activity?after=N` (the studio's token): the share's
//!   activity the relay records ([`door`]), paged as its answers.
//! - `GET /v1/shares` (any token): the open shares whose channel the token covers —
//!   `{"shares":[{"id","channel","title","exp"}]}` — so the studio's dashboard can show
//!   their answers.
//! - Downloads of frames ([`downloads`], [`zip`]) and originals ([`originals`]), with
//!   [`slots`] for their long requests.
//! - `GET /g/{id}`: the gallery page ([`page`]); 410 with a page saying so once the share
//!   is closed or expired, 404 for a share the relay never heard of.

pub mod answers;
pub mod blobs;
pub mod check;
pub mod door;
pub mod downloads;
pub mod logs;
pub mod originals;
pub mod page;
pub mod pin;
pub mod slots;
pub mod zip;

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use shotline_protocol::relay::{ErrorCode, valid_channel};

use crate::access::shares::{ShareRecord, ShareState, valid_id};
use crate::auth::{Claims, Role, now_secs};
use crate::http::{TokenQuery, authenticate, error_response, unavailable};

/// Titles, at most (characters).
pub const MAX_TITLE: usize = 200;

/// A publisher's (or admin's) claims for `channel`, or the refusal.
#[allow(clippy::result_large_err)]
pub(super) fn publisher(
    state: &crate::State,
    headers: &HeaderMap,
    query: Option<&str>,
    channel: &str,
) -> Result<Claims, Response> {
    let claims = authenticate(state, headers, query)?;
    if claims.role < Role::Publisher {
        return Err(error_response(
            ErrorCode::Forbidden,
            format!(
                "shares and previews are the studio's: a publisher token is needed, this one is a {}",
                claims.role.as_str()
            ),
        ));
    }
    if !claims.allows(channel) {
        return Err(error_response(
            ErrorCode::Forbidden,
            format!("the token does not cover channel {channel}"),
        ));
    }
    Ok(claims)
}

/// Body of `PUT /v1/shares/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutShare {
    channel: String,
    exp: u64,
    #[serde(default)]
    title: Option<String>,
    /// The Argon2 hash of the share's PIN (PHC string); absent: no PIN.
    #[serde(default)]
    pin_hash: Option<String>,
    #[serde(default)]
    downloads: shotline_protocol::gallery::Downloads,
    #[serde(default)]
    choose: Option<shotline_protocol::gallery::Choose>,
    /// Guests see the studio's live view.
    #[serde(default)]
    live: bool,
}

/// `PUT /v1/shares/{id}`.
pub async fn put_share(
    State(state): State<Arc<crate::State>>,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    if !valid_id(&id) {
        return error_response(
            ErrorCode::BadFrame,
            "share ids are 1 to 64 of A-Z a-z 0-9 _ -",
        );
    }
    let body: PutShare = match serde_json::from_slice(&bytes) {
        Ok(body) => body,
        Err(e) => {
            return error_response(
                ErrorCode::BadJson,
                format!(
                    r#"expected {{"channel": .., "exp": <seconds>, "title"?, "pin_hash"?, "downloads"?, "choose"?, "live"?}}: {e}"#
                ),
            );
        }
    };
    if !valid_channel(&body.channel) {
        return error_response(
            ErrorCode::InvalidChannel,
            "channel names are 1 to 128 of A-Z a-z 0-9 _ . : -",
        );
    }
    if let Err(response) = publisher(&state, &headers, q.token.as_deref(), &body.channel) {
        return response;
    }
    let title = match body.title.as_deref() {
        Some(t) if t.chars().count() > MAX_TITLE => {
            return error_response(
                ErrorCode::BadFrame,
                format!("a title is at most {MAX_TITLE} characters"),
            );
        }
        Some(t) => crate::auth::names::clean_name(t),
        None => None,
    };
    if let Some(Err(why)) = body.pin_hash.as_deref().map(pin::valid_hash) {
        return error_response(
            ErrorCode::BadFrame,
            format!("pin_hash is the Argon2 hash of the share's PIN, never the PIN: {why}"),
        );
    }
    if let Some(c) = body.choose
        && (c.min == 0 || c.min > c.max || c.max > shotline_protocol::gallery::MAX_CHOOSE)
    {
        return error_response(
            ErrorCode::BadFrame,
            format!(
                "choose is {{\"min\", \"max\"}} with 1 ≤ min ≤ max ≤ {}",
                shotline_protocol::gallery::MAX_CHOOSE
            ),
        );
    }
    let known = state.access.share(&id).await;
    if let Some(known) = &known {
        if known.closed.is_some() {
            return error_response(
                ErrorCode::Forbidden,
                format!("share {id} was closed and stays closed: make a new share"),
            );
        }
        if known.channel != body.channel {
            return error_response(
                ErrorCode::Forbidden,
                format!("share {id} shows another channel"),
            );
        }
    }
    let record = ShareRecord {
        id: id.clone(),
        channel: body.channel,
        exp: body.exp,
        title,
        closed: None,
        pin_set: match (&known, &body.pin_hash) {
            (_, None) => None,
            (Some(k), Some(pin)) if k.pin.as_ref() == Some(pin) => k.pin_set,
            (_, Some(_)) => Some(now_secs()),
        },
        pin: body.pin_hash,
        downloads: body.downloads,
        choose: body.choose,
        live: body.live,
    };
    match state.access.put_share(record).await {
        Ok(forgotten) => {
            forget_answers(&state, forgotten).await;
            Json(json!({"id": id, "page": format!("/g/{id}")})).into_response()
        }
        Err(e) => error_response(ErrorCode::Unavailable, format!("{e}; retry with backoff")),
    }
}

/// Delete the answer logs of shares forgotten (long past their expiry).
async fn forget_answers(state: &crate::State, channels: Vec<String>) {
    for channel in channels {
        for log in [door::activity_log(&channel), channel] {
            if let Err(e) = state.answers.forget(&log).await {
                tracing::warn!(log, "deleting a forgotten share's answers: {e}");
            }
        }
    }
}

/// `DELETE /v1/shares/{id}`.
pub async fn close_share(
    State(state): State<Arc<crate::State>>,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(known) = state.access.share(&id).await else {
        return error_response(ErrorCode::NotFound, format!("no share {id}"));
    };
    if let Err(response) = publisher(&state, &headers, q.token.as_deref(), &known.channel) {
        return response;
    }
    let channel = known.channel.clone();
    let record = ShareRecord {
        closed: Some(known.closed.unwrap_or_else(now_secs)),
        ..known
    };
    match state.access.put_share(record).await {
        Ok(forgotten) => forget_answers(&state, forgotten).await,
        Err(e) => {
            return error_response(ErrorCode::Unavailable, format!("{e}; retry with backoff"));
        }
    }
    if let Err(e) = state.originals.drop_share(&id).await {
        return unavailable(&e);
    }
    let forgotten = match state.blobs.drop_channel(&channel).await {
        Ok(n) => n,
        Err(e) => return unavailable(&e),
    };
    Json(json!({"closed": true, "previews_forgotten": forgotten})).into_response()
}

/// The channel and name of a blob path, or the refusal.
#[allow(clippy::result_large_err)]
fn blob_path(channel: &str, name: &str) -> Result<(), Response> {
    if !valid_channel(channel) {
        return Err(error_response(
            ErrorCode::InvalidChannel,
            "channel names are 1 to 128 of A-Z a-z 0-9 _ . : -",
        ));
    }
    if !blobs::valid_name(name) {
        return Err(error_response(
            ErrorCode::BadFrame,
            "blob names are 1 to 100 of A-Z a-z 0-9 _ . -, ending in .jpg, .png or .json",
        ));
    }
    Ok(())
}

/// `PUT /v1/blobs/{channel}/{name}`.
pub async fn put_blob(
    State(state): State<Arc<crate::State>>,
    Path((channel, name)): Path<(String, String)>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    if let Err(response) = blob_path(&channel, &name) {
        return response;
    }
    if let Err(response) = publisher(&state, &headers, q.token.as_deref(), &channel) {
        return response;
    }
    if bytes.is_empty() {
        return error_response(ErrorCode::BadFrame, "an empty blob");
    }
    match state.blobs.put(&channel, &name, bytes).await {
        Ok(evicted) => Json(json!({
            "path": format!("/v1/blobs/{channel}/{name}"),
            "evicted": evicted,
        }))
        .into_response(),
        Err(e) => unavailable(&e),
    }
}

/// `GET /v1/blobs/{channel}/{name}`.
pub async fn get_blob(
    State(state): State<Arc<crate::State>>,
    Path((channel, name)): Path<(String, String)>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = blob_path(&channel, &name) {
        return response;
    }
    let claims = match crate::http::authorize(&state, &headers, q.token.as_deref(), &channel) {
        Ok(claims) => claims,
        Err(response) => return response,
    };
    // A guest fetches only the pictures the share shows now (not, say, the clean ones
    // of a share the studio has since watermarked).
    if claims.role == Role::Guest && name != "state.json" && check::is_share_channel(&channel) {
        match state
            .answers
            .shown
            .shows_picture(&state.blobs, &channel, &name)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                return error_response(ErrorCode::NotFound, format!("no {name} in {channel}"));
            }
            Err(e) => return unavailable(&e),
        }
    }
    match state.blobs.get(&channel, &name).await {
        Ok(Some(bytes)) => {
            let cache = if blobs::immutable(&name) {
                "private, max-age=31536000, immutable"
            } else {
                "private, no-cache"
            };
            (
                [
                    (
                        header::CONTENT_TYPE,
                        blobs::content_type(&name).unwrap_or("application/octet-stream"),
                    ),
                    (header::CACHE_CONTROL, cache),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => error_response(ErrorCode::NotFound, format!("no {name} in {channel}")),
        Err(e) => unavailable(&e),
    }
}

/// `GET /v1/shares`.
pub async fn shares(
    State(state): State<Arc<crate::State>>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let claims = match authenticate(&state, &headers, q.token.as_deref()) {
        Ok(claims) => claims,
        Err(response) => return response,
    };
    let now = now_secs();
    let open: Vec<_> = state
        .access
        .shares()
        .await
        .into_iter()
        .filter(|s| s.state(now) == ShareState::Open && claims.allows(&s.channel))
        .map(|s| {
            json!({"id": s.id, "channel": s.channel, "title": s.title, "exp": s.exp,
                "pin": s.pin.is_some(), "downloads": s.downloads, "choose": s.choose})
        })
        .collect();
    Json(json!({"shares": open})).into_response()
}

/// `GET /g/{id}`.
pub async fn gallery(State(state): State<Arc<crate::State>>, Path(id): Path<String>) -> Response {
    if !valid_id(&id) {
        return page::missing();
    }
    match state.access.share(&id).await.map(|s| s.state(now_secs())) {
        Some(ShareState::Open) => page::gallery(),
        Some(ShareState::Closed | ShareState::Expired) => page::closed(),
        None => page::missing(),
    }
}
