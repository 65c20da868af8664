//! The desktop app's commands and state through `tauri::test`'s mock runtime: the real
//! engine behind them (a studio in a temporary folder), no window or display.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shotline_desktop::Shell;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

struct Studio {
    dir: tempfile::TempDir,
    config: PathBuf,
    shell: Arc<Shell>,
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

fn studio() -> Studio {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let config = root.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[hot_folder]]\npath = {:?}\n[library]\npath = {:?}\nnaming = \"{{session}}/{{original}}\"\n[[backup]]\nname = \"b1\"\npath = {:?}\n[camera]\nenabled = false\n[relay]\nlisten = \"127.0.0.1:0\"\n",
            root.join("hot"),
            root.join("library"),
            root.join("b1"),
        ),
    )
    .expect("config");
    let shell = Arc::new(Shell::for_config(config.clone()));
    let app = shotline_desktop::builder(mock_builder(), shell.clone())
        // The app's own context: its capability must allow what the window calls.
        .build(tauri::generate_context!("tauri.conf.json", test = true))
        .expect("app");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window");
    tauri::async_runtime::block_on(shell.start());
    Studio {
        dir,
        config,
        shell,
        _app: app,
        window,
    }
}

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: window.url().expect("url"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("json"))
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn library(root: &Path) -> PathBuf {
    root.join("library")
}

#[test]
fn the_snapshot_shows_frames_with_each_copy_and_pause_holds_the_backups() {
    let s = studio();
    let snap = invoke(&s.window, "snapshot", json!({})).expect("snapshot");
    assert_eq!(snap["problem"], Value::Null, "{snap}");
    assert_eq!(snap["library"], library(s.dir.path()).display().to_string());
    assert_eq!(snap["targets"][0]["name"], "b1");

    // Paused: the frame goes into the library, not to the backup.
    invoke(&s.window, "set_paused", json!({ "paused": true })).expect("pause");
    std::fs::write(s.dir.path().join("hot/A.JPG"), b"frame A").expect("frame");
    wait_until("the frame in the library", || {
        let snap = invoke(&s.window, "snapshot", json!({})).expect("snapshot");
        snap["frames"][0]["state"] == "stored"
    });
    std::thread::sleep(Duration::from_secs(2));
    let snap = invoke(&s.window, "snapshot", json!({})).expect("snapshot");
    assert_eq!(snap["paused"], true);
    assert_eq!(snap["state"], "attention");
    assert_eq!(snap["frames"][0]["targets"][0][1], "pending", "{snap}");

    invoke(&s.window, "set_paused", json!({ "paused": false })).expect("resume");
    wait_until("the copy verified after resume", || {
        let snap = invoke(&s.window, "snapshot", json!({})).expect("snapshot");
        snap["frames"][0]["targets"][0][1] == "verified"
    });
    let snap = invoke(&s.window, "snapshot", json!({})).expect("snapshot");
    assert_eq!(snap["frames"][0]["name"], "A.JPG");
    assert_eq!(snap["totals"]["stored"], 1);
    tauri::async_runtime::block_on(s.shell.stop());
}

#[test]
fn settings_refuse_a_bad_value_by_its_key_and_save_a_good_one() {
    let s = studio();
    let before = std::fs::read_to_string(&s.config).expect("config");
    let mut form = invoke(&s.window, "settings", json!({})).expect("settings");
    assert_eq!(form["naming"], "{session}/{original}");
    assert_eq!(form["backups"][0]["name"], "b1");

    form["relay_listen"] = json!("not an address");
    form["backups"][0]["path"] = form["hot_folders"][0].clone();
    let errors = invoke(
        &s.window,
        "save_settings",
        json!({ "settings": form.clone() }),
    )
    .expect_err("refused");
    let keys: Vec<&str> = errors
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["key"].as_str())
        .collect();
    assert!(keys.contains(&"relay.listen"), "{errors}");
    assert!(
        keys.iter()
            .any(|k| k.starts_with("backup[0].path") || k.starts_with("hot_folder[0].path")),
        "{errors}"
    );
    assert_eq!(
        std::fs::read_to_string(&s.config).expect("config"),
        before,
        "nothing saved"
    );

    let mut form = invoke(&s.window, "settings", json!({})).expect("settings");
    form["naming"] = json!("{date}/{session}/{seq}-{name}");
    form["prefs"]["muted"] = json!(["upload_finished"]);
    invoke(&s.window, "save_settings", json!({ "settings": form })).expect("saved");
    let saved = std::fs::read_to_string(&s.config).expect("config");
    assert!(saved.contains("{date}/{session}/{seq}-{name}"), "{saved}");
    assert!(s.config.with_file_name("desktop.json").exists());
    let form = invoke(&s.window, "settings", json!({})).expect("settings");
    assert_eq!(form["prefs"]["muted"], json!(["upload_finished"]));
    // The engine came back on the new settings.
    let snap = invoke(&s.window, "snapshot", json!({})).expect("snapshot");
    assert_eq!(snap["problem"], Value::Null, "{snap}");
    tauri::async_runtime::block_on(s.shell.stop());
}

#[test]
fn the_naming_example_shows_a_sample_or_why_the_template_is_wrong() {
    let s = studio();
    let ok = invoke(
        &s.window,
        "naming_example",
        json!({ "template": "{session}/{camera}-{seq}.{ext}" }),
    )
    .expect("example");
    assert_eq!(ok, "smith-wedding/NIKON D750-0001.NEF");
    let bad = invoke(
        &s.window,
        "naming_example",
        json!({ "template": "{session}/{bogus}" }),
    )
    .expect_err("refused");
    assert!(bad.as_str().is_some_and(|m| m.contains("bogus")), "{bad}");
    tauri::async_runtime::block_on(s.shell.stop());
}

#[test]
fn only_the_main_window_may_call_the_commands() {
    let s = studio();
    let other = WebviewWindowBuilder::new(&s._app, "other", Default::default())
        .build()
        .expect("window");
    let refused = invoke(&other, "snapshot", json!({})).expect_err("refused");
    assert!(
        refused.as_str().is_some_and(|m| m.contains("not allowed")),
        "{refused}"
    );
    let unknown = invoke(
        &s.window,
        "plugin:fs|read_file",
        json!({ "path": "/etc/passwd" }),
    );
    assert!(unknown.is_err(), "{unknown:?}");
    tauri::async_runtime::block_on(s.shell.stop());
}
