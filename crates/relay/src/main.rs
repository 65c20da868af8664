//! `shotline-relay`: `serve` runs the relay; `token` mints access tokens.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use shotline_relay::auth::{Claims, Role, mint, now_secs};

/// Environment variable holding the token secret.
const SECRET_ENV: &str = "SHOTLINE_RELAY_SECRET";

/// Shotline's relay: live studio events for dashboards.
#[derive(Debug, Parser)]
#[command(name = "shotline-relay", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "SHOTLINE_RELAY_LISTEN", default_value = "127.0.0.1:7878")]
        listen: String,
        /// A TOML file of settings (history, history_age, max_connections, max_frame,
        /// publish_rate, origins, redis, tls_cert, tls_key).
        #[arg(long, env = "SHOTLINE_RELAY_CONFIG")]
        config: Option<PathBuf>,
        /// Redis URL shared by several relay nodes (redis://host:port/db).
        #[arg(long, env = "SHOTLINE_RELAY_REDIS")]
        redis: Option<String>,
        /// Serve TLS with this PEM certificate chain (needs --tls-key).
        #[arg(long, env = "SHOTLINE_RELAY_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, env = "SHOTLINE_RELAY_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Mint a token signed with $SHOTLINE_RELAY_SECRET.
    Token {
        /// What the token may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Channels, comma-separated; a trailing `*` matches a prefix (`studio:*`).
        #[arg(long, alias = "channel", value_delimiter = ',', required = true)]
        channels: Vec<String>,
        /// Lifetime, e.g. `12h`, `30d`, or seconds.
        #[arg(long, default_value = "24h")]
        ttl: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Publisher,
    Subscriber,
}

/// Settings a relay TOML file may hold; every key optional, unknown keys an error.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    history: Option<usize>,
    history_age: Option<String>,
    max_connections: Option<u64>,
    max_frame: Option<usize>,
    publish_rate: Option<u32>,
    origins: Option<Vec<String>>,
    redis: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
}

fn secret() -> anyhow::Result<Vec<u8>> {
    match std::env::var(SECRET_ENV) {
        Ok(secret) if secret.len() >= 16 => Ok(secret.into_bytes()),
        Ok(_) => bail!(
            "{SECRET_ENV} is shorter than 16 characters; use a long random value, e.g. `openssl rand -hex 32`"
        ),
        Err(_) => bail!(
            "{SECRET_ENV} is not set; set it to a long random value, e.g. `export {SECRET_ENV}=$(openssl rand -hex 32)`"
        ),
    }
}

fn relay_config(file: Option<&PathBuf>) -> anyhow::Result<shotline_relay::Config> {
    let mut config = shotline_relay::Config::new(secret()?);
    let Some(path) = file else { return Ok(config) };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let f: FileConfig = toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
    if let Some(v) = f.history {
        config.history = v;
    }
    if let Some(v) = f.history_age {
        config.history_age = humantime_parse(&v)
            .with_context(|| format!("history_age = {v:?}: write e.g. \"1h\""))?;
    }
    if let Some(v) = f.max_connections {
        config.max_connections = v;
    }
    if let Some(v) = f.max_frame {
        config.max_frame = v;
    }
    if let Some(v) = f.publish_rate {
        config.publish_rate = v;
    }
    if let Some(v) = f.origins {
        config.origins = v;
    }
    config.redis = f.redis;
    match (f.tls_cert, f.tls_key) {
        (Some(cert), Some(key)) => config.tls = Some(shotline_relay::tls::TlsFiles { cert, key }),
        (None, None) => {}
        _ => bail!(
            "in {}: tls_cert and tls_key go together; set both or neither",
            path.display()
        ),
    }
    Ok(config)
}

/// `90s`, `12h`, `30d`, or a bare number of seconds.
fn humantime_parse(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    match text.parse::<u64>() {
        Ok(secs) => Ok(Duration::from_secs(secs)),
        Err(_) => Ok(humantime::parse_duration(text)?),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match serve_or_mint().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn serve_or_mint() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHOTLINE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Args::parse().command {
        Command::Serve {
            listen,
            config,
            redis,
            tls_cert,
            tls_key,
        } => {
            let mut config = relay_config(config.as_ref())?;
            if let Some(url) = redis {
                config.redis = Some(url);
            }
            if let (Some(cert), Some(key)) = (tls_cert, tls_key) {
                config.tls = Some(shotline_relay::tls::TlsFiles { cert, key });
            }
            if let Some(files) = &config.tls {
                shotline_relay::tls::server_config(files).map_err(|e| anyhow::anyhow!(e))?;
            }
            if let Some(url) = &config.redis {
                shotline_relay::cluster::Redis::open(url, 1, Duration::ZERO)
                    .map_err(|e| anyhow::anyhow!("--redis: {e}"))?;
            }
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            println!(
                "shotline-relay listening on {scheme}://{}",
                listener.local_addr()?
            );
            shotline_relay::run(listener, config, stop_signal()).await?;
            Ok(())
        }
        Command::Token {
            role,
            channels,
            ttl,
        } => {
            let ttl = humantime_parse(&ttl)
                .with_context(|| format!("--ttl {ttl:?}: write e.g. 12h or 30d"))?;
            let role = match role {
                RoleArg::Publisher => Role::Publisher,
                RoleArg::Subscriber => Role::Subscriber,
            };
            println!(
                "{}",
                mint(
                    &Claims {
                        role,
                        channels,
                        exp: now_secs() + ttl.as_secs()
                    },
                    &secret()?
                )
            );
            Ok(())
        }
    }
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
