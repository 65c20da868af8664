//! The floor `bench relay` sets the relay beside: the least a fan-out server can do per
//! subscriber on this machine, with no hub, history, access check or back-pressure.
//!
//! It speaks as much of the relay's WebSocket protocol as the bench client uses: a
//! `subscribe` is answered `subscribed` and its socket joins the list; each `publish`
//! becomes one event frame, built once and written to every subscriber's socket with one
//! blocking `write` each, in turn, on one thread. What that costs on loopback — the
//! kernel's send and, on the same core, its receive for every subscriber — is the limit
//! any server has here. Run as `cargo xtask relay-floor PORT` (by the bench, pinned like
//! the others); it prints `listening` once bound.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use tokio_tungstenite::tungstenite::{self, Message};

/// Serve on 127.0.0.1:`port` until killed.
pub fn serve(port: &str) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port.parse::<u16>()?))?;
    println!("relay floor listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let subscribers: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let subscribers = subscribers.clone();
        // A thread per connection until it subscribed; the publisher's stays.
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let _ = connection(stream, &subscribers);
        });
    }
    Ok(())
}

fn connection(stream: TcpStream, subscribers: &Mutex<Vec<TcpStream>>) -> anyhow::Result<()> {
    let raw = stream.try_clone()?;
    let mut ws = tungstenite::accept(stream)?;
    let mut offset = 0u64;
    loop {
        let Message::Text(text) = ws.read()? else {
            continue;
        };
        if text.contains(r#""type":"subscribe""#) {
            ws.send(Message::Text(
                r#"{"type":"subscribed","channel":"bench","offset":0}"#.into(),
            ))?;
            // Nothing more is read from a subscriber: its socket is written to only.
            lock(subscribers).push(raw);
            return Ok(());
        }
        if let Some(event) = event_of(&text) {
            offset += 1;
            let frame = server_frame(
                format!(
                    r#"{{"type":"event","channel":"bench","offset":{offset},"event":{event}}}"#
                )
                .as_bytes(),
            );
            let mut list = lock(subscribers);
            // A subscriber that went away is dropped from the list.
            list.retain_mut(|s| s.write_all(&frame).is_ok());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The `event` object of a relay `publish` frame (the bench's: `event` is its last field).
fn event_of(text: &str) -> Option<&str> {
    if !text.starts_with(r#"{"type":"publish""#) {
        return None;
    }
    let at = text.find(r#""event":"#)? + r#""event":"#.len();
    text[at..].strip_suffix('}')
}

/// An unmasked WebSocket text frame, as a server sends.
fn server_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 10);
    frame.push(0x81);
    match payload.len() {
        n if n < 126 => frame.push(n as u8),
        n if n <= usize::from(u16::MAX) => {
            frame.push(126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publish_becomes_the_event_frame_the_client_parses() {
        let publish = crate::bench_relay_wire::frame(
            crate::bench_relay::Kind::Relay,
            7,
            crate::bench_relay_wire::Clock::start(),
            "xx",
        );
        let event = event_of(&publish).expect("an event");
        let text = format!(r#"{{"type":"event","channel":"bench","offset":1,"event":{event}}}"#);
        let got =
            crate::bench_relay_wire::parse(crate::bench_relay::Kind::Relay, &text).expect("parsed");
        assert_eq!(got.seq, 7);
        assert!(
            serde_json::from_str::<serde_json::Value>(&text).is_ok(),
            "{text}"
        );
        assert_eq!(event_of(r#"{"type":"subscribe","channel":"bench"}"#), None);
    }

    #[test]
    fn frames_carry_their_length_in_the_form_its_size_needs() {
        assert_eq!(&server_frame(b"hi")[..2], &[0x81, 2]);
        let long = server_frame(&[b'x'; 1000]);
        assert_eq!(&long[..4], &[0x81, 126, 0x03, 0xe8]);
        assert_eq!(long.len(), 1004);
    }
}
