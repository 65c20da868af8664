//! `shotline shotlist load FILE`, `shotline shotlist status [--format text|csv|json]`,
//! `shotline shot next CODE` and `shotline shot clear`: a session's shot list, kept in the
//! library's journal, which the running engine reads as each frame arrives.

use std::path::Path;
use std::process::ExitCode;

use shotline_engine::Config;
use shotline_engine::engine::default_session;
use shotline_engine::journal::Journal;

/// The journal, and the session meant: `--session`, else the one `shotline run` shoots
/// (or last shot), else today's.
fn open(config: &Config, session: Option<String>) -> anyhow::Result<(Journal, String)> {
    let path = Journal::path_for(&config.library.path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let journal = Journal::open(&path)?;
    let session = match session {
        Some(s) => shotline_engine::session::check(&s)?,
        None => journal.meta("session")?.unwrap_or_else(default_session),
    };
    Ok((journal, session))
}

/// `shotline shotlist load FILE [--session NAME]`.
pub fn load(config: &Config, file: &Path, session: Option<String>) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let items = shotline_engine::shotlist::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let (journal, session) = open(config, session)?;
    journal.load_shotlist(&session, &items)?;
    let views: usize = items.iter().map(|i| i.views.len()).sum();
    println!(
        "session {session}: {} items, {views} views to shoot; scan an item's code (shotline shot next CODE) to start it",
        items.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `shotline shot next CODE [--session NAME]` (`None`: `shotline shot clear`).
pub fn next(
    config: &Config,
    code: Option<&str>,
    session: Option<String>,
) -> anyhow::Result<ExitCode> {
    let (journal, session) = open(config, session)?;
    let code = code.map(str::trim);
    if !journal.choose_item(&session, code)? {
        eprintln!(
            "error: {:?} is not on session {session}'s shot list; nothing changed (shotline shotlist status lists the codes)",
            code.unwrap_or_default()
        );
        return Ok(ExitCode::from(1));
    }
    let status = journal.shotlist_status(&session)?;
    match (code, status) {
        (Some(code), Some(status)) => {
            if let Some(p) = status.items.iter().find(|p| p.item.code == code) {
                println!(
                    "shooting {} ({}): {}",
                    p.item.code,
                    p.item.name,
                    if p.missing.is_empty() {
                        "every view is shot; more frames are extra".to_string()
                    } else {
                        format!(
                            "next view {}, missing {}",
                            p.missing[0],
                            p.missing.join(", ")
                        )
                    }
                );
            }
        }
        _ => println!("no item: the next frames are unsorted"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `shotline shotlist status [--session NAME] [--format text|csv|json]`.
pub fn status(config: &Config, session: Option<String>, format: &str) -> anyhow::Result<ExitCode> {
    let (journal, session) = open(config, session)?;
    let Some(status) = journal.shotlist_status(&session)? else {
        anyhow::bail!(
            "session {session} has no shot list: load one with `shotline shotlist load FILE`"
        );
    };
    match format {
        "csv" => print!("{}", status.csv()),
        "json" => println!("{}", serde_json::to_string_pretty(&status)?),
        "text" => {
            let (complete, incomplete) = status.counts();
            println!(
                "session {session}: {complete} items complete, {incomplete} incomplete, {} unsorted frames{}",
                status.unsorted,
                status
                    .current
                    .as_ref()
                    .map(|c| format!("; shooting {c}"))
                    .unwrap_or_default()
            );
            for p in &status.items {
                let state = if p.complete() { "complete" } else { "missing" };
                println!(
                    "{:<16} {:<24} {state:<9} {}{}",
                    p.item.code,
                    p.item.name,
                    if p.complete() {
                        p.shot.join(", ")
                    } else {
                        p.missing.join(", ")
                    },
                    if p.extra > 0 {
                        format!("  (+{} extra)", p.extra)
                    } else {
                        String::new()
                    }
                );
            }
        }
        other => anyhow::bail!("--format {other}: write text, csv or json"),
    }
    Ok(ExitCode::SUCCESS)
}
