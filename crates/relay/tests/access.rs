//! Access, as DESIGN's "Access" section states it, against a real relay (channels in
//! memory and in a real Redis): what each role may do at every endpoint; bad tokens at
//! the door; one subject's tabs listed and cut off while another stays; revocation,
//! also after a restart; broadcast that skips subjects, live and on replay; token
//! exchange that never widens; the guest rate and frame limit; CORS for the studio's site.

mod support;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use shotline_relay::auth::{Claims, Role, now_secs};
use support::relay::*;

fn claims(role: Role, channels: &[&str], sub: &str) -> Claims {
    Claims::new(
        role,
        channels.iter().map(|c| c.to_string()).collect(),
        Duration::from_secs(600),
    )
    .with_sub(sub)
}

fn guest(sub: &str) -> Claims {
    Claims {
        name: Some(format!("{sub} the guest")),
        publish: Some(vec!["gallery_like".into()]),
        ..claims(Role::Guest, &["s:gallery:1"], sub)
    }
}

fn admin() -> String {
    sign(&claims(Role::Admin, &[], "root"))
}

async fn subscribe(ws: &mut Ws, channel: &str) -> Value {
    send(ws, json!({"type": "subscribe", "channel": channel})).await;
    recv(ws).await
}

/// Publish and return the answer (`ack` or `error`), past any event frames.
async fn publish(ws: &mut Ws, channel: &str, id: &str, event: Value) -> Value {
    send(
        ws,
        json!({"type": "publish", "channel": channel, "id": id, "event": event}),
    )
    .await;
    loop {
        let frame = recv(ws).await;
        if frame["type"] != "event" {
            return frame;
        }
    }
}

/// The share `s:gallery:1` shows frame 1 (its state, as the engine keeps it), so guests may
/// answer it.
async fn show_frame(r: &Relay) {
    let publisher = sign(&claims(Role::Publisher, &["s:*"], "studio"));
    let (status, body) = http(
        r,
        "PUT",
        "/v1/blobs/s:gallery:1/state.json",
        Some(&publisher),
        Some(r#"{"frames":[{"frame":1}]}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

fn like() -> Value {
    json!({"type": "gallery_like", "payload": {"frame": 1, "liked": true, "sub": "someone-else"}})
}

on_both_backends!(
    every_endpoint_allows_and_refuses_by_role,
    bad_tokens_are_refused_with_their_code,
    a_subjects_tabs_are_listed_and_cut_off_while_another_stays,
    a_revoked_token_is_cut_off_and_refused,
    broadcast_skips_excluded_subjects_live_and_on_replay,
    token_exchange_never_widens,
    guests_are_held_to_their_rate_and_frame_size,
);

async fn every_endpoint_allows_and_refuses_by_role(backend: Backend) {
    let r = relay(backend, |_| {}).await;
    show_frame(&r).await;
    let tokens = [
        (Role::Guest, sign(&guest("ana"))),
        (
            Role::Subscriber,
            sign(&claims(Role::Subscriber, &["s:*"], "dash")),
        ),
        (
            Role::Publisher,
            sign(&claims(Role::Publisher, &["s:*"], "engine")),
        ),
        (Role::Admin, admin()),
    ];
    let shot = json!({"type": "shot_stored", "payload": {"n": 1}});
    for (i, (role, token)) in tokens.iter().enumerate() {
        let operational = *role != Role::Guest;
        let mut ws = connect(&r, token).await;
        let camera = subscribe(&mut ws, "s:camera").await;
        assert_eq!(
            camera["type"] == "subscribed",
            operational,
            "{role:?} subscribe: {camera}"
        );
        let gallery = subscribe(&mut ws, "s:gallery:1").await;
        assert_eq!(gallery["type"], "subscribed", "{role:?}: {gallery}");
        let publishes = matches!(role, Role::Publisher | Role::Admin);
        let answer = publish(&mut ws, "s:camera", &format!("shot-{i}"), shot.clone()).await;
        assert_eq!(
            answer["type"] == "ack",
            publishes,
            "{role:?} publish: {answer}"
        );
        if !publishes {
            assert_eq!(answer["code"], "forbidden");
        }
        // HTTP: publish, poll, SSE, admin, exchange.
        let body = json!({"id": format!("http-{i}"), "event": shot}).to_string();
        let (status, _) = http(
            &r,
            "POST",
            "/v1/channels/s:camera/events",
            Some(token),
            Some(&body),
        )
        .await;
        assert_eq!(status == 200, publishes, "{role:?} HTTP publish: {status}");
        let (status, _) = http(
            &r,
            "GET",
            "/v1/channels/s:camera/events?since=0",
            Some(token),
            None,
        )
        .await;
        assert_eq!(status == 200, operational, "{role:?} poll: {status}");
        let (status, _) = http(
            &r,
            "GET",
            "/v1/channels/s:gallery:1/events?since=0",
            Some(token),
            None,
        )
        .await;
        assert_eq!(status, 200, "{role:?} polls its gallery");
        for (method, path, body) in [
            ("GET", "/v1/admin/connections", None),
            ("POST", "/v1/admin/disconnect", Some(r#"{"sub":"nobody"}"#)),
            ("POST", "/v1/admin/revoke", Some(r#"{"sub":"nobody"}"#)),
            (
                "POST",
                "/v1/admin/broadcast",
                Some(r#"{"channels":["s:x"],"event":{"type":"notification","payload":{}}}"#),
            ),
        ] {
            let (status, body) = http(&r, method, path, Some(token), body).await;
            assert_eq!(
                status == 200,
                *role == Role::Admin,
                "{role:?} {path}: {status} {body}"
            );
        }
        let (status, body) = http(
            &r,
            "POST",
            "/v1/tokens",
            Some(token),
            Some(r#"{"channels":["s:gallery:1"],"ttl":"1m"}"#),
        )
        .await;
        assert_eq!(status, 200, "{role:?} exchange: {body}");
    }
    // A guest publishes only its types, and the relay says who it was.
    let mut viewer = connect(&r, &tokens[1].1).await;
    subscribe(&mut viewer, "s:gallery:1").await;
    let mut ana = connect(&r, &tokens[0].1).await;
    assert_eq!(
        publish(&mut ana, "s:gallery:1", "like-1", like()).await["type"],
        "ack"
    );
    let seen = recv(&mut viewer).await;
    assert_eq!(
        seen["event"]["payload"]["sub"], "ana",
        "stamped with the token's subject"
    );
    assert_eq!(seen["event"]["payload"]["name"], "ana the guest");
    let rating = json!({"type": "gallery_rating", "payload": {"frame": 1, "stars": 5}});
    let refused = publish(&mut ana, "s:gallery:1", "rate-1", rating).await;
    assert_eq!(refused["code"], "forbidden");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("gallery_rating"))
    );
}

async fn bad_tokens_are_refused_with_their_code(backend: Backend) {
    let r = relay(backend, |_| {}).await;
    let good = claims(Role::Subscriber, &["s:*"], "dash");
    let body = serde_json::to_value(&good).expect("json");
    let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&body.to_string())
    );
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &good,
        &jsonwebtoken::EncodingKey::from_secret(SECRET).expect("key"),
    )
    .expect("sign");
    let signed = sign(&good);
    let (head, sig) = signed.rsplit_once('.').expect("parts");
    let changed = format!(
        "{head}.{}{}",
        if sig.starts_with('A') { 'B' } else { 'A' },
        &sig[1..]
    );
    let mut no_exp = body.clone();
    no_exp.as_object_mut().expect("object").remove("exp");
    let no_exp = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &no_exp,
        &jsonwebtoken::EncodingKey::from_secret(SECRET).expect("key"),
    )
    .expect("sign");
    let expired = sign(&Claims {
        exp: now_secs() - 120,
        ..good.clone()
    });
    let revoked = claims(Role::Subscriber, &["s:*"], "leaked");
    let (status, _) = http(
        &r,
        "POST",
        "/v1/admin/revoke",
        Some(&admin()),
        Some(&json!({"jti": revoked.jti}).to_string()),
    )
    .await;
    assert_eq!(status, 200);
    for (what, token, code) in [
        ("alg none", none, "unauthorized"),
        ("HS512", hs512, "unauthorized"),
        ("a changed signature", changed, "unauthorized"),
        ("no exp", no_exp, "unauthorized"),
        ("expired", expired, "token_expired"),
        ("revoked", sign(&revoked), "revoked"),
    ] {
        assert_eq!(
            refused(&r, &token).await,
            (401, code.to_string()),
            "{what} on the WebSocket"
        );
        let (status, body) = http(
            &r,
            "GET",
            "/v1/channels/s:camera/events",
            Some(&token),
            None,
        )
        .await;
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some(code)),
            "{what} on HTTP"
        );
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(
        refused(&r, &signed).await.0,
        101,
        "the good one still works"
    );
}

async fn a_subjects_tabs_are_listed_and_cut_off_while_another_stays(backend: Backend) {
    let r = relay(backend, |_| {}).await;
    let ana = sign(&claims(Role::Subscriber, &["s:*"], "ana"));
    let mut tabs = Vec::new();
    for _ in 0..3 {
        let mut ws = connect(&r, &ana).await;
        subscribe(&mut ws, "s:camera").await;
        tabs.push(ws);
    }
    let mut ben = connect(&r, &sign(&claims(Role::Subscriber, &["s:*"], "ben"))).await;
    subscribe(&mut ben, "s:status").await;
    let list = |sub: &'static str| {
        let r = &r;
        async move {
            let (status, body) = http(
                r,
                "GET",
                &format!("/v1/admin/connections?sub={sub}"),
                Some(&admin()),
                None,
            )
            .await;
            assert_eq!(status, 200, "{body}");
            serde_json::from_str::<Value>(&body).expect("json")["connections"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        }
    };
    // In a cluster the listing comes from Redis: wait until the mirror has all three.
    let mut listed = list("ana").await;
    for _ in 0..100 {
        if listed.len() == 3 && listed.iter().all(|c| c["channels"] == json!(["s:camera"])) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        listed = list("ana").await;
    }
    assert_eq!(listed.len(), 3, "{listed:?}");
    for c in &listed {
        assert_eq!(
            (
                c["sub"].as_str(),
                c["role"].as_str(),
                c["transport"].as_str()
            ),
            (Some("ana"), Some("subscriber"), Some("ws"))
        );
        assert_eq!(c["channels"], json!(["s:camera"]));
        assert!(
            c["id"].is_string()
                && c["since"].as_u64().is_some()
                && c["remote"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("127.0.0.1:"))
        );
    }
    let stats: Value =
        serde_json::from_str(&http(&r, "GET", "/stats", None, None).await.1).expect("json");
    assert_eq!(
        (
            stats["subjects"].as_u64(),
            stats["by_role"]["subscriber"].as_u64()
        ),
        (Some(2), Some(4))
    );
    let (status, body) = http(
        &r,
        "POST",
        "/v1/admin/disconnect",
        Some(&admin()),
        Some(r#"{"sub":"ana"}"#),
    )
    .await;
    assert_eq!(
        (
            status,
            serde_json::from_str::<Value>(&body).expect("json")["closed"].as_u64()
        ),
        (200, Some(3))
    );
    for tab in &mut tabs {
        assert_eq!(recv(tab).await, json!({"type": "closed", "code": 4003}));
    }
    send(&mut ben, json!({"type": "ping"})).await;
    assert_eq!(
        recv(&mut ben).await["type"],
        "pong",
        "another subject stays"
    );
    // One connection by its id.
    let id = list("ben").await[0]["id"].as_str().expect("id").to_string();
    let (_, body) = http(
        &r,
        "POST",
        "/v1/admin/disconnect",
        Some(&admin()),
        Some(&json!({"connection": id}).to_string()),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("json")["closed"],
        1
    );
    assert_eq!(
        recv(&mut ben).await,
        json!({"type": "closed", "code": 4003})
    );
}

async fn a_revoked_token_is_cut_off_and_refused(backend: Backend) {
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().to_path_buf();
    let r = relay(backend, |c| c.data = Some(dir.clone())).await;
    let leaked = claims(Role::Subscriber, &["s:*"], "tablet");
    let other = claims(Role::Subscriber, &["s:*"], "tablet");
    let mut live = connect(&r, &sign(&leaked)).await;
    subscribe(&mut live, "s:camera").await;
    let mut sibling = connect(&r, &sign(&other)).await;
    subscribe(&mut sibling, "s:camera").await;
    let (status, body) = http(
        &r,
        "POST",
        "/v1/admin/revoke",
        Some(&admin()),
        Some(&json!({"jti": leaked.jti}).to_string()),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, r#"{"revoked":true}"#));
    assert_eq!(
        recv(&mut live).await,
        json!({"type": "closed", "code": 4003})
    );
    assert_eq!(refused(&r, &sign(&leaked)).await, (401, "revoked".into()));
    send(&mut sibling, json!({"type": "ping"})).await;
    assert_eq!(
        recv(&mut sibling).await["type"],
        "pong",
        "the subject's other token stays"
    );
    // By subject: every token issued up to now, not one issued later.
    let (status, _) = http(
        &r,
        "POST",
        "/v1/admin/revoke",
        Some(&admin()),
        Some(r#"{"sub":"tablet"}"#),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        recv(&mut sibling).await,
        json!({"type": "closed", "code": 4003})
    );
    assert_eq!(refused(&r, &sign(&other)).await, (401, "revoked".into()));
    let later = Claims {
        iat: Some(now_secs() + 2),
        ..claims(Role::Subscriber, &["s:*"], "tablet")
    };
    assert_eq!(
        refused(&r, &sign(&later)).await.0,
        101,
        "a token issued after the revocation"
    );
    // After a restart (data folder, or Redis).
    let Relay {
        stop, task, redis, ..
    } = r;
    let _ = stop.map(|s| s.send(()));
    let _ = task.await;
    let restarted = match redis {
        Some(redis) => relay_on_redis(redis).await,
        None => relay(backend, |c| c.data = Some(dir.clone())).await,
    };
    assert_eq!(
        refused(&restarted, &sign(&leaked)).await,
        (401, "revoked".into())
    );
    assert_eq!(
        refused(&restarted, &sign(&other)).await,
        (401, "revoked".into())
    );
}

/// A relay on an existing Redis.
async fn relay_on_redis(redis: support::RedisServer) -> Relay {
    let url = redis.url();
    let mut r = relay(Backend::Memory, |c| c.redis = Some(url)).await;
    r.redis = Some(redis);
    r
}

async fn broadcast_skips_excluded_subjects_live_and_on_replay(backend: Backend) {
    let r = relay(backend, |_| {}).await;
    let ana = sign(&claims(Role::Subscriber, &["s:*"], "ana"));
    let ben = sign(&claims(Role::Subscriber, &["s:*"], "ben"));
    let (mut a, mut b) = (connect(&r, &ana).await, connect(&r, &ben).await);
    for ws in [&mut a, &mut b] {
        subscribe(ws, "s:alerts").await;
    }
    let note =
        json!({"type": "notification", "payload": {"level": "info", "title": "not for ana"}});
    let body =
        json!({"channels": ["s:alerts", "s:status"], "event": note, "exclude_subs": ["ana"]});
    let (status, answer) = http(
        &r,
        "POST",
        "/v1/admin/broadcast",
        Some(&admin()),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let offsets: Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(offsets["offsets"], json!({"s:alerts": 1, "s:status": 1}));
    let after = json!({"type": "notification", "payload": {"level": "info", "title": "for all"}});
    let (_, answer) = http(
        &r,
        "POST",
        "/v1/admin/broadcast",
        Some(&admin()),
        Some(&json!({"channels": ["s:alerts"], "event": after}).to_string()),
    )
    .await;
    assert!(answer.contains("\"s:alerts\":2"), "{answer}");
    assert_eq!(recv(&mut b).await["event"], note);
    assert_eq!(recv(&mut b).await["event"], after);
    let first = recv(&mut a).await;
    assert_eq!(
        (first["offset"].as_u64(), &first["event"]),
        (Some(2), &after),
        "ana skips the excluded one"
    );
    // On replay and polling too.
    let mut again = connect(&r, &ana).await;
    send(
        &mut again,
        json!({"type": "subscribe", "channel": "s:alerts", "since": 0}),
    )
    .await;
    assert_eq!(recv(&mut again).await["type"], "subscribed");
    assert_eq!(recv(&mut again).await["offset"], 2);
    let (_, polled) = http(
        &r,
        "GET",
        "/v1/channels/s:alerts/events?since=0",
        Some(&ana),
        None,
    )
    .await;
    let polled: Value = serde_json::from_str(&polled).expect("json");
    assert_eq!(polled["events"].as_array().map(Vec::len), Some(1));
    let (_, polled) = http(
        &r,
        "GET",
        "/v1/channels/s:alerts/events?since=0",
        Some(&ben),
        None,
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&polled).expect("json")["events"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

async fn token_exchange_never_widens(backend: Backend) {
    let r = relay(backend, |_| {}).await;
    show_frame(&r).await;
    let link = sign(&guest("share:1"));
    let (status, body) = http(
        &r,
        "POST",
        "/v1/tokens",
        Some(&link),
        Some(r#"{"channels":["s:gallery:1"],"ttl":"5m","name":"Ana"}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let minted: Value = serde_json::from_str(&body).expect("json");
    let token = minted["token"].as_str().expect("token");
    assert!(
        minted["jti"].is_string()
            && minted["exp"]
                .as_u64()
                .is_some_and(|e| e <= now_secs() + 300)
    );
    let mut ana = connect(&r, token).await;
    let mut viewer = connect(&r, &sign(&claims(Role::Subscriber, &["s:*"], "dash"))).await;
    subscribe(&mut viewer, "s:gallery:1").await;
    assert_eq!(
        publish(&mut ana, "s:gallery:1", "l1", like()).await["type"],
        "ack"
    );
    let payload = recv(&mut viewer).await["event"]["payload"].clone();
    assert!(
        payload["sub"]
            .as_str()
            .is_some_and(|s| s.starts_with("guest-")),
        "{payload}"
    );
    assert_eq!(payload["name"], "Ana");
    for widen in [
        json!({"channels": ["s:camera"], "ttl": "5m"}),
        json!({"channels": ["s:*"], "ttl": "5m"}),
        json!({"channels": ["s:gallery:1"], "ttl": "5m", "role": "subscriber"}),
        json!({"channels": ["s:gallery:1"], "ttl": "1h"}),
        json!({"channels": ["s:gallery:1"], "ttl": "5m", "publish": ["gallery_comment"]}),
        json!({"channels": ["s:gallery:1"], "ttl": "5m", "sub": "someone"}),
    ] {
        let (status, body) = http(
            &r,
            "POST",
            "/v1/tokens",
            Some(&link),
            Some(&widen.to_string()),
        )
        .await;
        assert_eq!(status, 403, "{widen}: {body}");
        assert!(body.contains("forbidden"));
    }
    let (status, _) = http(&r, "POST", "/v1/tokens", Some(&link), Some("{nope")).await;
    assert_eq!(status, 400);
    let (status, _) = http(
        &r,
        "POST",
        "/v1/tokens",
        None,
        Some(r#"{"channels":["s:gallery:1"]}"#),
    )
    .await;
    assert_eq!(status, 401);
}

async fn guests_are_held_to_their_rate_and_frame_size(backend: Backend) {
    let r = relay(backend, |c| c.guest_rate = 3).await;
    show_frame(&r).await;
    let mut ana = connect(&r, &sign(&guest("ana"))).await;
    for i in 0..3 {
        assert_eq!(
            publish(&mut ana, "s:gallery:1", &format!("l{i}"), like()).await["type"],
            "ack"
        );
    }
    let limited = publish(&mut ana, "s:gallery:1", "l3", like()).await;
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    let mut ben = connect(&r, &sign(&guest("ben"))).await;
    assert_eq!(
        publish(&mut ben, "s:gallery:1", "b0", like()).await["type"],
        "ack",
        "another guest goes on"
    );
    let big = json!({"type": "gallery_like", "payload": {"text": "x".repeat(17 * 1024)}});
    assert_eq!(
        publish(&mut ben, "s:gallery:1", "b1", big).await["code"],
        "frame_too_large"
    );
    send(&mut ben, json!({"type": "ping"})).await;
    assert_eq!(
        recv(&mut ben).await["type"],
        "pong",
        "the connection survives"
    );
}

#[tokio::test]
async fn revocation_reaches_every_node_and_outlives_both() {
    let redis = support::RedisServer::start();
    let node = |url: String| relay(Backend::Memory, move |c| c.redis = Some(url));
    let (a, b) = (node(redis.url()).await, node(redis.url()).await);
    let leaked = claims(Role::Subscriber, &["s:*"], "kiosk");
    let mut on_b = connect(&b, &sign(&leaked)).await;
    subscribe(&mut on_b, "s:camera").await;
    let listed = async {
        for _ in 0..100 {
            let (_, body) = http(
                &a,
                "GET",
                "/v1/admin/connections?sub=kiosk",
                Some(&admin()),
                None,
            )
            .await;
            if body.contains("kiosk") {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    };
    assert!(listed.await, "node a lists node b's connection");
    let (status, _) = http(
        &a,
        "POST",
        "/v1/admin/revoke",
        Some(&admin()),
        Some(r#"{"sub":"kiosk"}"#),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        recv(&mut on_b).await,
        json!({"type": "closed", "code": 4003}),
        "cut off on the other node"
    );
    assert_eq!(refused(&b, &sign(&leaked)).await, (401, "revoked".into()));
    for r in [a, b] {
        let _ = r.stop.map(|s| s.send(()));
        let _ = r.task.await;
    }
    let (a, b) = (node(redis.url()).await, node(redis.url()).await);
    assert_eq!(
        refused(&a, &sign(&leaked)).await,
        (401, "revoked".into()),
        "after both restart"
    );
    assert_eq!(refused(&b, &sign(&leaked)).await, (401, "revoked".into()));
}

#[tokio::test]
async fn cors_answers_the_studios_site_and_nobody_else() {
    let r = relay(Backend::Memory, |c| {
        c.origins = vec!["https://studio.example".into()]
    })
    .await;
    let token = sign(&claims(Role::Subscriber, &["s:*"], "site"));
    let preflight = |origin: &'static str| {
        let r = &r;
        async move {
            http_with(
                r,
                "OPTIONS",
                "/v1/channels/s:camera/events",
                &[
                    ("Origin", origin),
                    ("Access-Control-Request-Method", "GET"),
                    ("Access-Control-Request-Headers", "authorization"),
                ],
                None,
            )
            .await
        }
    };
    let (status, head, _) = preflight("https://studio.example").await;
    assert_eq!(status, 204);
    assert!(
        head.contains("access-control-allow-origin: https://studio.example"),
        "{head}"
    );
    assert!(
        head.contains("access-control-allow-headers: authorization"),
        "{head}"
    );
    let (status, _, _) = preflight("https://elsewhere.example").await;
    assert_eq!(status, 403);
    let auth = format!("Bearer {token}");
    for path in ["/v1/channels/s:camera/events?since=0"] {
        let (status, head, _) = http_with(
            &r,
            "GET",
            path,
            &[
                ("Origin", "https://studio.example"),
                ("Authorization", &auth),
            ],
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            head.contains("access-control-allow-origin: https://studio.example"),
            "{head}"
        );
        let (_, head, _) = http_with(
            &r,
            "GET",
            path,
            &[
                ("Origin", "https://elsewhere.example"),
                ("Authorization", &auth),
            ],
            None,
        )
        .await;
        assert!(!head.contains("access-control-allow-origin"), "{head}");
    }
}
