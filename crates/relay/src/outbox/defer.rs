//! Writes put off while a fan-out runs under the hub's lock: queued frames are listed per
//! thread and written when the [`Defer`] ends, in tasks of a few hundred sockets each, on
//! any of the runtime's workers.

use std::cell::RefCell;
use std::sync::Arc;

use super::Outbox;

/// Outboxes one task writes when a fan-out is spread over the runtime's workers.
const CHUNK: usize = 256;

thread_local! {
    /// Outboxes with writes due when the innermost [`Defer`] of this thread ends.
    static DEFERRED: RefCell<Option<Vec<Arc<Outbox>>>> = const { RefCell::new(None) };
}

/// While one is alive on this thread, queued frames are not written but listed; the
/// writes happen when it is dropped. Create it before taking a lock that a fan-out runs
/// under, so that it drops after the lock: the queueing (which fixes each subscriber's
/// order) stays under the lock and the system calls do not. Never hold one across an
/// `.await`. Without one, [`Outbox::offer`] writes at once.
#[derive(Debug)]
pub struct Defer {
    outer: bool,
}

impl Defer {
    /// Start deferring writes on this thread (nested ones join the outer one).
    pub fn begin() -> Self {
        DEFERRED.with(|d| {
            let mut d = d.borrow_mut();
            let outer = d.is_none();
            if outer {
                *d = Some(Vec::new());
            }
            Self { outer }
        })
    }
}

impl Drop for Defer {
    fn drop(&mut self) {
        if self.outer {
            let due = DEFERRED.with(|d| d.borrow_mut().take()).unwrap_or_default();
            write_all(due);
        }
    }
}

pub(super) fn schedule_write(outbox: Arc<Outbox>) {
    let now = DEFERRED.with(|d| match &mut *d.borrow_mut() {
        Some(due) => {
            due.push(outbox);
            None
        }
        None => Some(outbox),
    });
    if let Some(outbox) = now {
        outbox.flush();
    }
}

/// Write each outbox from tasks of their own, a chunk each, so the writes run after the
/// fan-out that queued them, on any worker. Under load they fall behind the fan-out, and
/// each finds several frames queued per socket and writes them with one `writev`: one
/// system call and one segment for many events. Without a runtime: written here.
fn write_all(mut due: Vec<Arc<Outbox>>) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        due.iter().for_each(|o| o.flush());
        return;
    };
    while !due.is_empty() {
        let chunk = due.split_off(due.len().saturating_sub(CHUNK));
        handle.spawn(async move { chunk.iter().for_each(|o| o.flush()) });
    }
}
