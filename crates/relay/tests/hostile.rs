//! A leaked gallery link, against a real relay (channels in memory and in a real Redis):
//! a flood from one address is cut off while 200 honest guests beside it all answer; every
//! transport passes one door, capped per guest and address, with room kept for the
//! studio; expiry and revocation reach open connections (the whole exchange chain too);
//! a guest cannot take the engine's ids; channels nobody follows are forgotten and a
//! connection's subscriptions are capped; names cannot pass for the studio; overflowing
//! numbers are answered, not crashed on; a forgotten share's answers are deleted.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use shotline_relay::auth::{Claims, Role, now_secs};
use support::relay::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SHARE: &str = "s:gallery:w";

fn publisher() -> String {
    sign(
        &Claims::new(
            Role::Publisher,
            vec!["s:*".into()],
            Duration::from_secs(600),
        )
        .with_sub("engine"),
    )
}

fn admin() -> String {
    sign(&Claims::new(Role::Admin, Vec::new(), Duration::from_secs(600)).with_sub("root"))
}

/// The link the studio sends: a guest token of the share, which each guest exchanges.
fn link() -> Claims {
    Claims {
        publish: Some(
            shotline_protocol::gallery::GUEST_TYPES
                .iter()
                .map(|t| t.to_string())
                .collect(),
        ),
        ..Claims::new(Role::Guest, vec![SHARE.into()], Duration::from_secs(600)).with_sub("share:w")
    }
}

/// Open the share and show frames 1 to 3 in it.
async fn open_share(r: &Relay, exp: u64) {
    let body = json!({"channel": SHARE, "exp": exp, "title": "Wedding"}).to_string();
    let (status, answer) = http(r, "PUT", "/v1/shares/w", Some(&publisher()), Some(&body)).await;
    assert_eq!(status, 200, "{answer}");
    let state = r#"{"frames":[{"frame":1},{"frame":2},{"frame":3}]}"#;
    let (status, answer) = http(
        r,
        "PUT",
        &format!("/v1/blobs/{SHARE}/state.json"),
        Some(&publisher()),
        Some(state),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}

/// `POST /v1/tokens` with `token`: status and body.
async fn exchange(r: &Relay, token: &str, body: Value) -> (u16, Value) {
    let (status, answer) = http(
        r,
        "POST",
        "/v1/tokens",
        Some(token),
        Some(&body.to_string()),
    )
    .await;
    (status, serde_json::from_str(&answer).unwrap_or_default())
}

/// A guest of the link, named `name`.
async fn join(r: &Relay, link: &str, name: &str) -> (u16, Value) {
    exchange(r, link, json!({"channels": [SHARE], "name": name})).await
}

/// An answer over HTTP, as the page sends it: status and body.
async fn answer(r: &Relay, token: &str, id: &str, event: Value) -> (u16, Value) {
    let (status, body) = http(
        r,
        "POST",
        &format!("/v1/channels/{SHARE}/events"),
        Some(token),
        Some(&json!({"id": id, "event": event}).to_string()),
    )
    .await;
    (status, serde_json::from_str(&body).unwrap_or_default())
}

fn like(frame: u64) -> Value {
    json!({"type": "gallery_like", "payload": {"frame": frame, "liked": true}})
}

fn comment(text: &str) -> Value {
    json!({"type": "gallery_comment", "payload": {"frame": 2, "text": text}})
}

/// The share's answer log: how many answers, and their bytes as JSON lines.
async fn log(r: &Relay) -> (u64, u64) {
    let (mut after, mut bytes) = (0, 0);
    loop {
        let (status, body) = http(
            r,
            "GET",
            &format!("/v1/shares/w/answers?after={after}"),
            Some(&publisher()),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let page: Value = serde_json::from_str(&body).expect("json");
        for a in page["answers"].as_array().expect("answers") {
            let mut a = a.clone();
            a.as_object_mut().expect("object").remove("seq");
            bytes += a.to_string().len() as u64 + 1;
        }
        let next = page["next"].as_u64().expect("next");
        if next == after {
            return (page["total"].as_u64().expect("total"), bytes);
        }
        after = next;
    }
}

async fn stats(r: &Relay) -> Value {
    let (_, body) = http(r, "GET", "/stats", None, None).await;
    serde_json::from_str(&body).expect("json")
}

on_both_backends!(
    a_flood_from_one_address_is_cut_off_and_the_crowd_beside_it_answers,
    every_transport_passes_one_door_and_the_studio_always_gets_in,
    expiry_reaches_open_connections,
    revoking_a_link_revokes_every_token_exchanged_from_it,
    a_guest_cannot_take_the_engines_ids,
    channels_nobody_follows_are_forgotten_and_subscriptions_are_capped,
    names_numbers_and_forgotten_logs,
);

async fn a_flood_from_one_address_is_cut_off_and_the_crowd_beside_it_answers(backend: Backend) {
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().to_path_buf();
    let (burst, rate) = (64_000, 200_000);
    let r = relay(backend, |c| {
        c.data = Some(dir);
        c.guest_joins = 250;
        c.address_answers = burst;
        c.address_answers_rate = rate;
        c.guest_answers = 40_000;
    })
    .await;
    open_share(&r, now_secs() + 600).await;
    let link = sign(&link());
    // A wedding: 200 guests on the venue's Wi-Fi (one address) open the link and answer.
    let mut crowd = Vec::new();
    for i in 0..200 {
        let (status, body) = join(&r, &link, &format!("Guest {i}")).await;
        assert_eq!(status, 200, "guest {i}: {body}");
        let token = body["token"].as_str().expect("token").to_string();
        let (status, body) = answer(&r, &token, "like-1", like(1)).await;
        assert_eq!(status, 200, "guest {i}: {body}");
        crowd.push(token);
    }
    let (kept, crowd_bytes) = log(&r).await;
    assert_eq!(kept, 200);

    // A script on the same Wi-Fi with the same link: new guests and long comments, flat out.
    let text = "x".repeat(1500);
    let (mut joined, mut no_join, mut taken, mut refused, mut quota) = (0, 0, 0, 0, 0);
    let until = std::time::Instant::now() + Duration::from_secs(3);
    let mut n = 0;
    while std::time::Instant::now() < until {
        let (status, body) = join(&r, &link, "bot").await;
        if status != 200 {
            assert_eq!(
                (status, body["code"].as_str()),
                (429, Some("too_many_guests"))
            );
            no_join += 1;
            if no_join > 20 {
                break;
            }
            continue;
        }
        joined += 1;
        let bot = body["token"].as_str().expect("token").to_string();
        for _ in 0..30 {
            n += 1;
            let (status, body) = answer(&r, &bot, &format!("junk-{n}"), comment(&text)).await;
            match (status, body["code"].as_str()) {
                (200, _) => taken += 1,
                (429, Some("rate_limited")) => refused += 1,
                (403, Some("quota_exceeded")) => quota += 1,
                other => panic!("unexpected {other:?}: {body}"),
            }
        }
    }
    assert!(
        joined <= 50,
        "the link let in {joined} more from the address"
    );
    assert!(no_join > 0, "new guests were never refused");
    assert!(refused > 0, "the flood was never cut off ({taken} taken)");
    let (_, all_bytes) = log(&r).await;
    let flood_bytes = all_bytes - crowd_bytes;
    // At most what the address had left of its burst, and its fair share of the refill.
    assert!(
        flood_bytes <= burst + rate,
        "the flood added {flood_bytes} bytes ({taken} answers, {quota} over quota)"
    );
    eprintln!(
        "flood: {joined} new guests, {taken} answers kept ({flood_bytes} bytes), {refused} refused; {no_join} joins refused"
    );

    // The crowd answers again, beside the script, and every answer is taken.
    for (i, token) in crowd.iter().enumerate() {
        let (status, body) = answer(
            &r,
            token,
            "rate-3",
            json!({"type": "gallery_rating", "payload": {"frame": 3, "stars": 4}}),
        )
        .await;
        assert_eq!(status, 200, "guest {i} after the flood: {body}");
    }
    // A retried answer is not kept twice.
    let (before, _) = log(&r).await;
    let (status, body) = answer(
        &r,
        &crowd[0],
        "rate-3",
        json!({"type": "gallery_rating", "payload": {"frame": 3, "stars": 4}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(log(&r).await.0, before, "a retry is not kept again");
    let s = stats(&r).await;
    assert!(s["refused_answers"].as_u64() > Some(0), "{s}");
    assert!(s["refused_guests"].as_u64() > Some(0), "{s}");
    assert!(s["duplicate_answers"].as_u64() > Some(0), "{s}");
    let (_, metrics) = http(&r, "GET", "/metrics", None, None).await;
    assert!(
        metrics.contains("shotline_relay_refused_answers_total "),
        "{metrics}"
    );
}

/// An SSE stream held open: its status, and the stream.
async fn open_sse(r: &Relay, channel: &str, token: &str) -> (u16, tokio::net::TcpStream) {
    let mut stream = tokio::net::TcpStream::connect(r.addr)
        .await
        .expect("connect");
    let request = format!(
        "GET /v1/channels/{channel}/sse?token={token} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte))
            .await
            .expect("a head in time")
            .expect("read");
        if n == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, stream)
}

/// True once the SSE stream ends (within `within`).
async fn ends(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(n)) if buf[..n].ends_with(b"0\r\n\r\n") => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

fn guest_of(sub: &str) -> String {
    sign(
        &Claims {
            name: Some(sub.into()),
            ..link()
        }
        .with_sub(sub),
    )
}

async fn every_transport_passes_one_door_and_the_studio_always_gets_in(backend: Backend) {
    let r = relay(backend, |c| {
        c.max_connections = 12;
        c.publisher_reserve = 2;
        c.max_per_address = 6;
        c.max_per_guest = 2;
    })
    .await;
    // One guest's tabs: two, over any transport.
    let ana = guest_of("guest-ana");
    let _tab1 = connect(&r, &ana).await;
    let (status, _sse) = open_sse(&r, SHARE, &ana).await;
    assert_eq!(status, 200);
    assert_eq!(
        refused(&r, &ana).await,
        (429, "too_many_connections".into())
    );
    // SSE and long polls count like WebSockets: guests from one address, six at most.
    let mut held = Vec::new();
    for i in 0..3 {
        let (status, stream) = open_sse(&r, SHARE, &guest_of(&format!("guest-{i}"))).await;
        assert_eq!(status, 200);
        held.push(stream);
    }
    let poller = guest_of("guest-poll");
    let poll_relay = r.addr;
    let poll = tokio::spawn(async move {
        let mut stream = tokio::net::TcpStream::connect(poll_relay)
            .await
            .expect("connect");
        let request = format!(
            "GET /v1/channels/{SHARE}/events?wait=5&token={poller} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        stats(&r).await["open"],
        6,
        "two tabs, three streams, one long poll"
    );
    let (status, _) = open_sse(&r, SHARE, &guest_of("guest-late")).await;
    assert_eq!(status, 429, "the seventh guest connection from the address");
    // Dashboards fill the rest, up to the reserve.
    let dashboard = sign(&Claims::new(
        Role::Subscriber,
        vec!["s:*".into()],
        Duration::from_secs(600),
    ));
    let _d1 = connect(&r, &dashboard).await;
    let (status, _d2) = open_sse(&r, "s:camera", &dashboard).await;
    assert_eq!(status, 200);
    let (status, _d3) = open_sse(&r, "s:camera", &dashboard).await;
    assert_eq!(status, 200);
    let _d4 = connect(&r, &dashboard).await;
    assert_eq!(refused(&r, &dashboard).await, (503, "overloaded".into()));
    // The studio's engine always gets in.
    let mut engine = connect(&r, &publisher()).await;
    send(&mut engine, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut engine).await["type"], "pong");
    let s = stats(&r).await;
    assert!(s["refused_connections"].as_u64() >= Some(3), "{s}");
    // Socket.IO sessions that have not passed the door yet are bounded too.
    let mut codes = Vec::new();
    for _ in 0..14 {
        let (status, _) = http(&r, "GET", "/socket.io/?EIO=4&transport=polling", None, None).await;
        codes.push(status);
    }
    assert!(codes[..12].iter().all(|s| *s == 200), "{codes:?}");
    assert_eq!(codes[13], 429, "{codes:?}");
    poll.await.expect("poll");
    drop(held);
}

/// The next frame that is not an event, waiting up to `secs` seconds.
async fn next_not_event(ws: &mut Ws, secs: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let frame = tokio::time::timeout_at(deadline, recv(ws))
            .await
            .expect("a frame in time");
        if frame["type"] != "event" {
            return frame;
        }
    }
}

async fn expiry_reaches_open_connections(backend: Backend) {
    let r = relay(backend, |_| {}).await;
    open_share(&r, now_secs() + 3).await;
    // A token within the clock leeway when it connects, past it a few seconds later.
    let nearly = sign(
        &Claims {
            exp: now_secs() - 57,
            ..link()
        }
        .with_sub("guest-late"),
    );
    let mut late = connect(&r, &nearly).await;
    send(&mut late, json!({"type": "subscribe", "channel": SHARE})).await;
    assert_eq!(recv(&mut late).await["type"], "subscribed");
    // The share's own pages, over a WebSocket and SSE.
    let mut page = connect(&r, &guest_of("guest-page")).await;
    send(&mut page, json!({"type": "subscribe", "channel": SHARE})).await;
    assert_eq!(recv(&mut page).await["type"], "subscribed");
    let (status, mut sse) = open_sse(&r, SHARE, &guest_of("guest-sse")).await;
    assert_eq!(status, 200);
    let closed = |frame: Value| frame["type"] == "closed" && frame["code"] == 4003;
    assert!(
        closed(next_not_event(&mut late, 8).await),
        "a token past its expiry is cut off"
    );
    assert!(
        closed(next_not_event(&mut page, 8).await),
        "a share past its expiry is cut off"
    );
    assert!(
        ends(&mut sse, Duration::from_secs(8)).await,
        "its SSE stream ends"
    );
    assert_eq!(
        refused(&r, &guest_of("guest-page")).await.0,
        401,
        "and not let back in"
    );
    assert!(stats(&r).await["expired_cut"].as_u64() >= Some(3));
}

async fn revoking_a_link_revokes_every_token_exchanged_from_it(backend: Backend) {
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().to_path_buf();
    let r = relay(backend, |c| c.data = Some(dir)).await;
    open_share(&r, now_secs() + 600).await;
    let link_claims = link();
    let link = sign(&link_claims);
    let (status, body) = join(&r, &link, "Ana").await;
    assert_eq!(status, 200, "{body}");
    let ana = body["token"].as_str().expect("token").to_string();
    // Ana renames herself: a token from her token.
    let ana_claims = shotline_relay::auth::verify(&ana, SECRET).expect("claims");
    let (status, body) = exchange(
        &r,
        &ana,
        json!({"channels": [SHARE], "name": "Ana B.", "sub": ana_claims.sub}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let renamed = body["token"].as_str().expect("token").to_string();
    let mut tab = connect(&r, &renamed).await;
    send(&mut tab, json!({"type": "subscribe", "channel": SHARE})).await;
    assert_eq!(recv(&mut tab).await["type"], "subscribed");
    let (status, body) = http(
        &r,
        "POST",
        "/v1/admin/revoke",
        Some(&admin()),
        Some(&json!({"jti": link_claims.jti}).to_string()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let frame = next_not_event(&mut tab, 5).await;
    assert_eq!(
        (frame["type"].as_str(), frame["code"].as_u64()),
        (Some("closed"), Some(4003))
    );
    assert_eq!(
        refused(&r, &renamed).await,
        (401, "revoked".into()),
        "the grandchild"
    );
    assert_eq!(
        refused(&r, &ana).await,
        (401, "revoked".into()),
        "the child"
    );
    // By subject: every token exchanged from the subject's tokens goes too.
    let other = Claims {
        jti: Some("other-link".into()),
        ..link_claims.clone()
    }
    .with_sub("share:x");
    let (status, body) = join(&r, &sign(&other), "Ben").await;
    assert_eq!(status, 200, "{body}");
    let ben = body["token"].as_str().expect("token").to_string();
    let (status, _) = http(
        &r,
        "POST",
        "/v1/admin/revoke",
        Some(&admin()),
        Some(&json!({"sub": "share:x"}).to_string()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(refused(&r, &ben).await, (401, "revoked".into()));
    // A link the engine mints by exchange from its publisher token, as `share create`
    // does: revoking the link still reaches its guests.
    let (status, body) = exchange(
        &r,
        &publisher(),
        json!({"channels": [SHARE], "role": "guest", "sub": "share:y",
            "publish": ["gallery_like"], "ttl": "5m"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let minted = body["token"].as_str().expect("token").to_string();
    let minted_jti = body["jti"].as_str().expect("jti").to_string();
    let (status, body) = join(&r, &minted, "Cat").await;
    assert_eq!(status, 200, "{body}");
    let cat = body["token"].as_str().expect("token").to_string();
    let (status, _) = http(
        &r,
        "POST",
        "/v1/admin/revoke",
        Some(&admin()),
        Some(&json!({"jti": minted_jti}).to_string()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(refused(&r, &cat).await, (401, "revoked".into()));
    // After a restart too.
    let restarted = match backend {
        Backend::Memory => {
            let dir = data.path().to_path_buf();
            relay(Backend::Memory, |c| c.data = Some(dir)).await
        }
        Backend::Redis => {
            let url = r.redis.as_ref().map(|x| x.url());
            relay(Backend::Memory, |c| c.redis = url).await
        }
    };
    assert_eq!(refused(&restarted, &renamed).await, (401, "revoked".into()));
    assert_eq!(refused(&restarted, &ben).await, (401, "revoked".into()));
    assert_eq!(refused(&restarted, &cat).await, (401, "revoked".into()));
}

async fn a_guest_cannot_take_the_engines_ids(backend: Backend) {
    let r = relay(backend, |_| {}).await;
    open_share(&r, now_secs() + 600).await;
    let mut watcher = connect(&r, &guest_of("guest-watch")).await;
    send(&mut watcher, json!({"type": "subscribe", "channel": SHARE})).await;
    assert_eq!(recv(&mut watcher).await["type"], "subscribed");
    // The engine's ids are `<journal>-<seq>`: a guest answers with the next one first.
    let (status, body) = answer(&r, &guest_of("guest-eve"), "j1-7", like(1)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "g:guest-eve:j1-7");
    let frame = json!({"type": "gallery_frame", "payload": {"frame": 3, "name": "IMG_0003.JPG"}});
    let (status, body) = http(
        &r,
        "POST",
        &format!("/v1/channels/{SHARE}/events"),
        Some(&publisher()),
        Some(&json!({"id": "j1-7", "event": frame}).to_string()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        body["duplicate"], false,
        "the studio's frame is not a duplicate"
    );
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        let frame = recv(&mut watcher).await;
        if frame["type"] == "event" {
            kinds.push(
                frame["event"]["type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
    }
    assert_eq!(
        kinds,
        ["gallery_like", "gallery_frame"],
        "every page gets the frame"
    );
}

async fn channels_nobody_follows_are_forgotten_and_subscriptions_are_capped(backend: Backend) {
    let r = relay(backend, |c| c.max_subscriptions = 20).await;
    let dashboard = sign(&Claims::new(
        Role::Subscriber,
        vec!["s:*".into()],
        Duration::from_secs(600),
    ));
    let mut ws = connect(&r, &dashboard).await;
    let mut codes = Vec::new();
    for i in 0..25 {
        send(
            &mut ws,
            json!({"type": "subscribe", "channel": format!("s:junk{i}")}),
        )
        .await;
        let frame = recv(&mut ws).await;
        codes.push(
            frame["code"]
                .as_str()
                .unwrap_or(frame["type"].as_str().unwrap_or(""))
                .to_string(),
        );
    }
    assert_eq!(codes.iter().filter(|c| *c == "subscribed").count(), 20);
    assert_eq!(
        codes
            .iter()
            .filter(|c| *c == "too_many_subscriptions")
            .count(),
        5
    );
    send(&mut ws, json!({"type": "subscribe", "channel": "s:junk3"})).await;
    assert_eq!(
        recv(&mut ws).await["type"],
        "subscribed",
        "one already followed"
    );
    assert_eq!(stats(&r).await["channels"], 20);
    send(
        &mut ws,
        json!({"type": "unsubscribe", "channel": "s:junk0"}),
    )
    .await;
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut ws).await["type"], "pong");
    assert_eq!(
        stats(&r).await["channels"],
        19,
        "an unfollowed empty channel is forgotten"
    );
    drop(ws);
    // Polls of many channels leave nothing behind either.
    for i in 0..30 {
        let (status, _) = http(
            &r,
            "GET",
            &format!("/v1/channels/s:poll{i}/events"),
            Some(&dashboard),
            None,
        )
        .await;
        assert_eq!(status, 200);
    }
    for _ in 0..50 {
        if stats(&r).await["channels"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stats(&r).await["channels"], 0);
    assert!(stats(&r).await["refused_subscriptions"].as_u64() >= Some(5));
    if let Some(redis) = &r.redis {
        let ttl: i64 = redis
            .command("PTTL shotline:{s:poll7}:epoch")
            .trim_start_matches(':')
            .parse()
            .expect("a number");
        assert!(ttl > 0, "a channel only read expires in redis ({ttl})");
    }
}

async fn names_numbers_and_forgotten_logs(backend: Backend) {
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().to_path_buf();
    let r = relay(backend, |c| c.data = Some(dir)).await;
    open_share(&r, now_secs() + 600).await;
    let link = sign(&link());
    for name in ["Studio", "Ｓｔｕｄｉｏ", "S\u{200B}tudio", "Stud\u{0456}o"] {
        let (status, body) = join(&r, &link, name).await;
        assert_eq!(status, 400, "{name:?}: {body}");
    }
    let (status, body) = exchange(
        &r,
        &link,
        json!({"channels": [SHARE], "ttl": "18446744073709551615s"}),
    )
    .await;
    assert!(status == 403 || status == 400, "{status} {body}");
    for path in [
        format!("/v1/shares/w/answers?after={}", u64::MAX),
        format!("/v1/channels/{SHARE}/events?since={}", u64::MAX),
    ] {
        let (status, body) = http(&r, "GET", &path, Some(&publisher()), None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let mut ws = connect(&r, &publisher()).await;
    send(
        &mut ws,
        json!({"type": "subscribe", "channel": SHARE, "since": u64::MAX}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["type"], "subscribed");
    // A share long past its expiry is forgotten with its answers.
    let (status, body) = join(&r, &link, "Ana").await;
    assert_eq!(status, 200, "{body}");
    let ana = body["token"].as_str().expect("token").to_string();
    let (status, body) = answer(&r, &ana, "l1", like(1)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(log(&r).await.0, 1);
    let old = json!({"channel": SHARE, "exp": 1000, "title": "Wedding"}).to_string();
    let (status, answer_body) =
        http(&r, "PUT", "/v1/shares/w", Some(&publisher()), Some(&old)).await;
    assert_eq!(status, 200, "{answer_body}");
    let other = json!({"channel": "s:gallery:next", "exp": now_secs() + 600}).to_string();
    let (status, answer_body) = http(
        &r,
        "PUT",
        "/v1/shares/next",
        Some(&publisher()),
        Some(&other),
    )
    .await;
    assert_eq!(status, 200, "{answer_body}");
    match &r.redis {
        Some(redis) => assert_eq!(
            redis.command(&format!("EXISTS shotline:answers:{SHARE}")),
            ":0"
        ),
        None => {
            let files: Vec<_> = std::fs::read_dir(data.path().join("answers"))
                .expect("dir")
                .collect();
            assert!(files.is_empty(), "the forgotten share's log is deleted");
        }
    }
}
