//! Tethered capture against libgphoto2's own virtual camera (a PTP "Nikon D750" on
//! `usb:001,001`, built by `cargo xtask camera-sim`): the real `shotline run` holds the
//! camera, `shotline capture` fires it, frames go through ingest and backup.
//!
//! The virtual camera "shoots" by presenting the first JPEG of `VCAMERADIR` under a new
//! name; its bytes are read at download time, so rewriting that file (same length) between
//! captures gives every frame its own content.

#![cfg(all(feature = "gphoto2", not(windows)))]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Mounted, SESSION, Studio, bytes, mount_tmpfs, tree};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);
const FRAME: usize = 150_000;

/// A studio with cameras on, pointed at a virtual camera whose card is `card`.
fn camera_studio(card_files: &[(&str, u64)]) -> (Studio, PathBuf) {
    let mut studio = Studio::with_backup("b1");
    let vcam = studio.dir.path().join("vcam");
    let card = vcam.join("DCIM").join("100TEST");
    fs::create_dir_all(&card).expect("card");
    for (name, seed) in card_files {
        fs::write(card.join(name), bytes(*seed, FRAME)).expect("card file");
    }
    common::camera::use_camera(&mut studio, &vcam);
    (studio, card)
}

fn connected(studio: &Studio) -> Value {
    studio.wait_for("the camera to connect", WAIT, |s| {
        s["cameras"][0]["state"] == "connected"
    })
}

fn stored(studio: &Studio, shots: u64) -> Value {
    studio.wait_for(
        &format!("{shots} frames stored and verified"),
        WAIT,
        move |s| {
            s["shots"] == shots
                && Studio::target(s, "b1")["verified"] == shots
                && s["queue_depth"] == 0
        },
    )
}

/// The library's frames of the session, by name.
fn frames(library: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    tree(&library.join(SESSION))
}

fn capture(studio: &Studio) -> std::process::Output {
    studio.shotline(&["capture"])
}

#[test]
fn triggered_captures_are_all_ingested_and_backed_up_with_matching_hashes() {
    let (mut studio, card) = camera_studio(&[("IMG_0001.JPG", 0)]);
    studio.start();
    let status = connected(&studio);
    assert_eq!(status["cameras"][0]["port"], "usb:001,001");
    assert!(
        status["cameras"][0]["model"]
            .as_str()
            .is_some_and(|m| m.contains("D750"))
    );
    assert!(status["cameras"][0]["card_free_bytes"].as_u64().is_some());

    let n = 6u64;
    let mut expected = std::collections::BTreeMap::new();
    for k in 1..=n {
        fs::write(card.join("IMG_0001.JPG"), bytes(k, FRAME)).expect("next frame");
        let out = capture(&studio);
        let names = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            out.status.success() && names.starts_with("GPH_") && names.ends_with(".JPG"),
            "capture {k}: {names} {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            studio.output()
        );
        expected.insert(names, bytes(k, FRAME));
    }
    stored(&studio, n);
    let library = frames(&studio.library);
    assert_eq!(
        library, expected,
        "every frame under its camera name, byte for byte"
    );
    assert_eq!(
        tree(&studio.dir.path().join("b1").join(SESSION)),
        library,
        "the backup holds the same frames"
    );
    let verify = studio.shotline(&["verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    // The frame on the card before the session is not this session's.
    assert!(!library.contains_key("IMG_0001.JPG"));
    let spool = studio.library.join(".shotline/incoming");
    assert_eq!(
        fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0),
        0,
        "downloads are removed from the spool once in the library"
    );
    studio.stop();
}

#[test]
fn a_captured_frame_carries_the_studios_metadata_in_its_sidecar() {
    let (mut studio, card) = camera_studio(&[("IMG_0001.JPG", 0)]);
    let mut config = fs::read_to_string(&studio.config).expect("config");
    config.push_str(common::xmp::METADATA);
    fs::write(&studio.config, config).expect("config");
    studio.start_with(&["--meta", "client=Acme"]);
    connected(&studio);
    fs::write(card.join("IMG_0001.JPG"), bytes(3, FRAME)).expect("frame");
    let out = capture(&studio);
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(out.status.success(), "{}", studio.output());
    stored(&studio, 1);
    studio.stop();
    let frame = studio.library.join(SESSION).join(&name);
    assert_eq!(
        fs::read(&frame).expect("frame"),
        bytes(3, FRAME),
        "the original untouched"
    );
    common::xmp::assert_every_field(&frame.with_extension("xmp"), "D750");
}

#[test]
fn frames_the_camera_announces_by_itself_are_downloaded() {
    let (mut studio, _card) = camera_studio(&[("IMG_0001.JPG", 7)]);
    studio.start();
    connected(&studio);
    // PTP opcode 0x9999 makes the virtual camera add a frame and announce it (ObjectAdded),
    // as a camera does when its own shutter button is pressed.
    let out = studio.shotline(&["camera", "set", "opcode=0x9999,0x0"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        studio.output()
    );
    stored(&studio, 1);
    let library = frames(&studio.library);
    let (name, content) = library.iter().next().expect("one frame");
    assert!(name.starts_with("GPH_"), "{name}");
    assert_eq!(*content, bytes(7, FRAME));
    studio.stop();
}

/// The setting named `name` in a status's first camera.
fn setting(status: &Value, name: &str) -> Value {
    status["cameras"][0]["settings"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == name))
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn key_settings_are_reported_with_their_choices_and_set_by_name_with_the_value_read_back() {
    let (mut studio, _card) = camera_studio(&[("IMG_0001.JPG", 0)]);
    studio.start();
    let status = studio.wait_for("the camera's settings", WAIT, |s| {
        !setting(s, "aperture").is_null()
    });
    // The virtual camera has an f-number and an exposure time; no ISO, white balance or
    // image format, and those are left out rather than reported empty.
    let aperture = setting(&status, "aperture");
    assert_eq!(aperture["key"], "f-number", "{aperture}");
    assert_eq!(aperture["value"], "f/2.8", "{aperture}");
    let choices: Vec<&str> = aperture["choices"]
        .as_array()
        .expect("choices")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        choices.contains(&"f/5.6") && choices.len() == 18,
        "{choices:?}"
    );
    assert!(!setting(&status, "shutterspeed").is_null(), "{status}");
    assert!(setting(&status, "iso").is_null(), "{status}");

    // Refused before the camera is asked: a value it does not take, a setting it lacks.
    let out = studio.shotline(&["camera", "set", "aperture=3.3"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("takes no aperture `3.3`") && said.contains("f/5.6"),
        "{said}"
    );
    let out = studio.shotline(&["camera", "set", "iso=400"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("does not report its ISO"),
        "{said}"
    );

    // Set by Shotline's name in the photographer's spelling; the answer is the camera's.
    let out = studio.shotline(&["camera", "set", "aperture=5.6"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        studio.output()
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "aperture = f/5.6"
    );
    studio.wait_for("the new aperture in the status", WAIT, |s| {
        setting(s, "aperture")["value"] == "f/5.6"
    });
    let list = studio.shotline(&["camera", "list"]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains("aperture f/5.6"), "{listed}");
    studio.stop();
}

#[test]
fn a_full_card_is_raised_as_critical_and_every_frame_taken_before_it_is_kept() {
    let (mut studio, _card) = camera_studio(&[("IMG_0001.JPG", 3)]);
    studio.start();
    connected(&studio);
    let mut ok = 0u64;
    let mut refused = None;
    for _ in 0..40 {
        let out = capture(&studio);
        if out.status.success() {
            ok += 1;
        } else {
            refused = Some(String::from_utf8_lossy(&out.stderr).into_owned());
            break;
        }
    }
    let refused = refused.expect("the virtual card fills up after about 27 frames");
    assert!(refused.contains("full"), "{refused}");
    assert!(ok >= 20, "only {ok} frames before the card was full");
    // The alert line itself, not the log record that comes just before it.
    studio.wait_for_log("[CRITICAL] Nikon DSC D750: the memory card is full", WAIT);
    // Identical frames (the same JPEG each time) are one stored frame and duplicates.
    let status = studio.wait_for("every frame handled", WAIT, move |s| {
        s["shots"].as_u64().unwrap_or(0) + s["duplicates"].as_u64().unwrap_or(0) == ok
            && s["queue_depth"] == 0
    });
    assert_eq!(status["failed"], 0);
    // A capture after the card is full is refused plainly, too.
    let out = capture(&studio);
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && why.contains("full"), "{why}");
    studio.stop();
}

#[test]
fn frames_shot_while_shotline_was_away_are_taken_and_hostile_names_sanitised() {
    let (mut studio, card) = camera_studio(&[("OLD_0001.JPG", 1)]);
    // First run: what is on the card belongs to an earlier shoot.
    studio.start();
    connected(&studio);
    studio.stop();
    // Shot while Shotline was not running, some under names no file system should get.
    let away = [
        ("NEW_0002.JPG", 2u64),
        ("CON.JPG", 3),
        ("a\\..\\b.JPG", 4),
        ("x\u{1}y.JPG", 5),
        (" lead.JPG", 6),
    ];
    for (name, seed) in away {
        fs::write(card.join(name), bytes(seed, FRAME)).expect("card file");
    }
    studio.start();
    stored(&studio, away.len() as u64);
    let library = frames(&studio.library);
    let names: Vec<&String> = library.keys().collect();
    assert_eq!(
        names,
        [
            "NEW_0002.JPG",
            "_CON.JPG",
            "_lead.JPG",
            "a_.._b.JPG",
            "x_y.JPG"
        ],
        "sanitised, each one component inside the session folder"
    );
    for (name, seed) in away {
        assert!(
            library.values().any(|v| *v == bytes(seed, FRAME)),
            "{name:?} taken"
        );
    }
    assert!(
        !library.values().any(|v| *v == bytes(1, FRAME)),
        "the old frame is left alone"
    );
    // Nothing anywhere but inside the library's session folder.
    let outside: Vec<String> = tree(&studio.library)
        .into_keys()
        .filter(|k| !k.starts_with(&format!("{SESSION}/")) && !k.starts_with(".shotline/"))
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    // A restart takes nothing twice: once the card was checked against the journal.
    studio.stop();
    studio.env.push(("SHOTLINE_LOG".into(), "info".into()));
    studio.start();
    connected(&studio);
    studio.wait_for_log(
        "camera: card checked, nothing to take",
        Duration::from_secs(30),
    );
    let status = stored(&studio, away.len() as u64);
    assert_eq!(status["duplicates"], 0);
    studio.stop();
}

#[test]
#[ignore = "needs root to mount a tmpfs; cargo xtask test runs it as root"]
fn a_full_library_disk_leaves_the_frame_on_the_card_and_takes_it_when_space_returns() {
    let (mut studio, card) = camera_studio(&[("IMG_0001.JPG", 0)]);
    let library = studio.library.clone();
    assert!(mount_tmpfs(&library, "3m"));
    let _mounted = Mounted(&library);
    // Ballast leaves room for one frame (its download and library copy), not two.
    studio.start();
    connected(&studio);
    let avail = fs4::available_space(&library).expect("free space");
    let ballast = library.join("ballast");
    let room = 2 * FRAME as u64 + (1 << 20) + FRAME as u64 / 2;
    fs::write(&ballast, vec![0u8; (avail - room) as usize]).expect("ballast");

    fs::write(card.join("IMG_0001.JPG"), bytes(11, FRAME)).expect("frame");
    let out = capture(&studio);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stored(&studio, 1);

    fs::write(card.join("IMG_0001.JPG"), bytes(12, FRAME)).expect("frame");
    let out = capture(&studio);
    assert!(!out.status.success(), "the second frame cannot fit");
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(
        why.contains("disk is full") && why.contains("stays on the card"),
        "{why}"
    );
    studio.wait_for_log("The library disk is full", WAIT);
    let partials: Vec<String> = tree(&library.join(".shotline"))
        .into_keys()
        .filter(|k| k.ends_with(".partial"))
        .collect();
    assert!(
        partials.is_empty(),
        "no partial download left: {partials:?}"
    );

    fs::remove_file(&ballast).expect("free space");
    stored(&studio, 2);
    let frames = frames(&library);
    assert!(frames.values().any(|v| *v == bytes(12, FRAME)));
    studio.stop();
}

#[test]
fn a_frame_is_deleted_from_the_card_only_once_verified_when_so_configured() {
    let (mut studio, card) = camera_studio(&[("IMG_0001.JPG", 20)]);
    let toml = fs::read_to_string(&studio.config).expect("config");
    fs::write(
        &studio.config,
        toml.replace(
            "[camera]\nenabled = false\n",
            "[camera]\nenabled = false\ndelete_after_verified = 1\n",
        ),
    )
    .expect("config");
    studio.env.push(("SHOTLINE_LOG".into(), "info".into()));
    studio.start();
    connected(&studio);
    fs::write(card.join("IMG_0001.JPG"), bytes(21, FRAME)).expect("frame");
    let out = capture(&studio);
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stored(&studio, 1);
    studio.wait_for_log(&format!("deleted {name} from the card (verified)"), WAIT);
    // The frame on the card before the session was never Shotline's to delete.
    assert!(!studio.output().contains("deleted IMG_0001.JPG"));
    studio.stop();

    // Asking for more verified copies than there are targets is refused, naming the key.
    fs::write(
        &studio.config,
        toml.replace(
            "[camera]\nenabled = false\n",
            "[camera]\nenabled = false\ndelete_after_verified = 2\n",
        ),
    )
    .expect("config");
    let check = studio.shotline(&["config", "check"]);
    let text = String::from_utf8_lossy(&check.stderr);
    assert!(
        !check.status.success() && text.contains("camera.delete_after_verified"),
        "{text}"
    );
}
