//! Channels in memory: ordered offsets, bounded history (count and age) for resume, an
//! epoch per history generation, the latest event of each type as a snapshot, idempotent
//! publish by id, and fan-out to subscribers through bounded queues. A subscriber whose
//! queue is full is cut off (and counted); nobody else waits for it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use shotline_protocol::relay::RelayFrame;
use tokio::sync::{Notify, mpsc};

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
    pub frame: Arc<str>,
}

/// A connection's outgoing queue and its cut-off switch.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Arc<str>>,
    kicked: Arc<Kick>,
}

/// Set when a connection fell too far behind.
#[derive(Debug, Default)]
pub struct Kick {
    flag: AtomicBool,
    notify: Notify,
}

impl Kick {
    /// Cut the connection off.
    pub fn trigger(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Wait until cut off.
    pub async fn wait(&self) {
        while !self.flag.load(Ordering::SeqCst) {
            self.notify.notified().await;
        }
    }
}

impl Outbox {
    /// A queue of `capacity` frames; the receiver is the connection's.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<Arc<str>>, Arc<Kick>) {
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
    pub fn offer(&self, frame: Arc<str>) -> bool {
        match self.tx.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kicked.trigger();
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
    /// Events taken (duplicates not counted).
    pub published: AtomicU64,
    /// Frames queued to subscribers.
    pub delivered: AtomicU64,
    /// Frames not delivered because a subscriber was too slow (it was cut off).
    pub dropped: AtomicU64,
    /// Live subscriptions.
    pub subscriptions: AtomicU64,
}

#[derive(Debug, Default)]
struct Channel {
    latest: u64,
    history: VecDeque<Arc<Stored>>,
    ids: HashMap<String, u64>,
    id_order: VecDeque<String>,
    snapshot: BTreeMap<String, Value>,
    subscribers: HashMap<u64, Outbox>,
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

/// All channels of one relay.
#[derive(Debug)]
pub struct Hub {
    channels: Mutex<HashMap<String, Channel>>,
    config: HubConfig,
    epoch: String,
    /// Counters.
    pub counters: Counters,
}

/// How many ids are remembered for duplicate detection beyond the history.
const MIN_IDS: usize = 10_000;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl Hub {
    /// An empty hub; its epoch is new, so offsets from an earlier relay are not trusted.
    pub fn new(config: HubConfig) -> Self {
        Self {
            channels: Mutex::new(HashMap::new()),
            config,
            epoch: format!(
                "{:x}",
                now_ms() ^ u64::from(std::process::id()).rotate_left(40)
            ),
            counters: Counters::default(),
        }
    }

    /// This hub's epoch.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Channel>> {
        self.channels.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publish `event` (already validated) under `id`.
    pub fn publish(&self, channel: &str, id: &str, event: Value) -> Published {
        let mut channels = self.lock();
        let ch = channels.entry(channel.to_string()).or_default();
        if let Some(&offset) = ch.ids.get(id) {
            return Published {
                offset,
                duplicate: true,
            };
        }
        ch.latest += 1;
        let offset = ch.latest;
        let ts = now_ms();
        let kind = event["type"].as_str().unwrap_or_default().to_string();
        let frame = RelayFrame::Event {
            channel: channel.to_string(),
            offset,
            id: id.to_string(),
            ts,
            event: event.clone(),
        };
        let frame: Arc<str> = serde_json::to_string(&frame).unwrap_or_default().into();
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
        let mut cut = Vec::new();
        for (conn, outbox) in &ch.subscribers {
            if outbox.offer(frame.clone()) {
                self.counters.delivered.fetch_add(1, Ordering::Relaxed);
            } else {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                cut.push(*conn);
            }
        }
        for conn in cut {
            ch.subscribers.remove(&conn);
            self.counters.subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
        ch.changed.notify_waiters();
        self.counters.published.fetch_add(1, Ordering::Relaxed);
        Published {
            offset,
            duplicate: false,
        }
    }

    fn trim(&self, ch: &mut Channel, now: u64) {
        let oldest = now.saturating_sub(self.config.history_age.as_millis() as u64);
        while ch.history.len() > self.config.history
            || ch.history.front().is_some_and(|e| e.ts < oldest)
        {
            ch.history.pop_front();
        }
    }

    /// Subscribe connection `conn`: queue `subscribed` and the replay after `since` into
    /// its outbox, then live events, all under one lock so nothing is missed or reordered.
    /// Returns whether the replay was complete.
    pub fn subscribe(
        &self,
        channel: &str,
        conn: u64,
        outbox: Outbox,
        since: Option<u64>,
        epoch: Option<&str>,
    ) -> bool {
        let mut channels = self.lock();
        let ch = channels.entry(channel.to_string()).or_default();
        self.trim(ch, now_ms());
        let same_epoch = epoch.is_none_or(|e| e == self.epoch);
        let (replay, recovered): (Vec<Arc<Stored>>, bool) = match since {
            Some(since) if same_epoch && since <= ch.latest => {
                let first = ch.history.front().map_or(ch.latest + 1, |e| e.offset);
                let replay = ch
                    .history
                    .iter()
                    .filter(|e| e.offset > since)
                    .cloned()
                    .collect();
                (replay, since + 1 >= first)
            }
            _ => (Vec::new(), false),
        };
        let subscribed = RelayFrame::Subscribed {
            channel: channel.to_string(),
            epoch: self.epoch.clone(),
            offset: ch.latest,
            recovered,
            snapshot: ch.snapshot.values().cloned().collect(),
        };
        let mut ok = outbox.offer(
            serde_json::to_string(&subscribed)
                .unwrap_or_default()
                .into(),
        );
        for event in replay {
            ok = ok && outbox.offer(event.frame.clone());
        }
        if ok && ch.subscribers.insert(conn, outbox).is_none() {
            self.counters.subscriptions.fetch_add(1, Ordering::Relaxed);
        }
        recovered
    }

    /// End connection `conn`'s subscription to `channel`.
    pub fn unsubscribe(&self, channel: &str, conn: u64) {
        if let Some(ch) = self.lock().get_mut(channel)
            && ch.subscribers.remove(&conn).is_some()
        {
            self.counters.subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Events after `since` still held, the latest offset, and a notifier for new ones.
    pub fn since(&self, channel: &str, since: u64) -> (Vec<Arc<Stored>>, u64, Arc<Notify>) {
        let mut channels = self.lock();
        let ch = channels.entry(channel.to_string()).or_default();
        self.trim(ch, now_ms());
        let events = ch
            .history
            .iter()
            .filter(|e| e.offset > since)
            .cloned()
            .collect();
        (events, ch.latest, ch.changed.clone())
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.lock().len()
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

    fn drain(rx: &mut mpsc::Receiver<Arc<str>>) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(frame) = rx.try_recv() {
            out.push(serde_json::from_str(&frame).expect("json"));
        }
        out
    }

    #[test]
    fn offsets_are_ordered_and_ids_idempotent() {
        let h = hub(10);
        assert_eq!(
            h.publish("c", "a", ev(1)),
            Published {
                offset: 1,
                duplicate: false
            }
        );
        assert_eq!(
            h.publish("c", "b", ev(2)),
            Published {
                offset: 2,
                duplicate: false
            }
        );
        assert_eq!(
            h.publish("c", "a", ev(9)),
            Published {
                offset: 1,
                duplicate: true
            }
        );
        assert_eq!(h.publish("other", "a", ev(1)).offset, 1);
    }

    #[test]
    fn resume_replays_in_order_and_is_honest_about_gaps() {
        let h = hub(3);
        for n in 1..=5 {
            h.publish("c", &n.to_string(), ev(n));
        }
        let (outbox, mut rx, _) = Outbox::new(64);
        assert!(h.subscribe("c", 1, outbox, Some(2), None), "3..5 are held");
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
        assert!(!h.subscribe("c", 2, outbox, Some(1), None), "2 was trimmed");
        assert_eq!(drain(&mut rx).len(), 4, "what is held is still replayed");
        let (outbox, _rx, _) = Outbox::new(64);
        assert!(!h.subscribe("c", 3, outbox, Some(4), Some("another-epoch")));
        let (outbox, _rx, _) = Outbox::new(64);
        assert!(
            !h.subscribe("c", 4, outbox, Some(99), None),
            "ahead of the channel: a restart"
        );

        h.publish("c", "6", ev(6));
        let live = drain(&mut rx);
        assert_eq!(live.len(), 1);
        assert_eq!(live[0]["offset"], 6);
    }

    #[test]
    fn a_slow_subscriber_is_cut_off_and_others_go_on() {
        let h = hub(100);
        let (slow, _slow_rx, kicked) = Outbox::new(3);
        let (fast, mut fast_rx, _) = Outbox::new(100);
        h.subscribe("c", 1, slow, None, None);
        h.subscribe("c", 2, fast, None, None);
        for n in 1..=10 {
            h.publish("c", &n.to_string(), ev(n));
        }
        assert!(kicked.flag.load(Ordering::SeqCst));
        assert_eq!(drain(&mut fast_rx).len(), 11);
        assert_eq!(h.counters.dropped.load(Ordering::Relaxed), 1);
        assert_eq!(h.counters.subscriptions.load(Ordering::Relaxed), 1);
    }
}
