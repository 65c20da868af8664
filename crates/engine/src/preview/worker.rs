//! The engine's preview task: previews for every stored frame, one at a time on a
//! blocking thread, woken when a frame is stored (and every few seconds, for frames an
//! earlier run stored). A frame that cannot be shown is recorded as such and not tried
//! again; the gallery shows a placeholder with its name.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::journal::Journal;

/// Frames taken per round.
const BATCH: usize = 16;

/// Make previews until shutdown; `made` is woken after each one.
pub async fn run(
    journal: Arc<Journal>,
    library: PathBuf,
    stored: Arc<Notify>,
    made: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let due = {
            let journal = journal.clone();
            tokio::task::spawn_blocking(move || journal.needs_preview(BATCH)).await
        };
        let due = match due {
            Ok(Ok(due)) => due,
            Ok(Err(e)) => {
                tracing::warn!("previews: {e}");
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        if due.is_empty() {
            tokio::select! {
                _ = stored.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = shutdown.changed() => return,
            }
            continue;
        }
        for item in due {
            if *shutdown.borrow() {
                return;
            }
            let (journal, library) = (journal.clone(), library.clone());
            let _ = tokio::task::spawn_blocking(move || {
                let path = library.join(&item.rel_path);
                let outcome = super::make(&path).and_then(|p| {
                    super::store(&library, item.shot_id, &p)?;
                    Ok((p.width, p.height))
                });
                let recorded = match outcome {
                    Ok(size) => journal.preview_done(item.shot_id, Some(size), None),
                    Err(e) => {
                        tracing::info!("no preview of {}: {e}", item.rel_path);
                        journal.preview_done(item.shot_id, None, Some(&e.to_string()))
                    }
                };
                if let Err(e) = recorded {
                    tracing::warn!("previews: {e}");
                }
            })
            .await;
            made.notify_one();
        }
    }
}
