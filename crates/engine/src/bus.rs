//! The in-process event bus: every state change is published once and heard by two kinds
//! of listener.
//!
//! - The **durable stream** ([`Bus::attach_outbox`]): one listener, the relay outbox's
//!   writer, gets every event through an unbounded queue. Nothing is ever dropped from
//!   it, however far the writer falls behind (a library on a slow USB drive or a NAS); the
//!   events wait in memory until they are in the journal.
//! - **Views** ([`Bus::subscribe`]): the terminal view and the desktop window. A slow view
//!   misses events (it is told how many, and re-reads state) rather than slowing the
//!   engine.

use std::sync::{Arc, Mutex};

use shotline_protocol::{Event, Level, Notification};
use tokio::sync::{broadcast, mpsc};

/// How many events a view may fall behind before it starts missing some.
const CAPACITY: usize = 4096;

/// A cheap-to-clone handle for publishing and subscribing.
#[derive(Debug, Clone)]
pub struct Bus {
    tx: broadcast::Sender<Event>,
    durable: Arc<Mutex<Option<mpsc::UnboundedSender<Event>>>>,
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus {
    /// A new bus.
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
            durable: Arc::default(),
        }
    }

    /// Publish an event: into the durable stream when one is attached, and to every view.
    pub fn publish(&self, event: Event) {
        tracing::debug!(kind = event.kind(), "event");
        {
            let mut durable = self.durable.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(tx) = durable.as_ref()
                && tx.send(event.clone()).is_err()
            {
                // The writer is gone (the engine stopped): nothing more to keep.
                *durable = None;
            }
        }
        let _ = self.tx.send(event);
    }

    /// Publish a [`Notification`].
    pub fn notify(
        &self,
        level: Level,
        category: &str,
        title: impl Into<String>,
        message: impl Into<String>,
    ) {
        let (title, message) = (title.into(), message.into());
        match level {
            Level::Critical => tracing::error!(category, "{title}: {message}"),
            Level::Warning => tracing::warn!(category, "{title}: {message}"),
            Level::Info => tracing::info!(category, "{title}: {message}"),
        }
        self.publish(Event::Notification(Notification {
            level,
            category: category.into(),
            title,
            message,
        }));
    }

    /// A view: hear events published from now on; a view that falls behind misses some.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// The durable stream: every event published from now on, none ever dropped. There is
    /// one; attaching again (an engine restarted on the same bus) replaces the previous.
    pub fn attach_outbox(&self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.durable.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shotline_protocol::QueueStatus;

    fn queue(n: u64) -> Event {
        Event::QueueStatus(QueueStatus {
            shots: n,
            ..QueueStatus::default()
        })
    }

    #[test]
    fn the_durable_stream_keeps_what_a_view_misses() {
        let bus = Bus::new();
        let mut view = bus.subscribe();
        let mut durable = bus.attach_outbox();
        let burst = CAPACITY as u64 * 3;
        for n in 0..burst {
            bus.publish(queue(n));
        }
        let mut kept = 0;
        while let Ok(event) = durable.try_recv() {
            assert_eq!(event, queue(kept), "in order");
            kept += 1;
        }
        assert_eq!(kept, burst, "the durable stream dropped events");
        assert!(
            matches!(
                view.try_recv(),
                Err(broadcast::error::TryRecvError::Lagged(_))
            ),
            "a view that falls behind is told"
        );
    }

    #[test]
    fn a_gone_writer_is_let_go() {
        let bus = Bus::new();
        drop(bus.attach_outbox());
        bus.publish(queue(1));
        assert!(bus.durable.lock().expect("lock").is_none());
    }
}
