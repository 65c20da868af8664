//! `shotline run`: start the engine, show live progress, stop cleanly on Ctrl-C or SIGTERM
//! and print a summary. With `--ready-file`, where everything is also goes to a JSON file
//! once the engine runs, for scripts and tests (the banner is for people).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde_json::json;
use shotline_engine::config::Loaded;
use shotline_engine::engine::default_session;
use shotline_engine::launch::{self, Launched, Secrets};
use shotline_engine::relay_setup::RelaySetup;
use shotline_engine::{Bus, Config};

use super::view::View;

/// `shotline run [--session NAME] [--ready-file PATH]`.
pub fn run(
    loaded: Loaded,
    session: Option<String>,
    ready_file: Option<PathBuf>,
    meta: &[String],
) -> anyhow::Result<ExitCode> {
    let config = loaded.config.clone();
    // Checked here; kept in the journal as the session's own, so a restart keeps them.
    let mut checked = config.metadata.clone();
    let mut pairs = Vec::new();
    for pair in meta {
        let (key, value) = pair.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("--meta {pair:?}: write KEY=VALUE, e.g. --meta client=Acme")
        })?;
        checked
            .set(key.trim(), value)
            .map_err(|e| anyhow::anyhow!("--meta {pair:?}: {e}"))?;
        pairs.push((key.trim().to_string(), value.trim().to_string()));
    }
    if let Some((key, problem)) = checked.problem() {
        anyhow::bail!("--meta {key}: {problem}");
    }
    let session = session.unwrap_or_else(default_session);
    if session.trim().is_empty() {
        anyhow::bail!("--session needs a name, e.g. --session smith-wedding");
    }
    if !pairs.is_empty() {
        let path = shotline_engine::journal::Journal::path_for(&config.library.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Not while another `shotline run` holds the library: that one is not this run.
        if let Ok(lock) = std::fs::File::options()
            .write(true)
            .open(path.with_file_name("lock"))
            && lock.try_lock().is_err()
        {
            anyhow::bail!(
                "a `shotline run` already holds the library {}: stop it first",
                config.library.path.display()
            );
        }
        shotline_engine::journal::Journal::open(&path)?.set_session_meta(&session, &pairs)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let bus = Bus::new();
        let view_events = bus.subscribe();
        let launched =
            launch::launch(config.clone(), session.clone(), bus, Secrets::default()).await?;
        banner(&loaded, &session, &launched.relay);
        let journal = launched.running.journal();
        if let Some(path) = &ready_file {
            write_ready(path, &config, &session, &launched)?;
        }
        let view = View::start(view_events, journal, &config);
        let started = Instant::now();
        wait_for_stop().await;
        eprintln!("stopping: finishing the copy under way...");
        launched.shutdown().await;
        view.finish(started.elapsed()).await;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

/// Where everything is, for people.
fn banner(loaded: &Loaded, session: &str, relay: &RelaySetup) {
    let config = &loaded.config;
    println!("Shotline is running, session {session}");
    let origin = if loaded.file_exists {
        loaded.file.display().to_string()
    } else {
        "built-in defaults".into()
    };
    println!("  config      {origin}");
    for hot in &config.hot_folder {
        let how = hot
            .poll_interval
            .map(|d| format!(" (polled every {})", humantime::format_duration(d)))
            .unwrap_or_default();
        println!("  hot folder  {}{how}", hot.path.display());
    }
    println!("  library     {}", config.library.path.display());
    for b in &config.backup {
        let mount = if b.require_mount {
            " (drive must be mounted)"
        } else {
            ""
        };
        println!("  backup      {:<12} {}{mount}", b.name, b.path.display());
    }
    println!(
        "  journal     {}",
        shotline_engine::journal::Journal::path_for(&config.library.path).display()
    );
    relay_lines(config, relay);
    if let Some(upload) = &config.upload {
        match shotline_engine::upload::credentials() {
            Ok(_) => println!(
                "  upload      {} bucket {} as {}",
                upload.endpoint, upload.bucket, upload.key
            ),
            Err(why) => println!("  upload      off: {why}"),
        }
    }
    println!("Drop frames into the hot folder. Ctrl-C stops.");
}

fn relay_lines(config: &Config, setup: &RelaySetup) {
    let studio = &config.studio.id;
    match (&setup.problem, &config.relay.url, &setup.address) {
        (Some(problem), _, _) => println!("  relay       {problem}"),
        (None, Some(url), _) => println!("  relay       {url}"),
        (None, None, Some(address)) => {
            println!("  relay       {address}  (embedded; channels {studio}:*)");
            if let (Some(token), Some(dashboard)) = (&setup.subscriber_token, &setup.dashboard) {
                println!("  subscriber  token {token}");
                println!("  dashboard   {dashboard}");
            }
        }
        _ => {}
    }
}

/// The ready file: JSON, written to a temporary name and renamed, so a reader never sees
/// half of it.
fn write_ready(
    path: &Path,
    config: &Config,
    session: &str,
    launched: &Launched,
) -> anyhow::Result<()> {
    let relay = &launched.relay;
    let body = json!({
        "pid": std::process::id(),
        "session": session,
        "studio": config.studio.id,
        "library": config.library.path,
        "journal": shotline_engine::journal::Journal::path_for(&config.library.path),
        "hot_folders": config.hot_folder.iter().map(|h| &h.path).collect::<Vec<_>>(),
        "relay": {
            "url": config.relay.url,
            "address": relay.address,
            "subscriber_token": relay.subscriber_token,
            "dashboard": relay.dashboard,
            "problem": relay.problem,
        },
    });
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&body)?)
        .map_err(|e| anyhow::anyhow!("--ready-file {}: {e}", path.display()))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| anyhow::anyhow!("--ready-file {}: {e}", path.display()))?;
    Ok(())
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (mut term, mut hup) = match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(term), Ok(hup)) => (term, hup),
            _ => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
