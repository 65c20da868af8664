//! The bench relay client's wire: one subscriber or publisher connected to a server in
//! its own protocol (the relay's frames, or Engine.IO v4 / Socket.IO v5), the events it
//! receives found by a byte search (the same cost for every server), and the frames a
//! publisher sends.
//!
//! Each event is timed twice: when the kernel queued its bytes on the subscriber's socket
//! (`SO_TIMESTAMPNS`, on Linux), which is the server's share of the latency whatever the
//! client's speed, and when the client read it, which adds the client's own queueing
//! (at 5,000 subscribers, one event is tens of ms of client work).

use std::sync::Mutex as StdMutex;
use std::time::{Instant, SystemTime};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::bench_relay::Kind;

#[derive(Debug)]
pub struct Payload {
    pub seq: u64,
    pub t: u64,
}

/// One event as one subscriber got it; times in µs on the bench [`Clock`].
#[derive(Debug, Clone, Copy)]
pub struct Got {
    pub seq: u64,
    /// When the publisher sent it.
    pub sent: u64,
    /// When its bytes were queued on the subscriber's socket (the kernel's stamp of the
    /// last segment of the read that brought it, so never early); the read's time where
    /// the kernel gives no stamp.
    pub arrived: u64,
    /// When the client read it.
    pub read: u64,
}

/// One subscriber's record.
pub type Record = Vec<Got>;

/// The bench's clock: µs since it started, and that start on the wall clock the kernel
/// stamps arriving packets with.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    wall_ns: i128,
}

impl Clock {
    pub fn start() -> Self {
        let start = Instant::now();
        let wall_ns = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        Self { start, wall_ns }
    }

    pub fn now(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// A kernel stamp (ns since the epoch) on this clock.
    fn of_wall(&self, ns: i128) -> u64 {
        u64::try_from((ns - self.wall_ns) / 1000).unwrap_or(0)
    }
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(kind: Kind, port: u16, token: &str, subscribe: bool) -> anyhow::Result<Ws> {
    let url = match kind {
        Kind::Relay | Kind::Floor => format!("ws://127.0.0.1:{port}/v1/ws?token={token}"),
        Kind::RelaySocketIo | Kind::SocketIo => {
            format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket")
        }
    };
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
    match kind {
        Kind::Relay | Kind::Floor => {
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
        Kind::Relay | Kind::Floor => text.starts_with(r#"{"type":"event""#),
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
/// message on this machine, this way 4.5-9.0 with the arrival stamps; most of what is left
/// is the kernel's receive path and the task's wake.)
pub async fn subscriber(kind: Kind, ws: Ws, clock: Clock, want: u64, record: &StdMutex<Record>) {
    use tokio::io::AsyncWriteExt;
    // Nothing is sent before the first event, so the library holds no bytes unread.
    let tokio_tungstenite::MaybeTlsStream::Plain(mut tcp) = ws.into_inner() else {
        return;
    };
    let stamped = arrival::stamp(&tcp);
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    loop {
        let arrived = match arrival::read(&tcp, &mut buf, stamped).await {
            Ok((0, _)) | Err(_) => return,
            Ok((_, at)) => at,
        };
        let read = clock.now();
        let arrived = arrived.map_or(read, |ns| clock.of_wall(ns).min(read));
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
                        let mut record = record.lock().unwrap_or_else(|p| p.into_inner());
                        record.push(Got {
                            seq: p.seq,
                            sent: p.t,
                            arrived,
                            read,
                        });
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

/// Reads that carry the kernel's arrival stamp.
mod arrival {
    use tokio::net::TcpStream;

    /// How much one read takes at most.
    const READ: usize = 64 * 1024;

    thread_local! {
        /// Where a read lands before it joins the subscriber's buffer (one per worker
        /// thread, not one per subscriber).
        static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; READ]);
    }

    /// Ask the kernel to stamp what arrives on `tcp`; false where it cannot.
    pub fn stamp(tcp: &TcpStream) -> bool {
        #[cfg(target_os = "linux")]
        {
            use nix::sys::socket::{setsockopt, sockopt::ReceiveTimestampns};
            setsockopt(tcp, ReceiveTimestampns, &true).is_ok()
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = tcp;
            false
        }
    }

    /// Append what has arrived to `buf`: the bytes read (0 at the end), and the arrival
    /// stamp (ns since the epoch) of the last segment read, if the socket is stamped.
    pub async fn read(
        tcp: &TcpStream,
        buf: &mut Vec<u8>,
        stamped: bool,
    ) -> std::io::Result<(usize, Option<i128>)> {
        loop {
            tcp.readable().await?;
            let got = SCRATCH.with_borrow_mut(|scratch| {
                let got = if stamped {
                    tcp.try_io(tokio::io::Interest::READABLE, || recv_stamped(tcp, scratch))
                } else {
                    tcp.try_read(scratch).map(|n| (n, None))
                };
                if let Ok((n, _)) = got {
                    buf.extend_from_slice(&scratch[..n]);
                }
                got
            });
            match got {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                got => return got,
            }
        }
    }

    #[cfg(target_os = "linux")]
    fn recv_stamped(tcp: &TcpStream, into: &mut [u8]) -> std::io::Result<(usize, Option<i128>)> {
        use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
        use std::os::fd::AsRawFd;
        let mut cmsg = nix::cmsg_space!(nix::sys::time::TimeSpec);
        let mut iov = [std::io::IoSliceMut::new(into)];
        let msg = recvmsg::<()>(
            tcp.as_raw_fd(),
            &mut iov,
            Some(cmsg.as_mut_slice()),
            MsgFlags::empty(),
        )?;
        let mut at = None;
        for c in msg.cmsgs()? {
            if let ControlMessageOwned::ScmTimestampns(ts) = c {
                at = Some(i128::from(ts.tv_sec()) * 1_000_000_000 + i128::from(ts.tv_nsec()));
            }
        }
        Ok((msg.bytes, at))
    }

    #[cfg(not(target_os = "linux"))]
    fn recv_stamped(_: &TcpStream, _: &mut [u8]) -> std::io::Result<(usize, Option<i128>)> {
        Err(std::io::ErrorKind::Unsupported.into())
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

pub fn frame(kind: Kind, seq: u64, clock: Clock, pad: &str) -> String {
    let t = clock.now();
    let payload = format!(r#"{{"seq":{seq},"t":{t},"pad":"{pad}"}}"#);
    match kind {
        Kind::Relay | Kind::Floor => format!(
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
    fn an_arrival_is_stamped_by_the_kernel_between_the_write_and_the_read() -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            use tokio::io::AsyncWriteExt;
            let clock = Clock::start();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let mut sender = tokio::net::TcpStream::connect(listener.local_addr()?).await?;
            let (receiver, _) = listener.accept().await?;
            let stamped = arrival::stamp(&receiver);
            assert_eq!(stamped, cfg!(target_os = "linux"));
            std::thread::sleep(std::time::Duration::from_millis(30));
            let written = clock.now();
            sender.write_all(b"hello").await?;
            std::thread::sleep(std::time::Duration::from_millis(30));
            let mut buf = Vec::new();
            let (n, at) = arrival::read(&receiver, &mut buf, stamped).await?;
            let read = clock.now();
            assert_eq!((n, buf.as_slice()), (5, &b"hello"[..]));
            assert_eq!(at.is_some(), stamped);
            if let Some(ns) = at {
                let arrived = clock.of_wall(ns);
                // On the clock, after the write, and well before the read 30 ms later.
                assert!(arrived + 1_000 >= written, "{arrived} < {written}");
                assert!(arrived + 20_000 <= read, "{arrived} vs read {read}");
            }
            Ok(())
        })
    }

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
