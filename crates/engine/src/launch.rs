//! One run's start-up and shut-down, the same for the `shotline` binary and the desktop
//! app: open the engine on the config (folders, lock, journal), set up the relay
//! (configured, or embedded in this process), start every service; and the reverse.

use crate::relay_setup::{self, RelaySetup};
use crate::{Bus, Config, Engine, Result, Running};

/// What a caller may pass in instead of the environment (the desktop app's keychain).
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// The publisher token for a relay at `[relay] url`.
    pub relay_token: Option<String>,
    /// The embedded relay's signing secret (kept, so its links outlive a restart).
    pub relay_secret: Option<Vec<u8>>,
    /// Upload credentials (access key, secret).
    pub upload: Option<(String, String)>,
    /// The SMTP password of `[notify.email]`.
    pub smtp_password: Option<String>,
}

/// A started run: the engine and its relay.
#[derive(Debug)]
pub struct Launched {
    /// The engine's services.
    pub running: Running,
    /// The relay it publishes to (and the embedded one's address and tokens).
    pub relay: RelaySetup,
}

/// Open and start an engine for `session` on `config`. Call inside a Tokio runtime.
pub async fn launch(
    config: Config,
    session: String,
    bus: Bus,
    secrets: Secrets,
) -> Result<Launched> {
    let mut relay = relay_setup::setup(&config, secrets.relay_token, secrets.relay_secret).await;
    if let Some(problem) = &relay.problem {
        tracing::warn!("relay: {problem}");
    }
    let engine = match Engine::open(config, session, bus) {
        Ok(engine) => engine
            .with_upload_credentials(secrets.upload)
            .with_smtp_password(secrets.smtp_password),
        Err(e) => {
            relay.stop();
            return Err(e);
        }
    };
    let running = engine.start(relay.target.take());
    Ok(Launched { running, relay })
}

impl Launched {
    /// Stop: the engine finishes the copy under way and writes its last events, then the
    /// embedded relay stops.
    pub async fn shutdown(mut self) {
        self.running.shutdown().await;
        self.relay.stop();
    }
}
