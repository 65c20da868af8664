//! A plain-TCP WebSocket connection's outgoing frames, written straight to its socket by
//! whoever queues them, with no task woken per subscriber: the fan-out of an event frames
//! it once ([`text_frame`]) and shares those bytes with every subscriber, and a socket with
//! only that frame to send gets one plain `send`; several queued frames (a reply's header
//! and payload, events that piled up) go out with one `writev`. Only when a socket is full
//! does its connection's own task take over, waiting for the socket to drain; frames queue
//! meanwhile, up to a bound.
//!
//! A fan-out runs under the hub's lock; it only queues, and the writes happen once the
//! lock is released ([`Defer`], in `defer.rs`).

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;

use crate::backend::Frame;

mod defer;
pub use defer::Defer;
use defer::schedule_write;

/// Frames written with one `writev`, at most (up to two slices each: header and payload;
/// a frame already framed is one).
const BATCH: usize = 32;
/// WebSocket opcodes the relay sends.
const TEXT: u8 = 0x1;
/// Close.
pub const CLOSE: u8 = 0x8;
/// Ping.
pub const PING: u8 = 0x9;

/// One queued piece of output.
enum Out {
    /// A text frame (an event or a reply).
    Text(Frame),
    /// A control frame (ping, close).
    Control(u8, Bytes),
    /// Bytes already framed: an event framed once for all its subscribers, or the
    /// WebSocket library's own pongs.
    Raw(Bytes),
}

impl Out {
    fn payload(&self) -> &[u8] {
        match self {
            Out::Text(frame) => frame.as_bytes(),
            Out::Control(_, payload) | Out::Raw(payload) => payload,
        }
    }

    /// Write this frame's header into `buf`; its length (0 for raw bytes).
    fn header(&self, buf: &mut [u8; 10]) -> usize {
        let (first, len) = match self {
            Out::Text(frame) => (0x80 | TEXT, frame.len()),
            Out::Control(opcode, payload) => (0x80 | opcode, payload.len()),
            Out::Raw(_) => return 0,
        };
        header(first, len, buf)
    }

    fn len(&self) -> usize {
        self.header(&mut [0; 10]) + self.payload().len()
    }
}

/// `payload` as one unmasked WebSocket text frame, header and all: built once per event
/// for [`Outbox::offer_framed`].
pub fn text_frame(payload: &[u8]) -> Bytes {
    let mut head = [0u8; 10];
    let n = header(0x80 | TEXT, payload.len(), &mut head);
    let mut wire = Vec::with_capacity(n + payload.len());
    wire.extend_from_slice(&head[..n]);
    wire.extend_from_slice(payload);
    wire.into()
}

/// A server frame's header (unmasked): FIN and opcode, then the payload's length.
fn header(first: u8, len: usize, buf: &mut [u8; 10]) -> usize {
    buf[0] = first;
    if len < 126 {
        buf[1] = len as u8;
        2
    } else if let Ok(short) = u16::try_from(len) {
        buf[1] = 126;
        buf[2..4].copy_from_slice(&short.to_be_bytes());
        4
    } else {
        buf[1] = 127;
        buf[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    }
}

#[derive(Default)]
struct State {
    frames: VecDeque<Out>,
    /// Bytes of the first frame already written.
    written: usize,
    /// A write is due (the outbox is on a [`Defer`] list).
    scheduled: bool,
    /// The socket was full: the connection's task writes when it drains.
    blocked: bool,
    /// No more events are taken (the connection is closing).
    closed: bool,
    /// A write failed: the peer is gone.
    failed: bool,
}

/// What [`Outbox::offer`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// Queued (and written, or due to be).
    Queued,
    /// The bound was reached: the subscriber cannot keep up.
    Full,
    /// The connection is closing.
    Closed,
}

/// One connection's outgoing frames and the write half of its socket.
pub struct Outbox {
    socket: OwnedWriteHalf,
    state: Mutex<State>,
    /// Event frames queued, at most.
    capacity: usize,
    /// Told when the socket is full or a write failed.
    stalled: Notify,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// An outbox over `socket` holding at most `capacity` unsent event frames.
    pub fn new(socket: OwnedWriteHalf, capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            socket,
            state: Mutex::new(State::default()),
            capacity: capacity.max(1),
            stalled: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue an event or reply; it is written now, or when the current [`Defer`] ends.
    pub fn offer(self: &Arc<Self>, frame: Frame) -> Offered {
        self.queue(Out::Text(frame))
    }

    fn queue(self: &Arc<Self>, out: Out) -> Offered {
        let schedule = {
            let mut st = self.lock();
            if st.closed || st.failed {
                return Offered::Closed;
            }
            if st.frames.len() >= self.capacity {
                return Offered::Full;
            }
            st.frames.push_back(out);
            !std::mem::replace(&mut st.scheduled, true)
        };
        if schedule {
            schedule_write(self.clone());
        }
        Offered::Queued
    }

    /// Queue an event already framed by [`text_frame`] (shared by every subscriber of
    /// the fan-out); as [`Outbox::offer`] otherwise.
    pub fn offer_framed(self: &Arc<Self>, wire: Bytes) -> Offered {
        self.queue(Out::Raw(wire))
    }

    /// Queue a control frame (not counted against the bound) and write.
    pub fn control(&self, opcode: u8, payload: Bytes) {
        self.push(Out::Control(opcode, payload));
    }

    /// Queue bytes that are already WebSocket frames and write.
    pub fn raw(&self, bytes: Bytes) {
        self.push(Out::Raw(bytes));
    }

    fn push(&self, out: Out) {
        let mut st = self.lock();
        // Past the close frame nothing may follow; a peer that never reads gets no more
        // pongs than the bound.
        if st.failed || st.closed || st.frames.len() >= self.capacity {
            return;
        }
        st.frames.push_back(out);
        if !st.blocked {
            self.write(&mut st);
        }
    }

    /// Write what is queued, unless the socket is full (its connection then writes).
    pub fn flush(&self) {
        let mut st = self.lock();
        st.scheduled = false;
        if !st.blocked {
            self.write(&mut st);
        }
    }

    /// True while the socket is full and the connection's task must wait for it.
    pub fn blocked(&self) -> bool {
        self.lock().blocked
    }

    /// True once a write failed.
    pub fn failed(&self) -> bool {
        self.lock().failed
    }

    /// Told when the socket is full or a write failed.
    pub fn stalled(&self) -> &Notify {
        &self.stalled
    }

    /// Wait until the socket takes more; an error (the runtime going away) fails it.
    pub async fn writable(&self) -> io::Result<()> {
        let ready = self.socket.writable().await;
        if ready.is_err() {
            let mut st = self.lock();
            self.fail(&mut st);
        }
        ready
    }

    /// After the socket drained: write again; true if it is full again.
    pub fn resume(&self) -> bool {
        let mut st = self.lock();
        st.blocked = false;
        self.write(&mut st);
        st.blocked
    }

    /// Take no more events; drop those not yet begun and queue `close` (a close frame's
    /// payload) after a frame already partly written.
    pub fn close(&self, close: Option<Bytes>) {
        let mut st = self.lock();
        st.closed = true;
        let keep = usize::from(st.written > 0);
        st.frames.truncate(keep);
        if let Some(payload) = close {
            st.frames.push_back(Out::Control(CLOSE, payload));
        }
        if !st.blocked {
            self.write(&mut st);
        }
    }

    /// Write until everything queued is out (or the peer is gone).
    pub async fn drain(&self) {
        loop {
            {
                let st = self.lock();
                if st.frames.is_empty() || st.failed {
                    return;
                }
            }
            if self.writable().await.is_err() {
                return;
            }
            self.resume();
        }
    }

    /// Write queued frames until they are out, the socket is full, or it failed.
    fn write(&self, st: &mut State) {
        while !st.frames.is_empty() && !st.failed {
            let single = match (st.frames.len(), st.frames.front()) {
                (1, Some(Out::Raw(bytes))) => Some(bytes),
                _ => None,
            };
            let result = if let Some(bytes) = single {
                // One frame already framed (an event, as a rule): one plain `send`, which
                // costs the kernel less than a `writev`.
                self.socket.try_write(&bytes[st.written..])
            } else {
                let mut heads = [[0u8; 10]; BATCH];
                let mut lens = [0usize; BATCH];
                let batch = st.frames.len().min(BATCH);
                for (i, out) in st.frames.iter().take(batch).enumerate() {
                    lens[i] = out.header(&mut heads[i]);
                }
                let mut slices = [IoSlice::new(&[]); 2 * BATCH];
                let mut n = 0;
                let mut skip = st.written;
                for (i, out) in st.frames.iter().take(batch).enumerate() {
                    for part in [&heads[i][..lens[i]], out.payload()] {
                        if skip >= part.len() {
                            skip -= part.len();
                        } else {
                            slices[n] = IoSlice::new(&part[skip..]);
                            skip = 0;
                            n += 1;
                        }
                    }
                }
                self.socket.try_write_vectored(&slices[..n])
            };
            match result {
                Ok(0) => self.fail(st),
                Ok(n) => advance(st, n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    st.blocked = true;
                    self.stalled.notify_one();
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::debug!("write: {e}");
                    self.fail(st);
                }
            }
        }
    }

    fn fail(&self, st: &mut State) {
        st.failed = true;
        st.frames.clear();
        st.written = 0;
        self.stalled.notify_one();
    }
}

/// Count `n` more bytes written: pop the frames they finish.
fn advance(st: &mut State, n: usize) {
    let mut n = n + st.written;
    st.written = 0;
    while let Some(front) = st.frames.front() {
        let len = front.len();
        if n < len {
            st.written = n;
            return;
        }
        n -= len;
        st.frames.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_carry_the_payload_length_in_the_shortest_form() {
        let mut buf = [0; 10];
        assert_eq!(header(0x81, 5, &mut buf), 2);
        assert_eq!(&buf[..2], &[0x81, 5]);
        assert_eq!(header(0x81, 126, &mut buf), 4);
        assert_eq!(&buf[..4], &[0x81, 126, 0, 126]);
        assert_eq!(header(0x81, 70_000, &mut buf), 10);
        assert_eq!(&buf[..10], &[0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
    }

    /// A socket pair on loopback: the outbox's write half, the peer.
    async fn pair(capacity: usize) -> (Arc<Outbox>, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let peer = tokio::net::TcpStream::connect(listener.local_addr().expect("address"));
        let (ours, peer) = tokio::join!(listener.accept(), peer);
        // The read half is dropped: that leaves the socket open.
        let (_, write) = ours.expect("accept").0.into_split();
        (Outbox::new(write, capacity), peer.expect("connect"))
    }

    /// Read WebSocket frames (unmasked, as a server sends them) off `peer`.
    async fn read_frames(peer: &mut tokio::net::TcpStream, count: usize) -> Vec<(u8, Vec<u8>)> {
        use tokio::io::AsyncReadExt;
        let mut frames = Vec::new();
        while frames.len() < count {
            let mut head = [0u8; 2];
            peer.read_exact(&mut head).await.expect("read");
            let len = match head[1] {
                126 => peer.read_u16().await.expect("read") as usize,
                127 => peer.read_u64().await.expect("read") as usize,
                n => n as usize,
            };
            let mut payload = vec![0; len];
            peer.read_exact(&mut payload).await.expect("read");
            frames.push((head[0], payload));
        }
        frames
    }

    #[tokio::test]
    async fn frames_deferred_under_a_lock_go_out_in_order_after_it_in_one_write() {
        let (outbox, mut peer) = pair(16).await;
        {
            let _defer = Defer::begin();
            assert_eq!(outbox.offer("one".into()), Offered::Queued);
            assert_eq!(outbox.offer("two".into()), Offered::Queued);
            // Nothing is written while the defer lasts.
            assert_eq!(outbox.lock().frames.len(), 2);
        }
        {
            // A second fan-out before the writing task ran: it joins the same write.
            let _defer = Defer::begin();
            assert_eq!(outbox.offer("three".into()), Offered::Queued);
        }
        assert_eq!(
            outbox.lock().frames.len(),
            3,
            "written by a task, not inline"
        );
        let frames = read_frames(&mut peer, 3).await;
        let want: Vec<(u8, Vec<u8>)> = ["one", "two", "three"]
            .iter()
            .map(|t| (0x81, t.as_bytes().to_vec()))
            .collect();
        assert_eq!(frames, want);
        assert!(!outbox.lock().scheduled);
    }

    #[tokio::test]
    async fn an_event_framed_once_goes_out_as_the_same_text_frame_alone_or_among_others() {
        let (outbox, mut peer) = pair(16).await;
        let long = "y".repeat(300);
        let wire = text_frame(long.as_bytes());
        assert_eq!(&wire[..4], &[0x81, 126, 1, 44]);
        // Alone: written at once (one plain send).
        assert_eq!(outbox.offer_framed(wire.clone()), Offered::Queued);
        assert!(outbox.lock().frames.is_empty());
        // Among others, in the order queued.
        {
            let _defer = Defer::begin();
            assert_eq!(outbox.offer("reply".into()), Offered::Queued);
            assert_eq!(outbox.offer_framed(text_frame(b"short")), Offered::Queued);
            assert_eq!(outbox.offer_framed(wire), Offered::Queued);
        }
        let frames = read_frames(&mut peer, 4).await;
        let want: Vec<(u8, Vec<u8>)> = [long.as_str(), "reply", "short", long.as_str()]
            .iter()
            .map(|t| (0x81, t.as_bytes().to_vec()))
            .collect();
        assert_eq!(frames, want);
    }

    #[tokio::test]
    async fn a_full_socket_hands_over_to_the_connection_and_the_bound_cuts_off() {
        let (outbox, mut peer) = pair(10_000).await;
        let big: Frame = "x".repeat(100_000).into();
        // The peer reads nothing: the socket fills and the outbox blocks.
        let mut sent = 0;
        // Half of them framed once: a frame cut by a full socket resumes where it stopped.
        let wire = text_frame(big.as_bytes());
        while !outbox.blocked() {
            let offered = if sent % 2 == 0 {
                outbox.offer(big.clone())
            } else {
                outbox.offer_framed(wire.clone())
            };
            assert_eq!(offered, Offered::Queued);
            sent += 1;
        }
        assert!(
            futures_util::FutureExt::now_or_never(outbox.stalled().notified()).is_some(),
            "the connection is told"
        );
        outbox.offer("last".into());
        let reader = tokio::spawn(async move {
            let frames = read_frames(&mut peer, sent + 1).await;
            (frames, peer)
        });
        while outbox.blocked() {
            outbox.writable().await.expect("read");
            outbox.resume();
        }
        outbox.drain().await;
        let (frames, _peer) = reader.await.expect("read");
        assert!(
            frames[..sent]
                .iter()
                .all(|(h, p)| *h == 0x81 && p.len() == 100_000)
        );
        assert_eq!(frames[sent], (0x81, b"last".to_vec()));
        let (small, _peer2) = pair(2).await;
        small.lock().blocked = true;
        assert_eq!(small.offer("a".into()), Offered::Queued);
        assert_eq!(small.offer("b".into()), Offered::Queued);
        assert_eq!(small.offer("c".into()), Offered::Full);
    }

    #[tokio::test]
    async fn closing_drops_what_has_not_begun_and_sends_the_close_frame() {
        let (outbox, mut peer) = pair(16).await;
        outbox.lock().blocked = true;
        outbox.offer("dropped".into());
        outbox.lock().blocked = false;
        outbox.close(Some(Bytes::from_static(&[0x0f, 0xa8])));
        assert_eq!(outbox.offer("late".into()), Offered::Closed);
        outbox.drain().await;
        let frames = read_frames(&mut peer, 1).await;
        assert_eq!(frames, vec![(0x88, vec![0x0f, 0xa8])]);
    }
}
