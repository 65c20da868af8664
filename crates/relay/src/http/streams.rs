//! Reading without a WebSocket: polling (`GET /v1/channels/{channel}/events?since=N`,
//! long-polling with `wait=S`) and Server-Sent Events (`GET /v1/channels/{channel}/sse`,
//! resumed by `Last-Event-ID`). Both are listed by the admin API while they last and end
//! when an admin disconnects them.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Remote, authorize, unavailable};
use crate::access::{Registered, Transport};
use crate::hub::Subscriber;
use crate::queue::{Frame, Kick, Queue};

/// Query of a poll.
#[derive(Debug, Deserialize)]
pub struct PollQuery {
    token: Option<String>,
    since: Option<u64>,
    /// Seconds to wait for an event when there is none (at most 30).
    wait: Option<u64>,
    /// SSE: the epoch `since` belongs to; another epoch is not resumed.
    epoch: Option<String>,
}

/// `GET /v1/channels/{channel}/events?since=N&wait=S`.
pub async fn poll(
    State(state): State<Arc<crate::State>>,
    Path(channel): Path<String>,
    Query(q): Query<PollQuery>,
    Remote(remote): Remote,
    headers: HeaderMap,
) -> Response {
    let claims = match authorize(&state, &headers, q.token.as_deref(), &channel) {
        Ok(claims) => claims,
        Err(response) => return response,
    };
    let _admitted = match state.access.limits.gate.admit(&claims, &remote) {
        Ok(admitted) => admitted,
        Err((code, message)) => return super::error_response(code, message),
    };
    let kicked = Arc::new(Kick::default());
    let conn = state.next_conn();
    let registered = state
        .access
        .register(conn, &claims, Transport::Poll, remote, kicked.clone());
    registered.subscribed(&channel);
    let since = q.since.unwrap_or(0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(q.wait.unwrap_or(0).min(30));
    let changed = Notifier {
        hub: &state.hub,
        channel: &channel,
        notify: Some(state.hub.notifier(&channel)),
    };
    loop {
        // Registered before looking, so a publish in between is not missed.
        let notified = changed.get().notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let found = match state.hub.since(&channel, since, claims.subject()).await {
            Ok(found) => found,
            Err(e) => return unavailable(&e),
        };
        if !found.frames.is_empty() || tokio::time::Instant::now() >= deadline {
            let events: Vec<Value> = found
                .frames
                .iter()
                .filter_map(|frame| serde_json::from_str(frame).ok())
                .collect();
            return Json(json!({"epoch": found.epoch, "offset": found.latest, "events": events}))
                .into_response();
        }
        let _waiting = Waiting::new(&state.polls_waiting);
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep_until(deadline) => {}
            reason = kicked.wait() => return super::error_response(
                shotline_protocol::relay::ErrorCode::Forbidden,
                if reason == crate::queue::KickReason::Expired {
                    "expired: the token or the gallery link is past its time"
                } else {
                    "disconnected by the studio"
                },
            ),
            _ = state.stopping() => {}
        }
    }
}

/// A long poll's hold on its channel's notifier, given back when the poll ends.
struct Notifier<'a> {
    hub: &'a crate::hub::Hub,
    channel: &'a str,
    notify: Option<Arc<tokio::sync::Notify>>,
}

impl Notifier<'_> {
    fn get(&self) -> &tokio::sync::Notify {
        self.notify
            .as_deref()
            .unwrap_or_else(|| unreachable!("held until dropped"))
    }
}

impl Drop for Notifier<'_> {
    fn drop(&mut self) {
        if let Some(notify) = self.notify.take() {
            self.hub.release(self.channel, notify);
        }
    }
}

/// Counts a long poll while it waits.
struct Waiting<'a>(&'a std::sync::atomic::AtomicU64);

impl<'a> Waiting<'a> {
    fn new(gauge: &'a std::sync::atomic::AtomicU64) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        Self(gauge)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `GET /v1/channels/{channel}/sse`: `subscribed` then events, each with its offset as the
/// SSE id; `Last-Event-ID` (or `?since=`) resumes.
pub async fn sse(
    State(state): State<Arc<crate::State>>,
    Path(channel): Path<String>,
    Query(q): Query<PollQuery>,
    Remote(remote): Remote,
    headers: HeaderMap,
) -> Response {
    let claims = match authorize(&state, &headers, q.token.as_deref(), &channel) {
        Ok(claims) => claims,
        Err(response) => return response,
    };
    let since = headers
        .get("last-event-id")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse().ok())
        .or(q.since);
    let admitted = match state.access.limits.gate.admit(&claims, &remote) {
        Ok(admitted) => admitted,
        Err((code, message)) => return super::error_response(code, message),
    };
    let conn = state.next_conn();
    let (queue, rx, kicked) = Queue::new(state.config.queue.max(state.config.history + 16));
    let registered = state
        .access
        .register(conn, &claims, Transport::Sse, remote, kicked.clone());
    let subscriber = Subscriber {
        conn,
        queue,
        subject: claims.subject().into(),
    };
    if let Err(e) = state
        .hub
        .subscribe(&channel, &subscriber, since, q.epoch.as_deref())
        .await
    {
        return unavailable(&e);
    }
    registered.subscribed(&channel);
    let stream = SseStream {
        rx,
        kicked,
        state: state.clone(),
        channel,
        conn,
        _registered: registered,
        _admitted: admitted,
    };
    Sse::new(stream.into_stream())
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// An SSE subscription; unsubscribes when the client goes away.
struct SseStream {
    rx: tokio::sync::mpsc::Receiver<Frame>,
    kicked: Arc<crate::queue::Kick>,
    state: Arc<crate::State>,
    channel: String,
    conn: u64,
    _registered: Registered,
    _admitted: crate::access::gate::Admitted,
}

impl Drop for SseStream {
    fn drop(&mut self) {
        self.state.hub.unsubscribe(&self.channel, self.conn);
    }
}

impl SseStream {
    fn into_stream(mut self) -> impl Stream<Item = Result<SseEvent, Infallible>> {
        async_stream(move |tx| async move {
            let state = self.state.clone();
            loop {
                let frame = tokio::select! {
                    frame = self.rx.recv() => frame,
                    _ = self.kicked.wait() => None,
                    _ = state.stopping() => None,
                };
                let Some(frame) = frame else { break };
                let value: Value = serde_json::from_str(&frame).unwrap_or_default();
                let mut event = SseEvent::default()
                    .event(value["type"].as_str().unwrap_or("event"))
                    .data(frame.as_str());
                if let Some(offset) = value["offset"]
                    .as_u64()
                    .filter(|_| value["type"] == "event")
                {
                    event = event.id(offset.to_string());
                }
                if tx.send(Ok(event)).await.is_err() {
                    break;
                }
            }
        })
    }
}

/// A stream fed by a task through a small channel.
fn async_stream<F, Fut>(body: F) -> impl Stream<Item = Result<SseEvent, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<SseEvent, Infallible>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(body(tx));
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}
