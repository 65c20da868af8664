//! One channel's subscribers on this node, and the one delivery path that drops nothing
//! and repeats nothing: each subscriber remembers the last offset it was sent, and while
//! its replay is being read, live events wait in its pending list.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use shotline_protocol::relay::RelayFrame;
use tokio::sync::Notify;

use super::Counters;
use crate::backend::{Entry, Frame};
use crate::queue::Queue;

/// A connection subscribing to a channel.
#[derive(Debug, Clone)]
pub struct Subscriber {
    /// The connection's id on this node.
    pub conn: u64,
    /// Its outgoing queue.
    pub queue: Queue,
    /// Who it is (the token's `sub`): events that exclude this subject never reach it.
    pub subject: Arc<str>,
}

/// One subscriber of a channel on this node.
#[derive(Debug)]
struct Sub {
    queue: Queue,
    subject: Arc<str>,
    /// The last offset sent to it.
    last: u64,
    /// Live events that arrived while its replay was being read.
    pending: Option<Vec<Entry>>,
}

/// A channel as this node knows it.
#[derive(Debug, Default)]
pub(super) struct Channel {
    /// The latest offset this node knows of.
    pub latest: u64,
    /// The epoch `latest` belongs to (empty until known).
    pub epoch: String,
    subscribers: HashMap<u64, Sub>,
    /// Notified on every event (long polls wait on it).
    pub changed: Arc<Notify>,
}

/// Whether `entry` may go to `subject`.
fn for_subject(entry: &Entry, subject: &str) -> bool {
    !entry.exclude.iter().any(|x| x == subject)
}

/// The events to replay after `since`, and whether they close the gap: `held` are the
/// events still kept, in order and without holes.
pub(super) fn replay(
    since: Option<u64>,
    same_epoch: bool,
    latest: u64,
    held: impl Iterator<Item = Entry>,
) -> (Vec<Entry>, bool) {
    match since {
        Some(since) if same_epoch && since <= latest => {
            let replay: Vec<Entry> = held.filter(|e| e.offset > since).collect();
            let recovered = since == latest
                || replay
                    .first()
                    .is_some_and(|e| e.offset == since.saturating_add(1));
            (replay, recovered)
        }
        _ => (Vec::new(), false),
    }
}

impl Channel {
    /// True when nobody on this node follows it.
    pub fn idle(&self) -> bool {
        self.subscribers.is_empty()
    }

    /// Send `entry` to every subscriber that has not had it; cut off those that cannot
    /// take it.
    pub fn deliver(&mut self, entry: &Entry, counters: &Counters) {
        self.latest = self.latest.max(entry.offset);
        let mut cut = Vec::new();
        let wire = std::cell::OnceCell::new();
        for (conn, sub) in &mut self.subscribers {
            if let Some(pending) = &mut sub.pending {
                pending.push(entry.clone());
            } else if entry.offset > sub.last {
                sub.last = entry.offset;
                if !for_subject(entry, &sub.subject) {
                    continue;
                }
                if sub.queue.offer_event(&entry.frame, &wire) {
                    counters.delivered.fetch_add(1, Ordering::Relaxed);
                } else {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                    cut.push(*conn);
                }
            }
        }
        for conn in cut {
            self.remove(conn, counters);
        }
        self.changed.notify_waiters();
    }

    /// Add a subscriber; with `pending`, live events wait until [`Channel::start`].
    pub fn register(&mut self, subscriber: &Subscriber, pending: bool, counters: &Counters) {
        let sub = Sub {
            queue: subscriber.queue.clone(),
            subject: subscriber.subject.clone(),
            last: 0,
            pending: pending.then(Vec::new),
        };
        if self.subscribers.insert(subscriber.conn, sub).is_none() {
            counters.subscriptions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Remove a subscriber; true if it was there.
    pub fn remove(&mut self, conn: u64, counters: &Counters) -> bool {
        let removed = self.subscribers.remove(&conn).is_some();
        if removed {
            counters.subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    /// Cut off every subscriber (the channel's history was reset); they must subscribe
    /// again.
    pub fn reset(&mut self, counters: &Counters) {
        for (_, sub) in self.subscribers.drain() {
            sub.queue.kick(crate::queue::KickReason::Reset);
            counters.subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Queue `subscribed` and the replay to a registered subscriber, then whatever waited
    /// in its pending list, and make it live. False if it was cut off on the way.
    pub fn start(
        &mut self,
        conn: u64,
        subscribed: &RelayFrame,
        replay: Vec<Entry>,
        latest: u64,
        counters: &Counters,
    ) -> bool {
        let Some(sub) = self.subscribers.get_mut(&conn) else {
            return false;
        };
        let frame: Frame = serde_json::to_string(subscribed)
            .unwrap_or_else(|e| unreachable!("frames serialise: {e}"))
            .into();
        let mut ok = sub.queue.offer(frame);
        let mut last = latest;
        for entry in replay {
            if for_subject(&entry, &sub.subject) {
                ok = ok && sub.queue.offer(entry.frame);
            }
            last = last.max(entry.offset);
        }
        // Live events that raced with the read: only those the replay did not hold.
        for entry in sub.pending.take().unwrap_or_default() {
            if entry.offset > last {
                if for_subject(&entry, &sub.subject) {
                    ok = ok && sub.queue.offer(entry.frame);
                }
                last = entry.offset;
            }
        }
        sub.last = last;
        if !ok {
            self.remove(conn, counters);
            counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }
}
