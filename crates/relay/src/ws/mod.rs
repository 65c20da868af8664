//! One WebSocket connection: authenticated at the upgrade, then frames in, frames out.
//! Every bad frame gets an `error` frame and the connection goes on; a subscriber that
//! falls too far behind is closed with code 4008; silence past the timeout closes it.
//!
//! - this module: `GET /v1/ws`, authenticated, handed to the path its stream takes.
//! - `handshake`: the upgrade request checked and answered here, so the socket stays ours.
//! - `conn`: what a connection does with each client frame, whichever path it takes.
//! - `direct`: a plain TCP connection, whose events the fan-out writes straight to the
//!   socket ([`crate::outbox`]).
//! - `framed`: any other stream (TLS), written by the connection's own task.

mod conn;
mod direct;
mod framed;
mod handshake;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use hyper_util::rt::TokioIo;
use shotline_protocol::relay::ErrorCode;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::http::{Remote, TokenQuery, authenticate, error_response};
use conn::{Conn, Next, close_reason};
pub use handshake::Upgrade;

/// Close code for a subscriber that could not keep up.
pub const CLOSE_SLOW_CONSUMER: u16 = 4008;
/// Close code for a connection silent past the timeout.
pub const CLOSE_TIMEOUT: u16 = 4000;
/// Close code for a connection whose channel started a new epoch (service restart).
pub const CLOSE_RESET: u16 = 1012;
/// Close code for a connection an admin cut off, or whose token was revoked.
pub const CLOSE_DISCONNECTED: u16 = 4003;

/// `GET /v1/ws`.
pub async fn upgrade(
    State(state): State<Arc<crate::State>>,
    Query(q): Query<TokenQuery>,
    Remote(remote): Remote,
    headers: HeaderMap,
    ws: Upgrade,
) -> Response {
    let claims = match authenticate(&state, &headers, q.token.as_deref()) {
        Ok(claims) => claims,
        Err(response) => return response,
    };
    if let Some(origin) = headers.get("origin").and_then(|o| o.to_str().ok())
        && !state.config.origins.is_empty()
        && !state.config.origins.iter().any(|o| o == origin)
    {
        return error_response(
            ErrorCode::Forbidden,
            format!("origin {origin} is not allowed"),
        );
    }
    let admitted = match state.access.limits.gate.admit(&claims, &remote) {
        Ok(admitted) => admitted,
        Err((code, message)) => return error_response(code, message),
    };
    // Frames over the limit still arrive (up to 4x) so they can be answered with an error.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(4096)
        .max_message_size(Some(state.config.max_frame * 4));
    ws.accept(move |upgraded| async move {
        let _admitted = admitted;
        use hyper_util::server::conn::auto::upgrade::downcast;
        match downcast::<TokioIo<tokio::net::TcpStream>>(upgraded) {
            Ok(parts) => {
                let tcp = parts.io.into_inner();
                direct::connection(tcp, parts.read_buf, config, state, claims, remote).await;
            }
            Err(upgraded) => {
                let socket = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                framed::connection(socket, state, claims, remote).await;
            }
        }
    })
}
