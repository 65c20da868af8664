//! A WebSocket over plain TCP: what the connection sends goes through its
//! [`Outbox`], which the fan-out writes straight to the socket; this task reads the
//! client's frames, pings, closes, and writes only while the socket is full.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::{CLOSE_TIMEOUT, Conn, Next, close_reason};
use crate::auth::Claims;
use crate::outbox::{Outbox, PING};
use crate::queue::Queue;

/// Longest wait for the close frame to go out before the socket is dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// Serve one connection on `tcp` (with `read` already read past the handshake).
#[tracing::instrument(skip_all, fields(conn, sub = claims.subject()))]
pub(super) async fn connection(
    tcp: TcpStream,
    read: Bytes,
    config: WebSocketConfig,
    state: Arc<crate::State>,
    claims: Claims,
    remote: String,
) {
    let conn = state.next_conn();
    tracing::Span::current().record("conn", conn);
    let _ = tcp.set_nodelay(true);
    let (reader, writer) = tcp.into_split();
    let outbox = Outbox::new(writer, state.config.queue.max(state.config.history + 16));
    let (queue, kicked) = Queue::direct(outbox.clone());
    let mut c = Conn::open(&state, &claims, conn, queue, kicked.clone(), remote);
    let io = Io {
        read,
        reader,
        outbox: outbox.clone(),
    };
    let mut stream = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    let every = state.config.ping_interval;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut heard = Instant::now();
    let kicked_wait = kicked.wait();
    let stopping = state.stopping();
    tokio::pin!(kicked_wait, stopping);
    let close = loop {
        // Only while the socket is full does this task write; a write that failed ends it.
        let drained = async {
            if !outbox.blocked() && !outbox.failed() {
                outbox.stalled().notified().await;
            }
            while outbox.blocked() && !outbox.failed() {
                if outbox.writable().await.is_err() || !outbox.resume() {
                    break;
                }
            }
        };
        tokio::select! {
            message = stream.next() => match c.message(message, &mut heard).await {
                Next::Go => {}
                // Answered with the same code, as the closing handshake asks.
                Next::Closed(frame) => break Some(frame.map(|f| (u16::from(f.code), String::new()))),
                Next::Gone => break None,
            },
            () = drained => {
                if outbox.failed() {
                    break None;
                }
            }
            reason = &mut kicked_wait => {
                let (code, reason) = close_reason(reason);
                break Some(Some((code, reason.to_string())));
            }
            _ = ping.tick() => {
                if heard.elapsed() > state.config.ping_timeout {
                    break Some(Some((CLOSE_TIMEOUT, "no answer to pings".to_string())));
                }
                outbox.control(PING, Bytes::new());
            }
            _ = &mut stopping => break Some(Some((1001, "relay going away".to_string()))),
        }
    };
    // Out of every channel first, so nothing more is offered (or counted as dropped).
    c.leave();
    // `None`: the peer is gone. `Some(None)`: a close without a code, answered likewise.
    if let Some(close) = close {
        let payload = close.map(|(code, reason)| {
            let mut payload = code.to_be_bytes().to_vec();
            payload.extend_from_slice(reason.as_bytes());
            Bytes::from(payload)
        });
        outbox.close(Some(payload.unwrap_or_default()));
        let _ = tokio::time::timeout(CLOSE_WAIT, outbox.drain()).await;
    } else {
        outbox.close(None);
    }
    c.gone();
}

/// The connection's stream as the WebSocket library sees it: reads come off the socket
/// (first what was read past the handshake); its own writes (pongs) join the outbox.
struct Io {
    read: Bytes,
    reader: OwnedReadHalf,
    outbox: Arc<Outbox>,
}

impl AsyncRead for Io {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.read.has_remaining() {
            let n = self.read.len().min(buf.remaining());
            buf.put_slice(&self.read[..n]);
            self.read.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.reader).poll_read(cx, buf)
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.outbox.raw(Bytes::copy_from_slice(buf));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
