//! `shotline verify [--target NAME] [--json]`.

use std::process::ExitCode;

use shotline_engine::Config;
use shotline_engine::journal::Journal;

pub fn verify(config: &Config, target: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    if let Some(name) = target
        && !config.backup.iter().any(|b| b.name == name)
    {
        let known: Vec<_> = config.backup.iter().map(|b| b.name.as_str()).collect();
        anyhow::bail!(
            "no backup target named `{name}`; configured: {}",
            known.join(", ")
        );
    }
    let path = Journal::path_for(&config.library.path);
    let Some(journal) = Journal::open_read_only(&path)? else {
        anyhow::bail!(
            "no journal at {}: nothing was ingested into this library yet",
            path.display()
        );
    };
    let result = shotline_engine::verify::verify(config, &journal, target, |_| {})?;
    if json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        for p in &result.problems {
            println!(
                "{:<10} {:<10} {} {}",
                p.kind.to_uppercase(),
                p.place,
                p.path.display(),
                p.detail
            );
        }
        println!(
            "{} copies verified, {} problems",
            result.ok,
            result.problems.len()
        );
    }
    Ok(if result.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
