//! The hub: this node's fan-out of channels to its subscribers, over a [`Backend`] that
//! holds the channels' state (offsets, bounded history, epoch, snapshot, idempotent
//! publish by id): in memory for one node, in Redis for several.
//!
//! - this module: publish, subscribe with resume (`since`, `epoch`), polling reads, and
//!   following the backend's live events.
//! - `channel`: one channel's subscribers and the delivery path that drops nothing and
//!   repeats nothing, with bounded queues ([`crate::queue`]): a subscriber whose queue is
//!   full is cut off (and counted); nobody else waits for it.

mod channel;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use shotline_protocol::relay::RelayFrame;
use shotline_protocol::retry::backoff;
use tokio::sync::Notify;

use crate::backend::{Appended, Backend, Frame, Live, Memory, Publish, Unavailable};
use crate::contention::{Counted, LockStats};
pub use channel::Subscriber;
use channel::{Channel, replay};

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

/// What a publish did.
pub type Published = Appended;

/// Events after an offset, for polling.
#[derive(Debug)]
pub struct Since {
    /// The finished `event` frames, in order.
    pub frames: Vec<Frame>,
    /// The channel's latest offset.
    pub latest: u64,
    /// The channel's epoch.
    pub epoch: String,
}

/// Forget `channel` when nobody on this node follows it or waits on it.
fn forget_if_idle(channels: &mut HashMap<String, Channel>, channel: &str) {
    if channels
        .get(channel)
        .is_some_and(|ch| ch.idle() && Arc::strong_count(&ch.changed) == 1)
    {
        channels.remove(channel);
    }
}

/// All channels of one relay node.
#[derive(Debug)]
pub struct Hub {
    channels: Counted<HashMap<String, Channel>>,
    backend: Box<dyn Backend>,
    config: HubConfig,
    /// True while the link to a shared backend stands (always true in memory).
    linked: AtomicBool,
    /// Counters.
    pub counters: Counters,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl Hub {
    /// An in-memory hub; its epoch is new, so offsets from an earlier relay are not trusted.
    pub fn memory(config: HubConfig) -> Arc<Self> {
        let backend = Memory::new(config.history, config.history_age);
        Self::new(config, Box::new(backend))
    }

    /// A hub over `backend`. For a shared backend, run [`Hub::follow`] to hear other
    /// nodes' events.
    pub fn new(config: HubConfig, backend: Box<dyn Backend>) -> Arc<Self> {
        let shared = backend.shared();
        Arc::new_cyclic(|hub: &std::sync::Weak<Hub>| {
            let hub = hub.clone();
            backend.set_sink(Arc::new(move |live| {
                if let Some(hub) = hub.upgrade() {
                    hub.arrived(live);
                }
            }));
            Self {
                channels: Counted::new(HashMap::new()),
                backend,
                config,
                linked: AtomicBool::new(!shared),
                counters: Counters::default(),
            }
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Channel>> {
        self.channels.lock()
    }

    /// What the one lock over this node's channels cost, and the backend's own lock over
    /// all channels (in memory; `None` for Redis, whose channels are not locked here).
    pub fn lock_stats(&self) -> (LockStats, Option<LockStats>) {
        (self.channels.stats(), self.backend.lock_stats())
    }

    /// Whether the shared backend answers and its live link stands (always, in memory).
    pub async fn health(&self) -> Result<(), Unavailable> {
        self.backend.health().await?;
        if self.linked.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(Unavailable("the pub/sub link to redis is down".into()))
        }
    }

    /// True when the channels are shared with other nodes (Redis).
    pub fn is_shared(&self) -> bool {
        self.backend.shared()
    }

    /// Publish `event` (already validated) under `id`.
    pub async fn publish(
        &self,
        channel: &str,
        id: &str,
        event: Value,
    ) -> Result<Published, Unavailable> {
        self.publish_excluding(channel, id, event, &[]).await
    }

    /// Publish `event` under `id`, never to be delivered to the subjects in `exclude`,
    /// live or on replay.
    pub async fn publish_excluding(
        &self,
        channel: &str,
        id: &str,
        event: Value,
        exclude: &[String],
    ) -> Result<Published, Unavailable> {
        let published = self
            .backend
            .publish(Publish {
                channel,
                id,
                event: &event,
                exclude,
            })
            .await?;
        if !published.duplicate {
            self.counters.published.fetch_add(1, Ordering::Relaxed);
        }
        Ok(published)
    }

    fn oldest(&self, now: u64) -> u64 {
        now.saturating_sub(self.config.history_age.as_millis() as u64)
    }

    /// Subscribe: queue `subscribed` and the replay after `since` into the subscriber's
    /// queue, then live events, with nothing missed, repeated or reordered. Returns
    /// whether the replay was complete.
    pub async fn subscribe(
        &self,
        channel: &str,
        subscriber: &Subscriber,
        since: Option<u64>,
        epoch: Option<&str>,
    ) -> Result<bool, Unavailable> {
        // Registered first, so live events that race with the read wait in `pending`.
        self.lock()
            .entry(channel.to_string())
            .or_default()
            .register(subscriber, true, &self.counters);
        let read = match self
            .backend
            .read(channel, since.map(|s| s.saturating_add(1)), true)
            .await
        {
            Ok(read) => read,
            Err(e) => {
                self.unsubscribe(channel, subscriber.conn);
                return Err(e);
            }
        };
        let oldest = self.oldest(now_ms());
        let same_epoch = epoch.is_none_or(|e| e == read.epoch);
        let (replay, recovered) = replay(
            since,
            same_epoch,
            read.latest,
            read.entries.into_iter().filter(|e| e.ts >= oldest),
        );
        let subscribed = RelayFrame::Subscribed {
            channel: channel.to_string(),
            epoch: read.epoch.clone(),
            offset: read.latest,
            recovered,
            snapshot: read.snapshot,
        };
        let _writes = crate::outbox::Defer::begin();
        let mut channels = self.lock();
        let ch = channels.entry(channel.to_string()).or_default();
        if ch.epoch != read.epoch {
            ch.epoch = read.epoch;
            ch.latest = read.latest;
        }
        ch.start(
            subscriber.conn,
            &subscribed,
            replay,
            read.latest,
            &self.counters,
        );
        Ok(recovered)
    }

    /// End connection `conn`'s subscription to `channel`; a channel nobody on this
    /// node follows or waits on any more is forgotten here (the backend keeps its state).
    pub fn unsubscribe(&self, channel: &str, conn: u64) {
        let mut channels = self.lock();
        if let Some(ch) = channels.get_mut(channel) {
            ch.remove(conn, &self.counters);
        }
        forget_if_idle(&mut channels, channel);
    }

    /// A long poll is done with `channel`'s notifier.
    pub fn release(&self, channel: &str, notifier: Arc<Notify>) {
        drop(notifier);
        forget_if_idle(&mut self.lock(), channel);
    }

    /// Events after `since` still held, with the latest offset and epoch; not those
    /// that exclude `subject`.
    pub async fn since(
        &self,
        channel: &str,
        since: u64,
        subject: &str,
    ) -> Result<Since, Unavailable> {
        let read = self
            .backend
            .read(channel, Some(since.saturating_add(1)), false)
            .await?;
        let oldest = self.oldest(now_ms());
        Ok(Since {
            frames: read
                .entries
                .into_iter()
                .filter(|e| e.ts >= oldest && !e.exclude.iter().any(|x| x == subject))
                .map(|e| e.frame)
                .collect(),
            latest: read.latest,
            epoch: read.epoch,
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

    /// Number of channels someone on this node follows or waits on.
    pub fn channels(&self) -> usize {
        self.lock().len()
    }

    /// An appended event, from this node or another.
    fn arrived(&self, live: Live) {
        // Dropped after the lock: the frames are queued under it, written after it.
        let _writes = crate::outbox::Defer::begin();
        let mut channels = self.lock();
        let Some(ch) = channels.get_mut(&live.channel) else {
            return;
        };
        if ch.epoch != live.epoch {
            if !ch.epoch.is_empty() {
                tracing::warn!(
                    channel = live.channel,
                    "the channel's history was reset; its subscribers must resubscribe"
                );
                ch.reset(&self.counters);
            }
            ch.epoch = live.epoch;
            ch.latest = 0;
        }
        ch.deliver(&live.entry, &self.counters);
        forget_if_idle(&mut channels, &live.channel);
    }

    /// Read what this node's channels missed while the live link was down and deliver it.
    async fn catch_up(&self) {
        let wanted: Vec<(String, u64)> = self
            .lock()
            .iter()
            .filter(|(_, ch)| !ch.idle())
            .map(|(name, ch)| (name.clone(), ch.latest))
            .collect();
        for (channel, latest) in wanted {
            match self.backend.read(&channel, Some(latest + 1), false).await {
                Ok(read) => {
                    for entry in read.entries {
                        self.arrived(Live {
                            channel: channel.clone(),
                            epoch: read.epoch.clone(),
                            entry,
                        });
                    }
                }
                Err(e) => tracing::warn!(channel, "catching up after a redis outage: {e}"),
            }
        }
    }

    /// Hear other nodes' events for ever, reconnecting with backoff; the caller aborts
    /// the task at shutdown. Returns at once for a hub of one node.
    pub async fn follow(self: Arc<Self>) {
        if !self.backend.shared() {
            return;
        }
        let mut attempt = 0;
        loop {
            let error = self
                .backend
                .follow(Box::pin(async {
                    self.linked.store(true, Ordering::SeqCst);
                    self.catch_up().await;
                }))
                .await;
            if self.linked.swap(false, Ordering::SeqCst) {
                attempt = 0;
                tracing::warn!("lost the redis pub/sub link: {error}; reconnecting");
            } else {
                tracing::debug!("redis pub/sub: {error}");
            }
            attempt += 1;
            let pause = backoff(attempt, Duration::from_millis(100), Duration::from_secs(5));
            tokio::time::sleep(pause).await;
        }
    }
}

#[cfg(test)]
mod tests;
