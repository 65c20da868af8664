//! The relay under test and a client for it: a real relay on 127.0.0.1:0 (channels in
//! memory or in a real Redis), a real WebSocket client, raw HTTP/1.1.

#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use shotline_relay::auth::{Claims, Role, mint, now_secs};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const SECRET: &[u8] = b"test-secret-0123456789";
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Where the relay under test keeps its channels.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Memory,
    Redis,
}

pub struct Relay {
    pub addr: std::net::SocketAddr,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
    pub redis: Option<super::RedisServer>,
}

pub async fn relay(backend: Backend, tune: impl FnOnce(&mut shotline_relay::Config)) -> Relay {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = shotline_relay::Config::new(SECRET);
    tune(&mut config);
    let redis = matches!(backend, Backend::Redis).then(super::RedisServer::start);
    if let Some(redis) = &redis {
        config.redis = Some(redis.url());
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(shotline_relay::run(listener, config, async move {
        let _ = stopped.await;
    }));
    let relay = Relay {
        addr,
        stop: Some(stop),
        task,
        redis,
    };
    // Ready when healthy: with Redis, once the pub/sub link stands.
    for _ in 0..200 {
        if http(&relay, "GET", "/health", None, None).await.0 == 200 {
            return relay;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the relay did not become healthy");
}

pub fn token(role: Role, channels: &[&str]) -> String {
    mint(
        &Claims {
            role,
            channels: channels.iter().map(|c| c.to_string()).collect(),
            exp: now_secs() + 600,
            ..Claims::new(Role::Guest, Vec::new(), std::time::Duration::ZERO)
        },
        SECRET,
    )
}

pub async fn connect(relay: &Relay, token: &str) -> Ws {
    let mut request = format!("ws://{}/v1/ws", relay.addr)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("connect")
        .0
}

pub async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .expect("send");
}

pub async fn recv(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("ok");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("json"),
            Message::Close(frame) => {
                return json!({"type": "closed", "code": frame.map(|f| u16::from(f.code))});
            }
            _ => continue,
        }
    }
}

pub async fn quiet(ws: &mut Ws) -> bool {
    tokio::time::timeout(Duration::from_millis(300), ws.next())
        .await
        .is_err()
}

pub fn event(n: u64) -> Value {
    json!({"type": "shot_stored", "payload": {"n": n}})
}

/// Raw HTTP/1.1: status and body.
pub async fn http(
    relay: &Relay,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(relay.addr).await.expect("connect");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(40), stream.read_to_end(&mut response))
        .await
        .expect("in time")
        .expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Raw HTTP/1.1 with extra headers: status, response head, body.
pub async fn http_with(
    relay: &Relay,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(relay.addr).await.expect("connect");
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(40), stream.read_to_end(&mut response))
        .await
        .expect("in time")
        .expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// A GET over HTTP/1.0 (so a streamed body comes as it is, not chunked): status, head,
/// body bytes.
pub async fn http_bytes(relay: &Relay, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(relay.addr).await.expect("connect");
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(40), stream.read_to_end(&mut response))
        .await
        .expect("in time")
        .expect("read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response.get(split + 4..).unwrap_or_default().to_vec();
    (status, head, body)
}

/// A token for `claims`, signed with the test secret.
pub fn sign(claims: &Claims) -> String {
    mint(claims, SECRET)
}

/// The WebSocket upgrade's refusal: HTTP status and error code.
pub async fn refused(relay: &Relay, token: &str) -> (u16, String) {
    let url = format!("ws://{}/v1/ws?token={token}", relay.addr);
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body: Value = response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or_default();
            (
                response.status().as_u16(),
                body["code"].as_str().unwrap_or_default().to_string(),
            )
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => (101, String::new()),
    }
}

/// Two nodes: on Redis, two relays sharing it; in memory, one relay with a data folder
/// (twice the same node).
pub async fn nodes(backend: Backend, data: &std::path::Path) -> (Relay, Option<Relay>) {
    match backend {
        Backend::Memory => {
            let dir = data.to_path_buf();
            (relay(backend, |c| c.data = Some(dir)).await, None)
        }
        Backend::Redis => {
            let a = relay(Backend::Redis, |_| {}).await;
            let url = a.redis.as_ref().map(|r| r.url());
            let b = relay(Backend::Memory, |c| c.redis = url).await;
            (a, Some(b))
        }
    }
}
