//! Live view: the studio's camera seen through the relay while it is framed and focused.
//! A volatile stream beside the durable event path: no history, no resume. Each viewer
//! gets the latest picture whenever it is ready for one, so a slow viewer gets fewer
//! pictures and never delays anyone else.
//!
//! - `GET /v1/live/{channel}/publish` (a WebSocket; a publisher's token covering the
//!   channel): the engine sends each picture as one binary message, a JPEG of at most
//!   [`MAX_PICTURE`], optionally after a text message `{"taken_ms": N}` saying when the
//!   camera handed it over. The relay sends `{"viewers": N}`, the viewers on every node,
//!   at once and on each change: the engine runs live view only while N > 0.
//! - `GET /v1/live/{channel}` (any token covering the channel): the stream. As a
//!   WebSocket, binary messages of one JPEG each; otherwise `multipart/x-mixed-replace`
//!   (MJPEG, which a plain `<img>` shows), each part with `X-Seq` and `X-Taken-Ms`. Asked
//!   with `Accept: application/json`: `{"url"}`, the same address with a one-use ticket
//!   (good for a minute) instead of the token, so no token goes into an address.
//! - `GET /v1/shares/{id}/live` (a guest of the share): the same, while the share is open
//!   and the studio shares its live view (`live` in the share); the stream of the studio's
//!   `<studio>:live` channel.
//!
//! Viewers pass the connection gate and are registered like every connection (transport
//! `live` in `/v1/admin/connections`): an admin's disconnect or a revoked token ends the
//! stream; so do the token's expiry, [`MAX_VIEW`], and the relay stopping; a guest's also
//! within [`RECHECK`] of the share closing or no longer sharing live view. A ticket
//! carries the claims of the token it was asked with, so its stream is that token's.
//!
//! - [`streams`]: this node's streams and viewer counts.
//! - [`cluster`]: across nodes through Redis.
//! - `serve`: the publisher's loop and the viewers' (MJPEG, WebSocket).
//! - `tickets`: one-use tickets in place of a token in a stream's address.

pub mod cluster;
mod serve;
pub mod streams;
mod tickets;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::Deserialize;
use shotline_protocol::relay::ErrorCode;

use crate::access::shares::ShareState;
use crate::auth::{Claims, Role, now_secs};
use crate::http::{Remote, authenticate, error_response, refuse};
use crate::ws::Upgrade;
use streams::Streams;
use tickets::{redeem, ticket};

/// The largest picture the engine may send.
pub const MAX_PICTURE: usize = 1 << 20;
/// A viewer's stream ends after this (it opens again: the page reloads its `<img>`).
pub const MAX_VIEW: Duration = Duration::from_secs(3600);
/// How often a guest's stream looks at its share again.
pub const RECHECK: Duration = Duration::from_secs(5);
/// How often each node tells the others its viewers and forgets stale counts.
const ANNOUNCE_EVERY: Duration = Duration::from_secs(2);

/// Live view on this node.
#[derive(Debug)]
pub struct Live {
    /// The streams.
    pub streams: Streams,
    /// The other nodes, with Redis.
    pub cluster: Option<cluster::Cluster>,
}

impl Live {
    /// Live view for a relay with Redis at `redis`, if any.
    pub fn new(redis: Option<&str>) -> std::io::Result<Arc<Self>> {
        let cluster = match redis {
            Some(url) => Some(cluster::Cluster::open(url).map_err(std::io::Error::other)?),
            None => None,
        };
        Ok(Arc::new(Self {
            streams: Streams::default(),
            cluster,
        }))
    }

    /// Count viewers, tell the other nodes, and hear them, until dropped.
    pub async fn run(self: Arc<Self>) {
        let announce = async {
            let mut told: Vec<(String, usize)> = Vec::new();
            loop {
                tokio::time::sleep(ANNOUNCE_EVERY).await;
                let watched = self.streams.sweep();
                if let Some(cluster) = &self.cluster {
                    for (channel, _) in &told {
                        if !watched.iter().any(|(c, _)| c == channel) {
                            cluster.count(channel, 0).await;
                        }
                    }
                    for (channel, count) in &watched {
                        cluster.count(channel, *count).await;
                    }
                }
                told = watched;
            }
        };
        let listen = async {
            let Some(cluster) = &self.cluster else {
                return std::future::pending().await;
            };
            loop {
                let why = cluster.listen(&self.streams).await;
                tracing::warn!("live view across nodes: {why}; listening again in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        };
        tokio::join!(announce, listen);
    }

    /// Tell the other nodes at once that this node's viewers of `channel` changed.
    pub async fn announce(&self, channel: &str, count: usize) {
        if let Some(cluster) = &self.cluster {
            cluster.count(channel, count).await;
        }
    }
}

/// The query of the live endpoints.
#[derive(Debug, Deserialize)]
pub struct LiveQuery {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    ticket: Option<String>,
}

/// The studio's live channel for a share's channel (`<studio>:gallery:<id>`).
pub fn live_channel(share_channel: &str, id: &str) -> Option<String> {
    share_channel
        .strip_suffix(&format!(":gallery:{id}"))
        .map(|studio| format!("{studio}:live"))
}

/// `GET /v1/live/{channel}/publish`.
pub async fn publish(
    State(state): State<Arc<crate::State>>,
    Path(channel): Path<String>,
    Query(q): Query<LiveQuery>,
    Remote(remote): Remote,
    headers: HeaderMap,
    ws: Upgrade,
) -> Response {
    let claims = match authenticate(&state, &headers, q.token.as_deref()) {
        Ok(claims) => claims,
        Err(response) => return response,
    };
    if let Some((code, message)) = refuse(&claims, &channel, Some("live_view")) {
        return error_response(code, message);
    }
    if claims.role < Role::Publisher {
        return error_response(ErrorCode::Forbidden, "only the studio publishes live view");
    }
    let admitted = match state.access.limits.gate.admit(&claims, &remote) {
        Ok(admitted) => admitted,
        Err((code, message)) => return error_response(code, message),
    };
    let Some(stream) = state.live.streams.get(&channel) else {
        return error_response(ErrorCode::Overloaded, "too many live streams on this relay");
    };
    ws.accept(move |upgraded| async move {
        let _admitted = admitted;
        serve::publisher(state, stream, upgraded, claims.exp).await;
    })
}

/// `GET /v1/live/{channel}`.
pub async fn view(
    State(state): State<Arc<crate::State>>,
    Path(channel): Path<String>,
    Query(q): Query<LiveQuery>,
    Remote(remote): Remote,
    request: Request,
) -> Response {
    let (mut parts, _) = request.into_parts();
    let path = format!("/v1/live/{channel}");
    let claims = if let Some(ticket) = q.ticket.as_deref() {
        let claims = match redeem(&state, ticket, &path).await {
            Ok(claims) => claims,
            Err(response) => return response,
        };
        if let Some((code, message)) = refuse(&claims, &channel, None) {
            return error_response(code, message);
        }
        claims
    } else {
        let claims = match authenticate(&state, &parts.headers, q.token.as_deref()) {
            Ok(claims) => claims,
            Err(response) => return response,
        };
        if let Some((code, message)) = refuse(&claims, &channel, None) {
            return error_response(code, message);
        }
        if wants_json(&parts.headers) {
            return ticket(&state, &path, &claims, &remote).await;
        }
        claims
    };
    watch(&state, &channel, &claims, &remote, &mut parts, None).await
}

/// `GET /v1/shares/{id}/live`.
pub async fn share_view(
    State(state): State<Arc<crate::State>>,
    Path(id): Path<String>,
    Query(q): Query<LiveQuery>,
    Remote(remote): Remote,
    request: Request,
) -> Response {
    let (mut parts, _) = request.into_parts();
    let Some(share) = state.access.share(&id).await else {
        return error_response(ErrorCode::NotFound, format!("no share {id}"));
    };
    let claims = match q.ticket.as_deref() {
        Some(_) => None,
        None => {
            match crate::http::authorize(&state, &parts.headers, q.token.as_deref(), &share.channel)
            {
                Ok(claims) => Some(claims),
                Err(response) => return response,
            }
        }
    };
    if share.state(now_secs()) != ShareState::Open {
        return error_response(ErrorCode::Forbidden, "this gallery has closed");
    }
    if !share.live {
        return error_response(
            ErrorCode::Forbidden,
            "the studio does not share its live view in this gallery",
        );
    }
    let Some(channel) = live_channel(&share.channel, &id) else {
        return error_response(ErrorCode::NotFound, "this gallery has no live view");
    };
    let claims = match (claims, q.ticket.as_deref()) {
        (Some(claims), _) if wants_json(&parts.headers) => {
            return ticket(&state, &format!("/v1/shares/{id}/live"), &claims, &remote).await;
        }
        (Some(claims), _) => claims,
        (None, Some(ticket)) => {
            match redeem(&state, ticket, &format!("/v1/shares/{id}/live")).await {
                Ok(claims) => claims,
                Err(response) => return response,
            }
        }
        (None, None) => unreachable!("a request without a ticket was authorised above"),
    };
    watch(&state, &channel, &claims, &remote, &mut parts, Some(id)).await
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// Whether share `id` still shows live view (open, and sharing it).
pub(crate) async fn still_shared(state: &crate::State, id: &str) -> bool {
    state
        .access
        .share(id)
        .await
        .is_some_and(|s| s.live && s.state(now_secs()) == ShareState::Open)
}

/// Serve `channel`'s stream to one viewer (a guest of `share`, if any): a WebSocket when
/// asked for, else MJPEG.
async fn watch(
    state: &Arc<crate::State>,
    channel: &str,
    claims: &Claims,
    remote: &str,
    parts: &mut axum::http::request::Parts,
    share: Option<String>,
) -> Response {
    let admitted = match state.access.limits.gate.admit(claims, remote) {
        Ok(admitted) => admitted,
        Err((code, message)) => return error_response(code, message),
    };
    let Some(stream) = state.live.streams.get(channel) else {
        return error_response(ErrorCode::Overloaded, "too many live streams on this relay");
    };
    let kicked = Arc::new(crate::queue::Kick::default());
    let registered = state.access.register(
        state.next_conn(),
        claims,
        crate::access::registry::Transport::Live,
        remote.to_string(),
        kicked.clone(),
    );
    registered.subscribed(channel);
    let held = serve::Held {
        _admitted: admitted,
        _registered: registered,
        kicked,
    };
    let viewer = stream.watch();
    // Told from a task of its own: a slow Redis never holds up the viewer's answer.
    let live = state.live.clone();
    let (told, count) = (channel.to_string(), stream.local());
    tokio::spawn(async move { live.announce(&told, count).await });
    let until = tokio::time::Instant::now()
        + MAX_VIEW.min(Duration::from_secs(claims.exp.saturating_sub(now_secs())));
    let websocket = parts
        .headers
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if websocket {
        let ws = match Upgrade::from_request_parts(parts, &()).await {
            Ok(ws) => ws,
            Err(response) => return response,
        };
        let state = state.clone();
        return ws.accept(move |upgraded| async move {
            serve::websocket(state, viewer, held, upgraded, until, share).await;
        });
    }
    serve::mjpeg(state.clone(), viewer, held, until, share)
}
