//! The outbox writer: every event of the bus's durable stream goes into the journal's
//! outbox, in batches (a burst costs one transaction, one fsync). It cannot lose an event:
//! the stream never drops one, a batch that fails to write is written again, and at
//! shutdown the writer stops only once every service has stopped publishing and the
//! stream is empty.

use std::sync::Arc;
use std::time::Duration;

use shotline_protocol::Event;
use tokio::sync::{Notify, mpsc, watch};

use crate::journal::Journal;

/// Events gathered into one outbox transaction, at most.
const BATCH: usize = 512;

/// Write every event from `rx` into the outbox as `<studio>:<suffix>` until `stop` is
/// set, then everything still queued. Set `stop` only after the publishers have stopped.
pub async fn write_outbox(
    journal: Arc<Journal>,
    mut rx: mpsc::UnboundedReceiver<Event>,
    studio: String,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut stopping = false;
    let mut spent = Spent::default();
    loop {
        let first = if stopping {
            rx.try_recv().ok()
        } else {
            tokio::select! {
                event = rx.recv() => event,
                _ = stop.changed() => {
                    stopping = true;
                    continue;
                }
            }
        };
        let Some(first) = first else { break };
        let mut batch = vec![row(&studio, &first)];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(event) => batch.push(row(&studio, &event)),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let rows = batch.len();
        write(&journal, batch, &mut stop, stopping).await;
        spent.add(rows, started.elapsed());
        wake.notify_one();
    }
    tracing::info!(
        "relay outbox: {} events in {} batches, {} ms writing",
        spent.events,
        spent.batches,
        spent.time.as_millis()
    );
}

/// What the writer did over a run (logged at the end; `cargo xtask bench burst` reads it).
#[derive(Debug, Default)]
struct Spent {
    events: usize,
    batches: usize,
    time: Duration,
}

impl Spent {
    fn add(&mut self, events: usize, time: Duration) {
        self.events += events;
        self.batches += 1;
        self.time += time;
    }
}

/// The outbox row of one event: its relay channel and JSON text.
fn row(studio: &str, event: &Event) -> (String, String) {
    let channel = format!("{studio}:{}", event.channel_suffix());
    let json = serde_json::to_string(event)
        .unwrap_or_else(|e| unreachable!("events always serialise: {e}"));
    (channel, json)
}

/// Write one batch, trying again with backoff while the journal refuses it (a disk that
/// is full or gone for a moment): dropping it would lose the events for good.
async fn write(
    journal: &Arc<Journal>,
    batch: Vec<(String, String)>,
    stop: &mut watch::Receiver<bool>,
    stopping: bool,
) {
    let batch = Arc::new(batch);
    let mut attempt = 0;
    loop {
        let (journal, rows) = (journal.clone(), batch.clone());
        let result = tokio::task::spawn_blocking(move || {
            slow_disk(rows.len());
            journal.push_events(&rows)
        })
        .await;
        let why = match result {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        attempt += 1;
        tracing::error!(
            "writing {} events to the relay outbox (attempt {attempt}): {why}; trying again",
            batch.len()
        );
        if stopping && attempt >= 3 {
            tracing::error!("stopping with {} events not in the outbox", batch.len());
            return;
        }
        let pause = shotline_protocol::retry::backoff(
            attempt,
            Duration::from_millis(100),
            Duration::from_secs(5),
        );
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed(), if !stopping => {}
        }
    }
}

/// Test hook (feature `test-hooks`): `SHOTLINE_TEST_OUTBOX_DELAY_MS` milliseconds per
/// event written, a library disk whose fsync is slow.
#[cfg(feature = "test-hooks")]
fn slow_disk(rows: usize) {
    let ms = std::env::var("SHOTLINE_TEST_OUTBOX_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    std::thread::sleep(Duration::from_millis(ms.saturating_mul(rows as u64)));
}

#[cfg(not(feature = "test-hooks"))]
fn slow_disk(_rows: usize) {}

#[cfg(test)]
mod tests {
    use super::*;
    use shotline_protocol::QueueStatus;

    #[tokio::test]
    async fn everything_published_before_stop_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = Arc::new(Journal::open(&dir.path().join("j.sqlite")).expect("journal"));
        let bus = crate::Bus::new();
        let (stop, stopped) = watch::channel(false);
        let writer = tokio::spawn(write_outbox(
            journal.clone(),
            bus.attach_outbox(),
            "s".into(),
            Arc::new(Notify::new()),
            stopped,
        ));
        for shots in 0..5000 {
            bus.publish(Event::QueueStatus(QueueStatus {
                shots,
                ..QueueStatus::default()
            }));
        }
        stop.send_replace(true);
        writer.await.expect("writer");
        assert_eq!(journal.outbox_len().expect("len"), 5000);
        let rows = journal.events_after(0, 5000).expect("rows");
        assert!(rows.iter().all(|r| r.channel == "s:status"));
        assert!(rows[4999].event.contains("\"shots\":4999"), "in order");
    }
}
