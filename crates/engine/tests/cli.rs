//! The `shotline` command line as a user meets it: config errors that name the key and the
//! fix, `config` subcommands, `status`, `verify` finding damage, one run per library.

mod common;

use std::fs;
use std::time::Duration;

use common::{Studio, bytes};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn studio() -> Studio {
    Studio::with_backup("backup")
}

/// Run with the config text replaced; returns (exit code, stderr).
fn run_with(studio: &Studio, toml: &str) -> (i32, String) {
    fs::write(&studio.config, toml).expect("config");
    let out = studio.command().args(["run"]).output().expect("run");
    (out.status.code().unwrap_or(-1), stderr(&out))
}

#[test]
fn bad_config_values_name_the_key_and_the_fix_and_change_nothing() {
    let s = studio();
    let root = s.dir.path().display().to_string();
    let cases = [
        (
            format!("[library]\npath = \"{root}/lib\"\ncolour = \"red\"\n"),
            "colour",
        ),
        (
            format!(
                "[[hot_folder]]\npath = \"{root}/in\"\n[[backup]]\npath = \"{root}/in/backup\"\n"
            ),
            "backup[0].path",
        ),
        (
            format!(
                "[[backup]]\nname = \"a\"\npath = \"{root}/t\"\n[[backup]]\nname = \"b\"\npath = \"{root}/t\"\n"
            ),
            "backup[1].path",
        ),
        (
            format!("[library]\npath = \"{root}/lib\"\nnaming = \"{{date}}/{{nonsense}}\"\n"),
            "library.naming",
        ),
        (
            format!("[[hot_folder]]\npath = \"{root}/in\"\npoll_interval = \"often\"\n"),
            "often",
        ),
        (
            "[relay]\nlisten = \"everywhere\"\n".to_string(),
            "relay.listen",
        ),
        ("[studio]\nid = \"my studio\"\n".to_string(), "studio.id"),
    ];
    for (toml, key) in cases {
        let (code, err) = run_with(&s, &toml);
        assert_eq!(code, 2, "{toml}\n{err}");
        assert!(
            err.contains(key),
            "error for {toml:?} does not name {key}: {err}"
        );
        assert!(err.contains("Fix:"), "no fix offered: {err}");
        let check = s
            .command()
            .args(["config", "check"])
            .output()
            .expect("check");
        assert_eq!(
            check.status.code(),
            Some(1),
            "config check accepts {toml:?}"
        );
    }
    assert!(!s.library.exists(), "a rejected config created the library");
}

#[test]
fn a_folder_that_is_a_file_is_named() {
    let s = studio();
    let file = s.dir.path().join("not-a-folder");
    fs::write(&file, b"x").expect("file");
    let (code, err) = run_with(
        &s,
        &format!(
            "[library]\npath = {file:?}\n[[backup]]\npath = {:?}\n",
            s.dir.path().join("b")
        ),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("library.path") && err.contains("not a folder"),
        "{err}"
    );
}

#[test]
fn environment_overrides_the_file_and_a_bad_value_names_the_variable() {
    let s = studio();
    let elsewhere = s.dir.path().join("elsewhere");
    let out = s
        .command()
        .env("SHOTLINE_LIBRARY_PATH", &elsewhere)
        .args(["status", "--json"])
        .output()
        .expect("status");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status["library"], elsewhere.display().to_string());
    let out = s
        .command()
        .env("SHOTLINE_CAMERA_ENABLED", "perhaps")
        .args(["status"])
        .output()
        .expect("status");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("SHOTLINE_CAMERA_ENABLED"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn config_subcommands_print_init_and_never_overwrite() {
    let s = studio();
    let default = s
        .command()
        .args(["config", "default"])
        .output()
        .expect("default");
    assert!(stdout(&default).contains("[[backup]]") && stdout(&default).contains("{original}"));

    let path = s.dir.path().join("fresh/config.toml");
    let shown = std::process::Command::new(common::BIN)
        .env("SHOTLINE_CONFIG", &path)
        .args(["config", "path"])
        .output()
        .expect("path");
    assert_eq!(stdout(&shown).trim(), path.display().to_string());

    let first = std::process::Command::new(common::BIN)
        .arg("--config")
        .arg(&path)
        .args(["config", "init"])
        .output()
        .expect("init");
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(
        fs::read_to_string(&path).expect("written"),
        stdout(&default)
    );
    fs::write(&path, "# mine\n").expect("edit");
    let again = std::process::Command::new(common::BIN)
        .arg("--config")
        .arg(&path)
        .args(["config", "init"])
        .output()
        .expect("init");
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        fs::read_to_string(&path).expect("kept"),
        "# mine\n",
        "init overwrote a config"
    );

    // With no file at the platform path, the defaults are used and check passes.
    let home = s.dir.path().join("home");
    let check = std::process::Command::new(common::BIN)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("SHOTLINE_CONFIG")
        .args(["config", "check"])
        .output()
        .expect("check");
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(
        stdout(&check).contains(&format!("{}/Pictures/Shotline/Library", home.display())),
        "{}",
        stdout(&check)
    );
}

#[test]
fn verify_names_missing_and_damaged_copies_and_one_run_per_library() {
    let mut s = studio();
    s.start();
    for i in 0..3 {
        fs::write(s.hot.join(format!("f{i}.jpg")), bytes(i, 20_000)).expect("write");
    }
    s.wait_for("copies", Duration::from_secs(60), |st| {
        Studio::target(st, "backup")["verified"] == 3
    });

    let second = s.command().args(["run"]).output().expect("second run");
    assert_eq!(second.status.code(), Some(2));
    assert!(
        stderr(&second).contains("in use by another Shotline process"),
        "{}",
        stderr(&second)
    );
    s.stop();

    assert!(s.shotline(&["verify"]).status.success());
    let damaged = s.dir.path().join("backup/shoot/f1.jpg");
    let mut data = fs::read(&damaged).expect("read");
    data[100] ^= 1;
    fs::write(&damaged, data).expect("damage");
    fs::remove_file(s.library.join("shoot/f2.jpg")).expect("remove");

    let out = s.shotline(&["verify"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("MISMATCH") && text.contains("f1.jpg"),
        "{text}"
    );
    assert!(
        text.contains("MISSING") && text.contains("f2.jpg"),
        "{text}"
    );
    assert!(text.contains("4 copies verified, 2 problems"), "{text}");

    let only = s.shotline(&["verify", "--target", "backup"]);
    assert_eq!(only.status.code(), Some(1));
    assert!(
        !stdout(&only).contains("f2.jpg"),
        "--target checked the library"
    );
    let unknown = s.shotline(&["verify", "--target", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("nope"));
}

#[test]
#[ignore = "needs root to mount a read-only tmpfs (root writes anywhere else); cargo xtask test runs it as root"]
fn an_unwritable_library_is_named() {
    common::require_root();
    let s = studio();
    let ro = s.dir.path().join("ro");
    fs::create_dir_all(&ro).expect("mkdir");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs"])
        .arg(&ro)
        .status()
        .expect("mount");
    assert!(mounted.success());
    let (code, err) = run_with(
        &s,
        &format!(
            "[library]\npath = {ro:?}\n[[backup]]\npath = {:?}\n",
            s.dir.path().join("b")
        ),
    );
    let _ = std::process::Command::new("umount").arg(&ro).status();
    assert_eq!(code, 2);
    assert!(
        err.contains("library.path") && err.contains("cannot write"),
        "{err}"
    );
}
