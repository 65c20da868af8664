//! Shotline's desktop app: the engine in-process, a tray icon that tells how things are,
//! a small window, native notifications. The shell is thin; the engine does the work.
//!
//! - [`shell`]: the engine's lifecycle and every call the window and tray make.
//! - [`sessions`]: the session being shot, "New session…", and "Share session…".
//! - [`shotlist`]: the shot list panel: items, views, the barcode field.
//! - [`liveview`]: the live view panel: pictures, focus, the layout overlay.
//! - [`view`]: the window's view model, from the engine's snapshot.
//! - [`settings`]: the Settings form, checked by the config's rules and saved.
//! - [`commands`]: the window's commands, one line or two over the shell.
//! - [`tray`]: icon per state, tooltip, menu with typed ids.
//! - [`window`]: made on demand, destroyed on close.
//! - [`webkit`]: WebKit loaded when the window is first made, not at start.
//! - [`notify`]: events to the window, the tray and native notifications.
//! - [`health`]: the tray's state, folded from events (pure, tested without a window).
//! - [`dto`]: the window's types, with generated TypeScript bindings.
//! - [`prefs`] and [`secrets`]: the app's preferences, and secrets in the OS keychain.

pub mod commands;
pub mod dto;
pub mod health;
pub mod liveview;
pub mod notify;
pub mod prefs;
pub mod proofing;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod shell;
pub mod shotlist;
pub mod tray;
pub mod view;
pub mod webkit;
pub mod window;

use std::sync::Arc;

use tauri::{Manager, RunEvent, Runtime};

pub use shell::Shell;

/// The app's state and commands on `base` (no plugins, no tray), generic over the runtime
/// so `tauri::test` can drive it with its mock builder.
pub fn builder<R: Runtime>(base: tauri::Builder<R>, shell: Arc<Shell>) -> tauri::Builder<R> {
    base.manage(shell).invoke_handler(tauri::generate_handler![
        commands::snapshot,
        commands::set_paused,
        commands::thumbnail,
        commands::open_frame,
        commands::settings,
        commands::naming_example,
        commands::save_settings,
        commands::capture,
        commands::camera_set,
        commands::live_frame,
        commands::live_stop,
        commands::camera_focus,
        commands::overlay,
        commands::set_overlay,
        commands::set_overlay_opacity,
        commands::open_library,
        commands::open_dashboard,
        commands::transfer_report,
        commands::sessions,
        commands::switch_session,
        commands::share_session,
        commands::shares,
        commands::revoke_share,
        commands::share_settings,
        commands::extend_share,
        commands::unlock_selection,
        commands::shotlist,
        commands::shot_next,
        commands::load_shotlist,
        commands::set_session_meta,
    ])
}

/// Turn starting with the computer on or off (when the autostart plugin is there).
pub fn autostart<R: Runtime>(app: &tauri::AppHandle<R>, on: bool) {
    use tauri_plugin_autostart::ManagerExt;
    if app
        .try_state::<tauri_plugin_autostart::AutoLaunchManager>()
        .is_none()
    {
        return;
    }
    let manager = app.autolaunch();
    let result = if on {
        manager.enable()
    } else {
        manager.disable()
    };
    if let Err(e) = result {
        tracing::warn!("start with the computer: {e}");
    }
}

/// Log to a file rolled daily in the platform's log folder (and to stderr); the guard
/// must live as long as the app.
fn logging(dir: Option<std::path::PathBuf>) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::prelude::*;
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env(shotline_protocol::env::LOG)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter());
    let (file, guard) = match dir {
        Some(dir) if std::fs::create_dir_all(&dir).is_ok() => {
            let (writer, guard) = tracing_appender::non_blocking(tracing_appender::rolling::daily(
                dir,
                "shotline-desktop.log",
            ));
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter());
            (Some(layer), Some(guard))
        }
        _ => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
    guard
}

/// GTK 3 picks its X11 visuals with OpenGL when it opens the display: that loads the GL
/// driver (Mesa's with all of LLVM where there is no GPU driver) into a tray app that
/// draws nothing with GL. `GDK_GL=disable` skips it: measured on the release build under
/// Xvfb, tray only, 30 s after start, 151 MB RSS (121 MB PSS) became 99 MB (88 MB PSS).
/// The window's WebView draws in WebKit's own process; the desktop tests' window renders
/// as before. A `GDK_GL` the user set is kept (`GDK_GL=always` brings GTK's GL back).
#[allow(unsafe_code)]
fn skip_gdk_gl() {
    if cfg!(target_os = "linux") && std::env::var_os("GDK_GL").is_none() {
        // SAFETY: called first thing in `run`, before this process starts any thread,
        // so nothing reads the environment while it changes.
        unsafe { std::env::set_var("GDK_GL", "disable") };
    }
}

/// Run the app until Quit.
pub fn run() {
    skip_gdk_gl();
    let shell = Arc::new(Shell::new());
    let minimized = std::env::args().any(|a| a == "--minimized");
    let setup_shell = shell.clone();
    let app = builder(tauri::Builder::<tauri::Wry>::new(), shell)
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            window::show(app);
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--minimized"]),
        ))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .setup(move |app| {
            let guard = logging(app.path().app_log_dir().ok());
            app.manage(LogGuard(guard));
            tray::create(app.handle())?;
            notify::spawn(app.handle().clone(), setup_shell.clone());
            let handle = app.handle().clone();
            let shell = setup_shell.clone();
            tauri::async_runtime::spawn(async move {
                shell.start().await;
                tray::refresh(&handle);
            });
            if !minimized {
                window::show(app.handle());
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("shotline-desktop: {e}");
            std::process::exit(1);
        }
    };
    app.run(|_app, event| {
        // Closing the last window leaves the tray; only Quit ends the app.
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
}

/// Keeps the log writer flushing until the app ends.
struct LogGuard(#[allow(dead_code)] Option<tracing_appender::non_blocking::WorkerGuard>);
