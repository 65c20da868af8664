//! `shotline capture`, `shotline camera list|set`: requests to the camera thread of the
//! running `shotline run`, which holds the cameras (a camera serves one program at a time).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use shotline_engine::Config;
use shotline_engine::backup::target::human_bytes;
use shotline_engine::journal::{CameraAction, Journal};
use shotline_engine::source::camera::service;
use shotline_protocol::CameraStatus;

/// One line about a camera.
pub fn line(c: &CameraStatus) -> String {
    let state = serde_json::to_value(c.state)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let mut text = format!("{} on {}: {state}", c.model, c.port);
    if let Some(b) = c.battery {
        text.push_str(&format!(", battery {b}%"));
    }
    if let Some(f) = c.card_free_bytes {
        text.push_str(&format!(", card {} free", human_bytes(f)));
    }
    for setting in &c.settings {
        text.push_str(&format!(", {} {}", setting.name, setting.value));
    }
    if let Some(m) = &c.message {
        text.push_str(&format!(" ({m})"));
    }
    text
}

/// The journal of a library a `shotline run` holds (with its cameras on), or why not.
fn running_journal(config: &Config) -> anyhow::Result<Journal> {
    let journal = super::running_journal(config, "it holds the cameras")?;
    if !config.camera.enabled {
        anyhow::bail!(
            "cameras are off: set [camera] enabled = true (or SHOTLINE_CAMERA_ENABLED=true) and restart `shotline run`"
        );
    }
    Ok(journal)
}

fn finish(answer: shotline_engine::source::camera::Answer) -> anyhow::Result<ExitCode> {
    match answer {
        Ok(text) => {
            if !text.is_empty() {
                println!("{text}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            eprintln!("error: {why}");
            Ok(ExitCode::from(1))
        }
    }
}

pub fn capture(
    config: &Config,
    port: Option<&str>,
    wait: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let journal = running_journal(config)?;
    let (id, answer) = service::request(
        &journal,
        port,
        &CameraAction::Capture,
        Duration::from_secs(60),
    )?;
    let names = match answer {
        Ok(names) if wait => names,
        other => return finish(other),
    };
    let start = Instant::now();
    let mut frames = Vec::new();
    for name in names.lines() {
        loop {
            if let Some((path, Some(stored_ms))) = journal.shot_of_card_file(name)? {
                frames.push(serde_json::json!({
                    "name": name,
                    "library_path": config.library.path.join(path),
                    "stored_ms": stored_ms,
                }));
                break;
            }
            if start.elapsed() > Duration::from_secs(120) {
                eprintln!(
                    "error: {name} was downloaded but is not in the library after 2 minutes: see `shotline status`"
                );
                return Ok(ExitCode::from(1));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    if json {
        let (requested_ms, fired_ms) = journal.camera_request_times(id)?.unzip();
        let out = serde_json::json!({
            "requested_ms": requested_ms,
            "fired_ms": fired_ms.flatten(),
            "frames": frames,
        });
        println!("{out}");
    } else {
        for f in &frames {
            println!("{}", f["library_path"].as_str().unwrap_or_default());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn set(config: &Config, setting: &str, port: Option<&str>) -> anyhow::Result<ExitCode> {
    let action = CameraAction::set_from(setting).map_err(anyhow::Error::msg)?;
    let journal = running_journal(config)?;
    finish(service::request(&journal, port, &action, Duration::from_secs(30))?.1)
}

pub fn focus(
    config: &Config,
    direction: &str,
    size: Option<u8>,
    port: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let text = match size {
        Some(size) => format!("{direction} {size}"),
        None => direction.to_string(),
    };
    let drive = shotline_engine::live::Focus::parse(&text).map_err(anyhow::Error::msg)?;
    let journal = running_journal(config)?;
    let action = CameraAction::Focus(drive);
    finish(service::request(&journal, port, &action, Duration::from_secs(30))?.1)
}

pub fn list(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let status = shotline_engine::status::status(config)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status.cameras)?);
    } else if status.cameras.is_empty() {
        println!("no camera (cameras are seen while `shotline run` is running)");
    } else {
        for c in &status.cameras {
            println!("{}", line(c));
        }
    }
    Ok(ExitCode::SUCCESS)
}
