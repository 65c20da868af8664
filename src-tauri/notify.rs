//! From the engine's events to the window, the tray and native notifications: every event
//! goes to the window; the tray follows the health they fold into; critical alerts and
//! the batched "N photos uploaded" and "3 new comments from Ana" become native
//! notifications unless muted; a relay that
//! stays unreachable longer than the set time is one critical notification.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shotline_protocol::{Event, Level};
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::broadcast::error::RecvError;

use crate::shell::Shell;
use crate::tray;

/// The event the window listens to.
pub const ENGINE_EVENT: &str = "engine-event";

/// The category of the engine's batched upload notification.
const UPLOADS_DONE: &str = "upload_finished";

/// The category of the engine's batched "new comments" notification.
const GALLERY_COMMENTS: &str = shotline_engine::share::comments::COMMENTS;

/// Whether a notification is shown natively: critical ones, finished uploads and new
/// gallery comments.
pub fn is_native(level: Level, category: &str) -> bool {
    level == Level::Critical || category == UPLOADS_DONE || category == GALLERY_COMMENTS
}

/// Forward the engine's events until the app ends.
pub fn spawn<R: Runtime>(app: AppHandle<R>, shell: Arc<Shell>) {
    let mut events = shell.bus().subscribe();
    let forward_app = app.clone();
    let forward_shell = shell.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            };
            let _ = forward_app.emit(ENGINE_EVENT, &event);
            let changed = forward_shell
                .health
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .apply(&event);
            if changed {
                tray::refresh(&forward_app);
            }
            if let Event::Notification(n) = &event {
                let shown = forward_shell
                    .prefs
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .shows(&n.category);
                if shown && is_native(n.level, &n.category) {
                    show(&forward_app, &n.title, &n.message);
                }
            }
        }
    });
    tauri::async_runtime::spawn(watch_relay(app, shell));
}

/// Whether the notification server reads markup: the freedesktop servers do (Linux, the
/// BSDs); macOS shows text as it is, and Windows' toasts escape it themselves.
const SERVER_READS_MARKUP: bool = cfg!(all(unix, not(target_os = "macos")));

/// A native notification now.
pub fn show<R: Runtime>(app: &AppHandle<R>, title: &str, body: &str) {
    use tauri_plugin_notification::NotificationExt;
    let (title, body) = (
        literal(title, SERVER_READS_MARKUP),
        literal(body, SERVER_READS_MARKUP),
    );
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!("notification not shown: {e}");
    }
}

/// `text` for a native notification to show as it is written. Guests' names and comments
/// reach notifications ("A new comment from <b>Studio</b>"), and freedesktop servers read
/// a notification's body, some its summary too, as markup: with `markup`, `&`, `<`, `>`
/// and quotes are escaped (the entities those servers all know), so a tag, link or image
/// is shown as typed. Control characters (line breaks and tabs kept) and bidirectional
/// overrides go, as the relay takes them out of what guests send. Only the notification
/// is escaped: the event keeps the text as given, for the windows that show it as text.
fn literal(text: &str, markup: bool) -> String {
    let steering = |c: char| {
        (c.is_control() && !matches!(c, '\n' | '\t'))
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    let mut shown = String::with_capacity(text.len());
    for c in text.chars().filter(|c| !steering(*c)) {
        match c {
            '&' if markup => shown.push_str("&amp;"),
            '<' if markup => shown.push_str("&lt;"),
            '>' if markup => shown.push_str("&gt;"),
            '"' if markup => shown.push_str("&quot;"),
            '\'' if markup => shown.push_str("&apos;"),
            c => shown.push(c),
        }
    }
    shown
}

/// Watch the relay client; tell once when it has been down longer than the set time.
async fn watch_relay<R: Runtime>(app: AppHandle<R>, shell: Arc<Shell>) {
    let mut down_since: Option<Instant> = None;
    let mut told = false;
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let state = match shell.relay_status().await {
            Some(rx) => rx.borrow().state,
            None => continue,
        };
        let minutes = shell
            .prefs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .relay_alert_minutes
            .max(1);
        if state == "connected" {
            if told {
                shell
                    .health
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .set_relay_down(false);
                tray::refresh(&app);
            }
            down_since = None;
            told = false;
            continue;
        }
        let since = *down_since.get_or_insert_with(Instant::now);
        if !told && since.elapsed() >= Duration::from_secs(u64::from(minutes) * 60) {
            told = true;
            shell
                .health
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .set_relay_down(true);
            tray::refresh(&app);
            shell.bus().notify(
                Level::Critical,
                "relay_unreachable",
                "The relay is unreachable",
                format!("For {minutes} minutes now. Events wait in the journal; dashboards catch up when it is back."),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shotline_engine::journal::Answer;
    use shotline_engine::share::comments;

    #[test]
    fn guests_markup_is_shown_as_typed_in_native_notifications() {
        let comment = Answer {
            share: "s".into(),
            id: "1".into(),
            seq: 1,
            ts_ms: 0,
            sub: "guest:1".into(),
            name: Some("<b>Studio</b> & \u{202E}Co".into()),
            shot_id: 1,
            frame_name: String::new(),
            kind: "comment".into(),
            value:
                "<a href=\"https://x.example\">here</a> <img src='https://x.example/p.png'>\u{7}"
                    .into(),
        };
        let n = comments::notification(&[comment]);
        assert_eq!(
            literal(&n.title, true),
            "A new comment from &lt;b&gt;Studio&lt;/b&gt; &amp; Co"
        );
        assert_eq!(
            literal(&n.message, true),
            "&lt;b&gt;Studio&lt;/b&gt; &amp; Co: \u{201c}&lt;a href=&quot;https://x.example&quot;&gt;\
             here&lt;/a&gt; &lt;img src=&apos;https://x.example/p.png&apos;&gt;\u{201d}"
        );
        // Where nothing reads markup the text stays as typed; the event, which the windows
        // show as text and the journal keeps, is left as the guest wrote it.
        assert_eq!(
            literal(&n.title, false),
            "A new comment from <b>Studio</b> & Co"
        );
        assert_eq!(n.title, "A new comment from <b>Studio</b> & \u{202E}Co");
    }
}
