//! The engine's events reach a relay: the embedded one `shotline run` starts on its own,
//! and an external one that was down while frames arrived (they wait in the journal's
//! outbox and arrive once each, in order, when it is back), also after an hour's worth of
//! shooting, through the relay's default publish rate limit.

mod common;

use std::collections::HashSet;
use std::fs;
use std::time::{Duration, Instant};

use common::{Studio, bytes, http_get};
use serde_json::Value;
use shotline_relay::auth::{Claims, Role, mint, now_secs};

fn studio() -> Studio {
    Studio::with_backup("b")
}

/// A studio whose `shotline run` publishes to a relay (not started yet) on a free port,
/// with a publisher token for `secret`; the relay's address and a subscriber token.
fn studio_with_relay_at_a_free_port(secret: &[u8]) -> (Studio, String, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut s = studio();
    let text = fs::read_to_string(&s.config).expect("config");
    fs::write(
        &s.config,
        text.replace(
            "listen = \"127.0.0.1:0\"",
            &format!("url = \"ws://{addr}/v1/ws\""),
        ),
    )
    .expect("config");
    let claims = |role| Claims {
        role,
        channels: vec!["studio:*".into()],
        exp: now_secs() + 3600,
        ..Claims::new(Role::Guest, Vec::new(), std::time::Duration::ZERO)
    };
    s.env.push((
        "SHOTLINE_RELAY_TOKEN".into(),
        mint(&claims(Role::Publisher), secret),
    ));
    let reader = mint(&claims(Role::Subscriber), secret);
    (s, addr, reader)
}

/// Events on `channel` since 0, polled until `enough` holds.
fn events(addr: &str, channel: &str, token: &str, enough: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    events_within(addr, channel, token, Duration::from_secs(30), enough)
}

/// [`events`] with a time limit.
fn events_within(
    addr: &str,
    channel: &str,
    token: &str,
    limit: Duration,
    enough: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let body = http_get(
            addr,
            &format!("/v1/channels/{channel}/events?since=0&token={token}"),
        );
        let got: Value = serde_json::from_str(&body).unwrap_or_default();
        let list = got["events"].as_array().cloned().unwrap_or_default();
        if enough(&list) {
            return list;
        }
        assert!(
            start.elapsed() < limit,
            "events on {channel} never came: {} so far",
            list.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn kinds(list: &[Value], kind: &str) -> usize {
    list.iter().filter(|e| e["event"]["type"] == kind).count()
}

fn assert_once_in_order(list: &[Value]) {
    let ids: HashSet<&str> = list.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), list.len(), "an event arrived twice");
    let offsets: Vec<u64> = list.iter().filter_map(|e| e["offset"].as_u64()).collect();
    assert_eq!(offsets, (1..=list.len() as u64).collect::<Vec<_>>());
    let seqs: Vec<u64> = list
        .iter()
        .filter_map(|e| e["id"].as_str()?.rsplit('-').next()?.parse().ok())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "out of order: {seqs:?}"
    );
}

#[test]
fn events_reach_the_embedded_relay() {
    let mut s = studio();
    s.start();
    let ready = s.ready();
    let addr = ready["relay"]["address"]
        .as_str()
        .and_then(|a| a.strip_prefix("http://"))
        .expect("relay address")
        .to_string();
    let token = ready["relay"]["subscriber_token"]
        .as_str()
        .expect("token")
        .to_string();
    assert!(
        s.output().contains(&token),
        "the banner shows the same token"
    );
    for i in 0..3 {
        fs::write(s.hot.join(format!("f{i}.jpg")), bytes(i, 5_000)).expect("write");
    }
    let camera = events(&addr, "studio:camera", &token, |l| {
        kinds(l, "shot_stored") == 3
    });
    assert_eq!(kinds(&camera, "shot_captured"), 3);
    assert_once_in_order(&camera);
    let backup = events(&addr, "studio:backup", &token, |l| {
        kinds(l, "backup_verified") == 3
    });
    assert!(kinds(&backup, "target_status") >= 1);
    let other = mint(
        &Claims {
            role: Role::Subscriber,
            channels: vec!["studio:*".into()],
            exp: now_secs() + 60,
            ..Claims::new(Role::Guest, Vec::new(), std::time::Duration::ZERO)
        },
        b"not-the-secret-00000",
    );
    assert!(
        http_get(
            &addr,
            &format!("/v1/channels/studio:camera/events?token={other}")
        )
        .contains("unauthorized")
    );
    s.stop();
}

#[test]
fn a_relay_that_was_down_gets_every_event_once_in_order() {
    const SECRET: &[u8] = b"relay-down-secret-0123456789";
    let (mut s, addr, reader) = studio_with_relay_at_a_free_port(SECRET);

    s.start();
    for i in 0..5 {
        fs::write(s.hot.join(format!("f{i}.jpg")), bytes(i, 5_000)).expect("write");
    }
    s.wait_for(
        "frames stored with the relay down",
        Duration::from_secs(30),
        |st| st["shots"] == 5 && st["queue_depth"] == 0,
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let start_relay = || {
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(&addr))
            .expect("bind the relay's port");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = runtime.spawn(shotline_relay::run(
            listener,
            shotline_relay::Config::new(SECRET),
            async move {
                let _ = stopped.await;
            },
        ));
        (stop, task)
    };
    let (stop, task) = start_relay();
    let camera = events(&addr, "studio:camera", &reader, |l| {
        kinds(l, "shot_stored") == 5
    });
    assert_eq!(kinds(&camera, "shot_captured"), 5);
    assert_once_in_order(&camera);
    // Every event acknowledged (the outbox is empty): nothing more can come.
    s.wait_for("the outbox to drain", Duration::from_secs(30), |st| {
        st["relay_queued"] == 0
    });
    assert_eq!(
        events(&addr, "studio:camera", &reader, |_| true).len(),
        camera.len(),
        "events were sent twice"
    );

    // The relay restarts (new epoch, empty history): only what came after is sent.
    let _ = stop.send(());
    runtime.block_on(task).expect("join").expect("served");
    let (stop, task) = start_relay();
    fs::write(s.hot.join("late.jpg"), bytes(99, 5_000)).expect("write");
    let after = events(&addr, "studio:camera", &reader, |l| {
        kinds(l, "shot_stored") == 1
    });
    assert_eq!(
        kinds(&after, "shot_stored"),
        1,
        "events acknowledged before the restart came again"
    );
    s.stop();
    let _ = stop.send(());
    runtime.block_on(task).expect("join").expect("served");
}

#[test]
fn an_hour_of_shooting_with_the_relay_down_arrives_once_in_order() {
    // One frame every five seconds for an hour.
    const FRAMES: u64 = 720;
    const SECRET: &[u8] = b"hour-down-secret-0123456789";
    let (mut s, addr, reader) = studio_with_relay_at_a_free_port(SECRET);

    s.start();
    for i in 0..FRAMES {
        fs::write(s.hot.join(format!("f{i:04}.jpg")), bytes(i, 4_000)).expect("write");
    }
    s.wait_for(
        "an hour of frames stored with the relay down",
        Duration::from_secs(300),
        |st| st["shots"] == FRAMES && st["queue_depth"] == 0,
    );
    let queued = s.status()["relay_queued"].as_u64().unwrap_or_default();
    assert!(queued >= FRAMES * 4, "only {queued} events waiting");

    // The studio's relay, with its default publish rate limit; history enough for all.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&addr))
        .expect("bind the relay's port");
    let mut config = shotline_relay::Config::new(SECRET);
    config.history = 100_000;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = runtime.spawn(shotline_relay::run(listener, config, async move {
        let _ = stopped.await;
    }));
    s.wait_for("the outbox to drain", Duration::from_secs(300), |st| {
        st["relay_queued"] == 0
    });
    let mut total = 0;
    for channel in ["camera", "backup", "status", "alerts"] {
        let list = events_within(
            &addr,
            &format!("studio:{channel}"),
            &reader,
            Duration::from_secs(60),
            |_| true,
        );
        assert_once_in_order(&list);
        total += list.len() as u64;
        if channel == "camera" {
            assert_eq!(kinds(&list, "shot_captured") as u64, FRAMES);
            assert_eq!(kinds(&list, "shot_stored") as u64, FRAMES);
        }
        if channel == "backup" {
            assert_eq!(kinds(&list, "backup_verified") as u64, FRAMES);
        }
    }
    assert!(total >= queued, "{total} events arrived of {queued} queued");
    s.stop();
    let _ = stop.send(());
    runtime.block_on(task).expect("join").expect("served");
}
