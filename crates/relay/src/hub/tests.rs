//! The hub: offsets, idempotent ids, resume, slow subscribers, exclusion.
use super::*;
use crate::queue::{Kick, Queue};
use tokio::sync::mpsc;

fn hub(history: usize) -> Arc<Hub> {
    Hub::memory(HubConfig {
        history,
        history_age: Duration::from_secs(3600),
    })
}

fn subscriber(conn: u64, capacity: usize) -> (Subscriber, mpsc::Receiver<Frame>, Arc<Kick>) {
    let (queue, rx, kicked) = Queue::new(capacity);
    let subject = format!("s{conn}").into();
    (
        Subscriber {
            conn,
            queue,
            subject,
        },
        rx,
        kicked,
    )
}

fn ev(n: u64) -> Value {
    serde_json::json!({"type": if n.is_multiple_of(2) { "even" } else { "odd" }, "payload": {"n": n}})
}

fn drain(rx: &mut mpsc::Receiver<Frame>) -> Vec<Value> {
    let mut out = Vec::new();
    while let Ok(frame) = rx.try_recv() {
        out.push(serde_json::from_str(&frame).expect("json"));
    }
    out
}

#[tokio::test]
async fn offsets_are_ordered_and_ids_idempotent() {
    let h = hub(10);
    assert_eq!(
        h.publish("c", "a", ev(1)).await.expect("publish"),
        Published {
            offset: 1,
            duplicate: false
        }
    );
    assert_eq!(
        h.publish("c", "b", ev(2)).await.expect("publish"),
        Published {
            offset: 2,
            duplicate: false
        }
    );
    assert_eq!(
        h.publish("c", "a", ev(9)).await.expect("publish"),
        Published {
            offset: 1,
            duplicate: true
        }
    );
    assert_eq!(
        h.publish("other", "a", ev(1))
            .await
            .expect("publish")
            .offset,
        1
    );
}

#[tokio::test]
async fn resume_replays_in_order_and_is_honest_about_gaps() {
    let h = hub(3);
    for n in 1..=5 {
        h.publish("c", &n.to_string(), ev(n))
            .await
            .expect("publish");
    }
    let (sub, mut rx, _) = subscriber(1, 64);
    assert!(
        h.subscribe("c", &sub, Some(2), None)
            .await
            .expect("subscribe"),
        "3..5 are held"
    );
    let frames = drain(&mut rx);
    assert_eq!(frames[0]["type"], "subscribed");
    assert_eq!(frames[0]["offset"], 5);
    assert_eq!(
        frames[0]["snapshot"].as_array().map(Vec::len),
        Some(2),
        "latest of each type"
    );
    let offsets: Vec<_> = frames[1..].iter().map(|f| f["offset"].as_u64()).collect();
    assert_eq!(offsets, [Some(3), Some(4), Some(5)]);

    let (sub, mut rx, _) = subscriber(2, 64);
    assert!(
        !h.subscribe("c", &sub, Some(1), None)
            .await
            .expect("subscribe"),
        "2 was trimmed"
    );
    assert_eq!(drain(&mut rx).len(), 4, "what is held is still replayed");
    let (sub, _rx, _) = subscriber(3, 64);
    assert!(
        !h.subscribe("c", &sub, Some(4), Some("another-epoch"))
            .await
            .expect("subscribe")
    );
    let (sub, _rx, _) = subscriber(4, 64);
    assert!(
        !h.subscribe("c", &sub, Some(99), None)
            .await
            .expect("subscribe"),
        "ahead of the channel: a restart"
    );

    h.publish("c", "6", ev(6)).await.expect("publish");
    let live = drain(&mut rx);
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["offset"], 6);
}

#[tokio::test]
async fn a_slow_subscriber_is_cut_off_and_others_go_on() {
    let h = hub(100);
    let (slow, _slow_rx, kicked) = subscriber(1, 3);
    let (fast, mut fast_rx, _) = subscriber(2, 100);
    h.subscribe("c", &slow, None, None)
        .await
        .expect("subscribe");
    h.subscribe("c", &fast, None, None)
        .await
        .expect("subscribe");
    for n in 1..=10 {
        h.publish("c", &n.to_string(), ev(n))
            .await
            .expect("publish");
    }
    assert!(kicked.is_set());
    assert_eq!(drain(&mut fast_rx).len(), 11);
    assert_eq!(h.counters.dropped.load(Ordering::Relaxed), 1);
    assert_eq!(h.counters.subscriptions.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn an_excluded_subject_never_gets_the_event_live_or_on_replay() {
    let h = hub(100);
    let (a, mut a_rx, _) = subscriber(1, 64);
    let (b, mut b_rx, _) = subscriber(2, 64);
    h.subscribe("c", &a, None, None).await.expect("subscribe");
    h.subscribe("c", &b, None, None).await.expect("subscribe");
    h.publish_excluding("c", "x", ev(1), &["s1".to_string()])
        .await
        .expect("publish");
    h.publish("c", "y", ev(2)).await.expect("publish");
    let offsets = |frames: Vec<Value>| -> Vec<u64> {
        frames.iter().filter_map(|f| f["offset"].as_u64()).collect()
    };
    assert_eq!(offsets(drain(&mut a_rx)[1..].to_vec()), [2]);
    assert_eq!(offsets(drain(&mut b_rx)[1..].to_vec()), [1, 2]);
    let (again, mut again_rx, _) = subscriber(1, 64);
    h.subscribe("c", &again, Some(0), None)
        .await
        .expect("subscribe");
    assert_eq!(offsets(drain(&mut again_rx)[1..].to_vec()), [2], "replay");
    let polled = h.since("c", 0, "s1").await.expect("since");
    assert_eq!(polled.frames.len(), 1);
}

#[tokio::test]
async fn the_locks_over_all_channels_are_counted() {
    let hub = hub(10);
    let (sub, _rx, _) = subscriber(1, 16);
    hub.subscribe("c", &sub, None, None)
        .await
        .expect("subscribe");
    hub.publish("c", "a", ev(1)).await.expect("publish");
    let (own, backend) = hub.lock_stats();
    // Subscribe registers and starts; the publish is heard under the backend's lock.
    assert_eq!(own.taken, 3, "{own:?}");
    let backend = backend.expect("memory has a lock over all channels");
    assert_eq!(backend.taken, 2, "{backend:?}");
}
