//! The window's commands: a line or two over the shell each. The tray calls the same shell
//! methods.

use std::sync::Arc;

use tauri::{AppHandle, Runtime, State};

use crate::dto::{FieldError, Settings, Snapshot};
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
