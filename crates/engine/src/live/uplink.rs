//! Live view's pictures to the relay (`GET /v1/live/<studio>:live/publish`, a WebSocket
//! beside the event stream): the relay says how many watch (`{"viewers": N}`), and the
//! latest picture goes out whenever one is new and someone watches. A picture still being
//! sent when the next comes is not queued behind: the next send takes the latest. The
//! connection comes back with backoff after any loss, after [`SILENCE`] without a word
//! from the relay (it pings every 20 s), or a send that takes [`SEND_TIMEOUT`];
//! meanwhile the relay's viewers count as none.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use shotline_protocol::retry::backoff;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::LiveFeed;
use crate::relay_client::{RelayTarget, Ws, connect_to};

/// First and longest pause between connection attempts.
const RECONNECT: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(30));
/// A relay silent this long is taken for gone (half-open connection).
pub const SILENCE: Duration = Duration::from_secs(60);
/// A send that takes longer drops the connection.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The publish address for `channel` on the relay whose event WebSocket is `events_url`.
pub fn publish_url(events_url: &str, channel: &str) -> String {
    let base = events_url
        .strip_suffix("/v1/ws")
        .unwrap_or_else(|| events_url.trim_end_matches('/'));
    format!("{base}/v1/live/{channel}/publish")
}

/// Keep the uplink up until `shutdown`.
pub async fn run(
    feed: LiveFeed,
    target: RelayTarget,
    channel: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let url = publish_url(&target.url, &channel);
    let mut attempt = 0u32;
    loop {
        if *shutdown.borrow() {
            return;
        }
        if let Some(ws) = connect_to(&url, &target.token).await {
            attempt = 0;
            session(&feed, ws, &mut shutdown).await;
            feed.set_remote(0);
        }
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(backoff(attempt, RECONNECT.0, RECONNECT.1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// One connection: viewer counts in, pictures out.
async fn session(feed: &LiveFeed, ws: Ws, shutdown: &mut watch::Receiver<bool>) {
    let (mut out, mut incoming) = ws.split();
    let mut pictures = feed.subscribe();
    let mut viewers = 0usize;
    let mut heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(heard + SILENCE) => {
                tracing::info!("live view: the relay went silent; connecting again");
                return;
            }
            message = incoming.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    heard = tokio::time::Instant::now();
                    if let Some(n) = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v["viewers"].as_u64())
                    {
                        viewers = usize::try_from(n).unwrap_or(usize::MAX);
                        feed.set_remote(viewers);
                        // A viewer who joins gets the next picture, not one taken before.
                        pictures.borrow_and_update();
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => heard = tokio::time::Instant::now(),
            },
            changed = pictures.changed(), if viewers > 0 => {
                if changed.is_err() {
                    return;
                }
                let Some(picture) = pictures.borrow_and_update().clone() else {
                    continue;
                };
                let stamp = serde_json::json!({ "taken_ms": picture.taken_ms }).to_string();
                let send = async {
                    out.send(Message::text(stamp)).await?;
                    out.send(Message::Binary(picture.jpeg)).await
                };
                tokio::select! {
                    sent = tokio::time::timeout(SEND_TIMEOUT, send) => {
                        if !matches!(sent, Ok(Ok(()))) {
                            return;
                        }
                    }
                    _ = shutdown.changed() => return,
                }
            }
            _ = shutdown.changed() => {
                let _ = tokio::time::timeout(Duration::from_secs(1), out.close()).await;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_publish_address_is_beside_the_event_socket() {
        assert_eq!(
            publish_url("ws://127.0.0.1:7878/v1/ws", "studio:live"),
            "ws://127.0.0.1:7878/v1/live/studio:live/publish"
        );
        assert_eq!(
            publish_url("wss://relay.example/", "s:live"),
            "wss://relay.example/v1/live/s:live/publish"
        );
    }
}
