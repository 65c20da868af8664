//! The live gallery on real relays — one node with its data folder, and two nodes on one
//! real Redis: a share is open on every node, its previews are served from any node to
//! its guests only, and closing it refuses its tokens, cuts its open connections off with
//! 4003 and answers 410 at its link, everywhere and after a restart. The previews are
//! bounded: past the limit, the oldest share's go first (in Redis too, by its Lua script).
//! Guests' answers are checked, stamped with who gave them, and kept in the share's
//! answer log, which every node reads and a restart keeps.

mod support;

use serde_json::{Value, json};
use shotline_relay::auth::{Claims, Role, now_secs};
use support::relay::{
    Backend, Relay, connect, http, http_with, nodes, recv, refused, relay, send, sign,
};

fn publisher() -> String {
    sign(&Claims::new(
        Role::Publisher,
        vec!["s:*".into()],
        std::time::Duration::from_secs(600),
    ))
}

fn guest(channel: &str) -> String {
    sign(&Claims {
        publish: Some(vec!["gallery_like".into()]),
        ..Claims::new(
            Role::Guest,
            vec![channel.into()],
            std::time::Duration::from_secs(600),
        )
        .with_sub("guest-1")
    })
}

async fn open_share(node: &Relay, id: &str) {
    let body =
        json!({"channel": format!("s:gallery:{id}"), "exp": now_secs() + 600, "title": "Spring"});
    let (status, answer) = http(
        node,
        "PUT",
        &format!("/v1/shares/{id}"),
        Some(&publisher()),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}

async fn put_blob(node: &Relay, channel: &str, name: &str, body: &str) -> Value {
    let (status, answer) = http(
        node,
        "PUT",
        &format!("/v1/blobs/{channel}/{name}"),
        Some(&publisher()),
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    serde_json::from_str(&answer).expect("json")
}

async fn a_closed_share_shuts_its_guests_out_on_every_node(backend: Backend) {
    let data = tempfile::tempdir().expect("tempdir");
    let (a, b) = nodes(backend, data.path()).await;
    let b = b.as_ref().unwrap_or(&a);
    open_share(&a, "abc").await;
    let channel = "s:gallery:abc";
    let guest = guest(channel);

    let (status, page) = http(b, "GET", "/g/abc", None, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("/assets/gallery/main.js"), "{page}");
    assert_eq!(http(b, "GET", "/g/nosuch", None, None).await.0, 404);

    put_blob(&a, channel, "1-400.jpg", "thumbnail bytes").await;
    put_blob(&a, channel, "1-2048.jpg", "an older picture").await;
    let state =
        json!({"frames": [{"frame": 1, "thumbnail": format!("/v1/blobs/{channel}/1-400.jpg")}]});
    put_blob(&a, channel, "state.json", &state.to_string()).await;
    // A guest reads only the pictures the share shows now.
    assert_eq!(
        http(
            b,
            "GET",
            &format!("/v1/blobs/{channel}/1-2048.jpg"),
            Some(&guest),
            None
        )
        .await
        .0,
        404,
        "a picture the share does not show"
    );
    let (status, head, body) = http_with(
        b,
        "GET",
        &format!("/v1/blobs/{channel}/1-400.jpg"),
        &[("Authorization", &format!("Bearer {guest}"))],
        None,
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "thumbnail bytes"));
    assert!(head.contains("content-type: image/jpeg"), "{head}");
    assert!(head.contains("immutable"), "{head}");
    // The guest reaches its own share only, and only to read.
    let other = "/v1/blobs/s:gallery:other/1-400.jpg";
    assert_eq!(http(b, "GET", other, Some(&guest), None).await.0, 403);
    let put = format!("/v1/blobs/{channel}/2-400.jpg");
    assert_eq!(http(b, "PUT", &put, Some(&guest), Some("x")).await.0, 403);
    assert_eq!(
        http(b, "DELETE", "/v1/shares/abc", Some(&guest), None)
            .await
            .0,
        403
    );
    let bad = format!("/v1/blobs/{channel}/..%2Fescape.jpg");
    assert_ne!(
        http(&a, "PUT", &bad, Some(&publisher()), Some("x")).await.0,
        200
    );

    let mut ws = connect(b, &guest).await;
    send(&mut ws, json!({"type": "subscribe", "channel": channel})).await;
    assert_eq!(recv(&mut ws).await["type"], "subscribed");
    let mut studio = connect(b, &publisher()).await;
    send(
        &mut studio,
        json!({"type": "subscribe", "channel": channel}),
    )
    .await;
    assert_eq!(recv(&mut studio).await["type"], "subscribed");

    let (status, answer) = http(&a, "DELETE", "/v1/shares/abc", Some(&publisher()), None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        serde_json::from_str::<Value>(&answer).expect("json")["previews_forgotten"],
        3,
        "the thumbnail, the picture and the state"
    );
    let closed = recv(&mut ws).await;
    assert_eq!(
        closed,
        json!({"type": "closed", "code": 4003}),
        "the open page is cut off"
    );
    assert!(
        support::relay::quiet(&mut studio).await,
        "the studio's own connection stays"
    );
    for node in [&a, b] {
        let (status, page) = http(node, "GET", "/g/abc", None, None).await;
        assert_eq!(status, 410);
        assert!(page.contains("This gallery has closed"), "{page}");
        let blob = format!("/v1/blobs/{channel}/state.json");
        assert_eq!(http(node, "GET", &blob, Some(&guest), None).await.0, 401);
        assert_eq!(refused(node, &guest).await, (401, "revoked".into()));
    }
    // A closed share stays closed.
    let again = json!({"channel": channel, "exp": now_secs() + 600});
    let (status, _) = http(
        &a,
        "PUT",
        "/v1/shares/abc",
        Some(&publisher()),
        Some(&again.to_string()),
    )
    .await;
    assert_eq!(status, 403);

    // After a restart (the data folder, or Redis, remembers).
    let restarted = match backend {
        Backend::Memory => {
            // A new relay on the same data folder reads what the first one kept.
            let dir = data.path().to_path_buf();
            relay(Backend::Memory, |c| c.data = Some(dir)).await
        }
        Backend::Redis => {
            let url = a.redis.as_ref().map(|r| r.url());
            relay(Backend::Memory, |c| c.redis = url).await
        }
    };
    assert_eq!(http(&restarted, "GET", "/g/abc", None, None).await.0, 410);
    assert_eq!(refused(&restarted, &guest).await, (401, "revoked".into()));
}

async fn past_the_limit_the_oldest_shares_previews_go_first(backend: Backend) {
    let r = relay(backend, |c| c.previews_limit = 3000).await;
    let kb = "k".repeat(1000);
    put_blob(&r, "s:gallery:old", "1-400.jpg", &kb).await;
    put_blob(&r, "s:gallery:new", "1-400.jpg", &kb).await;
    put_blob(&r, "s:gallery:old", "2-400.jpg", &kb).await;
    let answer = put_blob(&r, "s:gallery:new", "2-400.jpg", &kb).await;
    assert_eq!(answer["evicted"], 1);
    let reader = sign(&Claims::new(
        Role::Subscriber,
        vec!["s:*".into()],
        std::time::Duration::from_secs(60),
    ));
    let get = |path: &'static str| {
        let (r, reader) = (&r, reader.clone());
        async move { http(r, "GET", path, Some(&reader), None).await.0 }
    };
    assert_eq!(
        get("/v1/blobs/s:gallery:old/1-400.jpg").await,
        404,
        "the oldest share's oldest"
    );
    assert_eq!(get("/v1/blobs/s:gallery:old/2-400.jpg").await, 200);
    assert_eq!(get("/v1/blobs/s:gallery:new/1-400.jpg").await, 200);
    assert_eq!(get("/v1/blobs/s:gallery:new/2-400.jpg").await, 200);
    // Rewriting a blob replaces it, it does not count twice.
    let answer = put_blob(&r, "s:gallery:new", "2-400.jpg", &kb).await;
    assert_eq!(answer["evicted"], 0);
    let (status, answer) = http(
        &r,
        "PUT",
        "/v1/blobs/s:gallery:new/x.exe",
        Some(&publisher()),
        Some("x"),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
}

/// A guest of `channel` who may answer, as the page's token exchange makes one.
fn answering_guest(channel: &str, sub: &str, name: &str) -> String {
    sign(&Claims {
        publish: Some(
            shotline_protocol::gallery::GUEST_TYPES
                .iter()
                .map(|t| t.to_string())
                .collect(),
        ),
        name: Some(name.into()),
        ..Claims::new(
            Role::Guest,
            vec![channel.into()],
            std::time::Duration::from_secs(600),
        )
        .with_sub(sub)
    })
}

async fn answers(node: &Relay, id: &str, after: u64) -> Value {
    let (status, body) = http(
        node,
        "GET",
        &format!("/v1/shares/{id}/answers?after={after}"),
        Some(&publisher()),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

async fn answers_are_checked_stamped_and_kept_for_every_node(backend: Backend) {
    let data = tempfile::tempdir().expect("tempdir");
    let (a, b) = nodes(backend, data.path()).await;
    let b = b.as_ref().unwrap_or(&a);
    open_share(&a, "ans").await;
    let channel = "s:gallery:ans";
    let state = json!({"share": "ans", "frames": [{"frame": 1}, {"frame": 2}]});
    put_blob(&a, channel, "state.json", &state.to_string()).await;
    let ana = answering_guest(channel, "guest:ana", "Ana");

    let mut ws = connect(b, &ana).await;
    send(&mut ws, json!({"type": "subscribe", "channel": channel})).await;
    assert_eq!(recv(&mut ws).await["type"], "subscribed");
    let publish = |id: &str, kind: &str, payload: Value| {
        json!({"type": "publish", "channel": channel, "id": id,
               "event": {"type": kind, "payload": payload}})
    };
    // Whatever the guest writes as who they are, the relay says who they are.
    send(
        &mut ws,
        publish(
            "r1",
            "gallery_rating",
            json!({"frame": 1, "stars": 4, "sub": "guest:ben", "name": "Ben"}),
        ),
    )
    .await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.push(recv(&mut ws).await);
    }
    let event = seen
        .iter()
        .find(|f| f["type"] == "event")
        .expect("the answer comes back live");
    assert_eq!(
        event["event"]["payload"],
        json!({"frame": 1, "stars": 4, "sub": "guest:ana", "name": "Ana"})
    );
    assert!(seen.iter().any(|f| f["type"] == "ack"), "{seen:?}");

    // Bad answers are error frames; the connection stays and nothing is kept.
    for (id, kind, payload, code) in [
        (
            "x1",
            "gallery_rating",
            json!({"frame": 99, "stars": 3}),
            "invalid_event",
        ),
        (
            "x2",
            "gallery_rating",
            json!({"frame": 1, "stars": 9}),
            "invalid_event",
        ),
        (
            "x3",
            "gallery_label",
            json!({"frame": 1, "label": "pink"}),
            "invalid_event",
        ),
        (
            "x4",
            "gallery_comment",
            json!({"frame": 1, "text": "a".repeat(2001)}),
            "frame_too_large",
        ),
    ] {
        send(&mut ws, publish(id, kind, payload)).await;
        let answer = recv(&mut ws).await;
        assert_eq!(answer["type"], "error", "{id}: {answer}");
        assert_eq!(answer["code"], code, "{id}: {answer}");
    }
    // Control characters go; markup stays text for the page to show as text.
    send(
        &mut ws,
        publish(
            "c1",
            "gallery_comment",
            json!({"frame": 2, "text": "<img src=x onerror=alert(1)>\u{7} without the hat?"}),
        ),
    )
    .await;
    let mut text = None;
    while text.is_none() {
        let frame = recv(&mut ws).await;
        if frame["type"] == "event" {
            text = frame["event"]["payload"]["text"].as_str().map(String::from);
        }
    }
    assert_eq!(
        text.as_deref(),
        Some("<img src=x onerror=alert(1)> without the hat?")
    );
    // Over HTTP too, on the other node.
    let (status, body) = http(
        &a,
        "POST",
        &format!("/v1/channels/{channel}/events"),
        Some(&ana),
        Some(
            &json!({"id": "l1", "event": {"type": "gallery_label", "payload": {"frame": 2, "label": "red"}}})
                .to_string(),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    for node in [&a, b] {
        let all = answers(node, "ans", 0).await;
        assert_eq!(all["total"], 3, "{all}");
        let ids: Vec<&str> = all["answers"]
            .as_array()
            .expect("list")
            .iter()
            .map(|e| e["id"].as_str().unwrap_or_default())
            .collect();
        // A guest's ids carry its subject: no guest can take the engine's, or another's.
        assert_eq!(ids, ["g:guest:ana:r1", "g:guest:ana:c1", "g:guest:ana:l1"]);
        assert_eq!(all["answers"][2]["seq"], 3);
        assert_eq!(all["answers"][2]["event"]["payload"]["name"], "Ana");
        assert_eq!(
            answers(node, "ans", 2).await["answers"][0]["id"],
            "g:guest:ana:l1"
        );
    }
    // Another share's guest cannot read them.
    let other = answering_guest("s:gallery:other", "guest:eve", "Eve");
    let (status, _) = http(b, "GET", "/v1/shares/ans/answers", Some(&other), None).await;
    assert_eq!(status, 403);

    // A restarted relay still has every answer (the data folder, or Redis).
    let restarted = match backend {
        Backend::Memory => {
            let dir = data.path().to_path_buf();
            relay(Backend::Memory, |c| c.data = Some(dir)).await
        }
        Backend::Redis => {
            let url = a.redis.as_ref().map(|r| r.url());
            relay(Backend::Memory, |c| c.redis = url).await
        }
    };
    assert_eq!(answers(&restarted, "ans", 0).await["total"], 3);
}

async fn listed(node: &Relay, token: &str) -> Vec<String> {
    let (status, answer) = http(node, "GET", "/v1/shares", Some(token), None).await;
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).expect("json");
    answer["shares"]
        .as_array()
        .expect("shares")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect()
}

async fn the_dashboard_lists_the_open_shares_its_token_covers(backend: Backend) {
    let data = tempfile::tempdir().expect("tempdir");
    let (a, b) = nodes(backend, data.path()).await;
    let b = b.as_ref().unwrap_or(&a);
    open_share(&a, "one").await;
    open_share(&a, "two").await;
    let dashboard = sign(&Claims::new(
        Role::Subscriber,
        vec!["s:*".into()],
        std::time::Duration::from_secs(600),
    ));
    assert_eq!(listed(b, &dashboard).await, ["one", "two"]);
    let (_, answer) = http(b, "GET", "/v1/shares", Some(&dashboard), None).await;
    let answer: Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(answer["shares"][0]["channel"], "s:gallery:one");
    assert_eq!(answer["shares"][0]["title"], "Spring");
    // A guest of one share sees that one only; another studio's token sees none.
    assert_eq!(listed(b, &guest("s:gallery:two")).await, ["two"]);
    let other = sign(&Claims::new(
        Role::Subscriber,
        vec!["t:*".into()],
        std::time::Duration::from_secs(600),
    ));
    assert!(listed(b, &other).await.is_empty());
    // A closed share is not listed; no token is 401.
    let (status, answer) = http(&a, "DELETE", "/v1/shares/one", Some(&publisher()), None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(listed(b, &dashboard).await, ["two"]);
    assert_eq!(http(b, "GET", "/v1/shares", None, None).await.0, 401);
}

on_both_backends!(
    a_closed_share_shuts_its_guests_out_on_every_node,
    answers_are_checked_stamped_and_kept_for_every_node,
    past_the_limit_the_oldest_shares_previews_go_first,
    the_dashboard_lists_the_open_shares_its_token_covers,
);
