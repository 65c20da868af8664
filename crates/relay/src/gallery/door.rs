//! A share's door: the PIN a protected share's link asks for when its token is exchanged
//! for a guest's own ([`pin`](super::pin) checks it), and the share's activity the relay
//! records for the studio — a guest let in (`gallery_opened`), a wrong PIN
//! (`gallery_pin_failed`), a download (`gallery_download`) — in a log of its own beside
//! the answers' (the same store, bounded the same way, so visitors never take room from
//! answers), read by the studio only: `GET /v1/shares/{id}/activity?after=N`.

use axum::response::Response;
use serde_json::{Value, json};
use shotline_protocol::relay::ErrorCode;

use super::pin::Checked;
use crate::auth::Claims;
use crate::auth::exchange::Request;
use crate::http::error_response;

/// The share a PIN-protected link's token `caller` opens (its subject is `share:<id>`, as
/// the engine mints it; else the first PIN-protected share among its channels), with its
/// channel and its PIN's hash.
async fn pinned(state: &crate::State, caller: &Claims) -> Option<(String, String, String)> {
    let by_id = caller
        .sub
        .as_deref()
        .and_then(|s| s.strip_prefix("share:"))
        .map(str::to_string);
    let candidates = match by_id {
        Some(id) => state.access.share(&id).await.into_iter().collect(),
        None => state.access.shares().await,
    };
    candidates.into_iter().find_map(|s| {
        let pin = s.pin.clone()?;
        caller
            .channels
            .contains(&s.channel)
            .then_some((s.id, s.channel, pin))
    })
}

/// Let `caller` (a PIN-protected share's link token) exchange only with the share's PIN
/// in `request`; the refusal otherwise (no PIN, a wrong one, too many wrong ones).
#[allow(clippy::result_large_err)]
pub async fn check_pin(
    state: &crate::State,
    caller: &Claims,
    remote: &str,
    request: &Request,
) -> Result<(), Response> {
    let Some((id, channel, hash)) = pinned(state, caller).await else {
        return Err(error_response(
            ErrorCode::PinRequired,
            "this gallery asks for a PIN",
        ));
    };
    let Some(pin) = request.pin.as_deref().filter(|p| !p.trim().is_empty()) else {
        return Err(error_response(
            ErrorCode::PinRequired,
            "this gallery asks for a PIN: send it as \"pin\"",
        ));
    };
    let address = crate::access::gate::address(remote);
    match state.pins.check(&id, address, &hash, pin).await {
        Checked::Right => Ok(()),
        Checked::Wrong(count) => {
            record(
                state,
                &channel,
                "gallery_pin_failed",
                json!({"count": count}),
            )
            .await;
            Err(error_response(
                ErrorCode::WrongPin,
                "that is not this gallery's PIN",
            ))
        }
        Checked::TooMany => Err(error_response(
            ErrorCode::RateLimited,
            "too many wrong PINs for this gallery: wait a few minutes, then try again",
        )),
        Checked::Busy => Err(error_response(
            ErrorCode::Overloaded,
            "many PINs are being checked right now: try again in a moment",
        )),
    }
}

/// A guest was let in with their own token (`claims`): recorded in the share's activity.
pub async fn opened(state: &crate::State, claims: &Claims) {
    for channel in claims
        .channels
        .iter()
        .filter(|c| super::check::is_share_channel(c))
    {
        record(
            state,
            channel,
            "gallery_opened",
            json!({"sub": claims.sub, "name": claims.name}),
        )
        .await;
    }
}

/// The name of `channel`'s activity log in the answers' store.
pub fn activity_log(channel: &str) -> String {
    format!("{channel}:activity")
}

/// Record `kind` with `payload` in `channel`'s activity log, for the studio. A full log or
/// a store away loses only this record (it is logged).
pub async fn record(state: &crate::State, channel: &str, kind: &str, payload: Value) {
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let entry = json!({
        "id": format!("r:{}", crate::auth::random_id()),
        "ts": ts,
        "event": {"type": kind, "payload": payload},
    });
    if let Err(e) = state.answers.append(&activity_log(channel), &entry).await {
        tracing::warn!(channel, kind, "activity not recorded: {e}");
    }
}
