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
///
/// After the library's handshake the subscriber reads WebSocket frames off the socket
/// itself: per message a share of one read and a byte search, so the client weighs less
/// on the latency measured. (Through the WebSocket library the client cost 10-13 µs a
/// message on this machine, this way 8.9; most of what is left is the kernel's receive
/// path and the task's wake.)
pub async fn subscriber(kind: Kind, ws: Ws, clock: Instant, want: u64, record: &StdMutex<Record>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Nothing is sent before the first event, so the library holds no bytes unread.
    let tokio_tungstenite::MaybeTlsStream::Plain(mut tcp) = ws.into_inner() else {
        return;
    };
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        if buf.capacity() - buf.len() < 16 * 1024 {
            buf.reserve(64 * 1024);
        }
        match tcp.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut start = 0;
        while let Some((opcode, at, len)) = frame_at(&buf[start..]) {
            let payload = &buf[start + at..start + at + len];
            start += at + len;
            let reply = match opcode {
                0x1 => {
                    let Ok(text) = std::str::from_utf8(payload) else {
                        continue;
                    };
                    if kind.socket_io() && text == "2" {
                        Some(client_frame(0x1, b"3"))
                    } else if let Some(p) = parse(kind, text) {
                        let now = clock.elapsed().as_micros() as u64;
                        let mut record = record.lock().unwrap_or_else(|p| p.into_inner());
                        record.push((p.seq, (now.saturating_sub(p.t)) as u32, now));
                        if p.seq + 1 >= want {
                            return;
                        }
                        None
                    } else {
                        None
                    }
                }
                0x8 => return,
                0x9 => Some(client_frame(0xA, payload)),
                _ => None,
            };
            if let Some(reply) = reply
                && tcp.write_all(&reply).await.is_err()
            {
                return;
            }
        }
        buf.drain(..start);
    }
}

/// The frame at the start of `b`, if it is all there: (opcode, header length, payload
/// length).
fn frame_at(b: &[u8]) -> Option<(u8, usize, usize)> {
    let (&first, &second) = (b.first()?, b.get(1)?);
    let (mut len, mut at) = (usize::from(second & 0x7f), 2);
    if len == 126 {
        len = usize::from(u16::from_be_bytes(b.get(2..4)?.try_into().ok()?));
        at = 4;
    } else if len == 127 {
        len = usize::try_from(u64::from_be_bytes(b.get(2..10)?.try_into().ok()?)).ok()?;
        at = 10;
    }
    if second & 0x80 != 0 {
        at += 4;
    }
    (b.len() >= at + len).then_some((first & 0x0f, at, len))
}

/// A small client frame (masked, as a client must; the zero key leaves it as it is).
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![
        0x80 | opcode,
        0x80 | payload.len().min(125) as u8,
        0,
        0,
        0,
        0,
    ];
    frame.extend_from_slice(&payload[..payload.len().min(125)]);
    frame
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_found_whole_or_not_at_all() {
        let mut wire = vec![0x81, 3];
        wire.extend_from_slice(b"abc");
        wire.extend_from_slice(&[0x81, 126, 0x01, 0x00]);
        wire.extend(std::iter::repeat_n(b'x', 256));
        assert_eq!(frame_at(&wire), Some((1, 2, 3)));
        assert_eq!(frame_at(&wire[5..]), Some((1, 4, 256)));
        assert_eq!(frame_at(&wire[5..200]), None);
        assert_eq!(frame_at(&wire[..1]), None);
        assert_eq!(
            client_frame(0xA, b"hi"),
            vec![0x8a, 0x82, 0, 0, 0, 0, b'h', b'i']
        );
    }
}
