//! The window: made when asked for, destroyed when closed (its WebView with it), so a day
//! in the tray costs little.

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

/// The window's label; the capability names it.
pub const MAIN: &str = "main";

/// Show the window, making it if it is not there.
pub fn show<R: Runtime>(app: &AppHandle<R>) {
    open(app, None);
}

/// Show the window on one of its dialogs: `new-session` or `share`.
pub fn show_at<R: Runtime>(app: &AppHandle<R>, dialog: &'static str) {
    open(app, Some(dialog));
}

fn open<R: Runtime>(app: &AppHandle<R>, dialog: Option<&'static str>) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        if let Some(dialog) = dialog {
            // The page opens the dialog its fragment names.
            let _ = window.eval(format!("window.location.hash = '{dialog}'"));
        }
        return;
    }
    if let Err(e) = crate::webkit::load() {
        tracing::error!("cannot open the window: {e}");
        return;
    }
    let page = match dialog {
        Some(dialog) => format!("index.html#{dialog}"),
        None => "index.html".to_string(),
    };
    let built = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App(page.into()))
        .title("Shotline")
        .inner_size(960.0, 680.0)
        .min_inner_size(640.0, 420.0)
        .build();
    if let Err(e) = built {
        tracing::error!("cannot open the window: {e}");
    }
}
