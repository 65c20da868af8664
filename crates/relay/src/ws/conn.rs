//! What one WebSocket connection does with each client frame, whichever path writes to it
//! (`direct` or `framed`): subscribe, unsubscribe, publish and ping answered in order with
//! the events, bad frames answered with an `error` frame, and the close codes it sends.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;
use shotline_protocol::relay::{ClientFrame, ErrorCode, RelayFrame};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use super::{CLOSE_DISCONNECTED, CLOSE_RESET, CLOSE_SLOW_CONSUMER};
use crate::access::{Registered, Transport};
use crate::auth::Claims;
use crate::http::{admit, deliver, refuse};
use crate::hub::Subscriber;
use crate::queue::{Frame, Kick, KickReason, Queue};
use crate::rate::Budget;

/// Why the relay closes a connection: the close code and reason it sends.
pub(super) fn close_reason(reason: KickReason) -> (u16, &'static str) {
    match reason {
        KickReason::Slow => (CLOSE_SLOW_CONSUMER, "slow consumer: resubscribe with since"),
        KickReason::Reset => (CLOSE_RESET, "channel history was reset: subscribe again"),
        KickReason::Disconnected => (CLOSE_DISCONNECTED, "disconnected by the studio"),
        KickReason::Expired => (
            CLOSE_DISCONNECTED,
            "expired: the token or the gallery link is past its time",
        ),
    }
}

fn error_frame(code: ErrorCode, message: impl Into<String>) -> Frame {
    serde_json::to_string(&RelayFrame::Error {
        code,
        message: message.into(),
    })
    .unwrap_or_default()
    .into()
}

fn error(code: ErrorCode, message: impl Into<String>) -> Option<RelayFrame> {
    Some(RelayFrame::Error {
        code,
        message: message.into(),
    })
}

/// What a connection does after one message off its stream.
pub(super) enum Next {
    /// Read on.
    Go,
    /// The peer sent a close frame (the WebSocket library has queued its answer).
    Closed(Option<CloseFrame>),
    /// The stream ended or failed.
    Gone,
}

/// What one connection keeps.
pub(super) struct Conn<'a> {
    state: &'a crate::State,
    claims: &'a Claims,
    conn: u64,
    queue: Queue,
    registered: Registered,
    subscriptions: HashSet<String>,
    bucket: Budget,
    remote: String,
}

impl<'a> Conn<'a> {
    /// Count and register a new connection whose frames go into `queue`.
    pub(super) fn open(
        state: &'a crate::State,
        claims: &'a Claims,
        conn: u64,
        queue: Queue,
        kicked: Arc<Kick>,
        remote: String,
    ) -> Self {
        state
            .connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let registered = state
            .access
            .register(conn, claims, Transport::Ws, remote.clone(), kicked);
        Self {
            state,
            claims,
            conn,
            queue,
            registered,
            subscriptions: HashSet::new(),
            bucket: Budget::new(state.config.publish_rate),
            remote,
        }
    }

    /// Act on one message off the stream; `heard` is when the peer was last heard from.
    pub(super) async fn message(
        &mut self,
        message: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
        heard: &mut std::time::Instant,
    ) -> Next {
        let message = match message {
            Some(Ok(message)) => message,
            None => return Next::Gone,
            Some(Err(e)) => {
                tracing::debug!("connection error: {e}");
                return Next::Gone;
            }
        };
        *heard = std::time::Instant::now();
        match message {
            Message::Text(text) => self.text(text.as_str()).await,
            Message::Binary(_) => self.binary(),
            Message::Close(frame) => return Next::Closed(frame),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
        Next::Go
    }

    /// Answer one text frame: its reply, if any, queued in order with the events.
    async fn text(&mut self, text: &str) {
        // Boxed: the connection's own future stays small while it is idle.
        if let Some(reply) = Box::pin(self.handle(text)).await {
            self.queue
                .offer(serde_json::to_string(&reply).unwrap_or_default().into());
        }
    }

    /// A binary frame: not understood.
    fn binary(&self) {
        self.queue.offer(error_frame(
            ErrorCode::BadJson,
            "binary frames are not understood; send JSON text",
        ));
    }

    /// Leave every channel.
    pub(super) fn leave(&mut self) {
        for channel in self.subscriptions.drain() {
            self.state.hub.unsubscribe(&channel, self.conn);
        }
    }

    /// Stop counting this connection.
    pub(super) fn gone(&self) {
        self.state
            .connections
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Act on one text frame; the reply, if any, goes out in order with the events.
    async fn handle(&mut self, text: &str) -> Option<RelayFrame> {
        let limit = self.state.config.max_frame;
        if text.len() > limit {
            return error(
                ErrorCode::FrameTooLarge,
                format!("frame of {} bytes; the limit is {limit}", text.len()),
            );
        }
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            return error(ErrorCode::BadJson, "not JSON");
        };
        let frame: ClientFrame = match serde_json::from_value(value.clone()) {
            Ok(frame) => frame,
            Err(e) => {
                let kind = value
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("(none)");
                return error(ErrorCode::BadFrame, format!("frame of type {kind}: {e}"));
            }
        };
        match frame {
            ClientFrame::Ping => Some(RelayFrame::Pong),
            ClientFrame::Subscribe {
                channel,
                since,
                epoch,
            } => self.subscribe(channel, since, epoch).await,
            ClientFrame::Unsubscribe { channel } => {
                self.state.hub.unsubscribe(&channel, self.conn);
                self.registered.unsubscribed(&channel);
                self.subscriptions.remove(&channel);
                None
            }
            ClientFrame::Publish { channel, id, event } => {
                self.publish(channel, id, event, text.len()).await
            }
        }
    }

    async fn subscribe(
        &mut self,
        channel: String,
        since: Option<u64>,
        epoch: Option<String>,
    ) -> Option<RelayFrame> {
        if let Some((code, message)) = refuse(self.claims, &channel, None) {
            return error(code, message);
        }
        if let Some((code, message)) = crate::http::too_many_subscriptions(
            self.state,
            self.subscriptions.len(),
            &self.subscriptions,
            &channel,
        ) {
            return error(code, message);
        }
        let subscriber = Subscriber {
            conn: self.conn,
            queue: self.queue.clone(),
            subject: self.claims.subject().into(),
        };
        match self
            .state
            .hub
            .subscribe(&channel, &subscriber, since, epoch.as_deref())
            .await
        {
            Ok(_) => {
                self.registered.subscribed(&channel);
                self.subscriptions.insert(channel);
                None
            }
            Err(e) => error(ErrorCode::Unavailable, format!("{e}; retry with backoff")),
        }
    }

    async fn publish(
        &mut self,
        channel: String,
        id: String,
        event: Value,
        size: usize,
    ) -> Option<RelayFrame> {
        let event = match admit(self.state, self.claims, &channel, &id, event, size) {
            Ok(event) => event,
            Err((code, message)) => return error(code, message),
        };
        if !self.bucket.take() {
            return error(
                ErrorCode::RateLimited,
                format!(
                    "more than {} publishes a second: nothing is taken for a second; then resend from this one",
                    self.state.config.publish_rate
                ),
            );
        }
        match deliver(self.state, self.claims, &self.remote, &channel, &id, event).await {
            Ok(published) => Some(RelayFrame::Ack {
                id,
                offset: published.offset,
            }),
            Err((code, message)) => error(code, message),
        }
    }
}
