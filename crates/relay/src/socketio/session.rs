//! One Socket.IO client, bridged onto the hub: its own bounded queue (as every transport
//! has), forwarded in order as `event`s with the same object as a WebSocket `event` frame;
//! `subscribe` acked with the `subscribed` object (before its replay), `publish` acked
//! with `{offset}`; every refusal acked as `{error: {code, message}}`. An admin's
//! disconnect, a revocation or a full queue disconnects it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::{Value, json};
use shotline_protocol::relay::ErrorCode;
use socketioxide::extract::{AckSender, SocketRef, State};
use socketioxide::socket::DisconnectReason;
use socketioxide::{SendError, SocketError};
use tokio::sync::{mpsc, oneshot};

use super::commands::{Command, Kind, Pending, refusal};
use crate::access::{Registered, Transport};
use crate::auth::Claims;
use crate::http::{admit, deliver, refuse};
use crate::hub::Subscriber;
use crate::queue::{Frame, Kick, Queue};
use crate::rate::Budget;

/// What one client keeps.
struct Session {
    state: Arc<crate::State>,
    claims: Arc<Claims>,
    conn: u64,
    queue: Queue,
    registered: Registered,
    subscriptions: Mutex<HashSet<String>>,
    /// Subscribes waiting for their `subscribed` frame, by channel.
    acks: Mutex<HashMap<String, VecDeque<AckSender>>>,
    budget: Mutex<Budget>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    /// The client's place at the door.
    _admitted: Arc<crate::access::gate::Admitted>,
    /// Its address, for the answers' budget.
    remote: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A client passed the door: register it, start its session and its forwarder.
pub async fn connected(socket: SocketRef, State(state): State<Arc<crate::State>>) {
    let claims = socket.extensions.get::<Arc<Claims>>();
    let queued = socket
        .extensions
        .get::<Pending>()
        .and_then(|p| lock(&p.0).take());
    let admitted = socket
        .extensions
        .get::<Arc<crate::access::gate::Admitted>>();
    let (Some(claims), Some(queued), Some(admitted)) = (claims, queued, admitted) else {
        let _ = socket.disconnect();
        return;
    };
    let conn = state.next_conn();
    state.connections.fetch_add(1, Ordering::Relaxed);
    let (queue, rx, kicked) = Queue::new(state.config.queue.max(state.config.history + 16));
    let remote = super::remote(socket.req_parts());
    let registered = state.access.register(
        conn,
        &claims,
        Transport::SocketIo,
        remote.clone(),
        kicked.clone(),
    );
    let (stop, stopped) = oneshot::channel();
    let session = Arc::new(Session {
        budget: Mutex::new(Budget::new(state.config.publish_rate)),
        state,
        claims,
        conn,
        queue,
        registered,
        subscriptions: Mutex::new(HashSet::new()),
        acks: Mutex::new(HashMap::new()),
        stop: Mutex::new(Some(stop)),
        _admitted: admitted,
        remote: remote.clone(),
    });
    let s = session.clone();
    socket.on_disconnect(async move |_: SocketRef, _: DisconnectReason| s.close());
    // Gone before its disconnect handler was there: nobody else will close it.
    if !socket.connected() {
        session.close();
    }
    tokio::spawn(run(socket, session, queued, rx, kicked, stopped));
}

impl Session {
    async fn subscribe(&self, data: Option<Value>, ack: AckSender) {
        let Some(channel) = data
            .as_ref()
            .and_then(|d| d["channel"].as_str())
            .map(str::to_string)
        else {
            let _ = ack.send(&refusal(
                ErrorCode::BadFrame,
                "send {channel, since?, epoch?}",
            ));
            return;
        };
        if let Some((code, message)) = refuse(&self.claims, &channel, None) {
            let _ = ack.send(&refusal(code, message));
            return;
        }
        let refused = {
            let subscriptions = lock(&self.subscriptions);
            crate::http::too_many_subscriptions(
                &self.state,
                subscriptions.len(),
                &subscriptions,
                &channel,
            )
        };
        if let Some((code, message)) = refused {
            let _ = ack.send(&refusal(code, message));
            return;
        }
        let since = data.as_ref().and_then(|d| d["since"].as_u64());
        let epoch = data
            .as_ref()
            .and_then(|d| d["epoch"].as_str())
            .map(str::to_string);
        // The forwarder answers with the `subscribed` frame, in order before the replay.
        lock(&self.acks)
            .entry(channel.clone())
            .or_default()
            .push_back(ack);
        let subscriber = Subscriber {
            conn: self.conn,
            queue: self.queue.clone(),
            subject: self.claims.subject().into(),
        };
        match self
            .state
            .hub
            .subscribe(&channel, &subscriber, since, epoch.as_deref())
            .await
        {
            Ok(_) => {
                self.registered.subscribed(&channel);
                lock(&self.subscriptions).insert(channel);
            }
            Err(e) => {
                // Ours is the newest: commands are carried out one at a time.
                let ack = lock(&self.acks)
                    .get_mut(&channel)
                    .and_then(VecDeque::pop_back);
                if let Some(ack) = ack {
                    let _ = ack.send(&refusal(
                        ErrorCode::Unavailable,
                        format!("{e}; retry with backoff"),
                    ));
                }
            }
        }
    }

    fn unsubscribe(&self, data: Option<Value>, ack: AckSender) {
        let Some(channel) = data.as_ref().and_then(|d| d["channel"].as_str()) else {
            let _ = ack.send(&refusal(ErrorCode::BadFrame, "send {channel}"));
            return;
        };
        self.state.hub.unsubscribe(channel, self.conn);
        self.registered.unsubscribed(channel);
        lock(&self.subscriptions).remove(channel);
        let _ = ack.send(&json!({"channel": channel}));
    }

    async fn publish(&self, data: Option<Value>, ack: AckSender, size: usize) {
        let Some(data) = data else {
            let _ = ack.send(&refusal(ErrorCode::BadFrame, "send {channel, id, event}"));
            return;
        };
        let (Some(channel), Some(id)) = (data["channel"].as_str(), data["id"].as_str()) else {
            let _ = ack.send(&refusal(ErrorCode::BadFrame, "send {channel, id, event}"));
            return;
        };
        let event = match admit(
            &self.state,
            &self.claims,
            channel,
            id,
            data["event"].clone(),
            size,
        ) {
            Ok(event) => event,
            Err((code, message)) => {
                let _ = ack.send(&refusal(code, message));
                return;
            }
        };
        if !lock(&self.budget).take() {
            let _ = ack.send(&refusal(
                ErrorCode::RateLimited,
                format!(
                    "more than {} publishes a second: nothing is taken for a second; then resend from this one",
                    self.state.config.publish_rate
                ),
            ));
            return;
        }
        match deliver(&self.state, &self.claims, &self.remote, channel, id, event).await {
            Ok(published) => {
                let _ = ack.send(&json!({"offset": published.offset}));
            }
            Err((code, message)) => {
                let _ = ack.send(&refusal(code, message));
            }
        }
    }

    /// Carry out one command.
    async fn serve(&self, command: Command) {
        command.taken();
        let super::commands::Queued {
            kind,
            data,
            ack,
            size,
            ..
        } = *command;
        match kind {
            Kind::Subscribe => self.subscribe(data, ack).await,
            Kind::Unsubscribe => self.unsubscribe(data, ack),
            Kind::Publish => self.publish(data, ack, size).await,
        }
    }

    /// The client is gone: leave every channel, stop its task.
    fn close(&self) {
        for channel in lock(&self.subscriptions).drain() {
            self.state.hub.unsubscribe(&channel, self.conn);
        }
        if let Some(stop) = lock(&self.stop).take() {
            let _ = stop.send(());
            self.state.connections.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Emit `frame` (a relay frame as JSON text): `subscribed` answers its subscribe's ack,
/// anything else is the `event` event. False when the client is gone.
fn emit(socket: &SocketRef, session: &Session, frame: &Frame) -> Result<(), SendError> {
    if frame.starts_with("{\"type\":\"subscribed\"") {
        let value: Value = serde_json::from_str(frame).unwrap_or_default();
        let channel = value["channel"].as_str().unwrap_or_default();
        let ack = {
            let mut acks = lock(&session.acks);
            let ack = acks.get_mut(channel).and_then(VecDeque::pop_front);
            if acks.get(channel).is_some_and(VecDeque::is_empty) {
                acks.remove(channel);
            }
            ack
        };
        if let Some(ack) = ack {
            return ack.send(&value);
        }
        return Ok(());
    }
    let raw = RawValue::from_string(frame.to_string())
        .unwrap_or_else(|_| RawValue::from_string("null".into()).unwrap_or_default());
    socket.emit("event", &raw)
}

/// The client's one task, as a WebSocket connection has one: its commands, one at a
/// time in the order they came, and its queue, in order, until it is gone, cut off, or
/// the relay stops. After each command, what it queued (a subscribe's replay) is sent
/// before the next is taken, so back-to-back subscribes cannot overfill the queue.
async fn run(
    socket: SocketRef,
    session: Arc<Session>,
    mut commands: mpsc::Receiver<Command>,
    mut rx: mpsc::Receiver<Frame>,
    kicked: Arc<Kick>,
    mut stopped: oneshot::Receiver<()>,
) {
    let state = session.state.clone();
    let cut_off = loop {
        let frame = tokio::select! {
            Some(command) = commands.recv() => {
                // Boxed: the hub's futures would make this task's own state large.
                Box::pin(session.serve(command)).await;
                None
            }
            frame = rx.recv() => match frame {
                Some(frame) => Some(frame),
                None => break true,
            },
            _ = kicked.wait() => break true,
            _ = &mut stopped => break false,
            _ = state.stopping() => break true,
        };
        let mut next = frame.or_else(|| rx.try_recv().ok());
        let mut gone = false;
        while let Some(frame) = next {
            match send(&socket, &session, &frame, &kicked).await {
                Sent::Yes => next = rx.try_recv().ok(),
                Sent::Cut => break,
                Sent::Gone => {
                    gone = true;
                    break;
                }
            }
        }
        if gone {
            break false;
        }
        if kicked.is_set() {
            break true;
        }
    };
    // Every way out leaves the hub and the count (a second call does nothing).
    session.close();
    if !cut_off {
        return;
    }
    // Cut off (an admin, a revocation, too slow, shutdown): disconnect once there is room.
    for _ in 0..500 {
        match socket.clone().disconnect() {
            Err(SocketError::InternalChannelFull) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            _ => return,
        }
    }
}

/// How sending one frame went.
enum Sent {
    Yes,
    /// Cut off while waiting for room.
    Cut,
    /// The client is gone.
    Gone,
}

/// Send `frame`, waiting for room in socket.io's own buffer (small: ours is the real one).
async fn send(socket: &SocketRef, session: &Session, frame: &Frame, kicked: &Kick) -> Sent {
    loop {
        match emit(socket, session, frame) {
            Ok(()) => return Sent::Yes,
            Err(SendError::Socket(SocketError::InternalChannelFull)) => {
                tokio::time::sleep(Duration::from_millis(2)).await;
                if kicked.is_set() {
                    return Sent::Cut;
                }
            }
            Err(SendError::Socket(SocketError::Closed)) => return Sent::Gone,
            Err(e) => {
                tracing::warn!("socket.io emit: {e}");
                return Sent::Yes;
            }
        }
    }
}
