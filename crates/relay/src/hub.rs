//! Channels: ordered offsets, bounded history (count and age) for resume, an epoch per
//! history generation, the latest event of each type as a snapshot, idempotent publish by
//! id, and fan-out to this node's subscribers through bounded queues. A subscriber whose
//! queue is full is cut off (and counted); nobody else waits for it.
//!
//! The channels' state lives in memory for a single node, or in Redis ([`crate::cluster`])
//! for several; either way, delivery to local subscribers goes through one path that
//! drops nothing and repeats nothing: each subscriber remembers the last offset it was
//! sent, and while its replay is being read, live events wait in a pending list.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use shotline_protocol::relay::RelayFrame;
use tokio::sync::{Notify, mpsc};

use crate::cluster::{Live, Redis, Unavailable};

/// One serialised frame, shared by every subscriber's queue without copying.
pub type Frame = axum::extract::ws::Utf8Bytes;

/// One stored event.
#[derive(Debug)]
pub struct Stored {
    /// Offset in its channel.
    pub offset: u64,
    /// Publisher's id.
    pub id: String,
    /// Relay time, ms since the Unix epoch.
    pub ts: u64,
    /// The event frame, serialised once for every subscriber.
    pub frame: Frame,
}

/// A connection's outgoing queue and its cut-off switch.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Frame>,
    kicked: Arc<Kick>,
}

/// Set when a connection must be cut off: it fell too far behind, or its channel's
/// history was reset under it.
#[derive(Debug, Default)]
pub struct Kick {
    flag: AtomicBool,
    reset: AtomicBool,
    notify: Notify,
}

/// Why a connection was cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickReason {
    /// Its queue was full.
    Slow,
    /// A channel it follows started a new epoch; it must subscribe again.
    Reset,
}

impl Kick {
    /// Cut the connection off.
    pub fn trigger(&self, reason: KickReason) {
        if reason == KickReason::Reset {
            self.reset.store(true, Ordering::SeqCst);
        }
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Wait until cut off; says why.
    pub async fn wait(&self) -> KickReason {
        while !self.flag.load(Ordering::SeqCst) {
            self.notify.notified().await;
        }
        if self.reset.load(Ordering::SeqCst) {
            KickReason::Reset
        } else {
            KickReason::Slow
        }
    }
}

impl Outbox {
    /// A queue of `capacity` frames; the receiver is the connection's.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<Frame>, Arc<Kick>) {
        let (tx, rx) = mpsc::channel(capacity);
        let kicked = Arc::new(Kick::default());
        (
            Self {
                tx,
                kicked: kicked.clone(),
            },
            rx,
            kicked,
        )
    }

    /// Queue a frame; false (and the connection cut off) when the queue is full.
    pub fn offer(&self, frame: Frame) -> bool {
        match self.tx.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kicked.trigger(KickReason::Slow);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// Limits of the hub.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Events kept per channel for resume.
    pub history: usize,
    /// Oldest event kept.
    pub history_age: Duration,
}

/// Counters for `/stats` and `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Events taken through this node (duplicates not counted).
    pub published: AtomicU64,
    /// Frames queued to subscribers.
    pub delivered: AtomicU64,
    /// Frames not delivered because a subscriber was too slow (it was cut off).
    pub dropped: AtomicU64,
    /// Live subscriptions.
    pub subscriptions: AtomicU64,
}

/// One subscriber of a channel on this node.
#[derive(Debug)]
struct Sub {
    outbox: Outbox,
    /// The last offset sent to it.
    last: u64,
    /// Live events that arrived while its replay was being read.
    pending: Option<Vec<(u64, Frame)>>,
}

#[derive(Debug, Default)]
struct Channel {
    /// The latest offset this node knows of.
    latest: u64,
    /// The epoch `latest` belongs to (Redis mode; empty until known).
    epoch: String,
    history: VecDeque<Arc<Stored>>,
    ids: HashMap<String, u64>,
    id_order: VecDeque<String>,
    snapshot: BTreeMap<String, Value>,
    subscribers: HashMap<u64, Sub>,
    changed: Arc<Notify>,
}

/// What a publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// The event's offset (the first one's, for a duplicate id).
    pub offset: u64,
    /// True when the id was seen before and nothing was sent.
    pub duplicate: bool,
}

/// Events after an offset, for polling.
#[derive(Debug)]
pub struct Since {
    /// The finished `event` frames, in order.
    pub frames: Vec<Frame>,
    /// The channel's latest offset.
    pub latest: u64,
    /// The channel's epoch.
    pub epoch: String,
    /// Notified when the channel gets an event on this node.
    pub changed: Arc<Notify>,
}

/// Where the channels' state lives.
#[derive(Debug)]
enum Backend {
    /// In this process; one epoch for the process's life.
    Memory { epoch: String },
    /// In Redis, shared by every node.
    Redis(Box<Redis>),
}

/// All channels of one relay.
#[derive(Debug)]
pub struct Hub {
    channels: Mutex<HashMap<String, Channel>>,
    backend: Backend,
    config: HubConfig,
    /// True while the Redis pub/sub link stands (always true in memory).
    linked: AtomicBool,
    /// Counters.
    pub counters: Counters,
}

/// How many ids are remembered for duplicate detection beyond the history.
pub const MIN_IDS: usize = 10_000;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// The events to replay after `since`, and whether they close the gap: `held` are the
/// events still kept, in order and without holes.
fn replay<T: Clone>(
    since: Option<u64>,
    same_epoch: bool,
    latest: u64,
    held: impl Iterator<Item = (u64, T)>,
) -> (Vec<(u64, T)>, bool) {
    match since {
        Some(since) if same_epoch && since <= latest => {
            let replay: Vec<(u64, T)> = held.filter(|(offset, _)| *offset > since).collect();
            let recovered = since == latest || replay.first().is_some_and(|(o, _)| *o == since + 1);
            (replay, recovered)
        }
        _ => (Vec::new(), false),
    }
}

impl Channel {
    /// Send `frame` (at `offset`) to every subscriber that has not had it; cut off those
    /// that cannot take it.
    fn deliver(&mut self, offset: u64, frame: &Frame, counters: &Counters) {
        self.latest = self.latest.max(offset);
        let mut cut = Vec::new();
        for (conn, sub) in &mut self.subscribers {
            if let Some(pending) = &mut sub.pending {
                pending.push((offset, frame.clone()));
            } else if offset > sub.last {
                sub.last = offset;
                if sub.outbox.offer(frame.clone()) {
                    counters.delivered.fetch_add(1, Ordering::Relaxed);
                } else {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                    cut.push(*conn);
                }
            }
        }
        for conn in cut {
            self.subscribers.remove(&conn);
            counters.subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
        self.changed.notify_waiters();
    }

    /// Queue `subscribed` and the replay to a registered subscriber, then whatever waited
    /// in its pending list, and make it live. False if it was cut off on the way.
    fn start(
        &mut self,
        conn: u64,
        subscribed: &RelayFrame,
        replay: Vec<(u64, Frame)>,
        latest: u64,
        counters: &Counters,
    ) -> bool {
        let Some(sub) = self.subscribers.get_mut(&conn) else {
            return false;
        };
        let mut ok = sub
            .outbox
            .offer(serde_json::to_string(subscribed).unwrap_or_default().into());
        let mut last = latest;
        for (offset, frame) in replay {
            ok = ok && sub.outbox.offer(frame);
            last = last.max(offset);
        }
        for (offset, frame) in sub.pending.take().unwrap_or_default() {
            if offset > last {
                ok = ok && sub.outbox.offer(frame);
                last = offset;
            }
        }
        sub.last = last;
        if !ok {
            self.subscribers.remove(&conn);
            counters.subscriptions.fetch_sub(1, Ordering::Relaxed);
            counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }
}

impl Hub {
    /// An in-memory hub; its epoch is new, so offsets from an earlier relay are not trusted.
    pub fn new(config: HubConfig) -> Self {
        Self::with(
            config,
            Backend::Memory {
                epoch: format!(
                    "{:x}",
                    now_ms() ^ u64::from(std::process::id()).rotate_left(40)
                ),
            },
        )
    }

    /// A hub whose channels live in Redis. Call [`Hub::follow`] to receive events.
    pub fn with_redis(config: HubConfig, redis: Redis) -> Self {
        let hub = Self::with(config, Backend::Redis(Box::new(redis)));
        hub.linked.store(false, Ordering::SeqCst);
        hub
    }

    fn with(config: HubConfig, backend: Backend) -> Self {
        Self {
            channels: Mutex::new(HashMap::new()),
            backend,
            config,
            linked: AtomicBool::new(true),
            counters: Counters::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Channel>> {
        self.channels.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the shared backend answers (always, in memory).
    pub async fn health(&self) -> Result<(), Unavailable> {
        match &self.backend {
            Backend::Memory { .. } => Ok(()),
            Backend::Redis(redis) => {
                redis.ping().await?;
                if self.linked.load(Ordering::SeqCst) {
                    Ok(())
                } else {
                    Err(Unavailable("the pub/sub link to redis is down".into()))
                }
            }
        }
    }

    /// True when the channels live in Redis.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Redis(_))
    }

    /// Publish `event` (already validated) under `id`.
    pub async fn publish(
        &self,
        channel: &str,
        id: &str,
        event: Value,
    ) -> Result<Published, Unavailable> {
        let published = match &self.backend {
            Backend::Memory { .. } => self.publish_here(channel, id, event),
            Backend::Redis(redis) => {
                // Delivered to this node's subscribers, too, by way of pub/sub.
                let appended = redis.publish(channel, id, &event).await?;
                Published {
                    offset: appended.offset,
                    duplicate: appended.duplicate,
                }
            }
        };
        if !published.duplicate {
            self.counters.published.fetch_add(1, Ordering::Relaxed);
        }
        Ok(published)
    }

    fn publish_here(&self, channel: &str, id: &str, event: Value) -> Published {
        let mut channels = self.lock();
        let ch = channels.entry(channel.to_string()).or_default();
        if let Some(&offset) = ch.ids.get(id) {
            return Published {
                offset,
                duplicate: true,
            };
        }
        let offset = ch.latest + 1;
        let ts = now_ms();
        let kind = event["type"].as_str().unwrap_or_default().to_string();
        let frame = RelayFrame::Event {
            channel: channel.to_string(),
            offset,
            id: id.to_string(),
            ts,
            event: event.clone(),
        };
        let frame: Frame = serde_json::to_string(&frame).unwrap_or_default().into();
        ch.snapshot.insert(kind, event);
        ch.history.push_back(Arc::new(Stored {
            offset,
            id: id.to_string(),
            ts,
            frame: frame.clone(),
        }));
        self.trim(ch, ts);
        ch.ids.insert(id.to_string(), offset);
        ch.id_order.push_back(id.to_string());
        while ch.id_order.len() > self.config.history.max(MIN_IDS) {
            if let Some(old) = ch.id_order.pop_front() {
                ch.ids.remove(&old);
            }
        }
        ch.deliver(offset, &frame, &self.counters);
        Published {
            offset,
            duplicate: false,
        }
    }

    fn trim(&self, ch: &mut Channel, now: u64) {
        let oldest = self.oldest(now);
        while ch.history.len() > self.config.history
            || ch.history.front().is_some_and(|e| e.ts < oldest)
        {
            ch.history.pop_front();
        }
    }

    fn oldest(&self, now: u64) -> u64 {
        now.saturating_sub(self.config.history_age.as_millis() as u64)
    }

    /// Subscribe connection `conn`: queue `subscribed` and the replay after `since` into
    /// its outbox, then live events, with nothing missed, repeated or reordered.
    /// Returns whether the replay was complete.
    pub async fn subscribe(
        &self,
        channel: &str,
        conn: u64,
        outbox: Outbox,
        since: Option<u64>,
        epoch: Option<&str>,
    ) -> Result<bool, Unavailable> {
        let redis = match &self.backend {
            Backend::Memory { epoch: ours } => {
                let mut channels = self.lock();
                let ch = channels.entry(channel.to_string()).or_default();
                self.trim(ch, now_ms());
                let same_epoch = epoch.is_none_or(|e| e == ours);
                let (replay, recovered) = replay(
                    since,
                    same_epoch,
                    ch.latest,
                    ch.history.iter().map(|e| (e.offset, e.frame.clone())),
                );
                let subscribed = RelayFrame::Subscribed {
                    channel: channel.to_string(),
                    epoch: ours.clone(),
                    offset: ch.latest,
                    recovered,
                    snapshot: ch.snapshot.values().cloned().collect(),
                };
                self.register(ch, conn, outbox, false);
                let latest = ch.latest;
                ch.start(conn, &subscribed, replay, latest, &self.counters);
                return Ok(recovered);
            }
            Backend::Redis(redis) => redis,
        };
        // Registered first, so live events that race with the read wait in `pending`.
        {
            let mut channels = self.lock();
            let ch = channels.entry(channel.to_string()).or_default();
            self.register(ch, conn, outbox, true);
        }
        let read = match redis.read(channel, since.map(|s| s + 1), true).await {
            Ok(read) => read,
            Err(e) => {
                self.unsubscribe(channel, conn);
                return Err(e);
            }
        };
        let oldest = self.oldest(now_ms());
        let same_epoch = epoch.is_none_or(|e| e == read.epoch);
        let (replay, recovered) = replay(
            since,
            same_epoch,
            read.latest,
            read.entries
                .into_iter()
                .filter(|e| e.ts >= oldest)
                .map(|e| (e.offset, e.frame)),
        );
        let subscribed = RelayFrame::Subscribed {
            channel: channel.to_string(),
            epoch: read.epoch.clone(),
            offset: read.latest,
            recovered,
            snapshot: read.snapshot,
        };
        let mut channels = self.lock();
        let ch = channels.entry(channel.to_string()).or_default();
        if ch.epoch != read.epoch {
            ch.epoch = read.epoch;
            ch.latest = read.latest;
        }
        ch.start(conn, &subscribed, replay, read.latest, &self.counters);
        Ok(recovered)
    }

    fn register(&self, ch: &mut Channel, conn: u64, outbox: Outbox, pending: bool) {
        let sub = Sub {
            outbox,
            last: 0,
            pending: pending.then(Vec::new),
        };
        if ch.subscribers.insert(conn, sub).is_none() {
            self.counters.subscriptions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// End connection `conn`'s subscription to `channel`.
    pub fn unsubscribe(&self, channel: &str, conn: u64) {
        if let Some(ch) = self.lock().get_mut(channel)
            && ch.subscribers.remove(&conn).is_some()
        {
            self.counters.subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Events after `since` still held, the latest offset and epoch, and a notifier for
    /// new ones.
    pub async fn since(&self, channel: &str, since: u64) -> Result<Since, Unavailable> {
        let redis = match &self.backend {
            Backend::Memory { epoch } => {
                let mut channels = self.lock();
                let ch = channels.entry(channel.to_string()).or_default();
                self.trim(ch, now_ms());
                return Ok(Since {
                    frames: ch
                        .history
                        .iter()
                        .filter(|e| e.offset > since)
                        .map(|e| e.frame.clone())
                        .collect(),
                    latest: ch.latest,
                    epoch: epoch.clone(),
                    changed: ch.changed.clone(),
                });
            }
            Backend::Redis(redis) => redis,
        };
        let changed = self.notifier(channel);
        let read = redis.read(channel, Some(since + 1), false).await?;
        let oldest = self.oldest(now_ms());
        Ok(Since {
            frames: read
                .entries
                .into_iter()
                .filter(|e| e.ts >= oldest)
                .map(|e| e.frame)
                .collect(),
            latest: read.latest,
            epoch: read.epoch,
            changed,
        })
    }

    /// Notified when `channel` gets an event on this node (no backend round trip).
    pub fn notifier(&self, channel: &str) -> Arc<Notify> {
        self.lock()
            .entry(channel.to_string())
            .or_default()
            .changed
            .clone()
    }

    /// Number of channels this node has seen.
    pub fn channels(&self) -> usize {
        self.lock().len()
    }

    /// An event from another node (or this one) by way of Redis.
    fn arrived(&self, live: Live) {
        let mut channels = self.lock();
        let Some(ch) = channels.get_mut(&live.channel) else {
            return;
        };
        if ch.epoch != live.epoch {
            if !ch.epoch.is_empty() {
                tracing::warn!(
                    channel = live.channel,
                    "the channel's history was reset in redis; its subscribers must resubscribe"
                );
                for (_, sub) in ch.subscribers.drain() {
                    sub.outbox.kicked.trigger(KickReason::Reset);
                    self.counters.subscriptions.fetch_sub(1, Ordering::Relaxed);
                }
            }
            ch.epoch = live.epoch;
            ch.latest = 0;
        }
        ch.deliver(live.offset, &live.frame, &self.counters);
    }

    /// Read what this node's channels missed while pub/sub was down and deliver it.
    async fn catch_up(&self, redis: &Redis) {
        let wanted: Vec<(String, u64)> = self
            .lock()
            .iter()
            .filter(|(_, ch)| !ch.subscribers.is_empty())
            .map(|(name, ch)| (name.clone(), ch.latest))
            .collect();
        for (channel, latest) in wanted {
            match redis.read(&channel, Some(latest + 1), false).await {
                Ok(read) => {
                    for entry in read.entries {
                        self.arrived(Live {
                            channel: channel.clone(),
                            offset: entry.offset,
                            epoch: read.epoch.clone(),
                            frame: entry.frame,
                        });
                    }
                }
                Err(e) => tracing::warn!(channel, "catching up after a redis outage: {e}"),
            }
        }
    }

    /// Receive events from Redis for ever, reconnecting with backoff; the caller aborts
    /// the task at shutdown. Returns at once for an in-memory hub.
    pub async fn follow(self: Arc<Self>) {
        let Backend::Redis(redis) = &self.backend else {
            return;
        };
        let mut delay = Duration::from_millis(100);
        loop {
            let listener = self.clone();
            let error = redis
                .listen(
                    || async {
                        self.linked.store(true, Ordering::SeqCst);
                        self.catch_up(redis).await;
                    },
                    move |live| listener.arrived(live),
                )
                .await;
            if self.linked.swap(false, Ordering::SeqCst) {
                delay = Duration::from_millis(100);
                tracing::warn!("lost the redis pub/sub link: {error}; reconnecting");
            } else {
                tracing::debug!("redis pub/sub: {error}");
            }
            let jitter = now_ms() % (delay.as_millis() as u64 + 1);
            tokio::time::sleep(delay / 2 + Duration::from_millis(jitter / 2)).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(history: usize) -> Hub {
        Hub::new(HubConfig {
            history,
            history_age: Duration::from_secs(3600),
        })
    }

    fn ev(n: u64) -> Value {
        serde_json::json!({"type": if n.is_multiple_of(2) { "even" } else { "odd" }, "payload": {"n": n}})
    }

    fn drain(rx: &mut mpsc::Receiver<Frame>) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(frame) = rx.try_recv() {
            out.push(serde_json::from_str(&frame).expect("json"));
        }
        out
    }

    #[tokio::test]
    async fn offsets_are_ordered_and_ids_idempotent() {
        let h = hub(10);
        assert_eq!(
            h.publish("c", "a", ev(1)).await.expect("publish"),
            Published {
                offset: 1,
                duplicate: false
            }
        );
        assert_eq!(
            h.publish("c", "b", ev(2)).await.expect("publish"),
            Published {
                offset: 2,
                duplicate: false
            }
        );
        assert_eq!(
            h.publish("c", "a", ev(9)).await.expect("publish"),
            Published {
                offset: 1,
                duplicate: true
            }
        );
        assert_eq!(
            h.publish("other", "a", ev(1))
                .await
                .expect("publish")
                .offset,
            1
        );
    }

    #[tokio::test]
    async fn resume_replays_in_order_and_is_honest_about_gaps() {
        let h = hub(3);
        for n in 1..=5 {
            h.publish("c", &n.to_string(), ev(n))
                .await
                .expect("publish");
        }
        let (outbox, mut rx, _) = Outbox::new(64);
        assert!(
            h.subscribe("c", 1, outbox, Some(2), None)
                .await
                .expect("subscribe"),
            "3..5 are held"
        );
        let frames = drain(&mut rx);
        assert_eq!(frames[0]["type"], "subscribed");
        assert_eq!(frames[0]["offset"], 5);
        assert_eq!(
            frames[0]["snapshot"].as_array().map(Vec::len),
            Some(2),
            "latest of each type"
        );
        let offsets: Vec<_> = frames[1..].iter().map(|f| f["offset"].as_u64()).collect();
        assert_eq!(offsets, [Some(3), Some(4), Some(5)]);

        let (outbox, mut rx, _) = Outbox::new(64);
        assert!(
            !h.subscribe("c", 2, outbox, Some(1), None)
                .await
                .expect("subscribe"),
            "2 was trimmed"
        );
        assert_eq!(drain(&mut rx).len(), 4, "what is held is still replayed");
        let (outbox, _rx, _) = Outbox::new(64);
        assert!(
            !h.subscribe("c", 3, outbox, Some(4), Some("another-epoch"))
                .await
                .expect("subscribe")
        );
        let (outbox, _rx, _) = Outbox::new(64);
        assert!(
            !h.subscribe("c", 4, outbox, Some(99), None)
                .await
                .expect("subscribe"),
            "ahead of the channel: a restart"
        );

        h.publish("c", "6", ev(6)).await.expect("publish");
        let live = drain(&mut rx);
        assert_eq!(live.len(), 1);
        assert_eq!(live[0]["offset"], 6);
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_cut_off_and_others_go_on() {
        let h = hub(100);
        let (slow, _slow_rx, kicked) = Outbox::new(3);
        let (fast, mut fast_rx, _) = Outbox::new(100);
        h.subscribe("c", 1, slow, None, None)
            .await
            .expect("subscribe");
        h.subscribe("c", 2, fast, None, None)
            .await
            .expect("subscribe");
        for n in 1..=10 {
            h.publish("c", &n.to_string(), ev(n))
                .await
                .expect("publish");
        }
        assert!(kicked.flag.load(Ordering::SeqCst));
        assert_eq!(drain(&mut fast_rx).len(), 11);
        assert_eq!(h.counters.dropped.load(Ordering::Relaxed), 1);
        assert_eq!(h.counters.subscriptions.load(Ordering::Relaxed), 1);
    }
}
