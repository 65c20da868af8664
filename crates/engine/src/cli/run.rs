//! `shotline run`: start the engine, show live progress, stop cleanly on Ctrl-C or SIGTERM
//! and print a summary.

use std::process::ExitCode;
use std::time::Instant;

use shotline_engine::config::Loaded;
use shotline_engine::engine::default_session;
use shotline_engine::relay_setup::{self, RelaySetup};
use shotline_engine::{Bus, Engine};

use super::view::View;

pub fn run(loaded: Loaded, session: Option<String>) -> anyhow::Result<ExitCode> {
    let config = loaded.config;
    let session = session.unwrap_or_else(default_session);
    if session.trim().is_empty() {
        anyhow::bail!("--session needs a name, e.g. --session smith-wedding");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let bus = Bus::new();
        let engine = Engine::open(config.clone(), session.clone(), bus.clone())?;
        let journal = engine.journal();
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
        println!("  journal     {}", journal.path().display());
        let mut relay = relay_target(&config).await;
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
        let view = View::start(bus.subscribe(), journal.clone(), &config);
        let started = Instant::now();
        let running = engine.start(relay.target.take());
        wait_for_stop().await;
        eprintln!("stopping: finishing the copy under way...");
        running.shutdown().await;
        relay.stop();
        view.finish(started.elapsed()).await;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

/// Set up the relay (configured or embedded) and print where it is.
async fn relay_target(config: &shotline_engine::Config) -> RelaySetup {
    let setup = relay_setup::setup(config, None).await;
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
    setup
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
