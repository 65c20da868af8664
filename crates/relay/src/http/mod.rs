//! The HTTP side of the relay. Tokens come as `Authorization: Bearer` or `?token=`.
//!
//! - this module: health, stats, Prometheus metrics, and the checks every endpoint shares
//!   (who the token is, what it may use).
//! - [`publish`](mod@publish): publishing, and what a publish must be (size, shape, type, guest rate,
//!   the guest's stamp) on every transport.
//! - `streams`: polling with `since` (long-polling with `wait`) and Server-Sent Events
//!   resumed by `Last-Event-ID`.

pub mod publish;
mod streams;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use shotline_protocol::relay::{ErrorCode, valid_channel};

use crate::auth::{Claims, Role};
pub use publish::{admit, check_event, deliver, publish};
pub use streams::{poll, sse};

/// The client's address (empty when the server was not started with connect info).
#[derive(Debug, Clone)]
pub struct Remote(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Remote {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::ConnectInfo;
        let plain = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>();
        let tls = parts.extensions.get::<ConnectInfo<crate::tls::TlsPeer>>();
        Ok(Remote(match (plain, tls) {
            (Some(c), _) => c.0.to_string(),
            (None, Some(c)) => c.0.0.to_string(),
            (None, None) => String::new(),
        }))
    }
}

/// `?token=`, for clients that cannot set headers.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    /// The token.
    pub token: Option<String>,
}

/// An error as HTTP: the status that fits the code, and `{"type":"error","code","message"}`.
pub fn error_response(code: ErrorCode, message: impl Into<String>) -> Response {
    let status = match code {
        ErrorCode::Unauthorized
        | ErrorCode::TokenExpired
        | ErrorCode::Revoked
        | ErrorCode::PinRequired
        | ErrorCode::WrongPin => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::FrameTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RateLimited | ErrorCode::TooManyConnections | ErrorCode::TooManyGuests => {
            StatusCode::TOO_MANY_REQUESTS
        }
        ErrorCode::QuotaExceeded | ErrorCode::TooManySubscriptions => StatusCode::FORBIDDEN,
        ErrorCode::SelectionLocked => StatusCode::CONFLICT,
        ErrorCode::Overloaded | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    (
        status,
        Json(json!({"type": "error", "code": code, "message": message.into()})),
    )
        .into_response()
}

/// The token from `Authorization: Bearer` or `?token=`.
pub fn token<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<&'a str> {
    headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .or(query)
        .filter(|t| !t.trim().is_empty())
}

/// The token's claims, from `Authorization: Bearer` or `?token=`; an error response if
/// missing, malformed, expired or revoked.
#[allow(clippy::result_large_err)]
pub fn authenticate(
    state: &crate::State,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Claims, Response> {
    let Some(token) = token(headers, query) else {
        return Err(error_response(
            ErrorCode::Unauthorized,
            "no token: send Authorization: Bearer <token> or ?token=<token>",
        ));
    };
    state
        .access
        .authenticate(token)
        .map_err(|e| error_response(e.code(), e.to_string()))
}

/// As [`authenticate`], letting a PIN-protected share's link token through (for its
/// exchange, which asks for the PIN).
#[allow(clippy::result_large_err)]
pub fn authenticate_link(
    state: &crate::State,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Claims, Response> {
    let Some(token) = token(headers, query) else {
        return Err(error_response(
            ErrorCode::Unauthorized,
            "no token: send Authorization: Bearer <token> or ?token=<token>",
        ));
    };
    state
        .access
        .authenticate_link(token)
        .map_err(|e| error_response(e.code(), e.to_string()))
}

/// Why `claims` may not use `channel` (to subscribe, or to publish `kind`), if it may not.
pub fn refuse(
    claims: &Claims,
    channel: &str,
    publish: Option<&str>,
) -> Option<(ErrorCode, String)> {
    if !valid_channel(channel) {
        return Some((
            ErrorCode::InvalidChannel,
            "channel names are 1 to 128 of A-Z a-z 0-9 _ . : -".into(),
        ));
    }
    if !claims.allows(channel) {
        return Some((
            ErrorCode::Forbidden,
            format!("the token does not cover channel {channel}"),
        ));
    }
    match publish {
        Some(_) if claims.role == Role::Subscriber => Some((
            ErrorCode::Forbidden,
            "a subscriber token cannot publish".into(),
        )),
        Some(kind) if !claims.may_publish(kind) => Some((
            ErrorCode::Forbidden,
            format!("this guest token may not publish {kind} events"),
        )),
        _ => None,
    }
}

/// Why a connection that follows `following` (`count` of them) may not follow `channel`
/// too, if it may not: one connection follows `max_subscriptions` channels at most.
pub fn too_many_subscriptions(
    state: &crate::State,
    count: usize,
    following: &std::collections::HashSet<String>,
    channel: &str,
) -> Option<(ErrorCode, String)> {
    let max = state.config.max_subscriptions;
    if count < max || following.contains(channel) {
        return None;
    }
    state
        .access
        .limits
        .subscriptions_refused
        .fetch_add(1, Ordering::Relaxed);
    Some((
        ErrorCode::TooManySubscriptions,
        format!("this connection follows {max} channels, its most; unsubscribe from one first"),
    ))
}

/// The claims of a token that may subscribe to `channel`, or the error response.
#[allow(clippy::result_large_err)]
pub fn authorize(
    state: &crate::State,
    headers: &HeaderMap,
    query: Option<&str>,
    channel: &str,
) -> Result<Claims, Response> {
    let claims = authenticate(state, headers, query)?;
    match refuse(&claims, channel, None) {
        Some((code, message)) => Err(error_response(code, message)),
        None => Ok(claims),
    }
}

/// `GET /health`: 200 `{"status":"ok"}`, or 503 when the shared backend (Redis) does not
/// answer within two seconds.
pub async fn health(State(state): State<Arc<crate::State>>) -> Response {
    let checked = tokio::time::timeout(Duration::from_secs(2), state.hub.health()).await;
    let problem = match checked {
        Ok(Ok(())) => return Json(json!({"status": "ok"})).into_response(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "redis did not answer within 2 s".to_string(),
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "error": problem})),
    )
        .into_response()
}

/// The error response for a backend that is down.
pub fn unavailable(e: &crate::backend::Unavailable) -> Response {
    error_response(ErrorCode::Unavailable, format!("{e}; retry with backoff"))
}

fn counters(state: &crate::State) -> [(&'static str, u64); 23] {
    let c = &state.hub.counters;
    let l = &state.access.limits;
    let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let (hub, backend) = state.hub.lock_stats();
    // Redis has no lock over all channels in this process: its figures stay 0.
    let backend = backend.unwrap_or_default();
    [
        ("connections", state.connections.load(Ordering::Relaxed)),
        ("polls_waiting", state.polls_waiting.load(Ordering::Relaxed)),
        ("subscriptions", c.subscriptions.load(Ordering::Relaxed)),
        ("channels", state.hub.channels() as u64),
        ("published", c.published.load(Ordering::Relaxed)),
        ("delivered", c.delivered.load(Ordering::Relaxed)),
        ("dropped", c.dropped.load(Ordering::Relaxed)),
        ("uptime", state.uptime()),
        ("subjects", state.access.registry().census().0 as u64),
        ("hub_lock_taken", hub.taken),
        ("hub_lock_waited", hub.waited),
        ("hub_lock_wait_us", hub.wait_us),
        ("backend_lock_taken", backend.taken),
        ("backend_lock_waited", backend.waited),
        ("backend_lock_wait_us", backend.wait_us),
        // Every transport's connections (WebSocket, Socket.IO, SSE, long polls).
        ("open", l.gate.open()),
        // How often each limit against a leaked link bit.
        (
            "refused_connections",
            n(&l.gate.refused) + n(&l.preauth.refused),
        ),
        ("refused_guests", n(&l.joins.refused)),
        ("refused_answers", n(&l.answers.refused)),
        ("refused_quota", n(&l.quota_refused)),
        ("refused_subscriptions", n(&l.subscriptions_refused)),
        ("duplicate_answers", n(&l.duplicates)),
        ("expired_cut", n(&l.expired)),
    ]
}

/// Connections on this node per role.
fn by_role(state: &crate::State) -> Vec<(Role, usize)> {
    let (_, by_role) = state.access.registry().census();
    Role::ALL
        .iter()
        .map(|r| (*r, by_role.get(r).copied().unwrap_or(0)))
        .collect()
}

/// `GET /stats`: this node's counters, distinct subjects connected, connections by role.
pub async fn stats(State(state): State<Arc<crate::State>>) -> Json<Value> {
    let mut stats: serde_json::Map<String, Value> = counters(&state)
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let roles: serde_json::Map<String, Value> = by_role(&state)
        .into_iter()
        .map(|(role, n)| (role.as_str().to_string(), json!(n)))
        .collect();
    stats.insert("by_role".into(), Value::Object(roles));
    Json(Value::Object(stats))
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(state): State<Arc<crate::State>>) -> impl IntoResponse {
    let mut text = String::new();
    for (name, value) in counters(&state) {
        let kind = if matches!(
            name,
            "published" | "delivered" | "dropped" | "duplicate_answers" | "expired_cut"
        ) || name.contains("_lock_")
            || name.starts_with("refused_")
        {
            "counter"
        } else {
            "gauge"
        };
        let suffix = if kind == "counter" {
            "_total"
        } else if name == "uptime" {
            "_seconds"
        } else {
            ""
        };
        text.push_str(&format!(
            "# TYPE shotline_relay_{name}{suffix} {kind}\nshotline_relay_{name}{suffix} {value}\n"
        ));
    }
    text.push_str("# TYPE shotline_relay_connections_by_role gauge\n");
    for (role, n) in by_role(&state) {
        text.push_str(&format!(
            "shotline_relay_connections_by_role{{role=\"{}\"}} {n}\n",
            role.as_str()
        ));
    }
    ([("content-type", "text/plain; version=0.0.4")], text)
}
