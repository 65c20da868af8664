//! Where events go: the configured relay (with its publisher token), or a relay started in
//! this process on `[relay] listen`, with a publisher and a subscriber token for the
//! studio (subject: the studio id) that last `[relay] token_ttl` (30 days). Their secret
//! is the caller's (the desktop keeps one in the keychain), else `SHOTLINE_RELAY_SECRET`,
//! else new each run; so the dashboard link outlives a restart when the secret is kept.
//! The embedded relay keeps its revocations in the library's `.shotline/relay/`.

use shotline_relay::auth::{Claims, Role, mint};
use tokio::sync::oneshot;

use crate::Config;
use crate::relay_client::RelayTarget;

/// The environment variable holding the publisher token for a configured relay.
pub const TOKEN_ENV: &str = shotline_protocol::env::RELAY_TOKEN;

/// The relay of a run.
#[derive(Debug, Default)]
pub struct RelaySetup {
    /// Where the engine publishes; `None`: events wait in the journal's outbox.
    pub target: Option<RelayTarget>,
    /// Stops the embedded relay.
    pub embedded: Option<oneshot::Sender<()>>,
    /// The embedded relay's address.
    pub address: Option<String>,
    /// A subscriber token for `<studio>:*` on the embedded relay.
    pub subscriber_token: Option<String>,
    /// The live dashboard's URL (with its token).
    pub dashboard: Option<String>,
    /// Why there is no relay, when there is none.
    pub problem: Option<String>,
}

impl RelaySetup {
    /// Stop the embedded relay, if any.
    pub fn stop(&mut self) {
        if let Some(stop) = self.embedded.take() {
            let _ = stop.send(());
        }
    }
}

/// Set up the relay for `config`: the remote one with `token` (else `SHOTLINE_RELAY_TOKEN`),
/// or an embedded one signing with `secret` (else `SHOTLINE_RELAY_SECRET`, else a new
/// one). Call inside a Tokio runtime.
pub async fn setup(config: &Config, token: Option<String>, secret: Option<Vec<u8>>) -> RelaySetup {
    let studio = &config.studio.id;
    if let Some(url) = &config.relay.url {
        let token = token
            .or_else(|| std::env::var(TOKEN_ENV).ok())
            .filter(|t| !t.is_empty());
        return match token {
            Some(token) => RelaySetup {
                target: Some(RelayTarget {
                    url: url.clone(),
                    token,
                }),
                ..RelaySetup::default()
            },
            None => RelaySetup {
                problem: Some(format!(
                    "{url}: no publisher token ({TOKEN_ENV} is not set); events wait in the journal until there is one"
                )),
                ..RelaySetup::default()
            },
        };
    }
    let listener = match tokio::net::TcpListener::bind(&config.relay.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            return RelaySetup {
                problem: Some(format!(
                    "cannot listen on {} ({e}); events wait in the journal. Set [relay] listen to a free port.",
                    config.relay.listen
                )),
                ..RelaySetup::default()
            };
        }
    };
    let Ok(addr) = listener.local_addr() else {
        return RelaySetup::default();
    };
    let secret = secret
        .or_else(|| {
            std::env::var(shotline_protocol::env::RELAY_SECRET)
                .ok()
                .filter(|s| s.len() >= 16)
                .map(String::into_bytes)
        })
        .unwrap_or_else(random_secret);
    let mut relay_config = shotline_relay::Config::new(secret.clone());
    relay_config.publish_rate = 100_000; // the engine is the only publisher here
    relay_config.data =
        Some(crate::journal::Journal::path_for(&config.library.path).with_file_name("relay"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(shotline_relay::run(listener, relay_config, async move {
        let _ = stopped.await;
    }));
    let ttl = config.relay.token_ttl();
    let claims =
        |role| Claims::new(role, vec![format!("{studio}:*")], ttl).with_sub(studio.as_str());
    let publisher = mint(&claims(Role::Publisher), &secret);
    let subscriber = mint(&claims(Role::Subscriber), &secret);
    RelaySetup {
        target: Some(RelayTarget {
            url: format!("ws://{addr}/v1/ws"),
            token: publisher,
        }),
        embedded: Some(stop),
        address: Some(format!("http://{addr}")),
        dashboard: Some(format!("http://{addr}/?token={subscriber}")),
        subscriber_token: Some(subscriber),
        problem: None,
    }
}

/// A new secret for the embedded relay.
pub fn random_secret() -> Vec<u8> {
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
