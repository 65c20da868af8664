//! Token exchange and the admin API.
//!
//! - `POST /v1/tokens`: any token → a token never wider than it ([`crate::auth::exchange`]).
//! - `GET /v1/admin/connections[?sub=S]`: every node's connections.
//! - `POST /v1/admin/disconnect` `{"sub"}` or `{"connection"}` → `{"closed": N}`.
//! - `POST /v1/admin/revoke` `{"jti"}` or `{"sub"}` → `{"revoked": true}`.
//! - `POST /v1/admin/broadcast` `{"channels", "event", "exclude_subs"}` → `{"offsets"}`.
//!
//! The admin API needs an admin token; everything else is refused with `forbidden`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shotline_protocol::relay::{ErrorCode, valid_channel};

use crate::access::Target;
use crate::auth::exchange::{self, Refused};
use crate::auth::{Claims, Role, mint, random_id};
use crate::http::{TokenQuery, authenticate, check_event, error_response, unavailable};

/// The body as `T`, or a `bad_json` response that says what was expected.
#[allow(clippy::result_large_err)]
fn body<T: DeserializeOwned>(bytes: &Bytes, expected: &str) -> Result<T, Response> {
    serde_json::from_slice(bytes)
        .map_err(|e| error_response(ErrorCode::BadJson, format!("expected {expected}: {e}")))
}

/// An admin's claims, or the refusal.
#[allow(clippy::result_large_err)]
fn admin(
    state: &crate::State,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Claims, Response> {
    let claims = authenticate(state, headers, query)?;
    if claims.role != Role::Admin {
        return Err(error_response(
            ErrorCode::Forbidden,
            format!(
                "the admin API needs an admin token; this one is a {}",
                claims.role.as_str()
            ),
        ));
    }
    Ok(claims)
}

/// `POST /v1/tokens`.
pub async fn exchange(
    State(state): State<Arc<crate::State>>,
    Query(q): Query<TokenQuery>,
    crate::http::Remote(remote): crate::http::Remote,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let caller = match crate::http::authenticate_link(&state, &headers, q.token.as_deref()) {
        Ok(claims) => claims,
        Err(response) => return response,
    };
    let request: exchange::Request = match body(
        &bytes,
        r#"{"channels": [..], "ttl": "1h", "role"?, "sub"?, "name"?, "publish"?, "pin"?}"#,
    ) {
        Ok(request) => request,
        Err(response) => return response,
    };
    if state.access.needs_pin(&caller)
        && let Err(response) =
            crate::gallery::door::check_pin(&state, &caller, &remote, &request).await
    {
        return response;
    }
    match exchange::narrow(&caller, &request) {
        Ok(claims) if caller.role == Role::Guest && claims.sub != caller.sub => {
            // A new guest: the share's link lets so many in from one address (whichever
            // token of it is exchanged).
            let mut link = caller.channels.clone();
            link.sort();
            let link = link.join(" ");
            let joins = &state.access.limits.joins;
            if !joins.take(&link, crate::access::gate::address(&remote)) {
                return error_response(
                    ErrorCode::TooManyGuests,
                    format!(
                        "this link has let in {} new guests from your network within the hour; try again later",
                        joins.per_hour()
                    ),
                );
            }
            let token = mint(&claims, &state.config.secret);
            crate::gallery::door::opened(&state, &claims).await;
            Json(json!({"token": token, "jti": claims.jti, "exp": claims.exp})).into_response()
        }
        Ok(claims) => {
            let token = mint(&claims, &state.config.secret);
            Json(json!({"token": token, "jti": claims.jti, "exp": claims.exp})).into_response()
        }
        Err(Refused::Forbidden(why)) => error_response(ErrorCode::Forbidden, why),
        Err(Refused::Invalid(why)) => error_response(ErrorCode::BadFrame, why),
    }
}

/// Query of `GET /v1/admin/connections`.
#[derive(Debug, Deserialize)]
pub struct ConnectionsQuery {
    token: Option<String>,
    sub: Option<String>,
}

/// `GET /v1/admin/connections[?sub=S]`.
pub async fn connections(
    State(state): State<Arc<crate::State>>,
    Query(q): Query<ConnectionsQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = admin(&state, &headers, q.token.as_deref()) {
        return response;
    }
    match state.access.connections(q.sub.as_deref()).await {
        Ok(list) => Json(json!({"connections": list})).into_response(),
        Err(e) => unavailable(&e),
    }
}

/// `{"sub"}` or `{"connection"}` (or `{"jti"}`, for revoke).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Which {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    connection: Option<String>,
    #[serde(default)]
    jti: Option<String>,
}

/// `POST /v1/admin/disconnect`.
pub async fn disconnect(
    State(state): State<Arc<crate::State>>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    if let Err(response) = admin(&state, &headers, q.token.as_deref()) {
        return response;
    }
    let which: Which = match body(&bytes, r#"{"sub": ..} or {"connection": ..}"#) {
        Ok(which) => which,
        Err(response) => return response,
    };
    let target = match (which.sub, which.connection, which.jti) {
        (Some(sub), None, None) => Target::Sub(sub),
        (None, Some(id), None) => Target::Connection(id),
        _ => {
            return error_response(
                ErrorCode::BadFrame,
                r#"send exactly one of {"sub": ..} and {"connection": ..}"#,
            );
        }
    };
    match state.access.disconnect(target).await {
        Ok(closed) => Json(json!({"closed": closed})).into_response(),
        Err(e) => unavailable(&e),
    }
}

/// `POST /v1/admin/revoke`.
pub async fn revoke(
    State(state): State<Arc<crate::State>>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    if let Err(response) = admin(&state, &headers, q.token.as_deref()) {
        return response;
    }
    let which: Which = match body(&bytes, r#"{"jti": ..} or {"sub": ..}"#) {
        Ok(which) => which,
        Err(response) => return response,
    };
    if which.connection.is_some() || which.jti.is_some() == which.sub.is_some() {
        return error_response(
            ErrorCode::BadFrame,
            r#"send exactly one of {"jti": ..} and {"sub": ..}"#,
        );
    }
    match state
        .access
        .revoke(which.jti.as_deref(), which.sub.as_deref())
        .await
    {
        Ok(()) => Json(json!({"revoked": true})).into_response(),
        Err(e) => error_response(ErrorCode::Unavailable, format!("{e}; retry")),
    }
}

/// Body of `POST /v1/admin/broadcast`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Broadcast {
    channels: Vec<String>,
    event: Value,
    #[serde(default)]
    exclude_subs: Vec<String>,
}

/// `POST /v1/admin/broadcast`: one event on several channels, never delivered to the
/// excluded subjects, live or on replay.
pub async fn broadcast(
    State(state): State<Arc<crate::State>>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    if let Err(response) = admin(&state, &headers, q.token.as_deref()) {
        return response;
    }
    if bytes.len() > state.config.max_frame {
        return error_response(ErrorCode::FrameTooLarge, "the body is over the frame limit");
    }
    let b: Broadcast = match body(
        &bytes,
        r#"{"channels": [..], "event": {"type", "payload"}, "exclude_subs": [..]}"#,
    ) {
        Ok(b) => b,
        Err(response) => return response,
    };
    let id = format!("broadcast-{}", random_id());
    if let Err(why) = check_event(&id, &b.event) {
        return error_response(ErrorCode::InvalidEvent, why.to_string());
    }
    if b.channels.is_empty() || b.channels.iter().any(|c| !valid_channel(c)) {
        return error_response(
            ErrorCode::InvalidChannel,
            "name one or more channels, each 1 to 128 of A-Z a-z 0-9 _ . : -",
        );
    }
    let mut offsets = BTreeMap::new();
    for channel in &b.channels {
        match state
            .hub
            .publish_excluding(channel, &id, b.event.clone(), &b.exclude_subs)
            .await
        {
            Ok(published) => {
                offsets.insert(channel.clone(), published.offset);
            }
            Err(e) => return unavailable(&e),
        }
    }
    Json(json!({"offsets": offsets})).into_response()
}
