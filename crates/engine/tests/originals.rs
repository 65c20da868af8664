//! Originals for a share's guests, end to end with the real `shotline` binary and a real
//! relay: a guest asks the relay for a frame's original, the relay asks the engine, and
//! the guest gets the library's file byte for byte — or, once the frame is in the cloud
//! bucket (a real `s3s-fs`, which checks signatures), a presigned address of it that
//! serves the same bytes and stops working when tampered with. A share that allows only
//! web size, a frame the share does not show, and another share's guest are refused; the
//! page's one-use ticket works once; every original served is in the share's activity.

mod common;
#[allow(dead_code)]
mod s3_servers;

use std::time::{Duration, Instant};

use common::gallery::{Relay, call, free_port, parse_link, studio_on};
use common::{SESSION, Studio, bytes};
use serde_json::{Value, json};

/// A share of the session with `downloads` (else the config's default); its base URL,
/// id, and a guest's token.
fn share(studio: &Studio, downloads: Option<&str>) -> (String, String, String) {
    let mut args = vec!["share", "create", "--ttl", "30m"];
    if let Some(d) = downloads {
        args.extend(["--downloads", d]);
    }
    let out = studio.shotline(&args);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        studio.output()
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let (base, id, link) = parse_link(stdout.lines().last().expect("link"));
    let channel = format!("studio:gallery:{id}");
    let (status, body) = call(
        "POST",
        &format!("{base}/v1/tokens"),
        &link,
        Some(json!({"channels": [channel], "name": "Ana"})),
    );
    assert_eq!(status, 200, "{body}");
    (base, id, body["token"].as_str().expect("token").to_string())
}

/// The frames the share shows, by name, once there are `n`.
fn frames(base: &str, id: &str, token: &str, n: usize) -> Vec<(String, i64)> {
    let url = format!("{base}/v1/blobs/studio:gallery:{id}/state.json");
    let start = Instant::now();
    loop {
        let (_, state) = call("GET", &url, token, None);
        if let Some(list) = state["frames"].as_array().filter(|f| f.len() == n) {
            return list
                .iter()
                .map(|f| {
                    (
                        f["name"].as_str().unwrap_or_default().to_string(),
                        f["frame"].as_i64().unwrap_or_default(),
                    )
                })
                .collect();
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the share never showed {n} frames: {state}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A GET as a guest's page makes it (no redirects followed): status, headers, body.
fn get(url: &str, token: &str, accept: Option<&str>) -> (u16, ureq::http::HeaderMap, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut request = agent.get(url);
    if !token.is_empty() {
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let mut response = request.call().expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .expect("body");
    (status, headers, body)
}

fn code(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body).unwrap_or_default()["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_guest_gets_the_librarys_original_byte_for_byte_only_where_the_share_allows_it() {
    let port = free_port();
    let data = tempfile::tempdir().expect("relay data");
    let _relay = Relay::start(port, data.path());
    let mut studio = studio_on(port);
    // Originals are the config's default for new shares.
    let mut toml = std::fs::read_to_string(&studio.config).expect("config");
    toml.push_str("\n[gallery]\ndownloads = \"originals\"\n");
    std::fs::write(&studio.config, toml).expect("config");
    let raw = bytes(7, 3 * 1024 * 1024 + 11);
    std::fs::write(studio.hot.join("A_0001.NEF"), &raw).expect("frame");
    std::fs::write(studio.hot.join("B_0002.JPG"), bytes(8, 40_000)).expect("frame");
    studio.start();
    studio.ready();
    studio.wait_for("two frames", Duration::from_secs(60), |s| s["shots"] == 2);

    let (base, id, ana) = share(&studio, None);
    let shown = frames(&base, &id, &ana, 2);
    let a = shown.iter().find(|(n, _)| n == "A_0001.NEF").expect("A").1;
    let original = format!("{base}/v1/shares/{id}/original/{a}");

    // Nothing is at the relay until a guest asks; the engine then sends the file.
    let (status, headers, body) = get(&original, &ana, None);
    assert_eq!(
        status,
        200,
        "{}\n{}",
        String::from_utf8_lossy(&body),
        studio.output()
    );
    assert_eq!(body.len(), raw.len());
    assert!(body == raw, "the original, byte for byte");
    assert_eq!(
        std::fs::read(studio.library.join(SESSION).join("A_0001.NEF")).expect("library"),
        body
    );
    let disposition = headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(disposition.contains("A_0001.NEF"), "{disposition}");
    // Asked again by the page (JSON): from the relay's area, by a one-use ticket the page
    // opens (so the browser saves the file as it comes; no token in the address).
    let (status, _, body) = get(&original, &ana, Some("application/json"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let ticket = serde_json::from_slice::<Value>(&body).expect("json")["url"]
        .as_str()
        .expect("url")
        .to_string();
    assert!(ticket.contains("?ticket="), "{ticket}");
    let (status, _, again) = get(&format!("{base}{ticket}"), "", None);
    assert_eq!(status, 200);
    assert!(again == raw, "the ticket's file, byte for byte");
    assert_eq!(get(&format!("{base}{ticket}"), "", None).0, 401, "used up");

    // Refused: no token, a frame the share does not show, another share's guest.
    assert_eq!(get(&original, "", None).0, 401);
    let (status, _, body) = get(
        &format!("{base}/v1/shares/{id}/original/999999"),
        &ana,
        None,
    );
    assert_eq!((status, code(&body)), (404, "not_found".to_string()));
    let (_, other, bea) = share(&studio, Some("web"));
    frames(&base, &other, &bea, 2);
    assert_eq!(get(&original, &bea, None).0, 403, "another share's guest");
    let (status, _, body) = get(
        &format!("{base}/v1/shares/{other}/original/{a}"),
        &bea,
        None,
    );
    assert_eq!(
        (status, code(&body)),
        (403, "forbidden".to_string()),
        "a web-size share serves no originals"
    );

    // The studio takes originals off: the next guest is refused.
    let out = studio.shotline(&["share", "set", &id, "--downloads", "web"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let start = Instant::now();
    while get(&original, &ana, None).0 != 403 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "originals still served after --downloads web"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The studio sees who downloaded what.
    let start = Instant::now();
    loop {
        let out = studio.shotline(&["share", "activity", &id, "--format", "csv"]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if text.matches("A_0001.NEF (original)").count() >= 2 {
            assert!(text.contains("Ana"), "{text}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "downloads not in the activity: {text}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn an_uploaded_frames_original_comes_from_the_cloud_by_a_presigned_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = s3_servers::S3Server::start(s3_servers::Kind::S3sFs, dir.path());
    server.create_bucket("proofs");
    let port = free_port();
    let data = tempfile::tempdir().expect("relay data");
    let _relay = Relay::start(port, data.path());
    let mut studio = studio_on(port);
    let mut text = std::fs::read_to_string(&studio.config).expect("config");
    text.push_str(&format!(
        "\n[upload]\nendpoint = \"{}\"\nregion = \"us-east-1\"\nbucket = \"proofs\"\nkey = \"{{studio}}/{{session}}/{{name}}\"\npresign_for_guests = true\n",
        server.endpoint()
    ));
    std::fs::write(&studio.config, text).expect("config");
    studio.env.push((
        "SHOTLINE_UPLOAD_ACCESS_KEY_ID".into(),
        s3_servers::ACCESS_KEY.into(),
    ));
    studio.env.push((
        "SHOTLINE_UPLOAD_SECRET_ACCESS_KEY".into(),
        s3_servers::SECRET_KEY.into(),
    ));
    let raw = bytes(11, 700_000);
    std::fs::write(studio.hot.join("C_0003.NEF"), &raw).expect("frame");
    studio.start();
    studio.ready();
    studio.wait_for("the upload", Duration::from_secs(60), |s| {
        s["uploads"]["done"].as_u64() == Some(1)
    });

    let (base, id, ana) = share(&studio, Some("originals"));
    let c = frames(&base, &id, &ana, 1)[0].1;
    let original = format!("{base}/v1/shares/{id}/original/{c}");
    // The page asks for JSON: the address of the cloud copy.
    let (status, _, body) = get(&original, &ana, Some("application/json"));
    assert_eq!(
        status,
        200,
        "{}\n{}",
        String::from_utf8_lossy(&body),
        studio.output()
    );
    let url = serde_json::from_slice::<Value>(&body).expect("json")["url"]
        .as_str()
        .expect("url")
        .to_string();
    assert!(url.contains("X-Amz-Signature="), "presigned: {url}");
    let (status, headers, cloud) = get(&url, "", None);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&cloud));
    assert!(cloud == raw, "the cloud copy, byte for byte");
    assert!(
        headers
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("C_0003.NEF")),
        "{headers:?}"
    );
    // A link asks without JSON: a redirect to the same address.
    let (status, headers, _) = get(&original, &ana, None);
    assert_eq!(status, 302);
    assert_eq!(
        headers.get("location").and_then(|v| v.to_str().ok()),
        Some(url.as_str())
    );
    // The signature is checked: a changed address is refused by the bucket.
    let tampered = url.replace("C_0003.NEF", "C_0004.NEF");
    assert_eq!(get(&tampered, "", None).0, 403);
}
