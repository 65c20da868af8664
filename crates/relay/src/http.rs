//! The HTTP side of the relay: health, stats, Prometheus metrics, publishing with a
//! publisher token, polling with `since` (and long-polling with `wait`), and Server-Sent
//! Events resumed by `Last-Event-ID`. Tokens come as `Authorization: Bearer` or `?token=`.

use crate::queue::Frame;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use shotline_protocol::relay::{ErrorCode, valid_channel};

use crate::auth::{Claims, Role, now_secs, verify};
use crate::hub::Subscriber;
use crate::queue::Queue;

/// `?token=`, for clients that cannot set headers.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    /// The token.
    pub token: Option<String>,
}

/// An error as HTTP: the status that fits the code, and `{"type":"error","code","message"}`.
pub fn error_response(code: ErrorCode, message: impl Into<String>) -> Response {
    let status = match code {
        ErrorCode::Unauthorized | ErrorCode::TokenExpired => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::FrameTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Overloaded | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    (
        status,
        Json(json!({"type": "error", "code": code, "message": message.into()})),
    )
        .into_response()
}

/// The token's claims, from `Authorization: Bearer` or `?token=`; an error response if
/// missing, malformed or expired.
#[allow(clippy::result_large_err)]
pub fn authenticate(
    state: &crate::State,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Claims, Response> {
    let header = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    let Some(token) = header.or(query) else {
        return Err(error_response(
            ErrorCode::Unauthorized,
            "no token: send Authorization: Bearer <token> or ?token=<token>",
        ));
    };
    verify(token.trim(), &state.config.secret, now_secs())
        .map_err(|e| error_response(e.code(), e.to_string()))
}

#[allow(clippy::result_large_err)]
fn authorize(
    state: &crate::State,
    headers: &HeaderMap,
    query: Option<&str>,
    channel: &str,
    publish: bool,
) -> Result<Claims, Response> {
    let claims = authenticate(state, headers, query)?;
    if !valid_channel(channel) {
        return Err(error_response(
            ErrorCode::InvalidChannel,
            "channel names are 1 to 128 of A-Z a-z 0-9 _ . : -",
        ));
    }
    if publish && claims.role != Role::Publisher {
        return Err(error_response(
            ErrorCode::Forbidden,
            "a subscriber token cannot publish",
        ));
    }
    if !claims.allows(channel) {
        return Err(error_response(
            ErrorCode::Forbidden,
            format!("the token does not cover channel {channel}"),
        ));
    }
    Ok(claims)
}

/// An event must be `{"type": string, "payload": ..}` with a non-empty id.
pub fn check_event(id: &str, event: &Value) -> Result<(), String> {
    if id.is_empty() || id.len() > 256 {
        return Err("id must be 1 to 256 characters".into());
    }
    match (
        event.get("type").and_then(Value::as_str),
        event.get("payload"),
    ) {
        (Some(kind), Some(_)) if !kind.is_empty() => Ok(()),
        _ => Err("event must be {\"type\": <string>, \"payload\": {..}}".into()),
    }
}

/// `GET /health`: 200 `{"status":"ok"}`, or 503 when the shared backend (Redis) does not
/// answer within two seconds.
pub async fn health(State(state): State<Arc<crate::State>>) -> Response {
    let checked = tokio::time::timeout(Duration::from_secs(2), state.hub.health()).await;
    let problem = match checked {
        Ok(Ok(())) => return Json(json!({"status": "ok"})).into_response(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "redis did not answer within 2 s".to_string(),
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "error": problem})),
    )
        .into_response()
}

/// The error response for a backend that is down.
fn unavailable(e: &crate::backend::Unavailable) -> Response {
    error_response(ErrorCode::Unavailable, format!("{e}; retry with backoff"))
}

fn counters(state: &crate::State) -> [(&'static str, u64); 8] {
    let c = &state.hub.counters;
    [
        ("connections", state.connections.load(Ordering::Relaxed)),
        ("polls_waiting", state.polls_waiting.load(Ordering::Relaxed)),
        ("subscriptions", c.subscriptions.load(Ordering::Relaxed)),
        ("channels", state.hub.channels() as u64),
        ("published", c.published.load(Ordering::Relaxed)),
        ("delivered", c.delivered.load(Ordering::Relaxed)),
        ("dropped", c.dropped.load(Ordering::Relaxed)),
        ("uptime", state.uptime()),
    ]
}

/// `GET /stats`.
pub async fn stats(State(state): State<Arc<crate::State>>) -> Json<Value> {
    Json(Value::Object(
        counters(&state)
            .into_iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
    ))
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(state): State<Arc<crate::State>>) -> impl IntoResponse {
    let mut text = String::new();
    for (name, value) in counters(&state) {
        let kind = if matches!(name, "published" | "delivered" | "dropped") {
            "counter"
        } else {
            "gauge"
        };
        let suffix = if kind == "counter" {
            "_total"
        } else if name == "uptime" {
            "_seconds"
        } else {
            ""
        };
        text.push_str(&format!(
            "# TYPE shotline_relay_{name}{suffix} {kind}\nshotline_relay_{name}{suffix} {value}\n"
        ));
    }
    ([("content-type", "text/plain; version=0.0.4")], text)
}

/// Body of an HTTP publish.
#[derive(Debug, Deserialize)]
struct PublishBody {
    id: String,
    event: Value,
}

/// `POST /v1/channels/{channel}/events` → `{"offset": N}`.
pub async fn publish(
    State(state): State<Arc<crate::State>>,
    Path(channel): Path<String>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = authorize(&state, &headers, q.token.as_deref(), &channel, true) {
        return response;
    }
    if body.len() > state.config.max_frame {
        return error_response(
            ErrorCode::FrameTooLarge,
            format!(
                "body of {} bytes; the limit is {}",
                body.len(),
                state.config.max_frame
            ),
        );
    }
    let body: PublishBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => {
            return error_response(
                ErrorCode::BadJson,
                format!("expected {{\"id\": .., \"event\": {{..}}}}: {e}"),
            );
        }
    };
    if let Err(why) = check_event(&body.id, &body.event) {
        return error_response(ErrorCode::InvalidEvent, why);
    }
    let published = match state.hub.publish(&channel, &body.id, body.event).await {
        Ok(published) => published,
        Err(e) => return unavailable(&e),
    };
    Json(json!({"offset": published.offset, "duplicate": published.duplicate})).into_response()
}

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
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorize(&state, &headers, q.token.as_deref(), &channel, false) {
        return response;
    }
    let since = q.since.unwrap_or(0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(q.wait.unwrap_or(0).min(30));
    let changed = state.hub.notifier(&channel);
    loop {
        // Registered before looking, so a publish in between is not missed.
        let notified = changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let found = match state.hub.since(&channel, since, "anonymous").await {
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
            _ = state.stopping() => {}
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
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorize(&state, &headers, q.token.as_deref(), &channel, false) {
        return response;
    }
    let since = headers
        .get("last-event-id")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse().ok())
        .or(q.since);
    let conn = state.next_conn();
    let (queue, rx, kicked) = Queue::new(state.config.queue.max(state.config.history + 16));
    let subscriber = Subscriber {
        conn,
        queue,
        subject: "anonymous".into(),
    };
    if let Err(e) = state
        .hub
        .subscribe(&channel, &subscriber, since, q.epoch.as_deref())
        .await
    {
        return unavailable(&e);
    }
    let stream = SseStream {
        rx,
        kicked,
        state: state.clone(),
        channel,
        conn,
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
