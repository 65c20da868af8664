//! Live view's one-use tickets: a page asks for the stream's address with its token
//! (`Accept: application/json`) and gets `{"url"}` with a ticket in place of the token,
//! good once for a minute. The ticket keeps the token's claims (its stream is that
//! token's: expiry, revocation) and the address it was asked for (a share's ticket never
//! opens the studio's own stream). Kept with the originals' tickets; at most
//! [`TICKETS_PER_MINUTE`] for one address.

use std::time::Duration;

use axum::Json;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use shotline_protocol::relay::ErrorCode;

use crate::auth::{Claims, now_secs};
use crate::http::{error_response, unavailable};

/// The key a ticket for the stream at `path` is kept under (with the originals' tickets):
/// a share's ticket opens only the share's address, which looks at the share again.
fn ticket_key(path: &str) -> String {
    format!("live:{path}")
}

/// What a ticket keeps: its key, then the claims of the token it was asked with.
fn ticket_value(path: &str, claims: &Claims) -> String {
    let claims =
        serde_json::to_string(claims).unwrap_or_else(|e| unreachable!("claims serialise: {e}"));
    format!("{}\n{claims}", ticket_key(path))
}

/// Tickets one address may ask for a minute, at most.
pub const TICKETS_PER_MINUTE: u32 = 30;
/// Addresses the ticket limit remembers at once, at most.
const TICKET_ADDRESSES: usize = 10_000;

/// Whether `address` may have another ticket now (at most [`TICKETS_PER_MINUTE`]).
fn ticket_allowed(address: &str) -> bool {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static ASKED: LazyLock<Mutex<HashMap<String, (std::time::Instant, u32)>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let mut asked = ASKED.lock().unwrap_or_else(|e| e.into_inner());
    let minute = Duration::from_secs(60);
    if asked.len() >= TICKET_ADDRESSES {
        asked.retain(|_, (since, _)| since.elapsed() < minute);
        if asked.len() >= TICKET_ADDRESSES {
            return false;
        }
    }
    let entry = asked
        .entry(address.to_string())
        .or_insert((std::time::Instant::now(), 0));
    if entry.0.elapsed() >= minute {
        *entry = (std::time::Instant::now(), 0);
    }
    entry.1 += 1;
    entry.1 <= TICKETS_PER_MINUTE
}

/// `{"url"}`: `path` with a one-use ticket for its stream, for `claims`; at most
/// [`TICKETS_PER_MINUTE`] for one address.
pub(super) async fn ticket(
    state: &crate::State,
    path: &str,
    claims: &Claims,
    remote: &str,
) -> Response {
    let address =
        crate::access::gate::address(remote).map_or_else(|| remote.to_string(), |a| a.to_string());
    if !ticket_allowed(&address) {
        return error_response(
            ErrorCode::RateLimited,
            "too many live view addresses asked for from here: try again in a minute",
        );
    }
    match state.originals.ticket(&ticket_value(path, claims), 0).await {
        Ok(Some(ticket)) => (
            [(header::CACHE_CONTROL, "private, no-store")],
            Json(json!({ "url": format!("{path}?ticket={ticket}") })),
        )
            .into_response(),
        Ok(None) => error_response(
            ErrorCode::Overloaded,
            "many streams are being opened right now: try again in a minute",
        ),
        Err(e) => unavailable(&e),
    }
}

/// A ticket for the stream at `path`, used up: the claims of the token it was asked with.
pub(super) async fn redeem(
    state: &crate::State,
    ticket: &str,
    path: &str,
) -> Result<Claims, Response> {
    let kept = match state.originals.redeem(ticket).await {
        Ok(kept) => kept,
        Err(e) => return Err(unavailable(&e)),
    };
    let claims = kept.and_then(|(value, _)| {
        let (key, claims) = value.split_once('\n')?;
        (key == ticket_key(path))
            .then(|| serde_json::from_str::<Claims>(claims).ok())
            .flatten()
    });
    match claims {
        Some(claims) if claims.exp > now_secs() => Ok(claims),
        _ => Err(error_response(
            ErrorCode::Forbidden,
            "this ticket was used or has expired: ask for the stream again",
        )),
    }
}
