//! The relay client: every engine event is written to the journal's outbox (in batches,
//! so a burst costs one fsync), and delivered to the relay at least once, in order, each
//! with a unique id the relay uses to drop duplicates. An event leaves the outbox only
//! when the relay acknowledged it. Disconnects reconnect with exponential backoff and
//! full jitter (0.5 s up to 30 s); a silent connection is dropped after missed pings.
//! A publish the relay refuses for now (rate limit, backend down) stops the stream: once
//! every answer is in, the client pauses and sends again from the first refused event,
//! so order per channel holds. An event the relay can never take is logged and dropped.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::journal::Journal;

/// Publishes sent and not yet acknowledged, at most.
const WINDOW: usize = 256;
/// Events gathered into one outbox transaction, at most.
const BATCH: usize = 512;
/// Ping interval; three missed ones drop the connection.
const PING: Duration = Duration::from_secs(10);

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
    /// `connected`, `reconnecting` or `offline` (no relay configured or no token).
    pub state: &'static str,
    /// Events waiting in the outbox.
    pub queued: u64,
}

/// Write every event from `rx` (a bus subscription taken before the services start) into
/// the outbox as `<studio>:<suffix>` until shutdown, then what is still queued.
pub async fn write_outbox(
    journal: Arc<Journal>,
    mut rx: broadcast::Receiver<shotline_protocol::Event>,
    studio: String,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            event = rx.recv() => event,
            _ = shutdown.changed() => {
                let mut rest = Vec::new();
                while let Ok(event) = rx.try_recv() {
                    add(&mut rest, &studio, Ok(event));
                }
                if !rest.is_empty() {
                    let journal = journal.clone();
                    let _ = tokio::task::spawn_blocking(move || journal.push_events(&rest)).await;
                }
                break;
            }
        };
        let mut batch = Vec::new();
        if !add(&mut batch, &studio, first) {
            break;
        }
        while batch.len() < BATCH {
            let next = match rx.try_recv() {
                Ok(event) => Ok(event),
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    Err(broadcast::error::RecvError::Lagged(n))
                }
                Err(_) => break,
            };
            add(&mut batch, &studio, next);
        }
        let journal = journal.clone();
        match tokio::task::spawn_blocking(move || journal.push_events(&batch)).await {
            Ok(Ok(())) => wake.notify_one(),
            Ok(Err(e)) => tracing::error!("writing the relay outbox: {e}"),
            Err(e) => tracing::error!("outbox task: {e}"),
        }
    }
}

/// Add one bus event to a batch; false when the bus is gone.
fn add(
    batch: &mut Vec<(String, String)>,
    studio: &str,
    event: Result<shotline_protocol::Event, broadcast::error::RecvError>,
) -> bool {
    match event {
        Ok(event) => {
            let channel = format!("{studio}:{}", event.channel_suffix());
            batch.push((channel, serde_json::to_string(&event).unwrap_or_default()));
            true
        }
        Err(broadcast::error::RecvError::Lagged(n)) => {
            tracing::warn!("relay outbox missed {n} events: the bus overflowed");
            true
        }
        Err(broadcast::error::RecvError::Closed) => false,
    }
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
        status.send_replace(RelayStatus {
            state: "reconnecting",
            queued,
        });
        let request = target.url.as_str().into_client_request().map(|mut r| {
            if let Ok(value) = format!("Bearer {}", target.token).parse() {
                r.headers_mut().insert("authorization", value);
            }
            r
        });
        let connected = match request {
            Ok(request) => tokio::select! {
                c = tokio::time::timeout(Duration::from_secs(10), tokio_tungstenite::connect_async(request)) => c.ok().and_then(Result::ok),
                _ = shutdown.changed() => return,
            },
            Err(e) => {
                tracing::error!("relay URL {}: {e}", target.url);
                None
            }
        };
        if let Some((ws, _)) = connected {
            attempt = 0;
            tracing::info!("connected to the relay at {}", target.url);
            if session(ws, &journal, &wake, &status, &mut shutdown).await {
                return;
            }
            tracing::warn!("relay connection lost; reconnecting");
        }
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(full_jitter(attempt)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Exponential backoff from 0.5 s to 30 s, with full jitter: a whole studio's clients do
/// not come back at the same instant after a relay restart.
pub fn full_jitter(attempt: u32) -> Duration {
    let cap = (500u64 << attempt.min(6)).min(30_000);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or_default();
    Duration::from_millis(nanos % (cap + 1))
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Publishes in flight, in the order sent. The relay answers every publish, in order, with
/// an `ack` or an `error`, so the oldest entry is the one each answer is about.
#[derive(Debug, Default)]
struct InFlight {
    sent: VecDeque<(String, i64)>,
    /// The first publish refused, to be sent again (with everything after it) once every
    /// answer is in and the pause is over.
    refused: Option<i64>,
    /// How long to pause before sending again.
    pause: Duration,
}

/// What an `error` answer means for the publish it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Too fast, or the relay busy: send it again after a pause.
    Retry(Duration),
    /// The relay will never take it (a malformed event): log it and let it go, so one bad
    /// event cannot hold back every later one.
    Drop,
}

fn refusal(code: &str) -> Refusal {
    match code {
        "rate_limited" => Refusal::Retry(Duration::from_millis(1100)),
        "bad_json" | "bad_frame" | "invalid_event" | "frame_too_large" => Refusal::Drop,
        _ => Refusal::Retry(Duration::from_millis(500)),
    }
}

impl InFlight {
    /// Take one answer; the seq acknowledged (or given up on) goes to `acked`.
    fn answer(&mut self, frame: &Value, acked: &mut Vec<i64>) {
        match frame["type"].as_str() {
            Some("ack") => {
                let id = frame["id"].as_str().unwrap_or_default();
                if let Some(at) = self.sent.iter().position(|(sent, _)| sent == id) {
                    // Answers come in order; anything before it was answered already.
                    if let Some((_, seq)) = self.sent.remove(at) {
                        acked.push(seq);
                    }
                }
            }
            Some("error") => {
                let Some((id, seq)) = self.sent.pop_front() else {
                    return;
                };
                let code = frame["code"].as_str().unwrap_or_default();
                match refusal(code) {
                    Refusal::Drop => {
                        tracing::error!(
                            "the relay will never take event {id} ({code}: {}); it is dropped",
                            frame["message"]
                        );
                        acked.push(seq);
                    }
                    Refusal::Retry(pause) => {
                        if self.refused.is_none() {
                            tracing::warn!(
                                "relay refused event {id}: {}; pausing",
                                frame["message"]
                            );
                        }
                        self.refused = Some(self.refused.map_or(seq, |r| r.min(seq)));
                        self.pause = self.pause.max(pause);
                    }
                }
            }
            _ => {}
        }
    }
}

/// One connection: returns true when stopping for shutdown, false when the connection
/// failed and should be retried.
async fn session(
    ws: Ws,
    journal: &Arc<Journal>,
    wake: &Notify,
    status: &watch::Sender<RelayStatus>,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
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
            // Every answer is in: pause, then go on from the first refused event, so the
            // relay sees the channel's events in order.
            tokio::select! {
                _ = tokio::time::sleep(flight.pause) => {}
                _ = shutdown.changed() => {
                    let _ = sink.send(Message::Close(None)).await;
                    return true;
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
                let frame = json!({"type": "publish", "channel": event.channel, "id": event.id, "event": serde_json::from_str::<Value>(&event.event).unwrap_or_default()});
                if sink
                    .feed(Message::Text(frame.to_string().into()))
                    .await
                    .is_err()
                {
                    return false;
                }
                cursor = event.seq;
                flight.sent.push_back((event.id, event.seq));
            }
            if sink.flush().await.is_err() {
                return false;
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
                        Some(Ok(Message::Text(text))) => {
                            let frame: Value = serde_json::from_str(&text).unwrap_or_default();
                            flight.answer(&frame, &mut acked);
                        }
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return false,
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
                if missed > 3 || sink.send(Message::Text(r#"{"type":"ping"}"#.into())).await.is_err() {
                    return false;
                }
            }
            _ = shutdown.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                return true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_under_the_growing_cap() {
        for attempt in 1..20 {
            let cap = Duration::from_millis((500u64 << attempt.min(6)).min(30_000));
            assert!(full_jitter(attempt) <= cap);
        }
    }

    #[test]
    fn answers_in_order_find_the_first_refused_event() {
        let mut flight = InFlight::default();
        for seq in 1..=5 {
            flight.sent.push_back((format!("j-{seq}"), seq));
        }
        let mut acked = Vec::new();
        flight.answer(
            &json!({"type": "ack", "id": "j-1", "offset": 1}),
            &mut acked,
        );
        flight.answer(
            &json!({"type": "ack", "id": "j-2", "offset": 2}),
            &mut acked,
        );
        flight.answer(
            &json!({"type": "error", "code": "rate_limited", "message": "slow"}),
            &mut acked,
        );
        flight.answer(&json!({"type": "pong"}), &mut acked);
        flight.answer(
            &json!({"type": "error", "code": "rate_limited", "message": "slow"}),
            &mut acked,
        );
        flight.answer(
            &json!({"type": "error", "code": "invalid_event", "message": "bad"}),
            &mut acked,
        );
        assert_eq!(acked, [1, 2, 5], "a malformed event is let go");
        assert_eq!(flight.refused, Some(3), "resent from the first refused");
        assert!(flight.sent.is_empty());
        assert!(flight.pause >= Duration::from_secs(1));
    }
}
