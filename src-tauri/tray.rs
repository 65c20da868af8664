//! The tray: an icon per state (idle, working, attention, error), the summary as tooltip,
//! and a menu with typed ids: status line, the current session, New session…, Share
//! session…, Pause / Resume, Open library folder, Open dashboard, Show window, Quit.

use std::sync::Arc;

use tauri::image::Image;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::health::TrayState;
use crate::shell::Shell;
use crate::window;

const TRAY: &str = "shotline";

/// The menu's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuId {
    /// The status line (not clickable).
    Status,
    /// The current session (not clickable).
    Session,
    /// Start a new session (the window asks its name).
    NewSession,
    /// Share the current session (the window shows the link and QR code).
    ShareSession,
    /// Fire the shutter of the tethered camera.
    Capture,
    /// Pause or resume backups and uploads.
    Pause,
    /// Open the library folder.
    OpenLibrary,
    /// Open the live dashboard.
    OpenDashboard,
    /// Show the window.
    ShowWindow,
    /// Quit Shotline.
    Quit,
}

impl MenuId {
    const ALL: [MenuId; 10] = [
        Self::Status,
        Self::Session,
        Self::NewSession,
        Self::ShareSession,
        Self::Capture,
        Self::Pause,
        Self::OpenLibrary,
        Self::OpenDashboard,
        Self::ShowWindow,
        Self::Quit,
    ];

    /// The id in the menu.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Session => "session",
            Self::NewSession => "new-session",
            Self::ShareSession => "share-session",
            Self::Capture => "capture",
            Self::Pause => "pause",
            Self::OpenLibrary => "open-library",
            Self::OpenDashboard => "open-dashboard",
            Self::ShowWindow => "show-window",
            Self::Quit => "quit",
        }
    }

    /// The item with this id.
    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == id)
    }
}

/// The items whose text changes.
struct Items<R: Runtime> {
    status: MenuItem<R>,
    session: MenuItem<R>,
    pause: MenuItem<R>,
}

fn icon(state: TrayState) -> Option<Image<'static>> {
    let bytes: &'static [u8] = match state {
        TrayState::Idle => include_bytes!("../icons/tray-idle.png"),
        TrayState::Working => include_bytes!("../icons/tray-working.png"),
        TrayState::Attention => include_bytes!("../icons/tray-attention.png"),
        TrayState::Error => include_bytes!("../icons/tray-error.png"),
    };
    Image::from_bytes(bytes).ok()
}

/// Put the tray icon up.
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let item = |id: MenuId, text: &str, enabled: bool| {
        MenuItem::with_id(app, id.as_str(), text, enabled, None::<&str>)
    };
    let status = item(MenuId::Status, "Starting…", false)?;
    let session = item(MenuId::Session, "Session", false)?;
    let pause = item(MenuId::Pause, "Pause backups and uploads", true)?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &session,
            &item(MenuId::NewSession, "New session…", true)?,
            &item(MenuId::ShareSession, "Share session…", true)?,
            &PredefinedMenuItem::separator(app)?,
            &item(MenuId::Capture, "Capture", true)?,
            &pause,
            &item(MenuId::OpenLibrary, "Open library folder", true)?,
            &item(MenuId::OpenDashboard, "Open dashboard", true)?,
            &item(MenuId::ShowWindow, "Show window", true)?,
            &PredefinedMenuItem::separator(app)?,
            &item(MenuId::Quit, "Quit Shotline", true)?,
        ],
    )?;
    app.manage(Items {
        status,
        session,
        pause,
    });
    app.manage(Shown::default());
    let mut builder = TrayIconBuilder::with_id(TRAY)
        .tooltip("Shotline")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event: MenuEvent| {
            if let Some(id) = MenuId::parse(event.id().as_ref()) {
                on_menu(app, id);
            }
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                window::show(tray.app_handle());
            }
        });
    if let Some(image) = icon(TrayState::Idle) {
        builder = builder.icon(image);
    }
    builder.build(app)?;
    Ok(())
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, id: MenuId) {
    let shell = app.state::<Arc<Shell>>().inner().clone();
    let app = app.clone();
    match id {
        MenuId::Status | MenuId::Session => {}
        MenuId::NewSession => window::show_at(&app, "new-session"),
        MenuId::ShareSession => window::show_at(&app, "share"),
        MenuId::Capture => {
            tauri::async_runtime::spawn(async move {
                // A refused shot (no camera, busy, card full) is said where it was asked.
                if let Err(e) = shell.capture().await {
                    tracing::warn!("capture from the tray: {e}");
                    crate::notify::show(&app, "Capture refused", &e);
                }
            });
        }
        MenuId::Pause => {
            tauri::async_runtime::spawn(async move {
                let paused = shell.paused().await;
                shell.set_paused(!paused).await;
                refresh(&app);
            });
        }
        MenuId::OpenLibrary => report(open_library(&app)),
        MenuId::OpenDashboard => report(open_dashboard(&app)),
        MenuId::ShowWindow => window::show(&app),
        MenuId::Quit => {
            tauri::async_runtime::spawn(async move {
                shell.stop().await;
                app.exit(0);
            });
        }
    }
}

fn report(result: Result<(), String>) {
    if let Err(e) = result {
        tracing::warn!("{e}");
    }
}

/// The state the tray shows now.
#[derive(Default)]
struct Shown(std::sync::Mutex<Option<TrayState>>);

/// Bring icon, tooltip and menu up to date with the shell's health.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let shell = app.state::<Arc<Shell>>().inner().clone();
    let (state, summary) = {
        let h = shell.health.lock().unwrap_or_else(|p| p.into_inner());
        (h.state(), h.summary())
    };
    if let Some(shown) = app.try_state::<Shown>() {
        let mut shown = shown.0.lock().unwrap_or_else(|p| p.into_inner());
        if *shown != Some(state) {
            tracing::info!("tray: {} ({summary})", state.icon());
            *shown = Some(state);
        }
    }
    if let Some(tray) = app.tray_by_id(TRAY) {
        let _ = tray.set_icon(icon(state));
        let _ = tray.set_tooltip(Some(format!("Shotline: {summary}")));
    }
    if let Some(items) = app.try_state::<Items<R>>() {
        let _ = items.status.set_text(&summary);
        let _ = items
            .session
            .set_text(format!("Session: {}", shell.session()));
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let paused = shell.paused().await;
            if let Some(items) = app.try_state::<Items<R>>() {
                let _ = items.pause.set_text(if paused {
                    "Resume backups and uploads"
                } else {
                    "Pause backups and uploads"
                });
            }
        });
    }
}

/// Open the library folder in the file manager.
pub fn open_library<R: Runtime>(app: &AppHandle<R>) -> Result<(), String> {
    use tauri_plugin_opener::OpenerExt;
    let library = app
        .state::<Arc<Shell>>()
        .library()
        .ok_or("the engine is not running")?;
    app.opener()
        .open_path(library.to_string_lossy(), None::<&str>)
        .map_err(|e| e.to_string())
}

/// Open a file with the program the desktop uses for it.
pub fn open_file<R: Runtime>(app: &AppHandle<R>, path: &std::path::Path) -> Result<(), String> {
    use tauri_plugin_opener::OpenerExt;
    app.opener()
        .open_path(path.to_string_lossy(), None::<&str>)
        .map_err(|e| e.to_string())
}

/// Open the live dashboard in the browser.
pub fn open_dashboard<R: Runtime>(app: &AppHandle<R>) -> Result<(), String> {
    use tauri_plugin_opener::OpenerExt;
    let url = app
        .state::<Arc<Shell>>()
        .dashboard()
        .ok_or("no embedded relay: open your relay's dashboard")?;
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| e.to_string())
}
