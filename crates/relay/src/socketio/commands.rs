//! A Socket.IO client's commands (`subscribe`, `unsubscribe`, `publish`), wired at the
//! door and queued in arrival order for its session, at most 64 waiting: more are
//! answered `rate_limited` at once.

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

/// A client's commands, in arrival order, from its handlers to its session. Boxed: a
/// channel's first block holds 32 of them, and an idle client's memory counts.
pub(super) type Command = Box<(Kind, Option<Value>, AckSender)>;

/// Commands a client may have waiting at once; more are refused (`rate_limited`).
const COMMANDS: usize = 64;

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
    for (name, kind) in [
        ("subscribe", Kind::Subscribe),
        ("unsubscribe", Kind::Unsubscribe),
        ("publish", Kind::Publish),
    ] {
        let commands = commands.clone();
        socket.on(
            name,
            move |TryData(data): TryData<Value>, ack: AckSender| {
                if let Err(mpsc::error::TrySendError::Full(command)) =
                    commands.try_send(Box::new((kind, data.ok(), ack)))
                {
                    let (_, _, ack) = *command;
                    let _ = ack.send(&refusal(
                        ErrorCode::RateLimited,
                        format!("more than {COMMANDS} commands waiting; wait for their acks"),
                    ));
                }
                std::future::ready(())
            },
        );
    }
    Pending(Arc::new(Mutex::new(Some(queued))))
}
