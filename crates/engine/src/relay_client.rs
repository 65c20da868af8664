//! The relay client: every engine event is written to the journal's outbox (in batches,
//! so a burst costs one fsync), and delivered to the relay at least once, in order, each
//! with a unique id the relay uses to drop duplicates. An event leaves the outbox only
//! when the relay acknowledged it. Disconnects reconnect with exponential backoff and
//! full jitter (0.5 s up to 30 s); a silent connection is dropped after missed pings.

use std::collections::BTreeMap;
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
    let mut in_flight: BTreeMap<String, i64> = BTreeMap::new();
    let mut cursor = 0i64;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING, PING);
    let mut missed = 0;
    status.send_replace(RelayStatus {
        state: "connected",
        queued: journal.outbox_len().unwrap_or_default(),
    });
    loop {
        if in_flight.len() < WINDOW {
            let pending = journal
                .events_after(cursor, WINDOW - in_flight.len())
                .unwrap_or_default();
            for event in pending {
                let frame = json!({"type": "publish", "channel": event.channel, "id": event.id, "event": serde_json::from_str::<Value>(&event.event).unwrap_or_default()});
                if sink
                    .send(Message::Text(frame.to_string().into()))
                    .await
                    .is_err()
                {
                    return false;
                }
                cursor = event.seq;
                in_flight.insert(event.id, event.seq);
            }
        }
        tokio::select! {
            _ = wake.notified() => {}
            message = stream.next() => {
                missed = 0;
                // Take every frame already here, so a burst of acks costs one transaction.
                let mut acked = Vec::new();
                let mut next = Some(message);
                while let Some(message) = next.take() {
                    match message {
                        Some(Ok(Message::Text(text))) => {
                            if !on_frame(&text, &mut in_flight, &mut acked, &mut cursor).await {
                                continue;
                            }
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

/// Act on one relay frame: an ack moves its event to `acked`; an error means some
/// publish was refused without saying which, so everything unacknowledged is sent again
/// shortly (the relay drops duplicates). Returns false when the loop should stop draining.
async fn on_frame(
    text: &str,
    in_flight: &mut BTreeMap<String, i64>,
    acked: &mut Vec<i64>,
    cursor: &mut i64,
) -> bool {
    let frame: Value = serde_json::from_str(text).unwrap_or_default();
    match frame["type"].as_str() {
        Some("ack") => {
            if let Some(seq) = in_flight.remove(frame["id"].as_str().unwrap_or_default()) {
                acked.push(seq);
            }
            true
        }
        Some("error") => {
            tracing::warn!("relay refused a frame: {}", frame["message"]);
            tokio::time::sleep(Duration::from_millis(500)).await;
            *cursor = in_flight.values().min().map_or(*cursor, |s| s - 1);
            in_flight.clear();
            false
        }
        _ => true,
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
}
