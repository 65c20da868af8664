//! A connection's outgoing queue: bounded, so a subscriber that falls too far behind is
//! cut off (and told why) instead of slowing anyone else; frames are shared, not copied.
//! Either a channel the connection's task empties, or (plain WebSocket) an [`Outbox`]
//! written straight to the socket.

use std::cell::OnceCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use tokio::sync::{Notify, mpsc};

pub use crate::backend::Frame;
use crate::outbox::{Offered, Outbox};

/// A connection's outgoing queue and its cut-off switch (cheap to clone: one per
/// subscription holds it).
#[derive(Debug, Clone)]
pub struct Queue {
    sink: Sink,
    kicked: Arc<Kick>,
}

/// Where a queue's frames go.
#[derive(Debug, Clone)]
enum Sink {
    /// To the connection's task.
    Task(mpsc::Sender<Frame>),
    /// Straight to the socket.
    Direct(Arc<Outbox>),
}

/// Set when a connection must be cut off: it fell too far behind, its channel's history
/// was reset under it, or an admin disconnected it.
#[derive(Debug, Default)]
pub struct Kick {
    flag: AtomicBool,
    reason: std::sync::Mutex<Option<KickReason>>,
    notify: Notify,
}

/// Why a connection was cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickReason {
    /// Its queue was full.
    Slow,
    /// A channel it follows started a new epoch; it must subscribe again.
    Reset,
    /// An admin disconnected it, or its token was revoked.
    Disconnected,
    /// Its token (with the clock leeway), or the share it looks at, expired.
    Expired,
}

impl Kick {
    /// Cut the connection off; the first reason given is the one told.
    pub fn trigger(&self, reason: KickReason) {
        self.reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(reason);
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// True once cut off.
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Wait until cut off; says why.
    pub async fn wait(&self) -> KickReason {
        while !self.flag.load(Ordering::SeqCst) {
            self.notify.notified().await;
        }
        self.reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or(KickReason::Slow)
    }
}

impl Queue {
    /// A queue of `capacity` frames; the receiver is the connection's.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<Frame>, Arc<Kick>) {
        let (tx, rx) = mpsc::channel(capacity);
        let kicked = Arc::new(Kick::default());
        (
            Self {
                sink: Sink::Task(tx),
                kicked: kicked.clone(),
            },
            rx,
            kicked,
        )
    }

    /// A queue that writes into `outbox` (its bound is the outbox's).
    pub fn direct(outbox: Arc<Outbox>) -> (Self, Arc<Kick>) {
        let kicked = Arc::new(Kick::default());
        (
            Self {
                sink: Sink::Direct(outbox),
                kicked: kicked.clone(),
            },
            kicked,
        )
    }

    /// Queue a frame; false (and the connection cut off) when the queue is full.
    pub fn offer(&self, frame: Frame) -> bool {
        let offered = match &self.sink {
            Sink::Task(tx) => match tx.try_send(frame) {
                Ok(()) => Offered::Queued,
                Err(mpsc::error::TrySendError::Full(_)) => Offered::Full,
                Err(mpsc::error::TrySendError::Closed(_)) => Offered::Closed,
            },
            Sink::Direct(outbox) => outbox.offer(frame),
        };
        self.offered(offered)
    }

    /// Queue an event's frame; a socket written straight to takes `wire`, the frame
    /// framed once (on first need) for every subscriber of the fan-out. As
    /// [`Queue::offer`] otherwise.
    pub fn offer_event(&self, frame: &Frame, wire: &OnceCell<Bytes>) -> bool {
        let Sink::Direct(outbox) = &self.sink else {
            return self.offer(frame.clone());
        };
        let wire = wire.get_or_init(|| crate::outbox::text_frame(frame.as_bytes()));
        self.offered(outbox.offer_framed(wire.clone()))
    }

    /// True if queued; a full queue cuts the connection off.
    fn offered(&self, offered: Offered) -> bool {
        if offered == Offered::Full {
            self.kicked.trigger(KickReason::Slow);
        }
        offered == Offered::Queued
    }

    /// Cut the connection off.
    pub fn kick(&self, reason: KickReason) {
        self.kicked.trigger(reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_cuts_off_and_the_first_reason_stays() {
        let (queue, _rx, kicked) = Queue::new(1);
        assert!(queue.offer("a".into()));
        assert!(!kicked.is_set());
        assert!(!queue.offer("b".into()));
        assert!(kicked.is_set());
        queue.kick(KickReason::Disconnected);
        let reason = futures_util::FutureExt::now_or_never(kicked.wait());
        assert_eq!(reason, Some(KickReason::Slow));
    }

    #[test]
    fn an_event_is_framed_only_for_a_socket_written_straight_to() {
        let (queue, mut rx, _kicked) = Queue::new(4);
        let wire = OnceCell::new();
        let frame: Frame = "event".into();
        assert!(queue.offer_event(&frame, &wire));
        assert_eq!(rx.try_recv().ok(), Some(frame));
        assert!(
            wire.get().is_none(),
            "a task's queue takes the frame as it is"
        );
    }
}
