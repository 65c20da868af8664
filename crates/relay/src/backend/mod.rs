//! Where the channels' state lives, beneath the hub: ordered offsets, bounded history,
//! the id index for idempotent publish, the snapshot and the epoch. [`Memory`] keeps it
//! in this process for a single node; [`Redis`] in Redis, shared by every node. The hub
//! does the local fan-out and depends only on the [`Backend`] trait; neither backend
//! knows of the hub.
//!
//! Every event frame is serialised in one place, [`event_frame`]: the backends store and
//! pass on the parts (offset, id, time, event), never a frame assembled elsewhere.

mod memory;
pub mod redis;

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;
use shotline_protocol::relay::RelayFrame;

pub use memory::Memory;
pub use redis::Redis;

/// One serialised frame, shared by every subscriber's queue without copying.
pub type Frame = tokio_tungstenite::tungstenite::Utf8Bytes;

/// A boxed future, so the trait stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How many ids are remembered for duplicate detection beyond the history.
pub const MIN_IDS: usize = 10_000;

/// The backend is unreachable or answered with an error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("redis: {0}")]
pub struct Unavailable(pub String);

/// The `event` frame of one stored event: the only place one is serialised.
pub fn event_frame(channel: &str, offset: u64, id: &str, ts: u64, event: &Value) -> Frame {
    let frame = RelayFrame::Event {
        channel: channel.to_string(),
        offset,
        id: id.to_string(),
        ts,
        event: event.clone(),
    };
    serde_json::to_string(&frame)
        .unwrap_or_else(|e| unreachable!("frames always serialise: {e}"))
        .into()
}

/// One event to append.
#[derive(Debug, Clone)]
pub struct Publish<'a> {
    /// The channel.
    pub channel: &'a str,
    /// The publisher's id (idempotency key).
    pub id: &'a str,
    /// `{"type", "payload"}`, already checked.
    pub event: &'a Value,
    /// Subjects that must never receive it, live or on replay.
    pub exclude: &'a [String],
}

/// What a publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The event's offset (the first one's, for a duplicate id).
    pub offset: u64,
    /// True when the id was seen before and nothing was sent.
    pub duplicate: bool,
}

/// One stored event as read back, or as it arrives live.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Offset in its channel.
    pub offset: u64,
    /// Relay time, ms since the Unix epoch.
    pub ts: u64,
    /// The finished `event` frame.
    pub frame: Frame,
    /// Subjects that must never receive it.
    pub exclude: Vec<String>,
}

/// A consistent read of a channel.
#[derive(Debug, Clone)]
pub struct Read {
    /// The channel's epoch.
    pub epoch: String,
    /// The latest offset.
    pub latest: u64,
    /// Events from the first offset asked for, in order.
    pub entries: Vec<Entry>,
    /// Latest event of each type, ordered by type.
    pub snapshot: Vec<Value>,
}

/// One event as it is appended, for the nodes' subscribers.
#[derive(Debug, Clone)]
pub struct Live {
    /// The relay channel.
    pub channel: String,
    /// The channel's epoch.
    pub epoch: String,
    /// The event.
    pub entry: Entry,
}

/// Where every appended event is heard, in offset order per channel.
pub type LiveSink = std::sync::Arc<dyn Fn(Live) + Send + Sync>;

/// The channels' state.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// True when several nodes share this state.
    fn shared(&self) -> bool;

    /// Whether the backend answers.
    fn health(&self) -> BoxFuture<'_, Result<(), Unavailable>>;

    /// What the backend's lock over all channels cost, if it has one.
    fn lock_stats(&self) -> Option<crate::contention::LockStats> {
        None
    }

    /// Where this node hears every appended event (its own included), in offset order
    /// per channel. Set once, before anything is published.
    fn set_sink(&self, sink: LiveSink);

    /// Append an event (or find its id already there). Every node hears it through its
    /// sink, in order, the publishing node included.
    fn publish<'a>(&'a self, publish: Publish<'a>) -> BoxFuture<'a, Result<Appended, Unavailable>>;

    /// The channel's epoch and latest offset, the events from offset `from` on (when
    /// given; at most the history length), and the snapshot when asked for, all at once.
    fn read<'a>(
        &'a self,
        channel: &'a str,
        from: Option<u64>,
        snapshot: bool,
    ) -> BoxFuture<'a, Result<Read, Unavailable>>;

    /// Hear other nodes' events (into the sink) until the link to the backend is lost,
    /// then return why; the caller reconnects. `linked` runs once the link stands, so the
    /// caller can catch up on what it missed while it did not. A backend of one node
    /// never returns.
    fn follow<'a>(&'a self, linked: BoxFuture<'a, ()>) -> BoxFuture<'a, Unavailable>;
}
