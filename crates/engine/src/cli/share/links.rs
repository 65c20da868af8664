//! `shotline share create | list | revoke | export`: the live gallery's shares. A share is recorded
//! in the journal; the running `shotline run` makes its link on its relay and sends it
//! the session's frames, so `create` waits for the link and prints it last.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::json;
use shotline_engine::Config;
use shotline_engine::engine::default_session;
use shotline_engine::journal::{Journal, Share};

/// How long `create` waits for the running engine to make the link.
const LINK_WAIT: Duration = Duration::from_secs(30);
/// How long `revoke` waits for the running engine to tell the relay.
const CLOSE_WAIT: Duration = Duration::from_secs(15);

pub(super) fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// `shotline share create [--session NAME] [--ttl 7d] [--title TEXT]`.
pub fn create(
    config: &Config,
    session: Option<String>,
    ttl: &str,
    title: Option<&str>,
    settings: shotline_engine::share::Settings,
) -> anyhow::Result<ExitCode> {
    let ttl = humantime::parse_duration(ttl.trim())
        .ok()
        .filter(|d| *d >= Duration::from_secs(60))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--ttl {ttl:?} is not a duration of a minute or more: write e.g. 7d or 12h"
            )
        })?;
    if config.relay.url.is_none() && ttl > config.relay.token_ttl() {
        anyhow::bail!(
            "--ttl {} is longer than the embedded relay's tokens last ([relay] token_ttl = {}): shorten it, or raise token_ttl and restart `shotline run`",
            humantime::format_duration(ttl),
            humantime::format_duration(config.relay.token_ttl())
        );
    }
    if let Some(t) = title
        && t.chars().count() > 200
    {
        anyhow::bail!("--title is at most 200 characters");
    }
    let journal = crate::cli::running_journal(
        config,
        "it makes the share's link on its relay and sends the frames",
    )?;
    let session = match session {
        Some(s) if s.trim().is_empty() => anyhow::bail!("--session needs a name"),
        Some(s) => s,
        None => journal.meta("session")?.unwrap_or_else(default_session),
    };
    let share = shotline_engine::share::create(&journal, &session, title, ttl, settings)?;
    println!("{}", share.id);
    let start = Instant::now();
    loop {
        if let Some(link) = journal.share(&share.id)?.and_then(|s| s.link) {
            if let Some(note) = journal.meta("gallery_note")?.filter(|n| !n.is_empty()) {
                eprintln!("note: {note}");
            }
            println!("{link}");
            return Ok(ExitCode::SUCCESS);
        }
        let error = journal.meta(&format!("share_error:{}", share.id))?;
        if let Some(why) = error.as_deref().and_then(|e| e.strip_prefix("refused: ")) {
            eprintln!(
                "error: the relay refused share {} ({why}); it is closed. Check the relay token's channels and expiry (a share cannot outlast the token)",
                share.id
            );
            return Ok(ExitCode::from(1));
        }
        if start.elapsed() > LINK_WAIT {
            let why = error.unwrap_or_else(|| "is it connected to its relay? see its log".into());
            eprintln!(
                "error: share {} is recorded, but `shotline run` made no link within {} s ({why}); `shotline share list` shows the link once it is made",
                share.id,
                LINK_WAIT.as_secs()
            );
            return Ok(ExitCode::from(1));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(super) fn open_journal(config: &Config) -> anyhow::Result<Journal> {
    let path = Journal::path_for(&config.library.path);
    if !path.exists() {
        anyhow::bail!(
            "no journal at {}: `shotline run` has not used this library yet",
            path.display()
        );
    }
    Ok(Journal::open(&path)?)
}

fn share_json(journal: &Journal, share: &Share) -> anyhow::Result<serde_json::Value> {
    Ok(json!({
        "id": share.id,
        "session": share.session,
        "title": share.title,
        "state": share.state(),
        "frames": journal.share_frames(&share.id)?.len(),
        "created_ms": share.created_ms,
        "expires_ms": share.expires_ms,
        "revoked_ms": share.revoked_ms,
        "link": share.link,
        "pin": share.pin_hash.is_some(),
        "downloads": share.downloads,
        "choose": share.choose,
    }))
}

/// `shotline share list [--json]`.
pub fn list(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let journal = open_journal(config)?;
    let shares = journal.shares()?;
    if json {
        let list = shares
            .iter()
            .map(|s| share_json(&journal, s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    if shares.is_empty() {
        println!("no shares: `shotline share create` opens the current session to clients");
        return Ok(ExitCode::SUCCESS);
    }
    for share in &shares {
        let frames = journal.share_frames(&share.id)?.len();
        let title = share
            .title
            .as_deref()
            .map(|t| format!(" \"{t}\""))
            .unwrap_or_default();
        println!(
            "{}  {}{title}  {}  {frames} frames  until {}",
            share.id,
            share.session,
            share.state(),
            when(share.expires_ms)
        );
        match (&share.link, share.open()) {
            (Some(link), true) => println!("    {link}"),
            (None, true) => println!("    (the link is made by the running `shotline run`)"),
            _ => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `shotline share revoke ID`.
pub fn revoke(config: &Config, id: &str) -> anyhow::Result<ExitCode> {
    let journal = open_journal(config)?;
    if !journal.revoke_share(id)? {
        eprintln!("error: no share {id}: `shotline share list` shows them");
        return Ok(ExitCode::from(1));
    }
    let running = crate::cli::running_journal(config, "").is_ok();
    if running {
        let start = Instant::now();
        while start.elapsed() < CLOSE_WAIT {
            if journal.share(id)?.is_some_and(|s| s.registered) {
                println!(
                    "share {id} is closed: its open pages are cut off and its link answers 410"
                );
                return Ok(ExitCode::SUCCESS);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "warning: share {id} is revoked here, but the relay has not heard yet (is `shotline run` connected to it?); it is told as soon as it answers"
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "share {id} is revoked; `shotline run` is not running, so nobody can open it now, and the relay is told when it next starts"
    );
    Ok(ExitCode::SUCCESS)
}

/// `shotline share export ID [--format csv|json]`: every answer its guests gave, from the
/// journal (the studio's record), in the order the relay took them: time, guest, frame,
/// what they did.
pub fn export(config: &Config, id: &str, format: &str) -> anyhow::Result<ExitCode> {
    use shotline_engine::proof::report::csv_cell;
    let journal = open_journal(config)?;
    if journal.share(id)?.is_none() {
        eprintln!("error: no share {id}: `shotline share list` shows them");
        return Ok(ExitCode::from(1));
    }
    let answers = journal.answers(id)?;
    let iso = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    };
    if format == "json" {
        let list: Vec<_> = answers
            .iter()
            .map(|a| {
                json!({
                    "time": iso(a.ts_ms),
                    "ts_ms": a.ts_ms,
                    "guest": a.sub,
                    "name": a.name,
                    "frame": a.shot_id,
                    "file": a.frame_name,
                    "kind": a.kind,
                    "value": a.value,
                    "id": a.id,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"share": id, "answers": list}))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::from("time,guest,name,frame,file,kind,value\n");
    for a in &answers {
        let cells = [
            iso(a.ts_ms),
            a.sub.clone(),
            a.name.clone().unwrap_or_default(),
            a.shot_id.to_string(),
            a.frame_name.clone(),
            a.kind.clone(),
            a.value.clone(),
        ];
        let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
