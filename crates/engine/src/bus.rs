//! The in-process event bus: every state change is published once and heard by every
//! subscriber (terminal view, desktop UI, relay outbox). A slow subscriber misses events
//! (and is told how many) rather than slowing the engine.

use shotline_protocol::{Event, Level, Notification};
use tokio::sync::broadcast;

/// How many events a subscriber may fall behind before it starts missing some.
const CAPACITY: usize = 4096;

/// A cheap-to-clone handle for publishing and subscribing.
#[derive(Debug, Clone)]
pub struct Bus {
    tx: broadcast::Sender<Event>,
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
        }
    }

    /// Publish an event; with no subscribers it is simply not heard.
    pub fn publish(&self, event: Event) {
        tracing::debug!(kind = event.kind(), "event");
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

    /// Hear every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}
