//! One WebSocket connection: authenticated at the upgrade, then frames in, frames out.
//! Every bad frame gets an `error` frame and the connection goes on; a subscriber that
//! falls too far behind is closed with code 4008; silence past the timeout closes it.

use crate::queue::Frame;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use shotline_protocol::relay::{ClientFrame, ErrorCode, RelayFrame};

use crate::access::{Registered, Transport};
use crate::auth::Claims;
use crate::http::{Remote, TokenQuery, admit, authenticate, deliver, error_response, refuse};
use crate::hub::Subscriber;
use crate::queue::{KickReason, Queue};
use crate::rate::Budget;

/// Close code for a subscriber that could not keep up.
pub const CLOSE_SLOW_CONSUMER: u16 = 4008;
/// Close code for a connection silent past the timeout.
pub const CLOSE_TIMEOUT: u16 = 4000;
/// Close code for a connection whose channel started a new epoch (service restart).
pub const CLOSE_RESET: u16 = 1012;
/// Close code for a connection an admin cut off, or whose token was revoked.
pub const CLOSE_DISCONNECTED: u16 = 4003;
/// Frames written before one flush, at most.
const BATCH: usize = 64;

/// `GET /v1/ws`.
pub async fn upgrade(
    State(state): State<Arc<crate::State>>,
    Query(q): Query<TokenQuery>,
    Remote(remote): Remote,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
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
    ws.read_buffer_size(4096)
        .write_buffer_size(4096)
        .max_message_size(state.config.max_frame * 4)
        .on_upgrade(move |socket| connection(socket, state, claims, remote))
        .into_response()
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

#[tracing::instrument(skip_all, fields(conn, sub = claims.subject()))]
async fn connection(socket: WebSocket, state: Arc<crate::State>, claims: Claims, remote: String) {
    use std::sync::atomic::Ordering;
    let conn = state.next_conn();
    tracing::Span::current().record("conn", conn);
    state.connections.fetch_add(1, Ordering::Relaxed);
    let (queue, mut rx, kicked) = Queue::new(state.config.queue.max(state.config.history + 16));
    let registered = state
        .access
        .register(conn, &claims, Transport::Ws, remote, kicked.clone());
    let mut c = Conn {
        state: &state,
        claims: &claims,
        conn,
        queue,
        registered,
        subscriptions: HashSet::new(),
        bucket: Budget::new(state.config.publish_rate),
    };
    let (mut sink, mut stream) = socket.split();
    let every = state.config.ping_interval;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut heard = Instant::now();
    // Long-lived futures, registered once rather than on every turn of the loop.
    let kicked_wait = kicked.wait();
    let stopping = state.stopping();
    tokio::pin!(kicked_wait, stopping);
    let close = loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    heard = Instant::now();
                    // Boxed: the connection's own future stays small while it is idle.
                    if let Some(reply) = Box::pin(c.handle(text.as_str())).await {
                        c.queue.offer(serde_json::to_string(&reply).unwrap_or_default().into());
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    heard = Instant::now();
                    c.queue.offer(error_frame(ErrorCode::BadJson, "binary frames are not understood; send JSON text"));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => heard = Instant::now(),
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Err(e)) => {
                    tracing::debug!("connection error: {e}");
                    break None;
                }
            },
            Some(frame) = rx.recv() => {
                if send_batch(&mut sink, frame, &mut rx).await.is_err() {
                    break None;
                }
            }
            reason = &mut kicked_wait => break Some(match reason {
                KickReason::Slow => (CLOSE_SLOW_CONSUMER, "slow consumer: resubscribe with since"),
                KickReason::Reset => (CLOSE_RESET, "channel history was reset: subscribe again"),
                KickReason::Disconnected => (CLOSE_DISCONNECTED, "disconnected by the studio"),
            }),
            _ = ping.tick() => {
                if heard.elapsed() > state.config.ping_timeout {
                    break Some((CLOSE_TIMEOUT, "no answer to pings"));
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break None;
                }
            }
            _ = &mut stopping => break Some((1001, "relay going away")),
        }
    };
    if let Some((code, reason)) = close {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }
    for channel in &c.subscriptions {
        state.hub.unsubscribe(channel, conn);
    }
    state.connections.fetch_sub(1, Ordering::Relaxed);
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

/// Send `first` and everything else already queued, with one flush.
async fn send_batch(
    sink: &mut Sink,
    first: Frame,
    rx: &mut tokio::sync::mpsc::Receiver<Frame>,
) -> Result<(), axum::Error> {
    sink.feed(Message::Text(first)).await?;
    for _ in 0..BATCH {
        match rx.try_recv() {
            Ok(frame) => sink.feed(Message::Text(frame)).await?,
            Err(_) => break,
        }
    }
    sink.flush().await
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

impl Conn<'_> {
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
