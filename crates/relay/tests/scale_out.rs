//! Scale-out as an operator runs it: a real `redis-server` and two `shotline-relay serve
//! --redis` processes. Publish on A, receive on B; kill A mid-stream and the client resumes
//! on B with no gap and no duplicate; a lost pub/sub link is caught up; Redis down makes
//! `/health` say 503 and requests answer `unavailable`; Redis coming back empty starts a
//! new epoch that clients are told about.

mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use shotline_relay::auth::{Claims, Role, mint, now_secs};
use support::RedisServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const BIN: &str = env!("CARGO_BIN_EXE_shotline-relay");
const SECRET: &str = "5T/aa2AR/xZbM1GBYgi0wRN4ZTdgCtWjrI671+9OvFA=";
type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// One relay node, killed with SIGKILL when dropped.
struct Node {
    child: Child,
    addr: SocketAddr,
}

impl Node {
    fn start(redis: &RedisServer) -> Self {
        let mut child = Command::new(BIN)
            .env("SHOTLINE_RELAY_SECRET", SECRET)
            .env("SHOTLINE_LOG", "warn")
            .args(["serve", "--listen", "127.0.0.1:0", "--redis", &redis.url()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn shotline-relay");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the address line");
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Self { child, addr }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn token(role: Role) -> String {
    mint(
        &Claims {
            role,
            channels: vec!["studio:*".into()],
            exp: now_secs() + 600,
            ..Claims::new(Role::Guest, Vec::new(), std::time::Duration::ZERO)
        },
        SECRET.as_bytes(),
    )
}

/// Raw HTTP/1.1: status and body; status 0 when the node is gone.
async fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return (0, Value::Null);
    };
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        token(Role::Publisher),
        body.len()
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return (0, Value::Null);
    }
    let mut response = Vec::new();
    match tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await {
        Ok(Ok(_)) => {}
        _ => return (0, Value::Null),
    }
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

async fn healthy(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if http(addr, "GET", "/health", None).await.0 == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{addr} did not become healthy");
}

async fn publish(addr: SocketAddr, n: u64) -> (u16, Value) {
    http(
        addr,
        "POST",
        "/v1/channels/studio:camera/events",
        Some(
            &json!({"id": format!("e{n}"), "event": {"type": "shot_stored", "payload": {"n": n}}}),
        ),
    )
    .await
}

async fn connect(addr: SocketAddr) -> Ws {
    let url = format!("ws://{addr}/v1/ws?token={}", token(Role::Subscriber));
    tokio_tungstenite::connect_async(url)
        .await
        .expect("connect")
        .0
}

async fn subscribe(ws: &mut Ws, since: Option<(u64, &str)>) -> Value {
    let mut frame = json!({"type": "subscribe", "channel": "studio:camera"});
    if let Some((since, epoch)) = since {
        frame["since"] = json!(since);
        frame["epoch"] = json!(epoch);
    }
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .expect("send");
    let subscribed = next(ws).await.expect("a subscribed frame");
    assert_eq!(subscribed["type"], "subscribed", "{subscribed}");
    subscribed
}

/// The next frame; `None` when the connection ended; a close becomes `{"type":"closed"}`.
async fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame in time")?;
        match message {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).expect("json")),
            Ok(Message::Close(frame)) => {
                return Some(json!({"type": "closed", "code": frame.map(|f| u16::from(f.code))}));
            }
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn published_on_a_received_on_b_and_ids_deduplicated_across_nodes() {
    let redis = RedisServer::start();
    let (a, b) = (Node::start(&redis), Node::start(&redis));
    healthy(a.addr).await;
    healthy(b.addr).await;

    let mut on_b = connect(b.addr).await;
    assert_eq!(subscribe(&mut on_b, None).await["offset"], 0);
    assert_eq!(publish(a.addr, 1).await.1["offset"], 1);
    let got = next(&mut on_b).await.expect("event");
    assert_eq!(
        (got["offset"].clone(), got["id"].clone()),
        (json!(1), json!("e1"))
    );
    assert_eq!(got["event"]["payload"]["n"], 1);

    // The same id through the other node: the first offset, and nothing sent again.
    let (status, again) = publish(b.addr, 1).await;
    assert_eq!(
        (status, again["offset"].clone(), again["duplicate"].clone()),
        (200, json!(1), json!(true))
    );
    assert_eq!(publish(b.addr, 2).await.1["offset"], 2);
    assert_eq!(
        next(&mut on_b).await.expect("event")["offset"],
        2,
        "e1 came twice"
    );

    // Any node answers a poll with the same epoch and history.
    let (_, from_a) = http(
        a.addr,
        "GET",
        "/v1/channels/studio:camera/events?since=0",
        None,
    )
    .await;
    let (_, from_b) = http(
        b.addr,
        "GET",
        "/v1/channels/studio:camera/events?since=0",
        None,
    )
    .await;
    assert_eq!(from_a["events"].as_array().map(Vec::len), Some(2));
    assert_eq!(from_a, from_b);
}

#[tokio::test]
async fn a_client_moves_from_a_killed_node_to_b_and_resumes_without_a_gap() {
    const TOTAL: u64 = 300;
    let redis = RedisServer::start();
    let (mut a, b) = (Node::start(&redis), Node::start(&redis));
    healthy(a.addr).await;
    healthy(b.addr).await;
    let (a_addr, b_addr) = (a.addr, b.addr);

    let mut ws = connect(a_addr).await;
    let subscribed = subscribe(&mut ws, None).await;
    let epoch = subscribed["epoch"].as_str().expect("epoch").to_string();

    // A publisher behind a load balancer: A while it answers, then B; an id whose answer
    // was lost is sent again, so each event is taken exactly once.
    let publisher = tokio::spawn(async move {
        for n in 1..=TOTAL {
            let (status, body) = publish(a_addr, n).await;
            if status != 200 {
                let (status, again) = publish(b_addr, n).await;
                assert_eq!(status, 200, "neither node took e{n}: {body} / {again}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });

    let mut seen = Vec::new();
    while seen.len() < 100 {
        let frame = next(&mut ws).await.expect("event");
        seen.push((
            frame["offset"].as_u64().expect("offset"),
            frame["id"].clone(),
        ));
    }
    a.kill();
    // Whatever A sent before it died still counts.
    while let Some(frame) = next(&mut ws).await {
        if frame["type"] != "event" {
            break;
        }
        seen.push((
            frame["offset"].as_u64().expect("offset"),
            frame["id"].clone(),
        ));
    }
    let last = seen.last().map(|s| s.0).expect("events");

    let mut ws = connect(b_addr).await;
    let resumed = subscribe(&mut ws, Some((last, &epoch))).await;
    assert_eq!(resumed["recovered"], true, "{resumed}");
    assert_eq!(resumed["epoch"], epoch.as_str(), "one epoch for every node");
    while seen.last().map(|s| s.0) != Some(TOTAL) {
        let frame = next(&mut ws).await.expect("event");
        seen.push((
            frame["offset"].as_u64().expect("offset"),
            frame["id"].clone(),
        ));
    }
    publisher.await.expect("publisher");
    let expected: Vec<(u64, Value)> = (1..=TOTAL).map(|n| (n, json!(format!("e{n}")))).collect();
    assert_eq!(seen, expected, "every event once, in order");
}

#[tokio::test]
async fn a_lost_pub_sub_link_is_caught_up_from_the_stream() {
    let redis = RedisServer::start();
    let (a, b) = (Node::start(&redis), Node::start(&redis));
    healthy(a.addr).await;
    healthy(b.addr).await;
    let mut on_a = connect(a.addr).await;
    subscribe(&mut on_a, None).await;
    for round in 0..5u64 {
        // Cut every pub/sub connection (A's and B's), then publish straight away on B.
        assert!(redis.command("CLIENT KILL TYPE pubsub").starts_with(':'));
        for n in round * 10 + 1..=round * 10 + 10 {
            assert_eq!(publish(b.addr, n).await.0, 200);
        }
    }
    for n in 1..=50 {
        assert_eq!(next(&mut on_a).await.expect("event")["offset"], n);
    }
}

#[tokio::test]
async fn redis_down_is_503_and_redis_back_empty_is_a_new_epoch() {
    let mut redis = RedisServer::start();
    let a = Node::start(&redis);
    healthy(a.addr).await;
    assert_eq!(publish(a.addr, 1).await.1["offset"], 1);
    let mut ws = connect(a.addr).await;
    let first = subscribe(&mut ws, None).await;
    let epoch = first["epoch"].as_str().expect("epoch").to_string();

    redis.kill();
    let deadline = Instant::now() + Duration::from_secs(10);
    let (status, health) = loop {
        let (status, health) = http(a.addr, "GET", "/health", None).await;
        if status != 200 || Instant::now() > deadline {
            break (status, health);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["status"], "unavailable");
    let (status, refused) = publish(a.addr, 2).await;
    assert_eq!(
        (status, refused["code"].clone()),
        (503, json!("unavailable"))
    );
    let mut refused_ws = connect(a.addr).await;
    refused_ws
        .send(Message::Text(
            json!({"type": "subscribe", "channel": "studio:camera"})
                .to_string()
                .into(),
        ))
        .await
        .expect("send");
    assert_eq!(
        next(&mut refused_ws).await.expect("frame")["code"],
        "unavailable"
    );

    // Back, but empty: the offsets start again under a new epoch, and the client that
    // followed the old one is told to subscribe again.
    redis.restart();
    healthy(a.addr).await;
    assert_eq!(publish(a.addr, 2).await.1["offset"], 1);
    assert_eq!(next(&mut ws).await.expect("frame")["code"], 1012);
    let mut ws = connect(a.addr).await;
    let resumed = subscribe(&mut ws, Some((1, &epoch))).await;
    assert_eq!(resumed["recovered"], false, "{resumed}");
    assert_ne!(resumed["epoch"], epoch.as_str());
    assert_eq!(resumed["offset"], 1);
}
