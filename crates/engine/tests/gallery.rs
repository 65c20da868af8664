//! The live gallery's answers, end to end with the real `shotline` binary and a real relay
//! (in this test's process, with its data folder): a guest rates, labels, likes and
//! comments; the engine records every answer in its journal, writes the frames' XMP
//! sidecars (exiftool reads them, and a sidecar another program wrote keeps its tags), and
//! `share export` lists them. Answers given while the engine is killed land once it is
//! back; so do answers given across a relay restart.

mod common;

use std::time::{Duration, Instant};

use common::gallery::{Relay, call, exiftool, free_port, parse_link, studio_on};
use common::{SESSION, Studio, bytes};
use serde_json::{Value, json};

fn export(studio: &Studio, id: &str) -> Vec<Value> {
    let out = studio.shotline(&["share", "export", id, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["answers"].as_array().cloned().unwrap_or_default()
}

fn wait_for_answers(studio: &Studio, id: &str, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let list = export(studio, id);
        if list.len() >= n {
            return list;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "only {} of {n} answers landed: {list:#?}\n{}",
            list.len(),
            studio.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn answers_land_in_the_journal_the_sidecars_and_the_export_across_a_crash() {
    let port = free_port();
    let data = tempfile::tempdir().expect("relay data");
    let mut relay = Relay::start(port, data.path());
    let mut studio = studio_on(port);
    let session_dir = studio.library.join(SESSION);
    std::fs::create_dir_all(&session_dir).expect("mkdir");
    // A sidecar another program wrote for the second frame, before the shoot.
    let theirs = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Darkroom 3"><dc:subject><rdf:Bag><rdf:li>hat</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"#;
    std::fs::write(session_dir.join("B_0002.xmp"), theirs).expect("sidecar");
    std::fs::write(studio.hot.join("A_0001.JPG"), bytes(1, 30_000)).expect("frame");
    std::fs::write(studio.hot.join("B_0002.JPG"), bytes(2, 30_000)).expect("frame");
    studio.start();
    studio.ready();
    studio.wait_for("two frames", Duration::from_secs(60), |s| s["shots"] == 2);
    let out = studio.shotline(&["share", "create", "--title", "Review", "--ttl", "30m"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        studio.output()
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let (base, id, link_token) = parse_link(stdout.lines().last().expect("link"));
    let channel = format!("studio:gallery:{id}");

    // The frames, as the page reads them.
    let start = Instant::now();
    let frames = loop {
        let (status, state) = call(
            "GET",
            &format!("{base}/v1/blobs/{channel}/state.json"),
            &link_token,
            None,
        );
        if status == 200 && state["frames"].as_array().is_some_and(|f| f.len() == 2) {
            break state["frames"].as_array().cloned().expect("frames");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no state: {state}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let frame = |name: &str| {
        frames
            .iter()
            .find(|f| f["name"] == name)
            .and_then(|f| f["frame"].as_i64())
            .expect("frame")
    };
    let (a, b) = (frame("A_0001.JPG"), frame("B_0002.JPG"));

    let (status, exchanged) = call(
        "POST",
        &format!("{base}/v1/tokens"),
        &link_token,
        Some(json!({"channels": [channel], "name": "Ana"})),
    );
    assert_eq!(status, 200, "{exchanged}");
    let ana = exchanged["token"]
        .as_str()
        .expect("guest token")
        .to_string();
    let answer = |base: &str, n: &str, kind: &str, payload: Value| {
        let (status, body) = call(
            "POST",
            &format!("{base}/v1/channels/{channel}/events"),
            &ana,
            Some(json!({"id": n, "event": {"type": kind, "payload": payload}})),
        );
        assert_eq!(status, 200, "{n}: {body}");
    };
    answer(
        &base,
        "1",
        "gallery_rating",
        json!({"frame": a, "stars": 2}),
    );
    answer(
        &base,
        "2",
        "gallery_rating",
        json!({"frame": a, "stars": 4}),
    );
    answer(
        &base,
        "3",
        "gallery_label",
        json!({"frame": a, "label": "red"}),
    );
    answer(
        &base,
        "4",
        "gallery_like",
        json!({"frame": b, "liked": true}),
    );
    answer(
        &base,
        "5",
        "gallery_comment",
        json!({"frame": b, "text": "can we see it without the hat?"}),
    );
    answer(
        &base,
        "6",
        "gallery_rating",
        json!({"frame": b, "stars": 5}),
    );
    let list = wait_for_answers(&studio, &id, 6);
    assert_eq!(list[4]["kind"], "comment");
    assert_eq!(list[4]["name"], "Ana");
    assert_eq!(list[4]["file"], "B_0002.JPG");
    assert_eq!(list[4]["value"], "can we see it without the hat?");

    // The sidecars: the latest rating and label; the other program's tags kept.
    let sidecar_a = session_dir.join("A_0001.xmp");
    let start = Instant::now();
    loop {
        let read = sidecar_a
            .exists()
            .then(|| exiftool(&sidecar_a, &["-XMP:Rating", "-XMP:Label"]));
        if read
            .as_ref()
            .is_some_and(|r| r["Rating"] == 4 && r["Label"] == "Red")
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{read:?}\n{}",
            studio.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let start = Instant::now();
    let sidecar_b = session_dir.join("B_0002.xmp");
    loop {
        let read = exiftool(
            &sidecar_b,
            &["-XMP:Rating", "-XMP:Subject", "-XMP:CreatorTool"],
        );
        if read["Rating"] == 5 {
            assert_eq!(read["Subject"], "hat", "{read}");
            assert_eq!(read["CreatorTool"], "Darkroom 3", "{read}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{read}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // The engine is killed; guests go on answering; it comes back and reads from where its
    // journal says it stopped.
    studio.kill9();
    answer(
        &base,
        "7",
        "gallery_label",
        json!({"frame": a, "label": "green"}),
    );
    answer(
        &base,
        "8",
        "gallery_comment",
        json!({"frame": a, "text": "this one"}),
    );
    assert_eq!(export(&studio, &id).len(), 6, "nobody read them yet");
    studio.start();
    studio.ready();
    wait_for_answers(&studio, &id, 8);
    // The relay restarts (its data folder keeps the log); an answer given after lands.
    drop(relay);
    relay = Relay::start(port, data.path());
    let start = Instant::now();
    loop {
        let (status, body) = call(
            "POST",
            &format!("{base}/v1/channels/{channel}/events"),
            &ana,
            Some(
                json!({"id": "9", "event": {"type": "gallery_like", "payload": {"frame": a, "liked": true}}}),
            ),
        );
        if status == 200 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{status} {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let list = wait_for_answers(&studio, &id, 9);
    assert_eq!(list.len(), 9, "each answer once: {list:#?}");
    let start = Instant::now();
    loop {
        let read = exiftool(&sidecar_a, &["-XMP:Label"]);
        if read["Label"] == "Green" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{read}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let csv = studio.shotline(&["share", "export", &id]);
    let csv = String::from_utf8_lossy(&csv.stdout).to_string();
    assert!(
        csv.starts_with("time,guest,name,frame,file,kind,value\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 10, "{csv}");
    assert!(csv.contains(",Ana,"), "{csv}");
    studio.stop();
    drop(relay);
}
