//! The relay client: every engine event reaches the relay at least once, in order, each
//! with a unique id the relay uses to drop duplicates.
//!
//! - [`writer`]: the bus's durable stream into the journal's outbox, in batches, losing
//!   nothing however slow the disk.
//! - this module: delivery of the outbox over one WebSocket, speaking the protocol
//!   crate's frames. An event leaves the outbox only once the relay acknowledged it.
//!   Disconnects reconnect with backoff and jitter (0.5 s up to 30 s); a silent connection
//!   is dropped after missed pings.
//! - `in_flight`: what each answer means. A publish the relay refuses for now
//!   ([`ErrorCode::is_retryable`]: rate limit, backend down) stops the stream: once every
//!   answer is in, the client pauses and sends again from the first refused event, so
//!   order per channel holds. A refused token keeps every event and reconnects later; an
//!   event the relay can never take is logged and dropped.
//!
//! [`ErrorCode::is_retryable`]: shotline_protocol::relay::ErrorCode::is_retryable

mod in_flight;
pub mod writer;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use serde::Serialize;
use shotline_protocol::relay::{ClientFrame, RelayFrame};
use shotline_protocol::retry::backoff;
use tokio::sync::{Notify, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::journal::{Journal, Outgoing};
use in_flight::InFlight;
pub use writer::write_outbox;

/// Publishes sent and not yet acknowledged, at most.
const WINDOW: usize = 256;
/// Ping interval; three missed ones drop the connection.
const PING: Duration = Duration::from_secs(10);
/// First and longest pause between connection attempts.
const RECONNECT: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(30));

/// Where events go.
#[derive(Debug, Clone)]
pub struct RelayTarget {
    /// WebSocket URL, `ws://host:port/v1/ws`.
    pub url: String,
    /// Publisher token.
    pub token: String,
}

/// The client's state, for the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelayStatus {
    /// `connected`, `reconnecting`, `refused` (the relay refuses the token) or `offline`
    /// (no relay configured or no token).
    pub state: &'static str,
    /// Events waiting in the outbox.
    pub queued: u64,
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// Shutdown: stop.
    Stopping,
    /// Lost: connect again.
    Lost,
    /// The relay refused the token: connect again, on the long backoff.
    TokenRefused,
}

/// Deliver the outbox to `target` until shutdown, reconnecting as needed.
pub async fn deliver(
    journal: Arc<Journal>,
    target: RelayTarget,
    wake: Arc<Notify>,
    status: watch::Sender<RelayStatus>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut attempt: u32 = 0;
    loop {
        let queued = journal.outbox_len().unwrap_or_default();
        status.send_modify(|s| {
            s.queued = queued;
            if s.state != "refused" {
                s.state = "reconnecting";
            }
        });
        let connected = tokio::select! {
            c = connect(&target) => c,
            _ = shutdown.changed() => return,
        };
        if let Some(ws) = connected {
            tracing::info!("connected to the relay at {}", target.url);
            match session(ws, &journal, &wake, &status, &mut shutdown).await {
                Ended::Stopping => return,
                Ended::Lost => {
                    attempt = 0;
                    tracing::warn!("relay connection lost; reconnecting");
                }
                Ended::TokenRefused => {
                    attempt = attempt.max(6);
                    status.send_modify(|s| s.state = "refused");
                }
            }
        }
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(backoff(attempt, RECONNECT.0, RECONNECT.1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Open the WebSocket with the token in `Authorization`; `None` when it cannot be had
/// (logged when the relay gave a reason).
async fn connect(target: &RelayTarget) -> Option<Ws> {
    connect_to(&target.url, &target.token).await
}

/// Open a WebSocket at `url` of the relay with `token` in `Authorization`.
pub(crate) async fn connect_to(url: &str, token: &str) -> Option<Ws> {
    let target = RelayTarget {
        url: url.to_string(),
        token: token.to_string(),
    };
    let mut request = match target.url.as_str().into_client_request() {
        Ok(request) => request,
        Err(e) => {
            tracing::error!("relay URL {}: {e}", target.url);
            return None;
        }
    };
    if let Ok(value) = format!("Bearer {}", target.token).parse() {
        request.headers_mut().insert("authorization", value);
    }
    let connecting = tokio_tungstenite::connect_async(request);
    match tokio::time::timeout(Duration::from_secs(10), connecting).await {
        Ok(Ok((ws, _))) => Some(ws),
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) => {
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            tracing::error!(
                "the relay at {} refused the connection ({}): {body}",
                target.url,
                response.status()
            );
            None
        }
        Ok(Err(e)) => {
            tracing::debug!("relay at {}: {e}", target.url);
            None
        }
        Err(_) => None,
    }
}

/// The `publish` frame of one outbox row.
fn publish_frame(event: &Outgoing) -> Message {
    let frame = ClientFrame::Publish {
        channel: event.channel.clone(),
        id: event.id.clone(),
        event: serde_json::from_str(&event.event).unwrap_or_default(),
    };
    Message::Text(text(&frame).into())
}

fn text(frame: &ClientFrame) -> String {
    serde_json::to_string(frame).unwrap_or_else(|e| unreachable!("frames serialise: {e}"))
}

/// One connection, until it ends.
async fn session(
    ws: Ws,
    journal: &Arc<Journal>,
    wake: &Notify,
    status: &watch::Sender<RelayStatus>,
    shutdown: &mut watch::Receiver<bool>,
) -> Ended {
    let (mut sink, mut stream) = ws.split();
    let mut flight = InFlight::default();
    let mut cursor = 0i64;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING, PING);
    let mut missed = 0;
    status.send_replace(RelayStatus {
        state: "connected",
        queued: journal.outbox_len().unwrap_or_default(),
    });
    loop {
        if let Some(refused) = flight.refused
            && flight.sent.is_empty()
        {
            if let Some((code, message)) = flight.token_refused.take() {
                tracing::error!(
                    "the relay refuses Shotline's token ({code}: {message}); events wait in the journal"
                );
                let _ = sink.send(Message::Close(None)).await;
                return Ended::TokenRefused;
            }
            // Every answer is in: pause, then go on from the first refused event, so the
            // relay sees the channel's events in order.
            tokio::select! {
                _ = tokio::time::sleep(flight.pause) => {}
                _ = shutdown.changed() => {
                    let _ = sink.send(Message::Close(None)).await;
                    return Ended::Stopping;
                }
            }
            cursor = refused - 1;
            flight.refused = None;
            flight.pause = Duration::ZERO;
        }
        if flight.refused.is_none() && flight.sent.len() < WINDOW {
            let pending = journal
                .events_after(cursor, WINDOW - flight.sent.len())
                .unwrap_or_default();
            for event in pending {
                if sink.feed(publish_frame(&event)).await.is_err() {
                    return Ended::Lost;
                }
                cursor = event.seq;
                flight.sent.push_back((event.id, event.seq));
            }
            if sink.flush().await.is_err() {
                return Ended::Lost;
            }
        }
        tokio::select! {
            _ = wake.notified(), if flight.refused.is_none() => {}
            message = stream.next() => {
                missed = 0;
                // Take every frame already here, so a burst of acks costs one transaction.
                let mut acked = Vec::new();
                let mut next = Some(message);
                while let Some(message) = next.take() {
                    match message {
                        Some(Ok(Message::Text(text))) => match serde_json::from_str::<RelayFrame>(&text) {
                            Ok(frame) => flight.answer(&frame, &mut acked),
                            Err(e) => tracing::warn!("a frame from the relay not understood ({e}): {text}"),
                        },
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ended::Lost,
                        Some(Ok(_)) => {}
                    }
                    next = stream.next().now_or_never();
                }
                if !acked.is_empty() {
                    let _ = journal.events_delivered(&acked);
                    status.send_replace(RelayStatus { state: "connected", queued: journal.outbox_len().unwrap_or_default() });
                }
            }
            _ = ping.tick() => {
                missed += 1;
                if missed > 3 || sink.send(Message::Text(text(&ClientFrame::Ping).into())).await.is_err() {
                    return Ended::Lost;
                }
            }
            _ = shutdown.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                return Ended::Stopping;
            }
        }
    }
}
