//! The window's shot list panel: the current session's items, the one being shot with
//! its views ticked, and the field a USB barcode scanner types into (the code and Enter)
//! to move to an item; an unknown code is shown and nothing changes. Loading a list
//! (`shotline shotlist load`'s CSV) from a file the studio picks.

use crate::dto::{ShotlistItemView, ShotlistView};
use crate::shell::Shell;

fn view(session: String, status: Option<shotline_engine::shotlist::Status>) -> ShotlistView {
    let Some(status) = status else {
        return ShotlistView {
            session,
            current: None,
            items: Vec::new(),
            unsorted: 0,
        };
    };
    ShotlistView {
        session,
        current: status.current,
        unsorted: status.unsorted,
        items: status
            .items
            .into_iter()
            .map(|p| ShotlistItemView {
                code: p.item.code,
                name: p.item.name,
                views: p.item.views,
                shot: p.shot,
                missing: p.missing,
                extra: p.extra,
            })
            .collect(),
    }
}

/// Run `f` on the running engine's journal and the current session, off the async thread.
async fn with_journal<T: Send + 'static>(
    shell: &Shell,
    f: impl FnOnce(&shotline_engine::journal::Journal, &str) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (journal, _) = shell.journal().await.ok_or("the engine is not running")?;
    let session = shell.session();
    tokio::task::spawn_blocking(move || f(&journal, &session))
        .await
        .map_err(|e| e.to_string())?
}

/// The current session's shot list.
pub async fn list(shell: &Shell) -> Result<ShotlistView, String> {
    with_journal(shell, |journal, session| {
        let status = journal
            .shotlist_status(session)
            .map_err(|e| e.to_string())?;
        Ok(view(session.to_string(), status))
    })
    .await
}

/// The next frames are item `code`'s (empty: no item); an unknown code changes nothing.
pub async fn next(shell: &Shell, code: &str) -> Result<ShotlistView, String> {
    let code = code.trim().to_string();
    with_journal(shell, move |journal, session| {
        let chosen = (!code.is_empty()).then_some(code.as_str());
        if !journal
            .choose_item(session, chosen)
            .map_err(|e| e.to_string())?
        {
            return Err(format!(
                "{code} is not on this session's shot list: nothing changed"
            ));
        }
        let status = journal
            .shotlist_status(session)
            .map_err(|e| e.to_string())?;
        Ok(view(session.to_string(), status))
    })
    .await
}

/// Load the CSV at `path` as the current session's shot list.
pub async fn load(shell: &Shell, path: &str) -> Result<ShotlistView, String> {
    let path = path.to_string();
    with_journal(shell, move |journal, session| {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        let items = shotline_engine::shotlist::parse(&text).map_err(|e| format!("{path}: {e}"))?;
        journal
            .load_shotlist(session, &items)
            .map_err(|e| e.to_string())?;
        let status = journal
            .shotlist_status(session)
            .map_err(|e| e.to_string())?;
        Ok(view(session.to_string(), status))
    })
    .await
}
