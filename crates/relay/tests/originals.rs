//! Originals on real relays (one node with its data folder, and two nodes on one real
//! Redis): a guest's request on one node waits while the engine, on the other, reads the
//! wait and sends the file (or a presigned address); the guest gets it byte for byte.
//! Only the studio's publisher sends and reads waits; a share that allows web size only,
//! and a closed one, serve no originals; a body shorter than it said is not kept.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use shotline_relay::auth::{Claims, Role, now_secs};
use support::relay::{Backend, Relay, http, http_bytes, http_with, nodes, sign};

fn publisher() -> String {
    sign(&Claims::new(
        Role::Publisher,
        vec!["s:*".into()],
        Duration::from_secs(600),
    ))
}

/// Share `id` with `downloads`, showing frames 1 and 2; a guest's token.
async fn share(node: &Relay, id: &str, downloads: &str) -> String {
    let channel = format!("s:gallery:{id}");
    let body = json!({"channel": channel, "exp": now_secs() + 600, "downloads": downloads});
    let path = format!("/v1/shares/{id}");
    let (status, answer) = http(
        node,
        "PUT",
        &path,
        Some(&publisher()),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let frames =
        json!({"frames": [{"frame": 1, "name": "A_0001.NEF"}, {"frame": 2, "name": "B.NEF"}]});
    let (status, _) = http(
        node,
        "PUT",
        &format!("/v1/blobs/{channel}/state.json"),
        Some(&publisher()),
        Some(&frames.to_string()),
    )
    .await;
    assert_eq!(status, 200);
    sign(&Claims {
        name: Some("Ana".into()),
        sub: Some("guest-ana".into()),
        ..Claims::new(Role::Guest, vec![channel], Duration::from_secs(600))
    })
}

/// The waits the studio's engine reads.
async fn wanted(node: &Relay) -> Vec<Value> {
    let (status, body) = http(
        node,
        "GET",
        "/v1/originals/wanted",
        Some(&publisher()),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    body["wanted"].as_array().cloned().unwrap_or_default()
}

/// Wait until a guest waits for `frame` of `share`.
async fn until_wanted(node: &Relay, share: &str, frame: i64) {
    for _ in 0..100 {
        if wanted(node)
            .await
            .iter()
            .any(|w| w["share"] == share && w["frame"] == frame)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no wait for {share}/{frame}");
}

async fn originals_go_from_the_engine_to_a_guest_on_any_node(backend: Backend) {
    let data = tempfile::tempdir().expect("tempdir");
    let (a, b) = nodes(backend, data.path()).await;
    let b = b.as_ref().unwrap_or(&a);
    let guest = share(&a, "raw", "originals").await;
    let path = "/v1/shares/raw/original/1";

    // 2.5 MiB, so Redis keeps it in three chunks.
    let original: String = (0..(5 << 19))
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let engine = async {
        until_wanted(&a, "raw", 1).await;
        // Only the studio reads waits and sends originals.
        let (status, _) = http(&a, "GET", "/v1/originals/wanted", Some(&guest), None).await;
        assert_eq!(status, 403);
        let named = format!("{path}?name=A_0001.NEF");
        let (status, _) = http(&a, "PUT", &named, Some(&guest), Some("x")).await;
        assert_eq!(status, 403);
        let auth = format!("Bearer {}", publisher());
        let file = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/octet-stream"),
        ];
        let (status, _, body) = http_with(&a, "PUT", &named, &file, Some(&original)).await;
        assert_eq!(status, 200, "{body}");
    };
    // The guest asks on the other node and waits there.
    let ((status, head, bytes), ()) = tokio::join!(http_bytes(b, path, &guest), engine);
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("a_0001.nef"), "{head}");
    assert_eq!(bytes.len(), original.len());
    assert!(bytes == original.as_bytes(), "byte for byte");
    assert!(wanted(&a).await.is_empty(), "the wait is over");

    // A presigned address for frame 2: the page gets it as JSON, a link as a redirect.
    let url = "https://bucket.example/B.NEF?X-Amz-Signature=abc";
    let presigned = json!({"url": url, "expires_in": 900}).to_string();
    let (status, _) = http(
        &a,
        "PUT",
        "/v1/shares/raw/original/2",
        Some(&publisher()),
        Some(&presigned),
    )
    .await;
    assert_eq!(status, 200);
    let auth = format!("Bearer {guest}");
    let (status, _, body) = http_with(
        b,
        "GET",
        "/v1/shares/raw/original/2",
        &[("Authorization", &auth), ("Accept", "application/json")],
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("json")["url"],
        url
    );
    let (status, head, _) = http_bytes(b, "/v1/shares/raw/original/2", &guest).await;
    assert_eq!(status, 302);
    assert!(
        head.contains(&format!("location: {}", url.to_ascii_lowercase())),
        "{head}"
    );

    // A web-size share serves none; a closed share none either.
    let web = share(&a, "web", "web").await;
    let (status, _, _) = http_bytes(b, "/v1/shares/web/original/1", &web).await;
    assert_eq!(status, 403);
    let (status, _) = http(&a, "DELETE", "/v1/shares/raw", Some(&publisher()), None).await;
    assert_eq!(status, 200);
    let (status, _, _) = http_bytes(b, path, &guest).await;
    assert!(
        status == 401 || status == 403 || status == 410,
        "closed: {status}"
    );
}

on_both_backends!(originals_go_from_the_engine_to_a_guest_on_any_node);
