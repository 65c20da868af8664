//! `shotline run`: start the engine, show live progress, stop cleanly on Ctrl-C or SIGTERM
//! and print a summary.

use std::process::ExitCode;
use std::time::Instant;

use shotline_engine::config::Loaded;
use shotline_engine::engine::default_session;
use shotline_engine::relay_client::RelayTarget;
use shotline_engine::{Bus, Engine};
use shotline_relay::auth::{Claims, Role, mint, now_secs};

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
        let (relay, embedded) = relay_target(&config).await;
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
        let running = engine.start(relay);
        wait_for_stop().await;
        eprintln!("stopping: finishing the copy under way...");
        running.shutdown().await;
        if let Some(stop) = embedded {
            let _ = stop.send(());
        }
        view.finish(started.elapsed()).await;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

/// The relay events go to: the configured one (with `SHOTLINE_RELAY_TOKEN`), or a relay
/// started here on `relay.listen`. Prints where it is; returns the stopper of an embedded one.
async fn relay_target(
    config: &shotline_engine::Config,
) -> (
    Option<RelayTarget>,
    Option<tokio::sync::oneshot::Sender<()>>,
) {
    let studio = &config.studio.id;
    if let Some(url) = &config.relay.url {
        return match std::env::var("SHOTLINE_RELAY_TOKEN") {
            Ok(token) if !token.is_empty() => {
                println!("  relay       {url}");
                (
                    Some(RelayTarget {
                        url: url.clone(),
                        token,
                    }),
                    None,
                )
            }
            _ => {
                println!(
                    "  relay       {url}: SHOTLINE_RELAY_TOKEN is not set; events wait in the journal until it is"
                );
                (None, None)
            }
        };
    }
    let listener = match tokio::net::TcpListener::bind(&config.relay.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            println!(
                "  relay       cannot listen on {} ({e}); events wait in the journal. Set [relay] listen to a free port.",
                config.relay.listen
            );
            return (None, None);
        }
    };
    let Ok(addr) = listener.local_addr() else {
        return (None, None);
    };
    let secret = random_secret();
    let mut relay_config = shotline_relay::Config::new(secret.clone());
    relay_config.publish_rate = 100_000; // the engine is the only publisher here
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(shotline_relay::run(listener, relay_config, async move {
        let _ = stopped.await;
    }));
    let claims = |role| Claims {
        role,
        channels: vec![format!("{studio}:*")],
        exp: now_secs() + 10 * 365 * 86_400,
    };
    let publisher = mint(&claims(Role::Publisher), &secret);
    let subscriber = mint(&claims(Role::Subscriber), &secret);
    println!("  relay       http://{addr}  (embedded; channels {studio}:*)");
    println!("  subscriber  token {subscriber}");
    println!("  dashboard   http://{addr}/?token={subscriber}");
    (
        Some(RelayTarget {
            url: format!("ws://{addr}/v1/ws"),
            token: publisher,
        }),
        Some(stop),
    )
}

/// A secret for the embedded relay, new each run: its tokens are printed, never stored.
fn random_secret() -> Vec<u8> {
    use std::hash::{BuildHasher, Hasher};
    (0..4)
        .flat_map(|i: u64| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(i ^ u64::from(std::process::id()));
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default(),
            );
            h.finish().to_le_bytes()
        })
        .collect()
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
