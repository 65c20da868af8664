//! Tauri's build step: the root `tauri.conf.json`, and the app's commands, each of which
//! the window's capability must allow by name. On Linux, also the version of the WebKitGTK
//! built against, which the app reports until it has loaded WebKit (`src-tauri/webkit.rs`).

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux") {
        let version = std::process::Command::new("pkg-config")
            .args(["--modversion", "webkit2gtk-4.1"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        for name in ["MAJOR", "MINOR", "MICRO"] {
            let part = parts.next().unwrap_or(0);
            println!("cargo:rustc-env=SHOTLINE_WEBKIT_{name}={part}");
        }
    }
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "snapshot",
            "set_paused",
            "thumbnail",
            "open_frame",
            "settings",
            "naming_example",
            "save_settings",
            "capture",
            "camera_set",
            "live_frame",
            "live_stop",
            "camera_focus",
            "overlay",
            "set_overlay",
            "set_overlay_opacity",
            "open_library",
            "open_dashboard",
            "transfer_report",
            "sessions",
            "switch_session",
            "share_session",
            "shares",
            "revoke_share",
            "share_settings",
            "extend_share",
            "unlock_selection",
            "shotlist",
            "shot_next",
            "load_shotlist",
            "set_session_meta",
        ]),
    ))
    .expect("tauri build step");
}
