//! `shotline status [--json]`.

use std::process::ExitCode;

use shotline_engine::Config;
use shotline_engine::backup::target::human_bytes;

pub fn status(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let status = shotline_engine::status::status(config)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("library   {}", status.library.display());
    println!(
        "shots     {} stored, {} duplicates, {} being stored, {} failed",
        status.shots, status.duplicates, status.ingesting, status.failed
    );
    for t in &status.targets {
        let free = t
            .free_bytes
            .map(|f| format!(", {} free", human_bytes(f)))
            .unwrap_or_default();
        println!(
            "backup    {:<12} {:<8} {} verified, {} waiting, {} failed{free}  ({})",
            t.name,
            t.state.as_str(),
            t.verified,
            t.pending,
            t.failed,
            t.path.display()
        );
    }
    for c in &status.cameras {
        println!("camera    {}", super::camera::line(c));
    }
    println!("queue     {}", status.queue_depth);
    println!("relay     {} events waiting", status.relay_queued);
    if let Some(u) = status.uploads {
        println!(
            "upload    {} in the bucket, {} to go, {} given up",
            u.done, u.pending, u.failed
        );
    }
    Ok(ExitCode::SUCCESS)
}
