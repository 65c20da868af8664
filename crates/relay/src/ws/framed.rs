//! A WebSocket over any stream (TLS): the connection's own task takes its frames off its
//! queue and writes them, a batch per flush.

use std::sync::Arc;
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use super::{CLOSE_TIMEOUT, Conn, Next, close_reason};
use crate::auth::Claims;
use crate::queue::{Frame, Queue};

/// Frames written before one flush, at most.
const BATCH: usize = 64;

/// Serve one connection over `socket` until it closes.
#[tracing::instrument(skip_all, fields(conn, sub = claims.subject()))]
pub(super) async fn connection<S>(
    socket: WebSocketStream<S>,
    state: Arc<crate::State>,
    claims: Claims,
    remote: String,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let conn = state.next_conn();
    tracing::Span::current().record("conn", conn);
    let (queue, mut rx, kicked) = Queue::new(state.config.queue.max(state.config.history + 16));
    let mut c = Conn::open(&state, &claims, conn, queue, kicked.clone(), remote);
    let (mut sink, mut stream) = socket.split();
    let every = state.config.ping_interval;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut heard = Instant::now();
    // Long-lived futures, registered once rather than on every turn of the loop.
    let kicked_wait = kicked.wait();
    let stopping = state.stopping();
    tokio::pin!(kicked_wait, stopping);
    let close = loop {
        tokio::select! {
            message = stream.next() => match c.message(message, &mut heard).await {
                Next::Go => {}
                // The library has queued the answering close frame: send it.
                Next::Closed(_) => {
                    let _ = sink.flush().await;
                    break None;
                }
                Next::Gone => break None,
            },
            Some(frame) = rx.recv() => {
                if send_batch(&mut sink, frame, &mut rx).await.is_err() {
                    break None;
                }
            }
            reason = &mut kicked_wait => break Some(close_reason(reason)),
            _ = ping.tick() => {
                if heard.elapsed() > state.config.ping_timeout {
                    break Some((CLOSE_TIMEOUT, "no answer to pings"));
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break None;
                }
            }
            _ = &mut stopping => break Some((1001, "relay going away")),
        }
    };
    if let Some((code, reason)) = close {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: code.into(),
                reason: reason.into(),
            })))
            .await;
    }
    c.leave();
    c.gone();
}

/// Send `first` and everything else already queued, with one flush.
async fn send_batch<S>(
    sink: &mut futures_util::stream::SplitSink<WebSocketStream<S>, Message>,
    first: Frame,
    rx: &mut tokio::sync::mpsc::Receiver<Frame>,
) -> Result<(), tokio_tungstenite::tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    sink.feed(Message::Text(first)).await?;
    for _ in 0..BATCH {
        match rx.try_recv() {
            Ok(frame) => sink.feed(Message::Text(frame)).await?,
            Err(_) => break,
        }
    }
    sink.flush().await
}
