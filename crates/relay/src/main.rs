//! `shotline-relay`: `serve` runs the relay; `token` mints access tokens.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use shotline_protocol::env;
use shotline_relay::auth::{Claims, Role, exchange, mint};
use shotline_relay::settings;

/// Environment variable holding the token secret.
const SECRET_ENV: &str = env::RELAY_SECRET;

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
        #[arg(long, env = env::RELAY_LISTEN, default_value = "127.0.0.1:7878")]
        listen: String,
        /// A TOML file of settings (`shotline-relay config default` prints every key).
        #[arg(long, env = env::RELAY_CONFIG)]
        config: Option<PathBuf>,
        /// Redis URL shared by several relay nodes (redis://host:port/db).
        #[arg(long, env = env::RELAY_REDIS)]
        redis: Option<String>,
        /// Serve TLS with this PEM certificate chain (needs --tls-key).
        #[arg(long, env = env::RELAY_TLS_CERT, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, env = env::RELAY_TLS_KEY, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Where revocations are kept (default: the platform's data folder; with --redis,
        /// Redis keeps them).
        #[arg(long, env = env::RELAY_DATA)]
        data: Option<PathBuf>,
    },
    /// Show the settings.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
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
        /// Who the token is for (a user, a device, a guest); default: anonymous.
        #[arg(long)]
        sub: Option<String>,
        /// A name to show people.
        #[arg(long)]
        name: Option<String>,
        /// For a guest: the event types it may publish, comma-separated.
        #[arg(long, value_delimiter = ',')]
        publish: Option<Vec<String>>,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Print the commented default settings file.
    Default,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Publisher,
    Subscriber,
    Guest,
    Admin,
}

fn secret() -> anyhow::Result<Vec<u8>> {
    match std::env::var(SECRET_ENV) {
        Ok(secret) => match shotline_relay::auth::secret::check_secret(secret.as_bytes()) {
            Ok(()) => Ok(secret.into_bytes()),
            Err(why) => bail!("{SECRET_ENV}: {why}"),
        },
        Err(_) => bail!(
            "{SECRET_ENV} is not set; set it to a long random value, e.g. `export {SECRET_ENV}=$(openssl rand -hex 32)`"
        ),
    }
}

fn relay_config(file: Option<&PathBuf>) -> anyhow::Result<shotline_relay::Config> {
    let mut config = shotline_relay::Config::new(secret()?);
    if let Some(path) = file {
        settings::apply_file(&mut config, path)?;
    }
    Ok(config)
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
            tracing_subscriber::EnvFilter::try_from_env(env::LOG).unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Args::parse().command {
        Command::Serve {
            listen,
            config,
            redis,
            tls_cert,
            tls_key,
            data,
        } => {
            let mut config = relay_config(config.as_ref())?;
            if let Some(dir) = data {
                config.data = Some(dir);
            }
            if config.data.is_none() && config.redis.is_none() && redis.is_none() {
                config.data =
                    directories::ProjectDirs::from("studio", "Shotline", "shotline-relay")
                        .map(|d| d.data_dir().to_path_buf());
            }
            if let Some(url) = redis {
                config.redis = Some(url);
            }
            if let (Some(cert), Some(key)) = (tls_cert, tls_key) {
                config.tls = Some(shotline_relay::tls::TlsFiles { cert, key });
            }
            if let Some(files) = &config.tls {
                shotline_relay::tls::server_config(files)?;
            }
            if let Some(url) = &config.redis {
                shotline_relay::backend::Redis::open(url, 1, Duration::ZERO)
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
        Command::Config {
            action: ConfigAction::Default,
        } => {
            print!("{}", settings::DEFAULT_TOML);
            Ok(())
        }
        Command::Token {
            role,
            channels,
            ttl,
            sub,
            name,
            publish,
        } => {
            let ttl = settings::parse_duration(&ttl)
                .with_context(|| format!("--ttl {ttl:?}: write e.g. 12h or 30d"))?;
            let role = match role {
                RoleArg::Publisher => Role::Publisher,
                RoleArg::Subscriber => Role::Subscriber,
                RoleArg::Guest => Role::Guest,
                RoleArg::Admin => Role::Admin,
            };
            if publish.is_some() && role != Role::Guest {
                bail!("--publish is for guest tokens (publishers and admins publish any type)");
            }
            if name
                .as_ref()
                .is_some_and(|n| n.chars().count() > exchange::MAX_NAME)
            {
                bail!("--name is at most {} characters", exchange::MAX_NAME);
            }
            let claims = Claims {
                sub,
                name,
                publish,
                ..Claims::new(role, channels, ttl)
            };
            println!("{}", mint(&claims, &secret()?));
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
