//! `shotline seal`, `shotline report` and `shotline verify --repair`.

use std::path::PathBuf;
use std::process::ExitCode;

use shotline_engine::Config;
use shotline_engine::engine::default_session;
use shotline_engine::journal::Journal;
use shotline_engine::proof::report::{self, Format};
use shotline_engine::proof::{repair as repairing, seal as sealing};

fn journal(config: &Config) -> anyhow::Result<Journal> {
    let path = Journal::path_for(&config.library.path);
    if !path.exists() {
        anyhow::bail!(
            "no journal at {}: nothing was ingested into this library yet",
            path.display()
        );
    }
    Ok(Journal::open(&path)?)
}

/// `shotline seal [--json]`: exit 1 when a root's history cannot be trusted or written.
pub fn seal(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let journal = journal(config)?;
    let outcome = sealing::seal_all(config, &journal);
    if json {
        let failed: Vec<_> = outcome
            .failed
            .iter()
            .map(|(root, e)| serde_json::json!({"root": root, "error": e.to_string()}))
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "sealed": outcome.sealed,
                "unchanged": outcome.unchanged,
                "offline": outcome.offline,
                "failed": failed,
            })
        );
    } else {
        for s in &outcome.sealed {
            println!(
                "sealed     {:<12} generation {} ({} frames) {}",
                s.root,
                s.generation,
                s.frames,
                s.file.display()
            );
        }
        for root in &outcome.unchanged {
            println!("unchanged  {root:<12} nothing verified since its last generation");
        }
        for root in &outcome.offline {
            println!("offline    {root:<12} sealed when it is back");
        }
        for (root, e) in &outcome.failed {
            eprintln!("FAILED     {root:<12} {e}");
        }
    }
    Ok(if outcome.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `shotline report [--session NAME] [--format pdf|csv] [--output FILE]`.
pub fn report(
    config: &Config,
    session: Option<String>,
    format: &str,
    output: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let journal = journal(config)?;
    let session = session.unwrap_or_else(default_session);
    if !journal.sessions()?.contains(&session) {
        let known = journal.sessions()?;
        anyhow::bail!(
            "no frames in session `{session}`; sessions in this library: {}",
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        );
    }
    let format = if format == "csv" {
        Format::Csv
    } else {
        Format::Pdf
    };
    let path = report::write(config, &journal, &session, format, output.as_deref())?;
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `shotline verify --repair [--json]`: exit 1 when something could not be put right.
pub fn repair(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let journal = journal(config)?;
    let repaired = repairing::repair(config, &journal, |_| {})?;
    // What was copied again goes into the histories now.
    let sealed = if repaired.actions.is_empty() {
        None
    } else {
        Some(sealing::seal_all(config, &journal))
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&repaired)?);
    } else {
        for p in &repaired.found.problems {
            println!(
                "{:<10} {:<10} {} {}",
                p.kind.to_uppercase(),
                p.place,
                p.path.display(),
                p.detail
            );
        }
        for a in &repaired.actions {
            println!(
                "{:<10} {:<10} {} {}",
                a.action.to_uppercase(),
                a.place,
                a.path.display(),
                a.detail
            );
        }
        if let Some(outcome) = &sealed {
            for (root, e) in &outcome.failed {
                eprintln!("seal of {root} failed: {e}");
            }
        }
        let fixed = repaired
            .actions
            .iter()
            .filter(|a| matches!(a.action, "recopied" | "restored"))
            .count();
        println!(
            "{} copies verified, {} problems, {fixed} repaired",
            repaired.found.ok,
            repaired.found.problems.len()
        );
    }
    Ok(if repaired.complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
