//! Tauri's build step: the root `tauri.conf.json`, and the app's commands, each of which
//! the window's capability must allow by name.

fn main() {
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
            "open_library",
            "open_dashboard",
            "transfer_report",
            "sessions",
            "switch_session",
            "share_session",
            "shares",
            "revoke_share",
        ]),
    ))
    .expect("tauri build step");
}
