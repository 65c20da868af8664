//! The relay contract (DESIGN.md) against a real relay on 127.0.0.1:0, with a real
//! WebSocket client and raw HTTP/1.1: frames, resume, idempotent publish, every bad input
//! answered as data, tokens, polling, long-polling, SSE, slow consumers, shutdown.
//!
//! Every test runs twice: with the channels in memory (`memory::`) and in a real
//! `redis-server` (`redis::`), since a dashboard must not tell the two apart.

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use shotline_relay::auth::{Claims, Role, mint, now_secs};
use support::relay::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

// Each test, once per backend.
on_both_backends!(
    publish_subscribe_ack_and_duplicate_ids,
    resume_with_since_and_an_honest_recovered_flag,
    every_bad_frame_gets_an_error_and_the_connection_survives,
    tokens_are_checked_at_the_door,
    polling_long_polling_health_stats_and_metrics,
    server_sent_events_resume_from_last_event_id,
    a_slow_consumer_is_cut_off_and_others_are_not_slowed,
    shutdown_closes_clients_with_going_away,
);

async fn publish_subscribe_ack_and_duplicate_ids(backend: Backend) {
    let r = relay(backend, |_| {}).await;
    let mut sub = connect(&r, &token(Role::Subscriber, &["north:*"])).await;
    send(
        &mut sub,
        json!({"type": "subscribe", "channel": "north:camera"}),
    )
    .await;
    let subscribed = recv(&mut sub).await;
    assert_eq!(subscribed["type"], "subscribed");
    assert_eq!(subscribed["offset"], 0);
    assert!(subscribed["epoch"].is_string());

    let mut publisher = connect(&r, &token(Role::Publisher, &["north:camera"])).await;
    send(
        &mut publisher,
        json!({"type": "publish", "channel": "north:camera", "id": "e1", "event": event(1)}),
    )
    .await;
    assert_eq!(
        recv(&mut publisher).await,
        json!({"type": "ack", "id": "e1", "offset": 1})
    );
    let got = recv(&mut sub).await;
    assert_eq!(
        (
            got["type"].clone(),
            got["offset"].clone(),
            got["id"].clone()
        ),
        (json!("event"), json!(1), json!("e1"))
    );
    assert_eq!(got["event"], event(1));
    assert!(got["ts"].as_u64().is_some_and(|ts| ts > 1_600_000_000_000));

    send(
        &mut publisher,
        json!({"type": "publish", "channel": "north:camera", "id": "e1", "event": event(1)}),
    )
    .await;
    assert_eq!(
        recv(&mut publisher).await,
        json!({"type": "ack", "id": "e1", "offset": 1})
    );
    assert!(quiet(&mut sub).await, "a duplicate id was delivered again");
    send(&mut sub, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut sub).await, json!({"type": "pong"}));
}

async fn resume_with_since_and_an_honest_recovered_flag(backend: Backend) {
    let r = relay(backend, |c| c.history = 3).await;
    let publisher = token(Role::Publisher, &["s:*"]);
    for n in 1..=5 {
        let (status, body) = http(
            &r,
            "POST",
            "/v1/channels/s:backup/events",
            Some(&publisher),
            Some(&json!({"id": format!("e{n}"), "event": event(n)}).to_string()),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).expect("json")["offset"],
            n
        );
    }
    let mut ws = connect(&r, &token(Role::Subscriber, &["s:backup"])).await;
    send(
        &mut ws,
        json!({"type": "subscribe", "channel": "s:backup", "since": 3}),
    )
    .await;
    let subscribed = recv(&mut ws).await;
    assert_eq!(
        (
            subscribed["recovered"].clone(),
            subscribed["offset"].clone()
        ),
        (json!(true), json!(5))
    );
    assert_eq!(
        subscribed["snapshot"],
        json!([event(5)]),
        "the latest event of each type"
    );
    assert_eq!(recv(&mut ws).await["offset"], 4);
    assert_eq!(recv(&mut ws).await["offset"], 5);

    let mut late = connect(&r, &token(Role::Subscriber, &["s:backup"])).await;
    send(
        &mut late,
        json!({"type": "subscribe", "channel": "s:backup", "since": 1}),
    )
    .await;
    assert_eq!(
        recv(&mut late).await["recovered"],
        false,
        "offset 2 is no longer held"
    );
    let mut other_epoch = connect(&r, &token(Role::Subscriber, &["s:backup"])).await;
    send(
        &mut other_epoch,
        json!({"type": "subscribe", "channel": "s:backup", "since": 4, "epoch": "old"}),
    )
    .await;
    assert_eq!(recv(&mut other_epoch).await["recovered"], false);
}

async fn every_bad_frame_gets_an_error_and_the_connection_survives(backend: Backend) {
    let r = relay(backend, |c| {
        c.max_frame = 1024;
        c.publish_rate = 2;
    })
    .await;
    let mut ws = connect(&r, &token(Role::Publisher, &["a:*"])).await;
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "bad_json"),
        (json!({"type": "dance"}).to_string(), "bad_frame"),
        (json!({"type": "subscribe"}).to_string(), "bad_frame"),
        (json!({"type": "subscribe", "channel": "no spaces"}).to_string(), "invalid_channel"),
        (json!({"type": "subscribe", "channel": "b:camera"}).to_string(), "forbidden"),
        (json!({"type": "publish", "channel": "a:x", "id": "1", "event": {"payload": {}}}).to_string(), "invalid_event"),
        (json!({"type": "publish", "channel": "a:x", "id": "big", "event": {"type": "t", "payload": "x".repeat(2000)}}).to_string(), "frame_too_large"),
    ];
    for (frame, code) in cases {
        ws.send(Message::Text(frame.clone().into()))
            .await
            .expect("send");
        let reply = recv(&mut ws).await;
        assert_eq!(
            (reply["type"].as_str(), reply["code"].as_str()),
            (Some("error"), Some(code)),
            "{frame}"
        );
    }
    let mut codes = Vec::new();
    for n in 0..8 {
        send(
            &mut ws,
            json!({"type": "publish", "channel": "a:x", "id": format!("r{n}"), "event": event(n)}),
        )
        .await;
        codes.push(
            recv(&mut ws).await["type"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    assert!(
        codes.iter().any(|c| c == "error"),
        "a flood is rate limited: {codes:?}"
    );
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(
        recv(&mut ws).await["type"],
        "pong",
        "the connection survived"
    );

    let mut sub = connect(&r, &token(Role::Subscriber, &["a:*"])).await;
    send(
        &mut sub,
        json!({"type": "publish", "channel": "a:x", "id": "s", "event": event(1)}),
    )
    .await;
    assert_eq!(recv(&mut sub).await["code"], "forbidden");
}

async fn tokens_are_checked_at_the_door(backend: Backend) {
    let r = relay(backend, |_| {}).await;
    let url = format!("ws://{}/v1/ws", r.addr);
    let refused = |result: Result<_, tokio_tungstenite::tungstenite::Error>| match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("connected without a valid token"),
    };
    assert_eq!(
        refused(tokio_tungstenite::connect_async(url.as_str()).await),
        401
    );
    let expired = mint(
        &Claims {
            role: Role::Subscriber,
            channels: vec!["*".into()],
            exp: now_secs() - 120,
            ..Claims::new(Role::Guest, Vec::new(), std::time::Duration::ZERO)
        },
        SECRET,
    );
    assert_eq!(
        refused(tokio_tungstenite::connect_async(format!("{url}?token={expired}")).await),
        401
    );
    let forged = mint(
        &Claims {
            role: Role::Publisher,
            channels: vec!["*".into()],
            exp: now_secs() + 60,
            ..Claims::new(Role::Guest, Vec::new(), std::time::Duration::ZERO)
        },
        b"wrong-secret-000000",
    );
    assert_eq!(
        refused(tokio_tungstenite::connect_async(format!("{url}?token={forged}")).await),
        401
    );
    let good = token(Role::Subscriber, &["*"]);
    assert!(
        tokio_tungstenite::connect_async(format!("{url}?token={good}"))
            .await
            .is_ok()
    );

    let (status, body) = http(
        &r,
        "POST",
        "/v1/channels/x/events",
        Some(&good),
        Some(r#"{"id":"1","event":{"type":"t","payload":{}}}"#),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = http(
        &r,
        "POST",
        "/v1/channels/x/events",
        Some(&expired),
        Some("{}"),
    )
    .await;
    assert_eq!(
        (
            status,
            serde_json::from_str::<Value>(&body).expect("json")["code"].clone()
        ),
        (401, json!("token_expired"))
    );
}

async fn polling_long_polling_health_stats_and_metrics(backend: Backend) {
    let r = relay(backend, |_| {}).await;
    let publisher = token(Role::Publisher, &["p:*"]);
    let reader = token(Role::Subscriber, &["p:*"]);
    let (status, body) = http(
        &r,
        "GET",
        "/v1/channels/p:status/events?since=0",
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let empty: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        (empty["offset"].clone(), empty["events"].clone()),
        (json!(0), json!([]))
    );

    let waiting = {
        let (addr, reader) = (r.addr, reader.clone());
        tokio::spawn(async move {
            let r = Relay {
                addr,
                stop: None,
                task: tokio::spawn(async { Ok(()) }),
                redis: None,
            };
            http(
                &r,
                "GET",
                "/v1/channels/p:status/events?since=0&wait=20",
                Some(&reader),
                None,
            )
            .await
        })
    };
    // The poll is waiting (the relay counts it) before anything is published.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stats: Value =
            serde_json::from_str(&http(&r, "GET", "/stats", None, None).await.1).expect("json");
        if stats["polls_waiting"] == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the long poll never waited"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    http(
        &r,
        "POST",
        "/v1/channels/p:status/events",
        Some(&publisher),
        Some(&json!({"id": "q1", "event": event(7)}).to_string()),
    )
    .await;
    let (status, body) = waiting.await.expect("long poll");
    assert_eq!(status, 200);
    let got: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        got["events"][0]["event"],
        event(7),
        "the long poll returned as soon as the event came"
    );
    assert_eq!(got["offset"], 1);

    assert_eq!(
        http(&r, "GET", "/health", None, None).await,
        (200, r#"{"status":"ok"}"#.to_string())
    );
    let stats: Value =
        serde_json::from_str(&http(&r, "GET", "/stats", None, None).await.1).expect("json");
    for key in [
        "connections",
        "subscriptions",
        "channels",
        "published",
        "delivered",
        "dropped",
        "uptime",
    ] {
        assert!(stats[key].is_u64(), "{key} missing from {stats}");
    }
    assert_eq!(stats["published"], 1);
    let metrics = http(&r, "GET", "/metrics", None, None).await.1;
    assert!(
        metrics.contains("shotline_relay_published_total 1"),
        "{metrics}"
    );
}

async fn server_sent_events_resume_from_last_event_id(backend: Backend) {
    let r = relay(backend, |_| {}).await;
    let publisher = token(Role::Publisher, &["e:*"]);
    for n in 1..=3 {
        http(
            &r,
            "POST",
            "/v1/channels/e:alerts/events",
            Some(&publisher),
            Some(&json!({"id": format!("{n}"), "event": event(n)}).to_string()),
        )
        .await;
    }
    let mut stream = TcpStream::connect(r.addr).await.expect("connect");
    let request = format!(
        "GET /v1/channels/e:alerts/sse?token={} HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 1\r\n\r\n",
        token(Role::Subscriber, &["e:alerts"])
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("id: 3") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("in time")
            .expect("read");
        assert!(n > 0, "stream ended: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains("text/event-stream"), "{seen}");
    assert!(seen.contains("event: subscribed"));
    assert!(
        !seen.contains("id: 1\n"),
        "replayed an event before Last-Event-ID"
    );
    assert!(
        seen.find("id: 2")
            .is_some_and(|two| seen.find("id: 3").is_some_and(|three| two < three))
    );
}

async fn a_slow_consumer_is_cut_off_and_others_are_not_slowed(backend: Backend) {
    let r = relay(backend, |c| {
        c.queue = 16;
        c.history = 8;
    })
    .await;
    let reader = token(Role::Subscriber, &["f:*"]);
    let mut slow = connect(&r, &reader).await;
    let mut fast = connect(&r, &reader).await;
    send(
        &mut slow,
        json!({"type": "subscribe", "channel": "f:camera"}),
    )
    .await;
    send(
        &mut fast,
        json!({"type": "subscribe", "channel": "f:camera"}),
    )
    .await;
    assert_eq!(recv(&mut fast).await["type"], "subscribed");
    let publisher = token(Role::Publisher, &["f:*"]);
    let payload = "x".repeat(16_000);
    let mut received = 0;
    for n in 0..600 {
        let body =
            json!({"id": format!("{n}"), "event": {"type": "t", "payload": payload}}).to_string();
        http(
            &r,
            "POST",
            "/v1/channels/f:camera/events",
            Some(&publisher),
            Some(&body),
        )
        .await;
        while let Ok(Some(Ok(_))) =
            tokio::time::timeout(Duration::from_millis(1), fast.next()).await
        {
            received += 1;
        }
    }
    while received < 600 {
        match tokio::time::timeout(Duration::from_secs(5), fast.next()).await {
            Ok(Some(Ok(Message::Text(_)))) => received += 1,
            Ok(Some(Ok(_))) => {}
            other => panic!("the fast subscriber stalled after {received}: {other:?}"),
        }
    }
    let stats: Value =
        serde_json::from_str(&http(&r, "GET", "/stats", None, None).await.1).expect("json");
    assert!(stats["dropped"].as_u64() > Some(0), "{stats}");
    let mut closed = None;
    while let Ok(Some(Ok(message))) =
        tokio::time::timeout(Duration::from_secs(5), slow.next()).await
    {
        if let Message::Close(frame) = message {
            closed = frame.map(|f| u16::from(f.code));
            break;
        }
    }
    assert_eq!(closed, Some(shotline_relay::ws::CLOSE_SLOW_CONSUMER));
}

async fn shutdown_closes_clients_with_going_away(backend: Backend) {
    let mut r = relay(backend, |_| {}).await;
    let mut ws = connect(&r, &token(Role::Subscriber, &["*"])).await;
    send(&mut ws, json!({"type": "subscribe", "channel": "g"})).await;
    assert_eq!(recv(&mut ws).await["type"], "subscribed");
    let _ = r.stop.take().map(|s| s.send(()));
    assert_eq!(recv(&mut ws).await, json!({"type": "closed", "code": 1001}));
    tokio::time::timeout(Duration::from_secs(10), &mut r.task)
        .await
        .expect("stopped in time")
        .expect("join")
        .expect("served");
}
