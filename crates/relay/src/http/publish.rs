//! Publishing: `POST /v1/channels/{channel}/events`, and the rules every transport holds
//! a publish to: the size limit of the token's role (guests: 16 KiB), the event's shape,
//! the types the role may publish, the guest rate, and the stamp on a guest's event.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use shotline_protocol::relay::ErrorCode;

use super::{TokenQuery, authenticate, error_response, refuse};
use crate::auth::{Claims, Role};

/// An event must be `{"type": string, "payload": ..}` with a non-empty id.
pub fn check_event(id: &str, event: &Value) -> Result<(), InvalidEvent> {
    if id.is_empty() || id.len() > 256 {
        return Err(InvalidEvent("id must be 1 to 256 characters".into()));
    }
    match (
        event.get("type").and_then(Value::as_str),
        event.get("payload"),
    ) {
        (Some(kind), Some(_)) if !kind.is_empty() => Ok(()),
        _ => Err(InvalidEvent(
            "event must be {\"type\": <string>, \"payload\": {..}}".into(),
        )),
    }
}

/// Why an event cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidEvent(String);

/// A guest's event, stamped with who sent it: `payload.sub` and `payload.name` come from
/// the token, whatever the guest wrote there, so nobody can answer as another.
pub fn stamp(claims: &Claims, mut event: Value) -> Value {
    if claims.role != Role::Guest {
        return event;
    }
    if let Some(payload) = event.get_mut("payload").and_then(Value::as_object_mut) {
        payload.insert("sub".into(), json!(claims.subject()));
        payload.insert("name".into(), json!(claims.name));
    }
    event
}

/// Check a publish by `claims`: the size limit for its role, the event's shape, its type
/// for the role, the guest rate. The event to publish (stamped), or the refusal.
pub fn admit(
    state: &crate::State,
    claims: &Claims,
    channel: &str,
    id: &str,
    event: Value,
    size: usize,
) -> Result<Value, (ErrorCode, String)> {
    let limit = if claims.role == Role::Guest {
        state.config.guest_max_frame.min(state.config.max_frame)
    } else {
        state.config.max_frame
    };
    if size > limit {
        return Err((
            ErrorCode::FrameTooLarge,
            format!("{size} bytes; the limit is {limit}"),
        ));
    }
    check_event(id, &event).map_err(|e| (ErrorCode::InvalidEvent, e.to_string()))?;
    let kind = event["type"].as_str().unwrap_or_default().to_string();
    if let Some(refusal) = refuse(claims, channel, Some(&kind)) {
        return Err(refusal);
    }
    if claims.role == Role::Guest && !state.access.guests.take(claims.subject()) {
        return Err((
            ErrorCode::RateLimited,
            format!(
                "more than {} answers a minute; wait a moment and send it again",
                state.access.guests.per_minute()
            ),
        ));
    }
    Ok(stamp(claims, event))
}

/// Publish an admitted event on every transport's behalf. On a share's channel, an
/// answer is checked for its type (and that the share shows its frame), cleaned, stamped
/// and kept in the share's answer log before it goes out (the log is what outlives the
/// channel's history); a `gallery_frame` tells the log its frame may be answered.
pub async fn deliver(
    state: &crate::State,
    claims: &Claims,
    remote: &str,
    channel: &str,
    id: &str,
    event: Value,
) -> Result<crate::hub::Published, (ErrorCode, String)> {
    use crate::gallery::answers::AppendError;
    use crate::gallery::check::{check, is_answer, is_share_channel};
    let unavailable =
        |e: &dyn std::fmt::Display| (ErrorCode::Unavailable, format!("{e}; retry with backoff"));
    let stored = stored_id(claims, id);
    let id = stored.as_str();
    let kind = event["type"].as_str().unwrap_or_default();
    let event = if is_share_channel(channel) && is_answer(kind) {
        let (frame, cleaned) = check(&event)?;
        if kind == "gallery_unlock" && claims.role < Role::Publisher {
            return Err((
                ErrorCode::Forbidden,
                "only the studio unlocks a guest's selection".into(),
            ));
        }
        if matches!(kind, "gallery_pick" | "gallery_submit")
            && state
                .access
                .share_known(channel.rsplit(':').next().unwrap_or_default())
                .is_some_and(|s| s.choose.is_none())
        {
            return Err((
                ErrorCode::InvalidEvent,
                "this gallery asks for no selection".into(),
            ));
        }
        if let Some(frame) = frame
            && !state
                .answers
                .shown
                .shows(&state.blobs, channel, frame)
                .await
                .map_err(|e| unavailable(&e))?
        {
            return Err((
                ErrorCode::InvalidEvent,
                format!("this gallery has no frame {frame}"),
            ));
        }
        let cleaned = stamp(claims, cleaned);
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let entry = json!({"id": id, "ts": ts, "event": cleaned});
        let limits = &state.access.limits;
        let bytes = entry.to_string().len() as u64;
        let address = crate::access::gate::address(remote);
        if claims.role == Role::Guest {
            use crate::access::flood::Refusal;
            match limits
                .answers
                .take(channel, address, claims.subject(), bytes)
            {
                Ok(()) => {}
                Err(Refusal::Rate) => {
                    return Err((
                        ErrorCode::RateLimited,
                        "too many answers from your network on this gallery right now; wait a minute and send it again".into(),
                    ));
                }
                Err(Refusal::Held) => {
                    limits.quota_refused.fetch_add(1, Ordering::Relaxed);
                    return Err((
                        ErrorCode::QuotaExceeded,
                        "your network has left as many answers on this gallery as one network may; the studio has them all".into(),
                    ));
                }
            }
        }
        match state.answers.append(channel, &entry).await {
            Ok(_) => {}
            // A retry: not kept twice; the hub acks it with its first offset.
            Err(AppendError::Duplicate) => {
                limits.duplicates.fetch_add(1, Ordering::Relaxed);
            }
            Err(e @ (AppendError::Full | AppendError::GuestFull)) => {
                limits.quota_refused.fetch_add(1, Ordering::Relaxed);
                return Err((ErrorCode::QuotaExceeded, e.to_string()));
            }
            Err(AppendError::Locked) => {
                return Err((
                    ErrorCode::SelectionLocked,
                    "your selection is sent and locked; ask the studio to unlock it to change it"
                        .into(),
                ));
            }
            Err(AppendError::Unavailable(e)) => return Err(unavailable(&e)),
        }
        cleaned
    } else {
        if kind == "gallery_frame"
            && let Some(frame) = event["payload"]["frame"].as_i64()
        {
            let prefix = format!("/v1/blobs/{channel}/");
            let pictures: Vec<String> = ["preview", "thumbnail"]
                .iter()
                .filter_map(|k| event["payload"][*k].as_str()?.strip_prefix(&prefix))
                .map(str::to_string)
                .collect();
            state.answers.shown.frame_shown(channel, frame, &pictures);
        }
        event
    };
    state
        .hub
        .publish(channel, id, event)
        .await
        .map_err(|e| unavailable(&e))
}

/// The id a publish is kept under: a guest's carries its subject (`g:<sub>:<id>`), so
/// no guest can take an id the studio's engine will use (the relay drops a publish whose
/// id it has seen), nor another guest's.
pub fn stored_id(claims: &Claims, id: &str) -> String {
    if claims.role == Role::Guest {
        format!("g:{}:{id}", claims.subject())
    } else {
        id.to_string()
    }
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
    super::Remote(remote): super::Remote,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let claims = match authenticate(&state, &headers, q.token.as_deref()) {
        Ok(claims) => claims,
        Err(response) => return response,
    };
    if let Some((code, message)) = refuse(&claims, &channel, None) {
        return error_response(code, message);
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
    let size = body.len();
    let body: PublishBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => {
            return error_response(
                ErrorCode::BadJson,
                format!("expected {{\"id\": .., \"event\": {{..}}}}: {e}"),
            );
        }
    };
    let event = match admit(&state, &claims, &channel, &body.id, body.event, size) {
        Ok(event) => event,
        Err((code, message)) => return error_response(code, message),
    };
    let published = match deliver(&state, &claims, &remote, &channel, &body.id, event).await {
        Ok(published) => published,
        Err((code, message)) => return error_response(code, message),
    };
    Json(json!({
        "offset": published.offset,
        "duplicate": published.duplicate,
        "id": stored_id(&claims, &body.id),
    }))
    .into_response()
}
