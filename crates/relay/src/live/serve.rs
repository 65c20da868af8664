//! The live loops: the engine's pictures in, each viewer's out (MJPEG or WebSocket). A
//! viewer's loop takes the next picture only once the last one is written, so a slow
//! viewer skips pictures instead of queueing them (beyond what its connection's buffers
//! hold). A WebSocket send that takes longer than [`SEND_TIMEOUT`] ends the viewer. A
//! new viewer is shown the picture there only if it is fresh ([`FRESH`]).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::MAX_PICTURE;
use super::streams::{Picture, Stream, Viewer};
use crate::access::gate::Admitted;
use crate::access::registry::Registered;
use crate::queue::Kick;

/// What a viewer holds while it watches: its place at the gate and in the registry, and
/// the kick an admin's disconnect or a revoked token triggers.
pub(super) struct Held {
    pub(super) _admitted: Admitted,
    pub(super) _registered: Registered,
    pub(super) kicked: Arc<Kick>,
}

/// The MJPEG parts' boundary.
const BOUNDARY: &str = "shotline-live";
/// Pings to a WebSocket viewer or publisher this often.
const PING: Duration = Duration::from_secs(20);
/// A WebSocket viewer whose send takes longer is ended (it stopped reading).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// A picture older than this is not shown to a viewer who just came.
pub const FRESH: Duration = Duration::from_secs(2);

/// Follow `stream`'s pictures from now: the one there counts as new only while fresh.
fn follow(stream: &Stream) -> tokio::sync::watch::Receiver<Option<Picture>> {
    let mut pictures = stream.pictures();
    let fresh = pictures
        .borrow()
        .as_ref()
        .is_some_and(|p| super::streams::now_ms() - p.taken_ms < FRESH.as_millis() as i64);
    if fresh {
        pictures.mark_changed();
    }
    pictures
}

/// The engine's connection: pictures in, viewer counts out, until it closes, its token
/// expires (`exp`, seconds) or the relay stops.
pub(super) async fn publisher(
    state: Arc<crate::State>,
    stream: Arc<Stream>,
    upgraded: hyper::upgrade::Upgraded,
    exp: u64,
) {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_PICTURE))
        .max_frame_size(Some(MAX_PICTURE));
    let mut socket =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
    let mut viewers = stream.viewers();
    viewers.mark_changed();
    let mut taken_ms: Option<i64> = None;
    let until = Instant::now() + Duration::from_secs(exp.saturating_sub(crate::auth::now_secs()));
    let mut ping = tokio::time::interval(PING);
    // Pictures go to the other nodes from a task of their own, the latest one each time:
    // a slow Redis delays nobody here.
    let forwarder = state.live.cluster.as_ref().map(|_| {
        let state = state.clone();
        let stream = stream.clone();
        tokio::spawn(async move {
            let mut pictures = stream.pictures();
            while pictures.changed().await.is_ok() {
                let picture = pictures.borrow_and_update().clone();
                if let (Some(picture), Some(cluster)) = (picture, &state.live.cluster)
                    && stream.remote() > 0
                {
                    cluster.picture(&stream.channel, &picture).await;
                }
            }
        })
    });
    loop {
        tokio::select! {
            message = socket.next() => match message {
                Some(Ok(Message::Binary(jpeg))) => {
                    stream.put(jpeg, taken_ms.take());
                }
                Some(Ok(Message::Text(text))) => {
                    taken_ms = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v["taken_ms"].as_i64());
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            changed = viewers.changed() => {
                if changed.is_err() {
                    break;
                }
                let n = *viewers.borrow_and_update();
                let text = serde_json::json!({ "viewers": n }).to_string();
                let sent = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::text(text)));
                if !matches!(sent.await, Ok(Ok(()))) {
                    break;
                }
            }
            _ = ping.tick() => {
                stream.recount();
                let sent = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Ping(Bytes::new())));
                if !matches!(sent.await, Ok(Ok(()))) {
                    break;
                }
            }
            _ = tokio::time::sleep_until(until) => break,
            _ = state.stopping() => break,
        }
    }
    if let Some(forwarder) = forwarder {
        forwarder.abort();
    }
    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.close(None)).await;
}

/// The next picture for a viewer: at once if one is there and unseen, else when it comes.
/// `None` when the stream is gone.
async fn next(pictures: &mut tokio::sync::watch::Receiver<Option<Picture>>) -> Option<Picture> {
    loop {
        pictures.changed().await.ok()?;
        if let Some(picture) = pictures.borrow_and_update().clone() {
            return Some(picture);
        }
    }
}

/// One viewer over a WebSocket: one binary message per picture.
pub(super) async fn websocket(
    state: Arc<crate::State>,
    viewer: Viewer,
    held: Held,
    upgraded: hyper::upgrade::Upgraded,
    until: Instant,
    share: Option<String>,
) {
    let config = WebSocketConfig::default()
        .max_message_size(Some(64 << 10))
        .max_frame_size(Some(64 << 10));
    let mut socket =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
    let mut pictures = follow(viewer.stream());
    let mut ping = tokio::time::interval(PING);
    let mut recheck = tokio::time::interval(super::RECHECK);
    loop {
        tokio::select! {
            _ = recheck.tick(), if share.is_some() => {
                if !super::still_shared(&state, share.as_deref().unwrap_or_default()).await {
                    break;
                }
            }
            picture = next(&mut pictures) => {
                let Some(picture) = picture else { break };
                let sent = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Binary(picture.jpeg)));
                if !matches!(sent.await, Ok(Ok(()))) {
                    break;
                }
            }
            message = socket.next() => match message {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                let sent = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Ping(Bytes::new())));
                if !matches!(sent.await, Ok(Ok(()))) {
                    break;
                }
            }
            _ = held.kicked.wait() => break,
            _ = tokio::time::sleep_until(until) => break,
            _ = state.stopping() => break,
        }
    }
    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.close(None)).await;
    drop(viewer);
    drop(held);
}

/// One MJPEG part.
fn part(picture: &Picture) -> Bytes {
    let head = format!(
        "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nX-Seq: {}\r\nX-Taken-Ms: {}\r\n\r\n",
        picture.jpeg.len(),
        picture.seq,
        picture.taken_ms
    );
    let mut out = BytesMut::with_capacity(head.len() + picture.jpeg.len() + 2);
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(&picture.jpeg);
    out.extend_from_slice(b"\r\n");
    out.freeze()
}

/// One viewer as `multipart/x-mixed-replace`: the body yields a part only when the last
/// one was taken by the connection.
pub(super) fn mjpeg(
    state: Arc<crate::State>,
    viewer: Viewer,
    held: Held,
    until: Instant,
    share: Option<String>,
) -> Response {
    let pictures = follow(viewer.stream());
    let recheck = tokio::time::interval(super::RECHECK);
    let held = (state, viewer, held, pictures, recheck);
    let body = futures_util::stream::unfold(held, move |mut held| {
        let share = share.clone();
        async move {
            let picture = loop {
                tokio::select! {
                    _ = held.4.tick(), if share.is_some() => {
                        if !super::still_shared(&held.0, share.as_deref().unwrap_or_default()).await {
                            break None;
                        }
                    }
                    picture = next(&mut held.3) => break picture,
                    _ = held.2.kicked.wait() => break None,
                    _ = tokio::time::sleep_until(until) => break None,
                    _ = held.0.stopping() => break None,
                }
            }?;
            Some((Ok::<_, std::convert::Infallible>(part(&picture)), held))
        }
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("multipart/x-mixed-replace; boundary=shotline-live"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
            (
                header::HeaderName::from_static("x-accel-buffering"),
                HeaderValue::from_static("no"),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_carries_its_picture_and_when_it_was_taken() {
        let picture = Picture {
            seq: 7,
            taken_ms: 42,
            jpeg: Bytes::from_static(b"\xff\xd8jpeg\xff\xd9"),
        };
        let part = part(&picture);
        let text = String::from_utf8_lossy(&part);
        assert!(text.starts_with("--shotline-live\r\nContent-Type: image/jpeg\r\nContent-Length: 8\r\nX-Seq: 7\r\nX-Taken-Ms: 42\r\n\r\n"));
        assert!(part.ends_with(b"\xff\xd8jpeg\xff\xd9\r\n"));
    }
}
