//! One WebSocket connection: authenticated at the upgrade, then frames in, frames out.
//! Every bad frame gets an `error` frame and the connection goes on; a subscriber that
//! falls too far behind is closed with code 4008; silence past the timeout closes it.
//!
//! - this module: the upgrade (the handshake is answered here, so the socket stays
//!   ours), and what a connection does with each client frame.
//! - `direct`: a plain TCP connection, whose events the fan-out writes straight to the
//!   socket ([`crate::outbox`]).
//! - `framed`: any other stream (TLS), written by the connection's own task.

mod direct;
mod framed;

use crate::queue::Frame;
use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use shotline_protocol::relay::{ClientFrame, ErrorCode, RelayFrame};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};

use crate::access::{Registered, Transport};
use crate::auth::Claims;
use crate::http::{Remote, TokenQuery, admit, authenticate, deliver, error_response, refuse};
use crate::hub::Subscriber;
use crate::queue::{Kick, KickReason, Queue};
use crate::rate::Budget;

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
    if state.connections.load(std::sync::atomic::Ordering::Relaxed) >= state.config.max_connections
    {
        return error_response(
            ErrorCode::Overloaded,
            "too many connections; retry with backoff",
        );
    }
    // Frames over the limit still arrive (up to 4x) so they can be answered with an error.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(4096)
        .max_message_size(Some(state.config.max_frame * 4));
    ws.accept(move |upgraded| async move {
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

/// A WebSocket upgrade request (RFC 6455 over HTTP/1.1), checked as the handshake asks.
pub struct Upgrade {
    key: HeaderValue,
    on_upgrade: hyper::upgrade::OnUpgrade,
}

/// Why a request is not a WebSocket upgrade.
fn not_upgrade(status: StatusCode, message: &'static str) -> Response {
    (status, message).into_response()
}

fn header_has(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .as_bytes()
            .split(|&b| b == b',')
            .any(|part| part.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if parts.method != Method::GET {
            return Err(not_upgrade(
                StatusCode::METHOD_NOT_ALLOWED,
                "Request method must be `GET`",
            ));
        }
        if !header_has(&parts.headers, header::CONNECTION, "upgrade") {
            return Err(not_upgrade(
                StatusCode::BAD_REQUEST,
                "Connection header did not include 'upgrade'",
            ));
        }
        if !header_has(&parts.headers, header::UPGRADE, "websocket") {
            return Err(not_upgrade(
                StatusCode::BAD_REQUEST,
                "`Upgrade` header did not include 'websocket'",
            ));
        }
        if !header_has(&parts.headers, header::SEC_WEBSOCKET_VERSION, "13") {
            return Err(not_upgrade(
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Version` header did not include '13'",
            ));
        }
        let Some(key) = parts.headers.get(header::SEC_WEBSOCKET_KEY).cloned() else {
            return Err(not_upgrade(
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Key` header missing",
            ));
        };
        let Some(on_upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
            return Err(not_upgrade(
                StatusCode::UPGRADE_REQUIRED,
                "WebSocket request couldn't be upgraded since no upgrade state was present",
            ));
        };
        Ok(Self { key, on_upgrade })
    }
}

impl Upgrade {
    /// Answer `101 Switching Protocols` and run `connection` on the upgraded stream.
    fn accept<F, Fut>(self, connection: F) -> Response
    where
        F: FnOnce(hyper::upgrade::Upgraded) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let accept =
            tokio_tungstenite::tungstenite::handshake::derive_accept_key(self.key.as_bytes());
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => connection(upgraded).await,
                Err(e) => tracing::debug!("websocket upgrade: {e}"),
            }
        });
        let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        response
    }
}

/// Why the relay closes a connection: the close code and reason it sends.
fn close_reason(reason: KickReason) -> (u16, &'static str) {
    match reason {
        KickReason::Slow => (CLOSE_SLOW_CONSUMER, "slow consumer: resubscribe with since"),
        KickReason::Reset => (CLOSE_RESET, "channel history was reset: subscribe again"),
        KickReason::Disconnected => (CLOSE_DISCONNECTED, "disconnected by the studio"),
    }
}

fn error_frame(code: ErrorCode, message: impl Into<String>) -> Frame {
    serde_json::to_string(&RelayFrame::Error {
        code,
        message: message.into(),
    })
    .unwrap_or_default()
    .into()
}

fn error(code: ErrorCode, message: impl Into<String>) -> Option<RelayFrame> {
    Some(RelayFrame::Error {
        code,
        message: message.into(),
    })
}

/// What a connection does after one message off its stream.
enum Next {
    /// Read on.
    Go,
    /// The peer sent a close frame (the WebSocket library has queued its answer).
    Closed(Option<CloseFrame>),
    /// The stream ended or failed.
    Gone,
}

/// What one connection keeps.
struct Conn<'a> {
    state: &'a crate::State,
    claims: &'a Claims,
    conn: u64,
    queue: Queue,
    registered: Registered,
    subscriptions: HashSet<String>,
    bucket: Budget,
}

impl<'a> Conn<'a> {
    /// Count and register a new connection whose frames go into `queue`.
    fn open(
        state: &'a crate::State,
        claims: &'a Claims,
        conn: u64,
        queue: Queue,
        kicked: Arc<Kick>,
        remote: String,
    ) -> Self {
        state
            .connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let registered = state
            .access
            .register(conn, claims, Transport::Ws, remote, kicked);
        Self {
            state,
            claims,
            conn,
            queue,
            registered,
            subscriptions: HashSet::new(),
            bucket: Budget::new(state.config.publish_rate),
        }
    }

    /// Act on one message off the stream; `heard` is when the peer was last heard from.
    async fn message(
        &mut self,
        message: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
        heard: &mut std::time::Instant,
    ) -> Next {
        let message = match message {
            Some(Ok(message)) => message,
            None => return Next::Gone,
            Some(Err(e)) => {
                tracing::debug!("connection error: {e}");
                return Next::Gone;
            }
        };
        *heard = std::time::Instant::now();
        match message {
            Message::Text(text) => self.text(text.as_str()).await,
            Message::Binary(_) => self.binary(),
            Message::Close(frame) => return Next::Closed(frame),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
        Next::Go
    }

    /// Answer one text frame: its reply, if any, queued in order with the events.
    async fn text(&mut self, text: &str) {
        // Boxed: the connection's own future stays small while it is idle.
        if let Some(reply) = Box::pin(self.handle(text)).await {
            self.queue
                .offer(serde_json::to_string(&reply).unwrap_or_default().into());
        }
    }

    /// A binary frame: not understood.
    fn binary(&self) {
        self.queue.offer(error_frame(
            ErrorCode::BadJson,
            "binary frames are not understood; send JSON text",
        ));
    }

    /// Leave every channel.
    fn leave(&mut self) {
        for channel in self.subscriptions.drain() {
            self.state.hub.unsubscribe(&channel, self.conn);
        }
    }

    /// Stop counting this connection.
    fn gone(&self) {
        self.state
            .connections
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Act on one text frame; the reply, if any, goes out in order with the events.
    async fn handle(&mut self, text: &str) -> Option<RelayFrame> {
        let limit = self.state.config.max_frame;
        if text.len() > limit {
            return error(
                ErrorCode::FrameTooLarge,
                format!("frame of {} bytes; the limit is {limit}", text.len()),
            );
        }
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            return error(ErrorCode::BadJson, "not JSON");
        };
        let frame: ClientFrame = match serde_json::from_value(value.clone()) {
            Ok(frame) => frame,
            Err(e) => {
                let kind = value
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("(none)");
                return error(ErrorCode::BadFrame, format!("frame of type {kind}: {e}"));
            }
        };
        match frame {
            ClientFrame::Ping => Some(RelayFrame::Pong),
            ClientFrame::Subscribe {
                channel,
                since,
                epoch,
            } => self.subscribe(channel, since, epoch).await,
            ClientFrame::Unsubscribe { channel } => {
                self.state.hub.unsubscribe(&channel, self.conn);
                self.registered.unsubscribed(&channel);
                self.subscriptions.remove(&channel);
                None
            }
            ClientFrame::Publish { channel, id, event } => {
                self.publish(channel, id, event, text.len()).await
            }
        }
    }

    async fn subscribe(
        &mut self,
        channel: String,
        since: Option<u64>,
        epoch: Option<String>,
    ) -> Option<RelayFrame> {
        if let Some((code, message)) = refuse(self.claims, &channel, None) {
            return error(code, message);
        }
        let subscriber = Subscriber {
            conn: self.conn,
            queue: self.queue.clone(),
            subject: self.claims.subject().into(),
        };
        match self
            .state
            .hub
            .subscribe(&channel, &subscriber, since, epoch.as_deref())
            .await
        {
            Ok(_) => {
                self.registered.subscribed(&channel);
                self.subscriptions.insert(channel);
                None
            }
            Err(e) => error(ErrorCode::Unavailable, format!("{e}; retry with backoff")),
        }
    }

    async fn publish(
        &mut self,
        channel: String,
        id: String,
        event: Value,
        size: usize,
    ) -> Option<RelayFrame> {
        let event = match admit(self.state, self.claims, &channel, &id, event, size) {
            Ok(event) => event,
            Err((code, message)) => return error(code, message),
        };
        if !self.bucket.take() {
            return error(
                ErrorCode::RateLimited,
                format!(
                    "more than {} publishes a second: nothing is taken for a second; then resend from this one",
                    self.state.config.publish_rate
                ),
            );
        }
        match deliver(self.state, self.claims, &channel, &id, event).await {
            Ok(published) => Some(RelayFrame::Ack {
                id,
                offset: published.offset,
            }),
            Err((code, message)) => error(code, message),
        }
    }
}
