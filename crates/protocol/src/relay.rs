//! Relay frames: the JSON objects exchanged over the relay's WebSocket, one per message,
//! each with a `"type"` naming it (see the relay contract in DESIGN.md).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Client → relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Start receiving a channel; with `since`, replay what came after that offset.
    Subscribe {
        /// Channel name.
        channel: String,
        /// Last offset the client saw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
        /// Epoch the client saw `since` in; a different epoch cannot be resumed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<String>,
    },
    /// Stop receiving a channel.
    Unsubscribe {
        /// Channel name.
        channel: String,
    },
    /// Publish an event (publisher tokens only).
    Publish {
        /// Channel name.
        channel: String,
        /// Unique id; a repeated id is acked with the first offset and not sent again.
        id: String,
        /// `{"type": .., "payload": {..}}`.
        #[cfg_attr(feature = "ts", ts(as = "crate::event::Event"))]
        event: Value,
    },
    /// Application-level ping.
    Ping,
}

/// Relay → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RelayFrame {
    /// A subscription is live.
    Subscribed {
        /// Channel name.
        channel: String,
        /// History generation: offsets of another epoch mean nothing here.
        epoch: String,
        /// The channel's latest offset (0: nothing published yet).
        offset: u64,
        /// True when everything after the client's `since` was replayed.
        recovered: bool,
        /// The latest event of each type, for a dashboard that just opened.
        #[cfg_attr(feature = "ts", ts(as = "Vec<crate::event::Event>"))]
        snapshot: Vec<Value>,
    },
    /// One event on a channel.
    Event {
        /// Channel name.
        channel: String,
        /// Its offset in the channel.
        offset: u64,
        /// Its unique id.
        id: String,
        /// When the relay took it, ms since the Unix epoch.
        ts: u64,
        /// `{"type": .., "payload": {..}}`.
        #[cfg_attr(feature = "ts", ts(as = "crate::event::Event"))]
        event: Value,
    },
    /// A publish was taken (or was a duplicate of `offset`).
    Ack {
        /// The publish's id.
        id: String,
        /// The offset it has.
        offset: u64,
    },
    /// Something was wrong with a frame; the connection goes on where it can.
    Error {
        /// Stable machine-readable code.
        code: ErrorCode,
        /// What happened, for people.
        message: String,
    },
    /// Answer to `ping`.
    Pong,
}

/// Stable error codes of [`RelayFrame::Error`] (and of HTTP error bodies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or not an object.
    BadJson,
    /// JSON, but not a known frame or missing fields.
    BadFrame,
    /// Larger than the relay's frame limit.
    FrameTooLarge,
    /// Channel name outside `[A-Za-z0-9_.:-]{1,128}`.
    InvalidChannel,
    /// An event that is not `{"type": string, "payload": ..}`.
    InvalidEvent,
    /// No token, or a malformed one.
    Unauthorized,
    /// The token expired.
    TokenExpired,
    /// The token does not allow this (a subscriber publishing, a channel outside it).
    Forbidden,
    /// Too many publishes too fast.
    RateLimited,
    /// Too many connections.
    Overloaded,
    /// The relay's shared backend (Redis) is unreachable; retry with backoff.
    Unavailable,
    /// The token was revoked by an admin; ask the studio for a new link.
    Revoked,
    /// No such thing (a frame id, a share, a connection).
    NotFound,
    /// Too many connections from this address, or of this guest; retry later.
    TooManyConnections,
    /// The link has let in as many new guests from this address as it may for now.
    TooManyGuests,
    /// The guest has left as many answers on this share as one guest may.
    QuotaExceeded,
    /// The connection follows as many channels as one may.
    TooManySubscriptions,
    /// The share asks for a PIN: exchange the link's token with `pin` first.
    PinRequired,
    /// The PIN given is not the share's.
    WrongPin,
    /// The guest has sent their selection; the studio may unlock it.
    SelectionLocked,
}

impl ErrorCode {
    /// True when the same request may succeed later unchanged: wait (with backoff) and
    /// send it again. False when it never will: change the request (or the token) first.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimited
                | ErrorCode::Overloaded
                | ErrorCode::Unavailable
                | ErrorCode::TooManyConnections
                | ErrorCode::TooManyGuests
        )
    }

    /// True when the token is at fault rather than the request: the same request with
    /// another token may be taken.
    pub fn is_auth(self) -> bool {
        matches!(
            self,
            ErrorCode::Unauthorized
                | ErrorCode::TokenExpired
                | ErrorCode::Forbidden
                | ErrorCode::Revoked
                | ErrorCode::PinRequired
        )
    }

    /// The wire name, e.g. `"rate_limited"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad_json",
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::InvalidChannel => "invalid_channel",
            ErrorCode::InvalidEvent => "invalid_event",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Overloaded => "overloaded",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Revoked => "revoked",
            ErrorCode::NotFound => "not_found",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::TooManyGuests => "too_many_guests",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::TooManySubscriptions => "too_many_subscriptions",
            ErrorCode::PinRequired => "pin_required",
            ErrorCode::WrongPin => "wrong_pin",
            ErrorCode::SelectionLocked => "selection_locked",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True when `name` is a valid channel name: `[A-Za-z0-9_.:-]{1,128}`.
pub fn valid_channel(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frames_have_the_contract_shape() {
        let frame: ClientFrame =
            serde_json::from_str(r#"{"type":"subscribe","channel":"s:camera","since":4}"#)
                .expect("parse");
        assert_eq!(
            frame,
            ClientFrame::Subscribe {
                channel: "s:camera".into(),
                since: Some(4),
                epoch: None
            }
        );
        let ack = serde_json::to_value(RelayFrame::Ack {
            id: "a".into(),
            offset: 3,
        })
        .expect("json");
        assert_eq!(
            ack,
            serde_json::json!({"type": "ack", "id": "a", "offset": 3})
        );
        let err = serde_json::to_value(RelayFrame::Error {
            code: ErrorCode::FrameTooLarge,
            message: "x".into(),
        })
        .expect("json");
        assert_eq!(err["code"], "frame_too_large");
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"dance"}"#).is_err());
    }

    #[test]
    fn wire_names_match_serde_and_retry_is_only_for_load() {
        use ErrorCode::*;
        for code in [
            BadJson,
            BadFrame,
            FrameTooLarge,
            InvalidChannel,
            InvalidEvent,
            Unauthorized,
            TokenExpired,
            Forbidden,
            RateLimited,
            Overloaded,
            Unavailable,
            Revoked,
            NotFound,
            TooManyConnections,
            TooManyGuests,
            QuotaExceeded,
            TooManySubscriptions,
            PinRequired,
            WrongPin,
            SelectionLocked,
        ] {
            assert_eq!(
                serde_json::to_value(code).expect("json"),
                serde_json::json!(code.as_str())
            );
            assert!(!(code.is_retryable() && code.is_auth()), "{code}");
        }
        assert!(RateLimited.is_retryable() && Unavailable.is_retryable());
        assert!(!InvalidEvent.is_retryable() && !Revoked.is_retryable());
        assert!(Revoked.is_auth() && Forbidden.is_auth() && !BadJson.is_auth());
    }

    #[test]
    fn channel_names() {
        assert!(valid_channel("studio:camera"));
        assert!(valid_channel(&"a".repeat(128)));
        assert!(!valid_channel(&"a".repeat(129)));
        assert!(!valid_channel(""));
        assert!(!valid_channel("a b"));
        assert!(!valid_channel("a/b"));
    }

    proptest! {
        #[test]
        fn event_frames_round_trip(channel in "[A-Za-z0-9_.:-]{1,20}", offset in any::<u64>(), id in ".{0,20}", ts in any::<u64>(), n in any::<i64>()) {
            let frame = RelayFrame::Event { channel, offset, id, ts, event: serde_json::json!({"type": "t", "payload": {"n": n}}) };
            let text = serde_json::to_string(&frame).expect("json");
            prop_assert_eq!(serde_json::from_str::<RelayFrame>(&text).expect("parse"), frame);
        }
    }
}
