//! The Socket.IO endpoint at `/socket.io/`: dashboards written for `socket.io-client` (v4,
//! Engine.IO 4: polling and WebSocket, and the upgrade between them) connect unchanged,
//! through `socketioxide`, bridged onto the hub — not its own adapter — so offsets, resume
//! with an honest `recovered`, idempotent publish, the limits, roles and the admin API
//! hold as on every transport, and a cluster's events cross nodes through the same Redis.
//!
//! - this module: the service, and the door (the token in `auth: {token}` or `?token=`; a
//!   refusal is `connect_error` whose `message` is the error code).
//! - `commands`: a client's commands, queued in order, bounded.
//! - `session`: one client: `subscribe`, `unsubscribe`, `publish` with acks, and its
//!   queue forwarded as `event`s.

mod commands;
mod session;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::{SocketIo, TransportType};

use crate::auth::Claims;

/// What a client sends in `auth`.
#[derive(Debug, Default, Deserialize)]
struct Auth {
    #[serde(default)]
    token: Option<String>,
}

/// A refusal at the door: its `message` is the error code.
#[derive(Debug)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// The token of `?token=` in a query string.
fn query_token(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let value = pair.strip_prefix("token=")?;
        Some(percent_decode(value))
    })
}

/// `%XX` escapes (and `+`) of a query value.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The door: a valid token (not revoked), an allowed origin, room for one more connection.
async fn door(
    socket: SocketRef,
    TryData(auth): TryData<Auth>,
    State(state): State<Arc<crate::State>>,
) -> Result<(), Refused> {
    state.access.limits.preauth.reached();
    let parts = socket.req_parts();
    if let Some(origin) = parts.headers.get("origin").and_then(|o| o.to_str().ok())
        && !state.config.origins.is_empty()
        && !state.config.origins.iter().any(|o| o == origin)
    {
        return Err(Refused("forbidden"));
    }
    let token = auth
        .ok()
        .and_then(|a| a.token)
        .filter(|t| !t.trim().is_empty())
        .or_else(|| query_token(parts.uri.query()))
        .ok_or(Refused("unauthorized"))?;
    let claims: Claims = state
        .access
        .authenticate(&token)
        .map_err(|e| Refused(e.code().as_str()))?;
    let admitted = state
        .access
        .limits
        .gate
        .admit(&claims, &remote(parts))
        .map_err(|(code, _)| Refused(code.as_str()))?;
    socket.extensions.insert(Arc::new(admitted));
    socket.extensions.insert(Arc::new(claims));
    socket.extensions.insert(commands::listen(&socket));
    Ok(())
}

/// How long a new session has to pass the door (send its connect packet with a token).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Before Socket.IO: a new session (a request without `sid`) is refused
/// (`too_many_connections`) while `max_connections` sessions wait for the door already,
/// so sessions that never show a token stay bounded (each lives [`CONNECT_TIMEOUT`]).
pub async fn handshakes(
    axum::extract::State(state): axum::extract::State<Arc<crate::State>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    let new_session = path.starts_with("/socket.io")
        && !request
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("sid=")));
    if new_session && !state.access.limits.preauth.open() {
        return crate::http::error_response(
            shotline_protocol::relay::ErrorCode::TooManyConnections,
            "too many connections are opening at once; try again in a minute",
        );
    }
    next.run(request).await
}

/// The client's address, as the listener saw it.
fn remote(parts: &axum::http::request::Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.to_string())
        .or_else(|| {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<crate::tls::TlsPeer>>()
                .map(|c| c.0.0.to_string())
        })
        .unwrap_or_default()
}

/// `router` with the Socket.IO endpoint over `state`'s hub at `/socket.io/` (one engine
/// for both spellings of the path).
pub fn mount(
    router: axum::Router<Arc<crate::State>>,
    state: Arc<crate::State>,
) -> axum::Router<Arc<crate::State>> {
    let config = &state.config;
    let ping_timeout = config
        .ping_timeout
        .saturating_sub(config.ping_interval)
        .max(Duration::from_secs(5));
    let (service, io) = SocketIo::builder()
        .req_path("/socket.io")
        .ping_interval(config.ping_interval)
        .ping_timeout(ping_timeout)
        .max_payload(config.max_frame as u64 * 4)
        .max_buffer_size(1024)
        .ws_read_buffer_size(4 * 1024)
        .ws_max_message_size(config.max_frame * 4)
        .ws_max_frame_size(config.max_frame * 4)
        .connect_timeout(CONNECT_TIMEOUT)
        .transports([TransportType::Polling, TransportType::Websocket])
        .with_state(state.clone())
        .build_svc();
    io.ns("/", session::connected.with(door));
    let service = tower::ServiceExt::map_request(service, detach);
    router
        .route_service("/socket.io", service.clone())
        .route_service("/socket.io/", service)
}

/// The request with its own copy of its URI and headers. socket.io keeps each client's
/// request head for as long as it is connected, and hyper's are slices of the buffer the
/// head was read into (8 KiB and more): kept, they kept that whole buffer, about 19 KiB
/// per idle client. The copies take under 1 KiB (measured with heaptrack: 0.8 KiB).
fn detach<B>(mut request: axum::http::Request<B>) -> axum::http::Request<B> {
    use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};
    let mut headers = HeaderMap::with_capacity(request.headers().len());
    for (name, value) in request.headers() {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    *request.headers_mut() = headers;
    if let Ok(uri) = Uri::try_from(request.uri().to_string()) {
        *request.uri_mut() = uri;
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_may_come_in_the_query() {
        assert_eq!(
            query_token(Some("EIO=4&token=a.b%2Dc&transport=polling")).as_deref(),
            Some("a.b-c")
        );
        assert_eq!(query_token(Some("EIO=4")), None);
        assert_eq!(query_token(None), None);
    }
}
