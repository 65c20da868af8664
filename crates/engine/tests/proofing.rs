//! Proofing end to end with the real `shotline` binary and a real relay (in this test's
//! process, with its data folder): a share made with a PIN and "choose 1-2" opens only
//! with its PIN; a guest picks, changes their mind and sends the selection; the engine
//! keeps it in its journal, gives the picked frames the "Client pick" keyword in their XMP
//! sidecars (exiftool reads it), writes the export (the file names for Lightroom's filter,
//! and CSV), and `share picks` and `share activity` show it. The selection stays locked
//! across a relay restart and an engine crash until `share unlock`; the guest then changes
//! it and sends it again.

mod common;

use std::time::{Duration, Instant};

use common::gallery::{Relay, call, exiftool, free_port, parse_link, studio_on};
use common::{SESSION, Studio, bytes};
use serde_json::{Value, json};

fn picks(studio: &Studio, id: &str) -> Vec<Value> {
    let out = studio.shotline(&["share", "picks", id, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        return Vec::new();
    }
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["selections"].as_array().cloned().unwrap_or_default()
}

/// Ana's selection once the engine has one with `file` in it.
fn wait_for_selection(studio: &Studio, id: &str, file: &str) -> Value {
    let start = Instant::now();
    loop {
        if let Some(s) = picks(studio, id).into_iter().find(|s| {
            s["files"].as_array().is_some_and(|f| {
                f.iter()
                    .any(|f| f.as_str().is_some_and(|f| f.ends_with(file)))
            })
        }) {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no selection with {file}: {:?}\n{}",
            picks(studio, id),
            studio.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_pin_protected_share_takes_a_selection_into_the_studios_files() {
    let port = free_port();
    let data = tempfile::tempdir().expect("relay data");
    let mut relay = Relay::start(port, data.path());
    let mut studio = studio_on(port);
    for (i, name) in ["A_0001.JPG", "B_0002.JPG", "C_0003.JPG"]
        .iter()
        .enumerate()
    {
        std::fs::write(studio.hot.join(name), bytes(i as u64 + 1, 30_000)).expect("frame");
    }
    studio.start();
    studio.ready();
    studio.wait_for("three frames", Duration::from_secs(60), |s| s["shots"] == 3);
    let out = studio.shotline(&["share", "create", "--pin", "12", "--choose", "1-2"]);
    assert!(!out.status.success(), "a 2-digit PIN is refused");
    let out = studio.shotline(&[
        "share",
        "create",
        "--title",
        "Proofs",
        "--ttl",
        "30m",
        "--pin",
        "2468",
        "--choose",
        "1-2",
        "--downloads",
        "web",
    ]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        studio.output()
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let (base, id, link) = parse_link(stdout.lines().last().expect("link"));
    let channel = format!("studio:gallery:{id}");
    let state_url = format!("{base}/v1/blobs/{channel}/state.json");

    // The link alone shows nothing; the PIN opens it.
    let (status, body) = call("GET", &state_url, &link, None);
    assert_eq!((status, body["code"].as_str()), (401, Some("pin_required")));
    let exchange = |pin: Option<&str>| {
        let mut body = json!({"channels": [channel], "name": "Ana"});
        if let Some(pin) = pin {
            body["pin"] = json!(pin);
        }
        call("POST", &format!("{base}/v1/tokens"), &link, Some(body))
    };
    assert_eq!(exchange(None).1["code"], "pin_required");
    assert_eq!(exchange(Some("1111")).1["code"], "wrong_pin");
    let (status, body) = exchange(Some("2468"));
    assert_eq!(status, 200, "{body}");
    let ana = body["token"].as_str().expect("token").to_string();

    // The page's state says what the share asks for.
    let start = Instant::now();
    let state = loop {
        let (status, state) = call("GET", &state_url, &ana, None);
        if status == 200 && state["frames"].as_array().is_some_and(|f| f.len() == 3) {
            break state;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no state: {state}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        state["options"],
        json!({"downloads": "web", "choose": {"min": 1, "max": 2}, "pin": true})
    );
    let frame = |name: &str| {
        state["frames"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["name"] == name))
            .and_then(|f| f["frame"].as_i64())
            .expect("frame")
    };
    let (a, b, c) = (
        frame("A_0001.JPG"),
        frame("B_0002.JPG"),
        frame("C_0003.JPG"),
    );
    let send = |base: &str, id: &str, kind: &str, payload: Value| {
        call(
            "POST",
            &format!("{base}/v1/channels/{channel}/events"),
            &ana,
            Some(json!({"id": id, "event": {"type": kind, "payload": payload}})),
        )
    };
    for (n, frame, picked) in [
        ("1", a, true),
        ("2", b, true),
        ("3", b, false),
        ("4", c, true),
    ] {
        let (status, body) = send(
            &base,
            n,
            "gallery_pick",
            json!({"frame": frame, "picked": picked}),
        );
        assert_eq!(status, 200, "{n}: {body}");
    }
    let (status, body) = send(&base, "5", "gallery_submit", json!({"picked": 2}));
    assert_eq!(status, 200, "{body}");

    let selection = wait_for_selection(&studio, &id, "C_0003.JPG");
    assert_eq!(selection["name"], "Ana");
    let files: Vec<&str> = selection["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        files[0].ends_with("A_0001.JPG") && files[1].ends_with("C_0003.JPG"),
        "{files:?}"
    );
    let export = std::path::PathBuf::from(selection["export"].as_str().expect("export"));
    assert_eq!(
        std::fs::read_to_string(&export).expect("export"),
        "A_0001, C_0003\n"
    );
    let csv = std::fs::read_to_string(export.with_extension("csv")).expect("csv");
    assert!(
        csv.starts_with("guest,name,frame,file\n") && csv.contains("Ana"),
        "{csv}"
    );
    let session = studio.library.join(SESSION);
    let subjects = |name: &str| {
        let path = session.join(name);
        if !path.exists() {
            return Value::Null;
        }
        exiftool(&path, &["-XMP-dc:Subject"])["Subject"].clone()
    };
    assert_eq!(subjects("A_0001.xmp"), json!("Client pick"));
    assert_eq!(subjects("C_0003.xmp"), json!("Client pick"));
    assert_eq!(
        subjects("B_0002.xmp"),
        Value::Null,
        "taken back before sending"
    );
    let out = studio.shotline(&["share", "picks", &id]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("A_0001, C_0003"));

    // Locked across a relay restart and an engine crash.
    drop(relay);
    relay = Relay::start(port, data.path());
    let (status, body) = send(
        &base,
        "6",
        "gallery_pick",
        json!({"frame": b, "picked": true}),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("selection_locked"))
    );
    studio.kill9();
    studio.start();
    studio.ready();
    let out = studio.shotline(&["share", "unlock", &id, "Nobody"]);
    assert!(!out.status.success(), "an unknown guest");
    let out = studio.shotline(&["share", "unlock", &id, "Ana"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let start = Instant::now();
    loop {
        let (status, body) = send(
            &base,
            "7",
            "gallery_pick",
            json!({"frame": b, "picked": true}),
        );
        if status == 200 {
            break;
        }
        assert_eq!(status, 409, "{body}");
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never unlocked\n{}",
            studio.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, _) = send(
        &base,
        "8",
        "gallery_pick",
        json!({"frame": c, "picked": false}),
    );
    assert_eq!(status, 200);
    let (status, _) = send(&base, "9", "gallery_submit", json!({"picked": 2}));
    assert_eq!(status, 200);
    let again = wait_for_selection(&studio, &id, "B_0002.JPG");
    let files: Vec<&str> = again["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        files[0].ends_with("A_0001.JPG") && files[1].ends_with("B_0002.JPG"),
        "the latest selection: {files:?}"
    );
    // C, picked before and not now, loses the keyword; A keeps it, B gets it.
    let start = Instant::now();
    while subjects("C_0003.xmp") != Value::Null || subjects("B_0002.xmp") != json!("Client pick") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "C still has {}, B has {}",
            subjects("C_0003.xmp"),
            subjects("B_0002.xmp")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(subjects("A_0001.xmp"), json!("Client pick"));

    // Who did what, for the studio.
    let out = studio.shotline(&["share", "activity", &id, "--format", "csv"]);
    let activity = String::from_utf8_lossy(&out.stdout).to_string();
    for kind in ["opened", "pin_failed", "submit", "unlock"] {
        assert!(activity.contains(kind), "{kind}: {activity}");
    }
    assert!(activity.contains(",Ana,"), "{activity}");
    drop(relay);
}
