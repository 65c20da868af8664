//! The live loops: the engine's pictures in, each viewer's out (MJPEG or WebSocket). A
//! viewer's loop waits for the next picture only once the last one is written, so a slow
//! viewer skips pictures instead of queueing them.

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

/// The MJPEG parts' boundary.
const BOUNDARY: &str = "shotline-live";
/// Pings to a WebSocket viewer or publisher this often.
const PING: Duration = Duration::from_secs(20);

/// The engine's connection: pictures in, viewer counts out, until it closes, its token
/// expires (`exp`, seconds) or the relay stops.
pub(super) async fn publisher(
    state: Arc<crate::State>,
    stream: Arc<Stream>,
    upgraded: hyper::upgrade::Upgraded,
    exp: u64,
) {
    let config = WebSocketConfig::default().max_message_size(Some(MAX_PICTURE));
    let mut socket =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
    let mut viewers = stream.viewers();
    viewers.mark_changed();
    let mut taken_ms: Option<i64> = None;
    let until = Instant::now() + Duration::from_secs(exp.saturating_sub(crate::auth::now_secs()));
    let mut ping = tokio::time::interval(PING);
    loop {
        tokio::select! {
            message = socket.next() => match message {
                Some(Ok(Message::Binary(jpeg))) => {
                    let picture = stream.put(jpeg, taken_ms.take());
                    if stream.remote() > 0
                        && let Some(cluster) = &state.live.cluster
                    {
                        cluster.picture(&stream.channel, &picture).await;
                    }
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
                if socket.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
            _ = ping.tick() => {
                stream.recount();
                if socket.send(Message::Ping(Bytes::new())).await.is_err() {
                    break;
                }
            }
            _ = tokio::time::sleep_until(until) => break,
            _ = state.stopping() => break,
        }
    }
    let _ = socket.close(None).await;
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
    upgraded: hyper::upgrade::Upgraded,
    until: Instant,
    share: Option<String>,
) {
    let config = WebSocketConfig::default().max_message_size(Some(64 << 10));
    let mut socket =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
    let mut pictures = viewer.stream().pictures();
    pictures.mark_changed();
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
                if socket.send(Message::Binary(picture.jpeg)).await.is_err() {
                    break;
                }
            }
            message = socket.next() => match message {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Bytes::new())).await.is_err() {
                    break;
                }
            }
            _ = tokio::time::sleep_until(until) => break,
            _ = state.stopping() => break,
        }
    }
    let _ = socket.close(None).await;
    drop(viewer);
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
    admitted: Admitted,
    until: Instant,
    share: Option<String>,
) -> Response {
    let mut pictures = viewer.stream().pictures();
    pictures.mark_changed();
    let recheck = tokio::time::interval(super::RECHECK);
    let held = (state, viewer, admitted, pictures, recheck);
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
