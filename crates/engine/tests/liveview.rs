//! Live view and focus on libgphoto2's virtual camera, patched for live view
//! (`xtask/patches/libgphoto2-vusb-liveview.patch`): the real `shotline run` holds the
//! camera and publishes to its embedded relay; a viewer of the relay's MJPEG stream makes
//! live view run. The camera reports its lens position in each live picture's JPEG
//! comment (`vcamera liveview frame=N focus=P`), so the tests see a focus drive reach it.

#![cfg(all(feature = "gphoto2", not(windows)))]

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

use common::{SESSION, Studio, tree};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

/// A small JPEG of one colour, `shade`.
fn jpeg(shade: u8) -> Vec<u8> {
    let (w, h) = (64u16, 48u16);
    let pixels: Vec<u8> = (0..usize::from(w) * usize::from(h))
        .flat_map(|i| [shade, (i % 251) as u8, 255 - shade])
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 80)
        .encode(&pixels, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encode");
    out
}

/// A studio whose virtual camera holds three JPEGs (live view shows them in turn), live
/// view ending one second after the last viewer leaves.
fn live_studio() -> Studio {
    let mut studio = Studio::with_backup("b1");
    let vcam = studio.dir.path().join("vcam");
    let card = vcam.join("DCIM").join("100TEST");
    fs::create_dir_all(&card).expect("card");
    for (name, shade) in [("A.JPG", 10u8), ("B.JPG", 120), ("C.JPG", 240)] {
        fs::write(card.join(name), jpeg(shade)).expect("card file");
    }
    let toml = fs::read_to_string(&studio.config).expect("config");
    fs::write(
        &studio.config,
        toml.replace(
            "[camera]\nenabled = false\n",
            "[camera]\nenabled = false\nliveview_idle = \"1s\"\n",
        ),
    )
    .expect("config");
    common::camera::use_camera(&mut studio, &vcam);
    studio
}

/// One viewer of the relay's MJPEG stream.
struct Viewer {
    body: BufReader<Box<dyn Read + Send>>,
}

/// A part of the stream: its headers and picture.
struct Part {
    seq: u64,
    taken_ms: i64,
    jpeg: Vec<u8>,
}

impl Part {
    /// The virtual camera's comment: (frame, focus).
    fn camera_says(&self) -> (u64, i64) {
        let text = String::from_utf8_lossy(&self.jpeg);
        let at = text
            .find("vcamera liveview ")
            .expect("the camera's comment");
        let number = |key: &str| -> i64 {
            let digits: String = text[at..]
                .split(key)
                .nth(1)
                .expect(key)
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().expect(key)
        };
        (number("frame=") as u64, number("focus="))
    }
}

impl Viewer {
    fn open(url: &str, token: &str) -> Result<Self, (u16, String)> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .build()
            .into();
        let response = agent
            .get(url)
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .map_err(|e| (0, e.to_string()))?;
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut body = response.into_body();
        if status != 200 {
            return Err((status, body.read_to_string().unwrap_or_default()));
        }
        assert_eq!(kind, "multipart/x-mixed-replace; boundary=shotline-live");
        let reader: Box<dyn Read + Send> = Box::new(body.into_reader());
        Ok(Self {
            body: BufReader::new(reader),
        })
    }

    fn next(&mut self) -> Part {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                self.body.read_line(&mut line).expect("read") > 0,
                "the stream ended"
            );
            if line.trim_end() == "--shotline-live" {
                break;
            }
        }
        let (mut len, mut seq, mut taken_ms) = (0usize, 0u64, 0i64);
        loop {
            line.clear();
            self.body.read_line(&mut line).expect("read");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(": ").expect("a part header");
            match name.to_ascii_lowercase().as_str() {
                "content-length" => len = value.parse().expect("length"),
                "x-seq" => seq = value.parse().expect("seq"),
                "x-taken-ms" => taken_ms = value.parse().expect("taken"),
                _ => {}
            }
        }
        let mut jpeg = vec![0; len];
        self.body.read_exact(&mut jpeg).expect("the picture");
        Part {
            seq,
            taken_ms,
            jpeg,
        }
    }
}

fn live(status: &Value) -> &Value {
    &status["cameras"][0]["live"]
}

fn focus(studio: &Studio, drive: &[&str]) -> (bool, String) {
    let mut args = vec!["camera", "focus"];
    args.extend(drive);
    let out = studio.shotline(&args);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Read pictures until the camera reports the lens at `focus` (pictures taken before the
/// drive may still be in the socket's buffers); false if none does within 10 s.
fn reaches(viewer: &mut Viewer, focus: i64) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if viewer.next().camera_says().1 == focus {
            return true;
        }
    }
    false
}

#[test]
fn live_view_runs_while_watched_focuses_captures_and_stops_when_nobody_watches() {
    let mut studio = live_studio();
    studio.start();
    studio.wait_for("the camera to connect", WAIT, |s| {
        s["cameras"][0]["state"] == "connected"
    });
    let ready = studio.ready();
    let address = ready["relay"]["address"]
        .as_str()
        .expect("address")
        .to_string();
    let token = ready["relay"]["subscriber_token"]
        .as_str()
        .expect("token")
        .to_string();
    let stream = format!(
        "{address}/v1/live/{}:live",
        ready["studio"].as_str().expect("test value")
    );

    // Nobody watches: no live view, and manual focus is refused with the reason.
    std::thread::sleep(Duration::from_millis(500));
    assert!(live(&studio.status()).is_null(), "{}", studio.status());
    let (ok, said) = focus(&studio, &["near"]);
    assert!(!ok && said.contains("live view only"), "{said}");

    // A viewer: pictures come, each a JPEG of the camera's folder in turn.
    let mut viewer = Viewer::open(&stream, &token).expect("open the stream");
    let started = Instant::now();
    let parts: Vec<Part> = (0..9).map(|_| viewer.next()).collect();
    let elapsed = started.elapsed();
    for pair in parts.windows(2) {
        assert!(pair[1].seq > pair[0].seq, "pictures in order");
        assert!(pair[1].taken_ms >= pair[0].taken_ms);
    }
    for part in &parts {
        assert_eq!(&part.jpeg[..2], b"\xff\xd8", "a JPEG");
        assert_eq!(part.camera_says().1, 5000, "the lens where it starts");
    }
    let frames: std::collections::BTreeSet<u64> = parts.iter().map(|p| p.camera_says().0).collect();
    assert_eq!(
        frames.len(),
        parts.len(),
        "every picture a new one from the camera"
    );
    let shades: std::collections::BTreeSet<&[u8]> =
        parts.iter().map(|p| &p.jpeg[p.jpeg.len() - 64..]).collect();
    assert!(shades.len() >= 2, "the pictures change");
    assert!(
        elapsed < Duration::from_secs(20),
        "9 pictures took {elapsed:?}"
    );
    let status = studio.wait_for("live view on in the status", WAIT, |s| {
        s["cameras"][0]["live"]["on"] == true
    });
    assert!(live(&status)["message"].is_null(), "{status}");

    // Focus drives reach the camera; its answers come back.
    let (ok, said) = focus(&studio, &["near", "3"]);
    assert!(ok, "{said}\n{}", studio.output());
    assert!(said.contains("moved near 3"), "{said}");
    assert!(reaches(&mut viewer, 4000), "the lens at 4000");
    let (ok, said) = focus(&studio, &["far", "1"]);
    assert!(ok, "{said}");
    assert!(reaches(&mut viewer, 4030), "the lens at 4030");
    let (ok, said) = focus(&studio, &["auto"]);
    assert!(ok && said.contains("focused"), "{said}");
    assert!(reaches(&mut viewer, 3300), "the lens at 3300");
    for _ in 0..3 {
        assert!(focus(&studio, &["near", "3"]).0);
    }
    let (ok, said) = focus(&studio, &["near", "3"]);
    assert!(ok && said.contains("at the near end of the lens"), "{said}");
    assert!(reaches(&mut viewer, 0), "the lens at 0");
    studio.wait_for("the focus answer in the status", WAIT, |s| {
        s["cameras"][0]["live"]["focus"] == "at the near end of the lens"
    });
    let (ok, said) = focus(&studio, &["sideways"]);
    assert!(!ok && said.contains("near|far"), "{said}");

    // A capture while live view runs lands in the library, and live view goes on.
    let out = studio.shotline(&["capture"]);
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && name.starts_with("GPH_"),
        "{name} {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        studio.output()
    );
    studio.wait_for("the frame stored and verified", WAIT, |s| {
        s["shots"] == 1 && Studio::target(s, "b1")["verified"] == 1
    });
    let library = tree(&studio.library.join(SESSION));
    let shot = library.get(&name).expect("the frame under its camera name");
    let card = studio.dir.path().join("vcam/DCIM/100TEST");
    assert!(
        ["A.JPG", "B.JPG", "C.JPG"]
            .iter()
            .any(|n| fs::read(card.join(n)).ok().as_ref() == Some(shot)),
        "the captured frame is the camera's file, byte for byte"
    );
    let after = viewer.next().seq;
    assert!(
        viewer.next().seq > after,
        "live view resumed after the capture"
    );

    // The last viewer leaves: live view ends on the camera, and the status says why.
    drop(viewer);
    let status = studio.wait_for("live view off", WAIT, |s| {
        s["cameras"][0]["live"]["on"] == false
    });
    assert!(
        live(&status)["message"]
            .as_str()
            .is_some_and(|m| m.contains("nobody watched")),
        "{status}"
    );
    let (ok, said) = focus(&studio, &["far"]);
    assert!(!ok && said.contains("live view only"), "{said}");
    // The engine sends nothing while nobody watches; a new viewer starts it again.
    let mut again = Viewer::open(&stream, &token).expect("open again");
    assert_eq!(&again.next().jpeg[..2], b"\xff\xd8");
}

#[test]
fn the_stream_needs_a_token_of_its_channel() {
    let mut studio = live_studio();
    studio.start();
    let ready = studio.ready();
    let address = ready["relay"]["address"]
        .as_str()
        .expect("address")
        .to_string();
    let token = ready["relay"]["subscriber_token"].as_str().expect("token");
    let studio_id = ready["studio"].as_str().expect("test value");
    match Viewer::open(
        &format!("{address}/v1/live/{studio_id}:live"),
        "not-a-token",
    ) {
        Err((401, _)) => {}
        other => panic!("a bad token: {:?}", other.err()),
    }
    match Viewer::open(&format!("{address}/v1/live/elsewhere:live"), token) {
        Err((403, body)) => assert!(body.contains("does not cover"), "{body}"),
        other => panic!("another studio's stream: {:?}", other.err()),
    }
}
