//! The outbox cannot lose an event: a burst of frames while the outbox's disk is slow
//! (the `test-hooks` delay: milliseconds per event written, as a USB drive or a NAS whose
//! fsync takes long), and afterwards the relay holds a `shot_stored` for every frame and
//! a `backup_verified` for every copy, the outbox is empty and nothing was missed.
//! With the old design (the writer on the lossy view stream, 4,096 events of slack) the
//! writer falls about 7,000 events behind here and drops them.

mod common;

use std::collections::HashSet;
use std::fs;
use std::time::Duration;

use common::{Studio, bytes, http_get};
use serde_json::Value;
use shotline_relay::auth::{Claims, Role, mint, now_secs};

const SECRET: &[u8] = b"outbox-burst-secret-0123456789";
const FRAMES: u64 = 1500;

/// Every event of `channel`, read in pages.
fn all_events(addr: &str, channel: &str, token: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    loop {
        let since = out.last().and_then(|e| e["offset"].as_u64()).unwrap_or(0);
        let body = http_get(
            addr,
            &format!("/v1/channels/{channel}/events?since={since}&token={token}"),
        );
        let page: Value = serde_json::from_str(&body).expect("poll answer");
        let events = page["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            return out;
        }
        out.extend(events);
    }
}

fn count(list: &[Value], kind: &str) -> usize {
    list.iter().filter(|e| e["event"]["type"] == kind).count()
}

#[test]
fn a_burst_on_a_slow_outbox_disk_loses_no_event() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&addr))
        .expect("bind");
    let mut config = shotline_relay::Config::new(SECRET);
    config.history = 100_000;
    config.publish_rate = 100_000;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let relay = runtime.spawn(shotline_relay::run(listener, config, async move {
        let _ = stopped.await;
    }));

    let mut s = Studio::with_backup("b");
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
        mint(&claims(Role::Publisher), SECRET),
    ));
    s.env
        .push(("SHOTLINE_TEST_OUTBOX_DELAY_MS".into(), "3".into()));
    s.env.push(("SHOTLINE_LOG".into(), "info".into()));
    let reader = mint(&claims(Role::Subscriber), SECRET);

    s.start();
    s.ready();
    for i in 0..FRAMES {
        fs::write(s.hot.join(format!("f{i:04}.jpg")), bytes(i, 2_000)).expect("write");
    }
    s.wait_for(
        "the burst stored and backed up",
        Duration::from_secs(600),
        |st| st["shots"] == FRAMES && st["queue_depth"] == 0,
    );
    // The writer is still behind now; every event must reach the relay in the end.
    let start = std::time::Instant::now();
    let (camera, backup) = loop {
        let camera = all_events(&addr, "studio:camera", &reader);
        let backup = all_events(&addr, "studio:backup", &reader);
        if count(&camera, "shot_stored") as u64 >= FRAMES
            && count(&backup, "backup_verified") as u64 >= FRAMES
        {
            break (camera, backup);
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "the relay has {} shot_stored and {} backup_verified of {FRAMES}",
            count(&camera, "shot_stored"),
            count(&backup, "backup_verified")
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(count(&camera, "shot_stored") as u64, FRAMES);
    assert_eq!(count(&backup, "backup_verified") as u64, FRAMES);
    s.wait_for("the outbox to drain", Duration::from_secs(600), |st| {
        st["relay_queued"] == 0
    });
    let stored: HashSet<i64> = camera
        .iter()
        .filter(|e| e["event"]["type"] == "shot_stored")
        .filter_map(|e| e["event"]["payload"]["shot_id"].as_i64())
        .collect();
    assert_eq!(stored.len() as u64, FRAMES, "one shot_stored per frame");
    s.stop();
    let log = s.output();
    assert!(!log.contains("missed"), "events were missed:\n{log}");
    let _ = stop.send(());
    runtime.block_on(relay).expect("join").expect("served");
}
