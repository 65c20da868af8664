//! Proofing on real relays (one node with its data folder, and two nodes on one real
//! Redis): a PIN-protected share's link opens nothing but an exchange that gives its PIN,
//! wrong guesses are slowed down and recorded for the studio, and a guest's sent
//! selection ("choose N") is locked on every node and across a restart until the studio
//! unlocks it.

mod support;

use argon2::PasswordHasher;
use serde_json::{Value, json};
use shotline_relay::auth::{Claims, Role, now_secs};
use support::relay::{Backend, Relay, http, nodes, sign};

fn publisher() -> String {
    sign(&Claims::new(
        Role::Publisher,
        vec!["s:*".into()],
        std::time::Duration::from_secs(600),
    ))
}

fn hash(pin: &str) -> String {
    let salt = argon2::password_hash::SaltString::encode_b64(b"sixteen byte sal").expect("salt");
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .expect("hash")
        .to_string()
}

async fn open_share(node: &Relay, id: &str, extra: Value) -> (u16, String) {
    let mut body = json!({"channel": format!("s:gallery:{id}"), "exp": now_secs() + 600});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    http(
        node,
        "PUT",
        &format!("/v1/shares/{id}"),
        Some(&publisher()),
        Some(&body.to_string()),
    )
    .await
}

/// The share's link token, as the engine mints it.
async fn link(node: &Relay, id: &str) -> String {
    let body = json!({"channels": [format!("s:gallery:{id}")], "role": "guest",
        "sub": format!("share:{id}"), "publish": shotline_protocol::gallery::GUEST_TYPES});
    let (status, answer) = http(
        node,
        "POST",
        "/v1/tokens",
        Some(&publisher()),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).expect("json");
    answer["token"].as_str().expect("token").to_string()
}

/// A guest's exchange of `token` for share `id`: status, code or token.
async fn exchange(node: &Relay, id: &str, token: &str, pin: Option<&str>) -> (u16, Value) {
    let mut body = json!({"channels": [format!("s:gallery:{id}")], "name": "Ana"});
    if let Some(pin) = pin {
        body["pin"] = json!(pin);
    }
    let (status, answer) = http(
        node,
        "POST",
        "/v1/tokens",
        Some(token),
        Some(&body.to_string()),
    )
    .await;
    (status, serde_json::from_str(&answer).unwrap_or_default())
}

/// Share `id`'s activity as `token` reads it: status, entries.
async fn activity(node: &Relay, id: &str, token: &str) -> (u16, Vec<Value>) {
    let (status, body) = http(
        node,
        "GET",
        &format!("/v1/shares/{id}/activity"),
        Some(token),
        None,
    )
    .await;
    let body: Value = serde_json::from_str(&body).unwrap_or_default();
    (
        status,
        body["activity"].as_array().cloned().unwrap_or_default(),
    )
}

fn kinds(log: &[Value]) -> Vec<&str> {
    log.iter()
        .filter_map(|a| a["event"]["type"].as_str())
        .collect()
}

async fn a_pin_protected_link_opens_only_with_its_pin(backend: Backend) {
    let data = tempfile::tempdir().expect("tempdir");
    let (a, b) = nodes(backend, data.path()).await;
    let b = b.as_ref().unwrap_or(&a);
    let (status, answer) = open_share(&a, "pin", json!({"pin_hash": "2468"})).await;
    assert_eq!(status, 400, "a PIN in the clear is refused: {answer}");
    let (status, answer) = open_share(&a, "pin", json!({"pin_hash": hash("2468")})).await;
    assert_eq!(status, 200, "{answer}");
    let channel = "s:gallery:pin";
    let link = link(&a, "pin").await;

    // The link alone opens nothing, on either node (the other node hears of the share
    // through Redis within moments).
    let state = format!("/v1/blobs/{channel}/state.json");
    for node in [&a, b] {
        let start = std::time::Instant::now();
        loop {
            let (status, body) = http(node, "GET", &state, Some(&link), None).await;
            if status == 401 && body.contains("pin_required") {
                break;
            }
            assert!(start.elapsed().as_secs() < 5, "{status} {body}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    let (status, answer) = exchange(b, "pin", &link, None).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (401, Some("pin_required"))
    );
    let (status, answer) = exchange(b, "pin", &link, Some("1111")).await;
    assert_eq!((status, answer["code"].as_str()), (401, Some("wrong_pin")));

    // With the PIN: a guest token of their own, which reads the share.
    let (status, answer) = exchange(b, "pin", &link, Some(" 2468 ")).await;
    assert_eq!(status, 200, "{answer}");
    let guest = answer["token"].as_str().expect("token").to_string();
    let (status, _) = http(&a, "PUT", &state, Some(&publisher()), Some("{}")).await;
    assert_eq!(status, 200);
    assert_eq!(http(&a, "GET", &state, Some(&guest), None).await.0, 200);
    // Exchanging the guest's own token again needs no PIN.
    assert_eq!(exchange(&a, "pin", &guest, None).await.0, 200);

    // Guessing: five wrong from one address, then even the right one waits.
    for _ in 0..4 {
        assert_eq!(exchange(b, "pin", &link, Some("0000")).await.0, 401);
    }
    let (status, answer) = exchange(b, "pin", &link, Some("2468")).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (429, Some("rate_limited"))
    );

    // The studio reads who came and every wrong guess; the guest reads none of it.
    let (status, studio) = activity(b, "pin", &publisher()).await;
    assert_eq!(status, 200);
    let kinds = kinds(&studio);
    assert_eq!(
        kinds.iter().filter(|k| **k == "gallery_pin_failed").count(),
        5,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"gallery_opened"), "{kinds:?}");
    let opened = studio
        .iter()
        .find(|a| a["event"]["type"] == "gallery_opened")
        .expect("opened");
    assert_eq!(opened["event"]["payload"]["name"], "Ana");
    assert_eq!(
        activity(b, "pin", &guest).await.0,
        403,
        "guests read no activity"
    );

    // A new PIN: guests let in before it give it again (their pages are cut off), on
    // every node.
    let mut ws = support::relay::connect(b, &guest).await;
    support::relay::send(&mut ws, json!({"type": "subscribe", "channel": channel})).await;
    assert_eq!(support::relay::recv(&mut ws).await["type"], "subscribed");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _) = open_share(&a, "pin", json!({"pin_hash": hash("1357")})).await;
    assert_eq!(status, 200);
    let closed = support::relay::recv(&mut ws).await;
    assert_eq!(closed["type"], "closed", "{closed}");
    for node in [&a, b] {
        let start = std::time::Instant::now();
        loop {
            let (status, body) = http(node, "GET", &state, Some(&guest), None).await;
            if status == 401 && body.contains("pin_required") {
                break;
            }
            assert!(start.elapsed().as_secs() < 5, "{status} {body}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    // Without a PIN any more, the link opens again (for a share the studio unlocked).
    let (status, _) = open_share(&a, "pin", json!({})).await;
    assert_eq!(status, 200);
    let (status, _) = http(b, "GET", &state, Some(&link), None).await;
    assert_eq!(status, 200, "the PIN taken off");
}

async fn a_sent_selection_is_locked_until_the_studio_unlocks_it(backend: Backend) {
    let data = tempfile::tempdir().expect("tempdir");
    let (a, b) = nodes(backend, data.path()).await;
    let (status, answer) = open_share(&a, "pick", json!({"choose": {"min": 1, "max": 2}})).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = open_share(&a, "bad", json!({"choose": {"min": 3, "max": 2}})).await;
    assert_eq!(status, 400, "{answer}");
    let channel = "s:gallery:pick";
    let frames = json!({"frames": [{"frame": 1}, {"frame": 2}, {"frame": 3}]});
    let state = format!("/v1/blobs/{channel}/state.json");
    let (status, _) = http(
        &a,
        "PUT",
        &state,
        Some(&publisher()),
        Some(&frames.to_string()),
    )
    .await;
    assert_eq!(status, 200);
    let link = link(&a, "pick").await;
    let (status, answer) = exchange(&a, "pick", &link, None).await;
    assert_eq!(status, 200, "{answer}");
    let guest = answer["token"].as_str().expect("token").to_string();
    let sub =
        serde_json::from_slice::<Value>(&base64_decode(guest.split('.').nth(1).expect("claims")))
            .expect("claims")["sub"]
            .as_str()
            .expect("sub")
            .to_string();

    let events = format!("/v1/channels/{channel}/events");
    // A share that asks for no selection takes no picks.
    let (status, _) = open_share(&a, "nochoose", json!({})).await;
    assert_eq!(status, 200);
    let plain = sign(&Claims {
        publish: Some(vec!["gallery_pick".into()]),
        ..Claims::new(
            Role::Guest,
            vec!["s:gallery:nochoose".into()],
            std::time::Duration::from_secs(600),
        )
        .with_sub("guest-x")
    });
    let body = json!({"id": "n1", "event": {"type": "gallery_pick", "payload": {"frame": 1, "picked": true}}});
    let (status, answer) = http(
        &a,
        "POST",
        "/v1/channels/s:gallery:nochoose/events",
        Some(&plain),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("no selection"), "{answer}");
    let publish = async |node: &Relay, token: &str, id: &str, kind: &str, payload: Value| {
        let body = json!({"id": id, "event": {"type": kind, "payload": payload}});
        http(node, "POST", &events, Some(token), Some(&body.to_string())).await
    };
    let pick = json!({"frame": 1, "picked": true});
    assert_eq!(publish(&a, &guest, "p1", "gallery_pick", pick).await.0, 200);
    let submit = json!({"picked": 1});
    assert_eq!(
        publish(&a, &guest, "s1", "gallery_submit", submit.clone())
            .await
            .0,
        200
    );

    // Locked, on every node, and across a restart of a lone node.
    let (a, b) = match b {
        Some(b) => (a, Some(b)),
        None => {
            drop(a);
            nodes(backend, data.path()).await
        }
    };
    let other = b.as_ref().unwrap_or(&a);
    let pick2 = json!({"frame": 2, "picked": true});
    let (status, body) = publish(other, &guest, "p2", "gallery_pick", pick2.clone()).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("selection_locked"), "{body}");
    let (status, _) = publish(other, &guest, "s2", "gallery_submit", submit).await;
    assert_eq!(status, 409, "sent once");
    let (status, _) = publish(
        other,
        &guest,
        "p1",
        "gallery_pick",
        json!({"frame": 3, "picked": true}),
    )
    .await;
    assert_eq!(status, 409, "an id kept before is no way round the lock");
    // A like is not part of the selection.
    let like = json!({"frame": 2, "liked": true});
    assert_eq!(
        publish(other, &guest, "l1", "gallery_like", like).await.0,
        200
    );
    // Only the studio unlocks.
    let unlock = json!({"guest": sub});
    let (status, _) = publish(other, &guest, "u0", "gallery_unlock", unlock.clone()).await;
    assert_eq!(status, 403);
    let (status, body) = publish(&a, &publisher(), "u1", "gallery_unlock", unlock).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = publish(other, &guest, "p3", "gallery_pick", pick2).await;
    assert_eq!(status, 200, "unlocked: {body}");
}

async fn downloads_obey_the_share_and_are_counted(backend: Backend) {
    let data = tempfile::tempdir().expect("tempdir");
    let (a, b) = nodes(backend, data.path()).await;
    let b = b.as_ref().unwrap_or(&a);
    for (id, downloads) in [("web", "web"), ("off", "off")] {
        let (status, answer) = open_share(&a, id, json!({"downloads": downloads})).await;
        assert_eq!(status, 200, "{answer}");
        let channel = format!("s:gallery:{id}");
        let frames = json!({"frames": [
            {"frame": 1, "name": "IMG_0001.NEF", "preview": format!("/v1/blobs/{channel}/1-2048.jpg")},
            {"frame": 2, "name": "Été 2.JPG", "preview": format!("/v1/blobs/{channel}/2-2048-v2.jpg")},
        ]});
        for (name, body) in [
            ("state.json", frames.to_string()),
            ("1-2048.jpg", "first picture".to_string()),
            ("2-2048.jpg", "the clean second picture".to_string()),
            ("2-2048-v2.jpg", "second picture".to_string()),
        ] {
            let path = format!("/v1/blobs/{channel}/{name}");
            assert_eq!(
                http(&a, "PUT", &path, Some(&publisher()), Some(&body))
                    .await
                    .0,
                200
            );
        }
    }
    let guest = |id: &str| {
        sign(&Claims {
            name: Some("Ana".into()),
            ..Claims::new(
                Role::Guest,
                vec![format!("s:gallery:{id}")],
                std::time::Duration::from_secs(600),
            )
            .with_sub("guest-ana")
        })
    };
    let (status, head, body) = support::relay::http_with(
        b,
        "GET",
        "/v1/shares/web/download/1",
        &[("Authorization", &format!("Bearer {}", guest("web")))],
        None,
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "first picture"));
    assert!(head.contains("filename=\"img_0001.jpg\""), "{head}");
    let (status, body) = http(
        b,
        "GET",
        "/v1/shares/off/download/1",
        Some(&guest("off")),
        None,
    )
    .await;
    assert_eq!(status, 403, "downloads off: {body}");
    let (status, _) = http(
        b,
        "GET",
        "/v1/shares/web/download/1",
        Some(&guest("off")),
        None,
    )
    .await;
    assert_eq!(status, 403, "another share's guest");

    // A ZIP of both, streamed: a real archive with both pictures under their names.
    let (status, _, zip) =
        support::relay::http_bytes(b, "/v1/shares/web/download.zip?frames=1,2,9", &guest("web"))
            .await;
    assert_eq!(status, 200);
    let file = data.path().join("picks.zip");
    std::fs::write(&file, &zip).expect("zip");
    let listing = std::process::Command::new("python3")
        .args(["-c", "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nfor i in z.infolist(): print(i.filename, z.read(i).decode())", file.to_str().expect("path")])
        .output()
        .expect("python3");
    assert!(
        listing.status.success(),
        "{}",
        String::from_utf8_lossy(&listing.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout),
        "IMG_0001.jpg first picture\nÉté 2.jpg second picture\n"
    );
    let (status, _) = http(
        b,
        "GET",
        "/v1/shares/web/download.zip?frames=",
        Some(&guest("web")),
        None,
    )
    .await;
    assert_eq!(status, 400);

    let (_, activity) = activity(&a, "web", &publisher()).await;
    let whats: Vec<&str> = activity
        .iter()
        .filter(|a| a["event"]["type"] == "gallery_download")
        .filter_map(|a| a["event"]["payload"]["what"].as_str())
        .collect();
    assert_eq!(
        whats,
        ["IMG_0001.jpg (web size)", "2 frames as a ZIP (web size)"]
    );
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64")
}

on_both_backends!(
    a_pin_protected_link_opens_only_with_its_pin,
    a_sent_selection_is_locked_until_the_studio_unlocks_it,
    downloads_obey_the_share_and_are_counted,
);
