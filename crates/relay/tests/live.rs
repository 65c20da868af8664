//! Live view through real relays (one node, and two nodes sharing a real Redis): the
//! engine publishes pictures on node A; a viewer on node B gets them as MJPEG and as
//! WebSocket binaries; the publisher hears how many watch, on every node; a guest sees the
//! stream only through a share that shares live view, and a ticket opens it once.

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use shotline_relay::auth::{Claims, Role, now_secs};
use support::relay::{Backend, Relay, http, http_with, nodes, sign};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn studio(role: Role) -> String {
    sign(&Claims::new(
        role,
        vec!["s:*".into()],
        Duration::from_secs(600),
    ))
}

async fn ws(node: &Relay, path: &str, token: &str) -> Result<Ws, u16> {
    let mut request = format!("ws://{}{path}", node.addr)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// The next `{"viewers": N}` the publisher hears.
async fn viewers(publisher: &mut Ws) -> u64 {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), publisher.next())
            .await
            .expect("a count in time")
            .expect("open")
            .expect("ok");
        if let Message::Text(text) = message {
            let v: Value = serde_json::from_str(&text).expect("json");
            return v["viewers"].as_u64().expect("viewers");
        }
    }
}

/// Publish until the count is `n`.
async fn until_viewers(publisher: &mut Ws, n: u64) {
    while viewers(publisher).await != n {}
}

/// When the pictures were taken, as the publisher says.
const STAMP: i64 = 1234;

/// A stamp of now, as the engine sends it (a new viewer sees only a fresh picture at once).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn picture(k: u8) -> Vec<u8> {
    let mut jpeg = vec![0xff, 0xd8];
    jpeg.extend(std::iter::repeat_n(k, 1000 + usize::from(k)));
    jpeg.extend([0xff, 0xd9]);
    jpeg
}

/// An MJPEG viewer over plain HTTP/1.1: the response's status and a reader of its parts.
struct Mjpeg {
    body: BufReader<tokio::net::TcpStream>,
    /// The `taken_ms` the next pictures were sent with.
    stamp: i64,
}

impl Mjpeg {
    async fn open(node: &Relay, path: &str, token: Option<&str>) -> Result<Self, (u16, String)> {
        let mut tcp = tokio::net::TcpStream::connect(node.addr)
            .await
            .expect("connect");
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        tcp.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\n").as_bytes(),
        )
        .await
        .expect("write");
        let mut body = BufReader::new(tcp);
        let mut line = String::new();
        body.read_line(&mut line).await.expect("status");
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let mut chunked = false;
        let mut length = 0usize;
        loop {
            line.clear();
            body.read_line(&mut line).await.expect("header");
            if line.trim_end().is_empty() {
                break;
            }
            let lower = line.to_ascii_lowercase();
            chunked |= lower.starts_with("transfer-encoding: chunked");
            if let Some(n) = lower.strip_prefix("content-length: ") {
                length = n.trim().parse().unwrap_or(0);
            }
        }
        if status != 200 {
            let mut text = vec![0; length];
            body.read_exact(&mut text).await.expect("body");
            return Err((status, String::from_utf8_lossy(&text).into_owned()));
        }
        assert!(chunked, "a stream without a length");
        Ok(Self { body, stamp: STAMP })
    }

    /// True once the stream ends within `secs`, whatever parts come before.
    async fn ends(&mut self, secs: u64) -> bool {
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(secs), self.body.read_to_end(&mut rest))
            .await
            .is_ok()
    }

    /// The next part's picture (chunks carry whole parts).
    async fn next(&mut self) -> Vec<u8> {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), async {
            line.clear();
            self.body.read_line(&mut line).await.expect("chunk size");
            let size = usize::from_str_radix(line.trim(), 16).expect("hex size");
            let mut chunk = vec![0; size + 2];
            self.body.read_exact(&mut chunk).await.expect("chunk");
            chunk.truncate(size);
            let head_end = chunk
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .expect("part headers")
                + 4;
            let head = String::from_utf8_lossy(&chunk[..head_end]).into_owned();
            assert!(
                head.starts_with("--shotline-live\r\nContent-Type: image/jpeg\r\n"),
                "{head}"
            );
            assert!(
                head.contains(&format!("X-Taken-Ms: {}", self.stamp)),
                "{head}"
            );
            chunk[head_end..chunk.len() - 2].to_vec()
        })
        .await
        .expect("a picture in time")
    }
}

async fn live_view_reaches_viewers_on_every_node(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = nodes(backend, dir.path()).await;
    let b = b.as_ref().unwrap_or(&a);
    let mut publisher = ws(&a, "/v1/live/s:live/publish", &studio(Role::Publisher))
        .await
        .expect("publish");
    assert_eq!(viewers(&mut publisher).await, 0, "nobody watches yet");

    // A viewer on node B: the publisher hears of it.
    let mut mjpeg = Mjpeg::open(b, "/v1/live/s:live", Some(&studio(Role::Subscriber)))
        .await
        .expect("the stream");
    until_viewers(&mut publisher, 1).await;
    for k in 1..=3u8 {
        let stamp = if k == 3 { now_ms() } else { STAMP };
        mjpeg.stamp = stamp;
        publisher
            .send(Message::text(json!({"taken_ms": stamp}).to_string()))
            .await
            .expect("stamp");
        publisher
            .send(Message::binary(picture(k)))
            .await
            .expect("picture");
        assert!(mjpeg.next().await == picture(k), "picture {k}");
    }

    // A WebSocket viewer beside it: two viewers. It gets the picture already there at
    // once, then the next, each as one binary message.
    let mut viewer = ws(b, "/v1/live/s:live", &studio(Role::Subscriber))
        .await
        .expect("ws viewer");
    until_viewers(&mut publisher, 2).await;
    let mut binary = async || loop {
        match tokio::time::timeout(Duration::from_secs(10), viewer.next())
            .await
            .expect("a picture in time")
            .expect("open")
            .expect("ok")
        {
            Message::Binary(b) => break b.to_vec(),
            _ => continue,
        }
    };
    assert!(
        binary().await == picture(3),
        "the latest picture at once, while fresh"
    );
    publisher
        .send(Message::binary(picture(9)))
        .await
        .expect("picture");
    assert!(binary().await == picture(9), "then the next");

    // Both leave: the count goes back to none.
    drop(mjpeg);
    drop(viewer);
    until_viewers(&mut publisher, 0).await;

    // Only a publisher publishes; a token of another studio sees nothing.
    assert_eq!(
        ws(&a, "/v1/live/s:live/publish", &studio(Role::Subscriber))
            .await
            .err(),
        Some(403)
    );
    let other = sign(&Claims::new(
        Role::Subscriber,
        vec!["t:*".into()],
        Duration::from_secs(600),
    ));
    match Mjpeg::open(b, "/v1/live/s:live", Some(&other)).await {
        Err((403, body)) => assert!(body.contains("does not cover"), "{body}"),
        other => panic!("{:?}", other.err()),
    }
    match Mjpeg::open(b, "/v1/live/s:live", None).await {
        Err((401, _)) => {}
        other => panic!("{:?}", other.err()),
    }
}

async fn a_guest_sees_live_view_only_where_the_studio_shares_it(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = nodes(backend, dir.path()).await;
    let b = b.as_ref().unwrap_or(&a);
    let mut guests = Vec::new();
    for (id, live) in [("open1", true), ("shut1", false)] {
        let channel = format!("s:gallery:{id}");
        let body = json!({"channel": channel, "exp": now_secs() + 600, "live": live});
        let (status, answer) = http(
            &a,
            "PUT",
            &format!("/v1/shares/{id}"),
            Some(&studio(Role::Publisher)),
            Some(&body.to_string()),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        guests.push(sign(&Claims::new(
            Role::Guest,
            vec![channel],
            Duration::from_secs(600),
        )));
    }
    let mut publisher = ws(&a, "/v1/live/s:live/publish", &studio(Role::Publisher))
        .await
        .expect("publish");
    assert_eq!(viewers(&mut publisher).await, 0);

    // The share without live view refuses, and a guest of one share cannot use another's.
    match Mjpeg::open(b, "/v1/shares/shut1/live", Some(&guests[1])).await {
        Err((403, body)) => assert!(body.contains("does not share its live view"), "{body}"),
        other => panic!("{:?}", other.err()),
    }
    match Mjpeg::open(b, "/v1/shares/open1/live", Some(&guests[1])).await {
        Err((403, _)) => {}
        other => panic!("{:?}", other.err()),
    }
    // A guest's token reaches the studio's own stream only through the share.
    match Mjpeg::open(b, "/v1/live/s:live", Some(&guests[0])).await {
        Err((403, _)) => {}
        other => panic!("{:?}", other.err()),
    }

    // The page asks for an address with a one-use ticket, and opens it without a token.
    let auth = format!("Bearer {}", guests[0]);
    let (status, _, body) = http_with(
        b,
        "GET",
        "/v1/shares/open1/live",
        &[("authorization", &auth), ("accept", "application/json")],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("json");
    let url = answer["url"].as_str().expect("url").to_string();
    assert!(url.starts_with("/v1/shares/open1/live?ticket=") && !url.contains(&guests[0]));
    let mut mjpeg = Mjpeg::open(b, &url, None)
        .await
        .expect("the ticket opens it");
    until_viewers(&mut publisher, 1).await;
    publisher
        .send(Message::text(json!({"taken_ms": 1234}).to_string()))
        .await
        .expect("stamp");
    publisher
        .send(Message::binary(picture(5)))
        .await
        .expect("picture");
    assert!(mjpeg.next().await == picture(5), "the guest's picture");
    match Mjpeg::open(b, &url, None).await {
        Err((403, body)) => assert!(body.contains("used"), "{body}"),
        other => panic!("a used ticket: {:?}", other.err()),
    }
    // A share's ticket opens the share's address only (which looks at the share again),
    // never the studio's own stream.
    let (_, _, body) = http_with(
        b,
        "GET",
        "/v1/shares/open1/live",
        &[("authorization", &auth), ("accept", "application/json")],
        None,
    )
    .await;
    let answer: Value = serde_json::from_str(&body).expect("json");
    let ticket = answer["url"]
        .as_str()
        .expect("url")
        .rsplit('=')
        .next()
        .expect("ticket");
    match Mjpeg::open(b, &format!("/v1/live/s:live?ticket={ticket}"), None).await {
        Err((403, _)) => {}
        other => panic!("a share's ticket on the studio's stream: {:?}", other.err()),
    }
}

async fn a_revoked_token_or_an_admin_ends_a_stream(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = nodes(backend, dir.path()).await;
    let b = b.as_ref().unwrap_or(&a);
    let admin = sign(&Claims::new(
        Role::Admin,
        vec!["*".into()],
        Duration::from_secs(600),
    ));
    let viewer_of = |sub: &str| {
        sign(&Claims {
            sub: Some(sub.into()),
            ..Claims::new(
                Role::Subscriber,
                vec!["s:*".into()],
                Duration::from_secs(600),
            )
        })
    };
    let mut kept = Mjpeg::open(b, "/v1/live/s:live", Some(&viewer_of("dash-kept")))
        .await
        .expect("a stream");
    let mut cut = Mjpeg::open(b, "/v1/live/s:live", Some(&viewer_of("dash-cut")))
        .await
        .expect("a stream");
    // A ticket's stream is its token's: revoking the token ends it too.
    let auth = format!("Bearer {}", viewer_of("dash-ticket"));
    let (status, _, body) = http_with(
        b,
        "GET",
        "/v1/live/s:live",
        &[("authorization", &auth), ("accept", "application/json")],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let url: Value = serde_json::from_str(&body).expect("json");
    let mut ticketed = Mjpeg::open(b, url["url"].as_str().expect("url"), None)
        .await
        .expect("the ticket's stream");

    let (status, body) = http(&a, "GET", "/v1/admin/connections", Some(&admin), None).await;
    assert_eq!(status, 200);
    let listed: Value = serde_json::from_str(&body).expect("json");
    let live: Vec<&Value> = listed["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .filter(|c| c["transport"] == "live")
        .collect();
    assert_eq!(live.len(), 3, "{listed}");
    assert!(
        live.iter().all(|c| c["channels"] == json!(["s:live"])),
        "{listed}"
    );

    let (status, _) = http(
        &a,
        "POST",
        "/v1/admin/disconnect",
        Some(&admin),
        Some(&json!({"sub": "dash-cut"}).to_string()),
    )
    .await;
    assert_eq!(status, 200);
    assert!(cut.ends(10).await, "a disconnected viewer's stream ends");
    let (status, _) = http(
        &a,
        "POST",
        "/v1/admin/revoke",
        Some(&admin),
        Some(&json!({"sub": "dash-ticket"}).to_string()),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        ticketed.ends(10).await,
        "a revoked token's ticket stream ends"
    );
    assert!(!kept.ends(1).await, "the other viewer watches on");
}

on_both_backends!(
    live_view_reaches_viewers_on_every_node,
    a_guest_sees_live_view_only_where_the_studio_shares_it,
    a_revoked_token_or_an_admin_ends_a_stream
);
