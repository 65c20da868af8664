//! The bench relay client's wire: one subscriber or publisher connected to a server in
//! its own protocol (the relay's frames, or Engine.IO v4 / Socket.IO v5), the events it
//! receives found by a byte search (the same cost for every server), and the frames a
//! publisher sends.

use std::sync::Mutex as StdMutex;
use std::time::Instant;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::bench_relay::Kind;

#[derive(Debug)]
pub struct Payload {
    seq: u64,
    t: u64,
}

/// One subscriber's record: (seq, latency µs, receive time µs since the bench clock).
pub type Record = Vec<(u64, u32, u64)>;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(kind: Kind, port: u16, token: &str, subscribe: bool) -> anyhow::Result<Ws> {
    let url = match kind {
        Kind::Relay => format!("ws://127.0.0.1:{port}/v1/ws?token={token}"),
        Kind::RelaySocketIo | Kind::SocketIo => {
            format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket")
        }
    };
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
    match kind {
        Kind::Relay => {
            if subscribe {
                ws.send(Message::Text(
                    r#"{"type":"subscribe","channel":"bench"}"#.into(),
                ))
                .await?;
                // Wait for `subscribed`.
                while let Some(m) = ws.next().await {
                    if let Message::Text(t) = m?
                        && t.contains("\"subscribed\"")
                    {
                        break;
                    }
                }
            }
        }
        Kind::SocketIo | Kind::RelaySocketIo => {
            // Engine.IO open packet, then connect to the main namespace (with the token).
            let _open = ws.next().await.context("no open packet")??;
            let connect = match kind {
                Kind::RelaySocketIo => format!(r#"40{{"token":"{token}"}}"#),
                _ => "40".into(),
            };
            ws.send(Message::Text(connect.into())).await?;
            while let Some(m) = ws.next().await {
                if let Message::Text(t) = m?
                    && t.starts_with("40")
                {
                    break;
                }
            }
            if kind == Kind::RelaySocketIo && subscribe {
                ws.send(Message::Text(
                    r#"421["subscribe",{"channel":"bench"}]"#.into(),
                ))
                .await?;
                while let Some(m) = ws.next().await {
                    if let Message::Text(t) = m?
                        && t.starts_with("431")
                    {
                        break;
                    }
                }
            }
        }
    }
    Ok(ws)
}

/// `seq` and `t` of an event, found by a byte search (the same cost for both servers, so
/// the client's parsing does not weigh on the figures).
pub fn parse(kind: Kind, text: &str) -> Option<Payload> {
    let is_event = match kind {
        Kind::Relay => text.starts_with(r#"{"type":"event""#),
        Kind::SocketIo | Kind::RelaySocketIo => text.starts_with(r#"42["event""#),
    };
    if !is_event {
        return None;
    }
    let number = |key: &str| -> Option<u64> {
        let at = text.find(key)? + key.len();
        let digits: &str = &text[at..];
        let end = digits.find(|c: char| !c.is_ascii_digit())?;
        digits[..end].parse().ok()
    };
    Some(Payload {
        seq: number(r#""seq":"#)?,
        t: number(r#""t":"#)?,
    })
}

/// Every event one subscriber receives, into `record`, until it has the last or the
/// connection ends (what came until then counts, when the bench stops waiting).
pub async fn subscriber(
    kind: Kind,
    mut ws: Ws,
    clock: Instant,
    want: u64,
    record: &StdMutex<Record>,
) {
    while let Some(Ok(message)) = ws.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        if kind.socket_io() && text.as_str() == "2" {
            let _ = ws.send(Message::Text("3".into())).await;
            continue;
        }
        if let Some(p) = parse(kind, &text) {
            let now = clock.elapsed().as_micros() as u64;
            let mut record = record.lock().unwrap_or_else(|p| p.into_inner());
            record.push((p.seq, (now.saturating_sub(p.t)) as u32, now));
            if p.seq + 1 >= want {
                break;
            }
        }
    }
}

pub fn frame(kind: Kind, seq: u64, clock: Instant, pad: &str) -> String {
    let t = clock.elapsed().as_micros() as u64;
    let payload = format!(r#"{{"seq":{seq},"t":{t},"pad":"{pad}"}}"#);
    match kind {
        Kind::Relay => format!(
            r#"{{"type":"publish","channel":"bench","id":"{seq}","event":{{"type":"bench","payload":{payload}}}}}"#
        ),
        Kind::RelaySocketIo => format!(
            r#"42["publish",{{"channel":"bench","id":"{seq}","event":{{"type":"bench","payload":{payload}}}}}]"#
        ),
        Kind::SocketIo => format!(r#"42["publish",{payload}]"#),
    }
}
