//! The channels of a single node, in this process: one epoch for the process's life, so
//! offsets from an earlier relay are never trusted.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{MutexGuard, OnceLock};
use std::time::Duration;

use serde_json::Value;

use crate::contention::{Counted, LockStats};

use super::{
    Appended, Backend, BoxFuture, Entry, Live, LiveSink, MIN_IDS, Publish, Read, Unavailable,
    event_frame,
};

#[derive(Debug, Default)]
struct Channel {
    latest: u64,
    history: VecDeque<Entry>,
    ids: HashMap<String, u64>,
    id_order: VecDeque<String>,
    snapshot: BTreeMap<String, Value>,
}

/// In-process channels.
pub struct Memory {
    epoch: String,
    history: usize,
    history_age: Duration,
    channels: Counted<HashMap<String, Channel>>,
    sink: OnceLock<LiveSink>,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory")
            .field("epoch", &self.epoch)
            .finish()
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl Memory {
    /// Channels keeping `history` events each, none older than `history_age`.
    pub fn new(history: usize, history_age: Duration) -> Self {
        Self {
            epoch: format!(
                "{:x}",
                now_ms() ^ u64::from(std::process::id()).rotate_left(40)
            ),
            history,
            history_age,
            channels: Counted::new(HashMap::new()),
            sink: OnceLock::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Channel>> {
        self.channels.lock()
    }

    fn trim(&self, ch: &mut Channel, now: u64) {
        let oldest = now.saturating_sub(self.history_age.as_millis() as u64);
        while ch.history.len() > self.history || ch.history.front().is_some_and(|e| e.ts < oldest) {
            ch.history.pop_front();
        }
    }

    fn append(&self, p: &Publish<'_>) -> Appended {
        // The fan-out below queues under the lock; the sockets are written after it.
        let _writes = crate::outbox::Defer::begin();
        let mut channels = self.lock();
        let ch = channels.entry(p.channel.to_string()).or_default();
        if let Some(&offset) = ch.ids.get(p.id) {
            return Appended {
                offset,
                duplicate: true,
            };
        }
        ch.latest += 1;
        let offset = ch.latest;
        let ts = now_ms();
        let entry = Entry {
            offset,
            ts,
            frame: event_frame(p.channel, offset, p.id, ts, p.event),
            exclude: p.exclude.to_vec(),
        };
        let kind = p.event["type"].as_str().unwrap_or_default().to_string();
        ch.snapshot.insert(kind, p.event.clone());
        ch.history.push_back(entry.clone());
        self.trim(ch, ts);
        ch.ids.insert(p.id.to_string(), offset);
        ch.id_order.push_back(p.id.to_string());
        while ch.id_order.len() > self.history.max(MIN_IDS) {
            if let Some(old) = ch.id_order.pop_front() {
                ch.ids.remove(&old);
            }
        }
        // Heard under the lock, so every subscriber sees the channel's offsets in order.
        if let Some(sink) = self.sink.get() {
            sink(Live {
                channel: p.channel.to_string(),
                epoch: self.epoch.clone(),
                entry,
            });
        }
        Appended {
            offset,
            duplicate: false,
        }
    }

    fn read_now(&self, channel: &str, from: Option<u64>, snapshot: bool) -> Read {
        let mut channels = self.lock();
        // A channel that never had an event is not kept for being read.
        let Some(ch) = channels.get_mut(channel) else {
            return Read {
                epoch: self.epoch.clone(),
                latest: 0,
                entries: Vec::new(),
                snapshot: Vec::new(),
            };
        };
        self.trim(ch, now_ms());
        Read {
            epoch: self.epoch.clone(),
            latest: ch.latest,
            entries: match from {
                Some(from) => ch
                    .history
                    .iter()
                    .filter(|e| e.offset >= from)
                    .cloned()
                    .collect(),
                None => Vec::new(),
            },
            snapshot: if snapshot {
                ch.snapshot.values().cloned().collect()
            } else {
                Vec::new()
            },
        }
    }
}

impl Backend for Memory {
    fn shared(&self) -> bool {
        false
    }

    fn lock_stats(&self) -> Option<LockStats> {
        Some(self.channels.stats())
    }

    fn health(&self) -> BoxFuture<'_, Result<(), Unavailable>> {
        Box::pin(async { Ok(()) })
    }

    fn set_sink(&self, sink: LiveSink) {
        let _ = self.sink.set(sink);
    }

    fn publish<'a>(&'a self, publish: Publish<'a>) -> BoxFuture<'a, Result<Appended, Unavailable>> {
        Box::pin(async move { Ok(self.append(&publish)) })
    }

    fn read<'a>(
        &'a self,
        channel: &'a str,
        from: Option<u64>,
        snapshot: bool,
    ) -> BoxFuture<'a, Result<Read, Unavailable>> {
        Box::pin(async move { Ok(self.read_now(channel, from, snapshot)) })
    }

    fn follow<'a>(&'a self, linked: BoxFuture<'a, ()>) -> BoxFuture<'a, Unavailable> {
        Box::pin(async move {
            linked.await;
            std::future::pending().await
        })
    }
}
