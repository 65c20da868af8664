//! A Socket.IO client's commands (`subscribe`, `unsubscribe`, `publish`), wired at the
//! door and queued in arrival order for its session, bounded by count and by bytes: more
//! are answered `rate_limited` at once (a publisher pipelining a burst fits; a client
//! piling up megabytes does not).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use shotline_protocol::relay::ErrorCode;
use socketioxide::extract::{AckSender, SocketRef, TryData};
use tokio::sync::mpsc;

/// A command a client sent.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Subscribe,
    Unsubscribe,
    Publish,
}

pub(super) fn refusal(code: ErrorCode, message: impl Into<String>) -> Value {
    json!({"error": {"code": code, "message": message.into()}})
}

/// One command waiting: what it is, its data, its ack, its size as JSON (bytes), and
/// the client's count of waiting bytes, which the session gives back as it takes it.
pub(super) struct Queued {
    pub(super) kind: Kind,
    pub(super) data: Option<Value>,
    pub(super) ack: AckSender,
    pub(super) size: usize,
    waiting: Arc<AtomicUsize>,
}

impl Queued {
    /// The session takes it: its bytes no longer wait.
    pub(super) fn taken(&self) {
        self.waiting.fetch_sub(self.size, Ordering::Relaxed);
    }
}

/// A client's commands, in arrival order, from its handlers to its session. Boxed: a
/// channel's first block holds 32 of them, and an idle client's memory counts.
pub(super) type Command = Box<Queued>;

/// Commands a client may have waiting at once.
const COMMANDS: usize = 4096;
/// Bytes of commands a client may have waiting at once.
const WAITING_BYTES: usize = 4 << 20;

/// The commands a client sends before its session exists, taken when its session starts.
#[derive(Clone)]
pub struct Pending(pub(super) Arc<Mutex<Option<mpsc::Receiver<Command>>>>);

/// Wire the client's events, at the door: socket.io sends the connect packet before the
/// connect handler runs (as a task of its own), so an event the client sends at once
/// would reach no handler and be lost. Each handler only queues its command, at once
/// and in arrival order (socket.io runs handlers' futures as tasks of their own, in no
/// order); the session's one task carries them out.
pub fn listen(socket: &SocketRef) -> Pending {
    let (commands, queued) = mpsc::channel(COMMANDS);
    let waiting = Arc::new(AtomicUsize::new(0));
    for (name, kind) in [
        ("subscribe", Kind::Subscribe),
        ("unsubscribe", Kind::Unsubscribe),
        ("publish", Kind::Publish),
    ] {
        let (commands, waiting) = (commands.clone(), waiting.clone());
        socket.on(
            name,
            move |TryData(data): TryData<Value>, ack: AckSender| {
                let data = data.ok();
                let size = data
                    .as_ref()
                    .map_or(0, |d| serde_json::to_vec(d).map_or(0, |v| v.len()));
                let refuse = |ack: AckSender| {
                    let _ = ack.send(&refusal(
                        ErrorCode::RateLimited,
                        format!(
                            "more than {COMMANDS} commands or {} MB waiting; wait for their acks",
                            WAITING_BYTES >> 20
                        ),
                    ));
                };
                if waiting.fetch_add(size, Ordering::Relaxed) + size > WAITING_BYTES {
                    waiting.fetch_sub(size, Ordering::Relaxed);
                    refuse(ack);
                } else if let Err(mpsc::error::TrySendError::Full(command)) =
                    commands.try_send(Box::new(Queued {
                        kind,
                        data,
                        ack,
                        size,
                        waiting: waiting.clone(),
                    }))
                {
                    command.taken();
                    refuse(command.ack);
                }
                std::future::ready(())
            },
        );
    }
    Pending(Arc::new(Mutex::new(Some(queued))))
}
