//! The engine's preview task: previews for every stored frame, one at a time — every
//! thumbnail due before the next 2048 px preview, which is made at background priority,
//! so a burst
//! reaches guests as thumbnails first — woken when a frame is stored (and every few
//! seconds, for frames an earlier run stored). A frame that cannot be shown is recorded as such and not tried
//! again; the gallery shows a placeholder with its name.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::journal::{Journal, NeedsPreview, Stage};

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
    let maker = Maker::start(journal.clone(), library.clone());
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
        // Every thumbnail due first; then one preview, and the thumbnails of frames
        // stored meanwhile before the next.
        let mut previews_done = 0;
        for item in due {
            if *shutdown.borrow() {
                return;
            }
            if item.stage == Stage::Preview {
                if previews_done == 1 {
                    break;
                }
                previews_done += 1;
            }
            maker.make(item).await;
            made.notify_one();
        }
    }
}

/// Where previews are made: thumbnails on the runtime's blocking threads, 2048 px previews
/// on a thread of their own at background priority (the copies, the relay, the window and
/// the next thumbnails come first), or beside the thumbnails if it cannot be started.
struct Maker {
    journal: Arc<Journal>,
    library: PathBuf,
    thread: Option<std::sync::mpsc::Sender<(NeedsPreview, tokio::sync::oneshot::Sender<()>)>>,
}

impl Maker {
    fn start(journal: Arc<Journal>, library: PathBuf) -> Self {
        let (tx, rx) =
            std::sync::mpsc::channel::<(NeedsPreview, tokio::sync::oneshot::Sender<()>)>();
        let (j, l) = (journal.clone(), library.clone());
        let started = std::thread::Builder::new()
            .name("shotline-previews".into())
            .spawn(move || {
                crate::platform::background_thread();
                for (item, done) in rx {
                    make(&j, &l, &item);
                    let _ = done.send(());
                }
            });
        if let Err(e) = &started {
            tracing::warn!("previews: no thread of their own ({e}); made beside the rest");
        }
        Self {
            journal,
            library,
            thread: started.ok().map(|_| tx),
        }
    }

    /// Make what `item` needs: a thumbnail at once (a guest waits for it), a 2048 px
    /// preview on the background thread.
    async fn make(&self, item: NeedsPreview) {
        if let Some(thread) = self
            .thread
            .as_ref()
            .filter(|_| item.stage == Stage::Preview)
        {
            let (done, finished) = tokio::sync::oneshot::channel();
            if thread.send((item, done)).is_ok() {
                let _ = finished.await;
            }
            return;
        }
        let (journal, library) = (self.journal.clone(), self.library.clone());
        let _ = tokio::task::spawn_blocking(move || make(&journal, &library, &item)).await;
    }
}

/// Make what `item` needs next, and record it.
fn make(journal: &Journal, library: &std::path::Path, item: &NeedsPreview) {
    let path = library.join(&item.rel_path);
    let (preview, thumb) = super::paths(library, item.shot_id);
    let bytes = std::fs::read(&path).map_err(super::PreviewError::from);
    let recorded = match item.stage {
        Stage::Thumbnail => {
            let made = bytes.and_then(|b| super::thumbnail_from(&b)).and_then(|t| {
                super::store_one(&thumb, &t.thumbnail)?;
                Ok((t.width, t.height))
            });
            match made {
                Ok(size) => journal.thumbnail_done(item.shot_id, size),
                Err(e) => {
                    tracing::info!("no preview of {}: {e}", item.rel_path);
                    journal.preview_done(item.shot_id, None, Some(&e.to_string()))
                }
            }
        }
        Stage::Preview => {
            let made = bytes
                .and_then(|b| Ok((super::preview_from(&b)?, super::source(&b)?.size())))
                .and_then(|(p, size)| {
                    super::store_one(&preview, &p)?;
                    Ok(size)
                });
            match made {
                Ok(size) => journal.preview_done(item.shot_id, Some(size), None),
                Err(e) => {
                    tracing::info!("no 2048 px preview of {}: {e}", item.rel_path);
                    journal.preview_failed(item.shot_id, &e.to_string())
                }
            }
        }
    };
    if let Err(e) = recorded {
        tracing::warn!("previews: {e}");
    }
}
