//! `shotline share set | picks | unlock | activity`: a share's proofing settings changed
//! after it was made, the selections its guests sent, unlocking one, and who did what.

use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;
use shotline_engine::Config;
use shotline_engine::journal::{Journal, ShareChange, now_ms};
use shotline_engine::proof::report::csv_cell;

use super::Settings;
use super::links::{open_journal, when};

fn no_share(id: &str) -> anyhow::Result<ExitCode> {
    eprintln!("error: no share {id}: `shotline share list` shows them");
    Ok(ExitCode::from(1))
}

/// `shotline share set ID [--pin P | --no-pin] [--downloads D] [--choose N | --no-choose]
/// [--live on|off] [--live-overlay PNG | --no-live-overlay] [--extend 3d]`.
pub fn set(
    config: &Config,
    id: &str,
    settings: &Settings,
    extend: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let journal = open_journal(config)?;
    let Some(share) = journal.share(id)? else {
        return no_share(id);
    };
    if share.revoked_ms.is_some() {
        anyhow::bail!("share {id} is revoked and stays closed: make a new share");
    }
    let mut change = ShareChange {
        pin_hash: if settings.no_pin {
            Some(None)
        } else {
            settings.pin_hash()?.map(Some)
        },
        downloads: settings.downloads()?,
        choose: if settings.no_choose {
            Some(None)
        } else {
            settings.choose()?.map(Some)
        },
        expires_ms: None,
        watermark: if settings.no_watermark {
            Some(None)
        } else {
            settings.watermark(&config.library.path)?.map(Some)
        },
        live: settings.live()?,
        live_overlay: if settings.no_live_overlay {
            Some(None)
        } else {
            settings.live_overlay(&config.library.path, id)?.map(Some)
        },
    };
    if let Some(extend) = extend {
        let by = humantime::parse_duration(extend.trim())
            .ok()
            .filter(|d| *d >= Duration::from_secs(60))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--extend {extend:?} is not a duration of a minute or more: write e.g. 3d"
                )
            })?;
        let until = share.expires_ms.max(now_ms()) + by.as_millis() as i64;
        if config.relay.url.is_none()
            && until - now_ms() > config.relay.token_ttl().as_millis() as i64
        {
            anyhow::bail!(
                "the share would end later than the embedded relay's tokens last ([relay] token_ttl = {}): extend it by less",
                humantime::format_duration(config.relay.token_ttl())
            );
        }
        if let Some(link_end) = share.link_exp_ms.filter(|end| until > *end) {
            anyhow::bail!(
                "the share's link works until {} (the relay token it was made with): extend it to then at most, or make a new share",
                when(link_end)
            );
        }
        change.expires_ms = Some(until);
    }
    if change == ShareChange::default() {
        anyhow::bail!(
            "nothing to change: give --pin, --no-pin, --downloads, --choose, --no-choose, --watermark, --watermark-logo, --no-watermark, --live, --live-overlay, --no-live-overlay or --extend"
        );
    }
    journal.change_share(id, &change)?;
    // The copy of a replaced or removed layout overlay goes (the new one is kept).
    if let (Some(_), Some(old)) = (&change.live_overlay, &share.live_overlay) {
        let _ = std::fs::remove_file(old);
    }
    let share = journal.share(id)?.unwrap_or(share);
    println!(
        "share {id}: {}, {}, downloads {}, {}, open until {}",
        if share.pin_hash.is_some() {
            "PIN"
        } else {
            "no PIN"
        },
        if share.watermark.is_some() {
            "watermarked (the guests' previews are being made again)"
        } else {
            "no watermark"
        },
        share.downloads.as_str(),
        match share.choose {
            Some(c) if c.min == c.max => format!("choose {}", c.max),
            Some(c) => format!("choose {}-{}", c.min, c.max),
            None => "no selection asked".into(),
        },
        when(share.expires_ms)
    );
    if crate::cli::running_journal(config, "").is_err() {
        println!("the relay is told when `shotline run` next starts");
    }
    Ok(ExitCode::SUCCESS)
}

/// The file names of `frames`, from the library.
fn files(journal: &Journal, frames: &[i64]) -> anyhow::Result<Vec<(i64, String)>> {
    let mut files = Vec::new();
    for shot in frames {
        if let Some(rel) = journal.shot(*shot)?.and_then(|s| s.rel_path) {
            files.push((*shot, rel));
        }
    }
    Ok(files)
}

/// `shotline share picks ID [--format txt|csv|json]`: each guest's latest selection.
pub fn picks(config: &Config, id: &str, format: &str) -> anyhow::Result<ExitCode> {
    let journal = open_journal(config)?;
    if journal.share(id)?.is_none() {
        return no_share(id);
    }
    let mut latest = std::collections::BTreeMap::new();
    for selection in journal.selections(id)? {
        latest.insert(selection.sub.clone(), selection);
    }
    if latest.is_empty() {
        eprintln!("no selection sent yet in share {id}");
        return Ok(ExitCode::SUCCESS);
    }
    match format {
        "json" => {
            let mut list = Vec::new();
            for s in latest.values() {
                let files: Vec<String> = files(&journal, &s.frames)?
                    .into_iter()
                    .map(|(_, f)| f)
                    .collect();
                list.push(
                    json!({"guest": s.sub, "name": s.name, "sent_ms": s.submitted_ms,
                    "frames": s.frames, "files": files, "export": s.export}),
                );
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"share": id, "selections": list}))?
            );
        }
        "csv" => {
            println!("guest,name,sent,frame,file");
            for s in latest.values() {
                for (shot, file) in files(&journal, &s.frames)? {
                    let cells = [
                        s.sub.clone(),
                        s.name.clone().unwrap_or_default(),
                        when(s.submitted_ms),
                        shot.to_string(),
                        file,
                    ];
                    let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                    println!("{}", row.join(","));
                }
            }
        }
        _ => {
            for s in latest.values() {
                let files = files(&journal, &s.frames)?;
                println!(
                    "# {} ({}), {} frames, sent {}",
                    s.name.as_deref().unwrap_or("a guest"),
                    s.sub,
                    files.len(),
                    when(s.submitted_ms)
                );
                println!("{}", shotline_engine::share::selection::filter_line(&files));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `shotline share unlock ID GUEST`: the running engine tells the relay (through its
/// outbox), which lets the guest pick again.
pub fn unlock(config: &Config, id: &str, guest: &str) -> anyhow::Result<ExitCode> {
    let journal = crate::cli::running_journal(
        config,
        "it tells the relay, which lets the guest change their selection",
    )?;
    if journal.share(id)?.is_none() {
        return no_share(id);
    }
    let selections = journal.selections(id)?;
    let Some(sub) = selections
        .iter()
        .rev()
        .find(|s| s.sub == guest || s.name.as_deref() == Some(guest))
        .map(|s| s.sub.clone())
    else {
        eprintln!(
            "error: nobody called {guest:?} sent a selection in share {id}: `shotline share picks {id}` shows who did"
        );
        return Ok(ExitCode::from(1));
    };
    shotline_engine::share::unlock(&journal, &config.studio.id, id, &sub)?;
    println!("{guest} may change their selection again (the relay is told at once)");
    Ok(ExitCode::SUCCESS)
}

/// `shotline share activity ID [--format text|csv]`.
pub fn activity(config: &Config, id: &str, format: &str) -> anyhow::Result<ExitCode> {
    let journal = open_journal(config)?;
    if journal.share(id)?.is_none() {
        return no_share(id);
    }
    let list = journal.activity(id)?;
    let iso = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    let what = |kind: &str, detail: &str| match kind {
        "opened" => "opened the gallery".to_string(),
        "pin_failed" => format!("a wrong PIN ({detail} so far)"),
        "download" => format!("downloaded {detail}"),
        "submit" => format!("sent a selection of {detail}"),
        "unlock" => format!("the studio unlocked {detail}'s selection"),
        other => other.to_string(),
    };
    if format == "csv" {
        println!("time,guest,name,what,detail");
        for a in &list {
            let cells = [
                iso(a.ts_ms),
                a.sub.clone().unwrap_or_default(),
                a.name.clone().unwrap_or_default(),
                a.kind.clone(),
                a.detail.clone(),
            ];
            let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            println!("{}", row.join(","));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        println!("nothing yet: nobody has opened share {id}");
    }
    for a in &list {
        println!(
            "{}  {}  {}",
            when(a.ts_ms),
            a.name.as_deref().or(a.sub.as_deref()).unwrap_or("someone"),
            what(&a.kind, &a.detail)
        );
    }
    Ok(ExitCode::SUCCESS)
}
