//! The window's commands: a line or two over the shell each. The tray calls the same shell
//! methods.

use std::sync::Arc;

use tauri::{AppHandle, Runtime, State};

use crate::dto::{FieldError, SessionsView, Settings, ShareView, ShotlistView, Snapshot};
use crate::settings::naming_example as example;
use crate::shell::Shell;
use crate::tray;

type Shared<'a> = State<'a, Arc<Shell>>;

/// Everything the window shows.
#[tauri::command]
pub async fn snapshot(shell: Shared<'_>) -> Result<Snapshot, String> {
    Ok(shell.snapshot().await)
}

/// Pause or resume backups and uploads.
#[tauri::command]
pub async fn set_paused<R: Runtime>(
    app: AppHandle<R>,
    shell: Shared<'_>,
    paused: bool,
) -> Result<(), String> {
    shell.set_paused(paused).await;
    tray::refresh(&app);
    Ok(())
}

/// A frame's preview as a `data:` URL.
#[tauri::command]
pub async fn thumbnail(shell: Shared<'_>, shot_id: i64) -> Result<Option<String>, String> {
    Ok(shell.thumbnail(shot_id).await)
}

/// Open a frame's preview (or the frame) in the system's viewer; the file opened.
#[tauri::command]
pub async fn open_frame<R: Runtime>(
    app: AppHandle<R>,
    shell: Shared<'_>,
    shot_id: i64,
) -> Result<String, String> {
    let path = shell.frame_file(shot_id).await?;
    tray::open_file(&app, &path)?;
    Ok(path.display().to_string())
}

/// Settings as they are.
#[tauri::command]
pub fn settings(shell: Shared<'_>) -> Settings {
    shell.settings()
}

/// What a naming template makes of a sample frame.
#[tauri::command]
pub fn naming_example(template: String) -> Result<String, String> {
    example(&template, "smith-wedding")
}

/// Check and save Settings, then restart the engine on them.
#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    shell: Shared<'_>,
    settings: Settings,
) -> Result<(), Vec<FieldError>> {
    shell.save_settings(&settings)?;
    crate::autostart(&app, settings.prefs.autostart);
    shell.restart().await;
    tray::refresh(&app);
    Ok(())
}

/// Fire the first connected camera; the names of its frames.
#[tauri::command]
pub async fn capture(shell: Shared<'_>) -> Result<String, String> {
    shell.capture().await
}

/// Set one of a camera's key settings (`iso`, `shutterspeed`, `aperture`, `whitebalance`,
/// `imageformat`) to one of the values it takes; the value the camera reads back.
#[tauri::command]
pub async fn camera_set(
    shell: Shared<'_>,
    port: String,
    name: String,
    value: String,
) -> Result<String, String> {
    shell.camera_set(port, name, value).await
}

/// The next live view picture after `after`, as raw bytes: its number (8 bytes,
/// big-endian), then the JPEG; empty when none came within 2 s. Asking counts the window
/// as watching, so live view runs while the panel is open.
#[tauri::command]
pub async fn live_frame(shell: Shared<'_>, after: u64) -> Result<tauri::ipc::Response, String> {
    Ok(tauri::ipc::Response::new(
        crate::liveview::next_picture(&shell, after).await?,
    ))
}

/// The window closed its live view panel.
#[tauri::command]
pub async fn live_stop(shell: Shared<'_>) -> Result<(), String> {
    crate::liveview::stop(&shell).await;
    Ok(())
}

/// Drive the focus (`near 1`…`far 3`, `auto`); the camera's answer.
#[tauri::command]
pub async fn camera_focus(
    shell: Shared<'_>,
    port: Option<String>,
    drive: String,
) -> Result<String, String> {
    shell.camera_focus(port, &drive).await
}

/// The current session's layout overlay, if it has one (read off the main thread).
#[tauri::command]
pub async fn overlay(shell: Shared<'_>) -> Result<Option<crate::liveview::Overlay>, String> {
    let (file, session) = (shell.config_file().to_path_buf(), shell.session());
    tokio::task::spawn_blocking(move || crate::liveview::overlay(&file, &session))
        .await
        .map_err(|e| e.to_string())?
}

/// Set or clear (no path) the current session's layout overlay.
#[tauri::command]
pub async fn set_overlay(
    shell: Shared<'_>,
    path: Option<String>,
    opacity: f64,
) -> Result<Option<crate::liveview::Overlay>, String> {
    let (file, session) = (shell.config_file().to_path_buf(), shell.session());
    tokio::task::spawn_blocking(move || {
        crate::liveview::set_overlay(&file, &session, path, opacity)
    })
    .await
    .map_err(|e| e.to_string())?
}

/// A new opacity for the current session's layout overlay.
#[tauri::command]
pub async fn set_overlay_opacity(shell: Shared<'_>, opacity: f64) -> Result<(), String> {
    crate::liveview::set_opacity(shell.config_file(), &shell.session(), opacity)
}

/// Open the library folder in the file manager.
#[tauri::command]
pub fn open_library<R: Runtime>(app: AppHandle<R>) -> Result<(), String> {
    tray::open_library(&app)
}

/// Open the live dashboard in the browser.
#[tauri::command]
pub fn open_dashboard<R: Runtime>(app: AppHandle<R>) -> Result<(), String> {
    tray::open_dashboard(&app)
}

/// Write the current session's transfer report (PDF) and open it.
#[tauri::command]
pub async fn transfer_report<R: Runtime>(
    app: AppHandle<R>,
    shell: Shared<'_>,
) -> Result<String, String> {
    let path = shell.transfer_report().await?;
    tray::open_file(&app, &path)?;
    Ok(path.display().to_string())
}

/// The current session and the earlier ones.
#[tauri::command]
pub async fn sessions(shell: Shared<'_>) -> Result<SessionsView, String> {
    Ok(crate::sessions::list(&shell).await)
}

/// Shoot in session `name` from now on (new, or an earlier one).
#[tauri::command]
pub async fn switch_session<R: Runtime>(
    app: AppHandle<R>,
    shell: Shared<'_>,
    name: String,
) -> Result<SessionsView, String> {
    let view = crate::sessions::switch(&shell, &name).await?;
    tray::refresh(&app);
    Ok(view)
}

/// Share the current session: its link and QR code.
#[tauri::command]
pub async fn share_session(shell: Shared<'_>) -> Result<ShareView, String> {
    crate::sessions::share(&shell).await
}

/// The current session's open shares.
#[tauri::command]
pub async fn shares(shell: Shared<'_>) -> Result<Vec<ShareView>, String> {
    crate::sessions::shares(&shell).await
}

/// Change a share's proofing settings (PIN, watermark, downloads, choose N).
#[tauri::command]
pub async fn share_settings(
    shell: Shared<'_>,
    id: String,
    settings: crate::proofing::Settings,
) -> Result<(), String> {
    crate::proofing::apply(&shell, id, settings).await
}

/// Keep a share open `days` longer.
#[tauri::command]
pub async fn extend_share(shell: Shared<'_>, id: String, days: u32) -> Result<(), String> {
    crate::proofing::extend(&shell, id, days).await
}

/// Let a guest change their sent selection.
#[tauri::command]
pub async fn unlock_selection(shell: Shared<'_>, id: String, guest: String) -> Result<(), String> {
    crate::proofing::unlock(&shell, id, guest).await
}

/// Close a share.
#[tauri::command]
pub async fn revoke_share(shell: Shared<'_>, id: String) -> Result<(), String> {
    crate::sessions::revoke(&shell, &id).await
}

/// The current session's shot list.
#[tauri::command]
pub async fn shotlist(shell: Shared<'_>) -> Result<ShotlistView, String> {
    crate::shotlist::list(&shell).await
}

/// The next frames are item `code`'s (a scanned barcode); empty: no item.
#[tauri::command]
pub async fn shot_next(shell: Shared<'_>, code: String) -> Result<ShotlistView, String> {
    crate::shotlist::next(&shell, &code).await
}

/// Load a shot list CSV for the current session.
#[tauri::command]
pub async fn load_shotlist(shell: Shared<'_>, path: String) -> Result<ShotlistView, String> {
    crate::shotlist::load(&shell, &path).await
}

/// The current session's own metadata (client, job, keywords, …) for its frames' sidecars.
#[tauri::command]
pub async fn set_session_meta(
    shell: Shared<'_>,
    pairs: Vec<(String, String)>,
) -> Result<(), String> {
    crate::sessions::set_meta(&shell, pairs).await
}
