//! Backup targets that fill up, vanish and come back, on real file systems: a small tmpfs
//! for a full disk, a folder renamed away for an unplugged drive, a mount point for
//! `require_mount`. Mounting needs root (CI runs as root); without it those tests say so
//! and stop.

mod common;

use std::fs;
use std::process::Command;
use std::time::Duration;

use common::{Mounted, SESSION, Studio, Target, bytes, mount_tmpfs, tree};

const WAIT: Duration = Duration::from_secs(60);

fn verified(name: &str, n: u64) -> impl Fn(&serde_json::Value) -> bool {
    let name = name.to_string();
    move |s| Studio::target(s, &name)["verified"] == n && Studio::target(s, &name)["pending"] == 0
}

#[test]
#[ignore = "needs root to mount a tmpfs; cargo xtask test runs it as root"]
fn a_full_target_pauses_with_a_critical_alert_and_catches_up_when_space_is_freed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let small = dir.path().join("small");
    assert!(mount_tmpfs(&small, "8m"));
    let _mounted = Mounted(&small);
    let small_path = small.clone();
    let mut studio = Studio::new(move |root| {
        vec![
            Target {
                name: "small",
                path: small_path,
                require_mount: true,
            },
            Target {
                name: "big",
                path: root.join("big"),
                require_mount: false,
            },
        ]
    });
    studio.start();
    for i in 0..8 {
        fs::write(
            studio.hot.join(format!("frame{i}.NEF")),
            bytes(i, 1_500_000),
        )
        .expect("write frame");
    }
    studio.wait_for(
        "the big target to have everything",
        WAIT,
        verified("big", 8),
    );
    studio.wait_for_log("target     small full", WAIT);
    studio.wait_for_log("[CRITICAL] Backup small is full", WAIT);
    let status = studio.status();
    assert!(
        Studio::target(&status, "small")["pending"].as_u64() > Some(0),
        "{status:#}"
    );

    // Nothing partial under a final name, and no partial left behind.
    let library = tree(&studio.library);
    for (rel, data) in tree(&small) {
        assert!(
            !rel.ends_with(".partial"),
            "partial left on the full target: {rel}"
        );
        assert_eq!(
            library.get(&rel),
            Some(&data),
            "{rel} on the full target differs from the library"
        );
    }

    // Free space: the target catches up on its own.
    let grown = Command::new("mount")
        .args(["-o", "remount,size=64m"])
        .arg(&small)
        .status()
        .expect("remount");
    assert!(grown.success());
    studio.wait_for("the small target to catch up", WAIT, verified("small", 8));
    assert_eq!(tree(&small), library);
    assert!(studio.shotline(&["verify"]).status.success());
    studio.stop();
    assert_eq!(library.len(), 8);
    assert!(library.keys().all(|k| k.starts_with(SESSION)));
}

#[test]
fn an_unplugged_target_waits_is_never_recreated_and_catches_up() {
    let mut studio = Studio::new(|root| {
        vec![Target {
            name: "usb",
            path: root.join("usb"),
            require_mount: false,
        }]
    });
    let usb = studio.dir.path().join("usb");
    let away = studio.dir.path().join("usb-unplugged");
    studio.start();
    for i in 0..3 {
        fs::write(studio.hot.join(format!("a{i}.jpg")), bytes(i, 50_000)).expect("write");
    }
    studio.wait_for("the first frames on usb", WAIT, verified("usb", 3));

    fs::rename(&usb, &away).expect("unplug");
    for i in 0..3 {
        fs::write(studio.hot.join(format!("b{i}.jpg")), bytes(100 + i, 50_000)).expect("write");
    }
    studio.wait_for_log("target     usb offline", WAIT);
    studio.wait_for("the new frames in the library", WAIT, |s| s["shots"] == 6);
    studio.wait_for_log("[CRITICAL] Backup usb is offline", WAIT);
    assert!(!usb.exists(), "the vanished target folder was recreated");
    assert!(studio.output().contains("[CRITICAL] Backup usb is offline"));
    let status = studio.status();
    assert_eq!(Studio::target(&status, "usb")["pending"], 3, "{status:#}");

    fs::rename(&away, &usb).expect("plug back in");
    studio.wait_for("usb to catch up", WAIT, verified("usb", 6));
    studio.stop();
    assert_eq!(tree(&usb), tree(&studio.library));
}

#[test]
#[ignore = "needs root to mount a tmpfs; cargo xtask test runs it as root"]
fn require_mount_never_writes_into_an_empty_mount_point() {
    common::require_root();
    let mut studio = Studio::new(|root| {
        vec![Target {
            name: "drive",
            path: root.join("mnt"),
            require_mount: true,
        }]
    });
    let mnt = studio.dir.path().join("mnt");
    fs::create_dir_all(&mnt).expect("empty mount point");
    studio.start();
    for i in 0..2 {
        fs::write(studio.hot.join(format!("a{i}.jpg")), bytes(i, 10_000)).expect("write");
    }
    studio.wait_for("frames in the library", WAIT, |s| s["shots"] == 2);
    studio.wait_for_log("[CRITICAL] Backup drive is offline", WAIT);
    assert!(tree(&mnt).is_empty(), "wrote into an empty mount point");
    assert_eq!(
        Studio::target(&studio.status(), "drive")["state"],
        "offline"
    );

    assert!(mount_tmpfs(&mnt, "16m"));
    let mounted = Mounted(&mnt);
    studio.wait_for("the drive to take the frames", WAIT, verified("drive", 2));
    assert_eq!(tree(&mnt).len(), 2);

    drop(mounted);
    fs::write(studio.hot.join("late.jpg"), bytes(9, 10_000)).expect("write");
    studio.wait_for("the late frame in the library", WAIT, |s| s["shots"] == 3);
    wait_for_count(&studio, "[CRITICAL] Backup drive is offline", 2);
    assert!(
        tree(&mnt).is_empty(),
        "wrote into the mount point after the drive was unmounted"
    );
    let status = studio.status();
    assert_eq!(Studio::target(&status, "drive")["pending"], 1, "{status:#}");
    studio.stop();
}

/// Wait until the log holds `needle` at least `n` times.
fn wait_for_count(studio: &Studio, needle: &str, n: usize) {
    let start = std::time::Instant::now();
    while studio.output().matches(needle).count() < n {
        assert!(
            start.elapsed() < WAIT,
            "`{needle}` not {n} times in the log:\n{}",
            studio.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
