//! Who may connect and who is connected: every token is checked here (signature, expiry,
//! revocation), every connection registered, and the admin's disconnects and
//! revocations carried out on every node.
//!
//! - [`revocations`]: revoked tokens, kept under the data folder or in Redis.
//! - [`shares`]: the live gallery's shares; a closed one's tokens are refused.
//! - [`registry`]: this node's connections, mirrored to Redis in a cluster.
//! - `shared`: what the nodes of a cluster share through Redis.
//! - [`guests`]: the guest publish rate, per subject.
//! - [`gate`]: every connection counted, with room kept for the studio and caps per
//!   guest and address.
//! - [`flood`]: what one link and one address may add (new guests, answer bytes).
//! - `limits`: those limits together, and how often each bit.
//! - `expiry`: expired tokens and shares cut off on every node.

mod expiry;
pub mod flood;
pub mod gate;
pub mod guests;
mod limits;
pub mod registry;
pub mod revocations;
mod shared;
pub mod shares;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::auth::{AuthError, Claims, KeyError, Verifier, now_secs};
use crate::backend::Unavailable;
use crate::queue::Kick;
pub use limits::Limits;
pub use registry::{Connection, Registered, Registry, Target, Transport};
use revocations::{KEEP_UNKNOWN_SECS, Revoked, Store, StoreError, SubjectRevoked};
use shared::{Control, Shared};
use shares::{ShareRecord, Shares};

/// Access cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The public key is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The revocations file is unusable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The Redis URL is unusable.
    #[error("{0}")]
    Redis(String),
}

/// Tokens, connections, revocations.
#[derive(Debug)]
pub struct Access {
    verifier: Verifier,
    store: Store,
    shares: Shares,
    registry: Arc<Registry>,
    shared: Option<Shared>,
    mirror: Option<tokio::sync::Mutex<mpsc::UnboundedReceiver<registry::Change>>>,
    /// The guest publish rate.
    pub guests: guests::Guests,
    /// The limits that keep a leaked link from taking the relay.
    pub limits: Limits,
}

/// What access needs from the relay's settings.
#[derive(Debug, Clone)]
pub struct AccessConfig {
    /// The HS256 secret.
    pub secret: Vec<u8>,
    /// A studio backend's public key (PEM), for EdDSA or RS256 tokens.
    pub public_key: Option<Vec<u8>>,
    /// Where revocations are kept (one node); `None`: in memory (or Redis).
    pub data: Option<PathBuf>,
    /// Redis shared by a cluster.
    pub redis: Option<String>,
    /// Guest publishes a minute.
    pub guest_rate: u32,
    /// The connections' door.
    pub gate: gate::GateLimits,
    /// New guests per link and address, an hour.
    pub guest_joins: u32,
    /// Answer bytes per share and address: at once, then a minute.
    pub address_answers: (u64, u64),
    /// Answers and bytes one address may hold in one share's log.
    pub address_hold: (u64, u64),
}

impl Access {
    /// Access for one node or, with `redis`, a node of a cluster.
    pub fn new(config: &AccessConfig) -> Result<Self, AccessError> {
        let verifier = Verifier::new(&config.secret, config.public_key.as_deref())?;
        let node = format!("{:08x}", rand::random::<u32>());
        let (shared, store, mirror_tx, mirror_rx) = match &config.redis {
            Some(url) => {
                let shared = Shared::open(url, node.clone())
                    .map_err(|e| AccessError::Redis(e.to_string()))?;
                let (tx, rx) = mpsc::unbounded_channel();
                (Some(shared), Store::open(None)?, Some(tx), Some(rx))
            }
            None => (None, Store::open(config.data.as_deref())?, None, None),
        };
        let shares = Shares::open(if shared.is_some() {
            None
        } else {
            config.data.as_deref()
        })?;
        Ok(Self {
            verifier,
            store,
            shares,
            registry: Arc::new(Registry::new(node, mirror_tx)),
            shared,
            mirror: mirror_rx.map(tokio::sync::Mutex::new),
            guests: guests::Guests::new(config.guest_rate),
            limits: Limits::new(config),
        })
    }

    /// The claims of `token`, or why it is refused (invalid, expired, revoked, or a
    /// token of a share the studio closed).
    pub fn authenticate(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.authenticate_link(token)?;
        if self.shares.needs_pin(&claims) {
            return Err(AuthError::PinRequired);
        }
        Ok(claims)
    }

    /// As [`Access::authenticate`], but a PIN-protected share's link token passes too:
    /// for its exchange, which asks for the PIN ([`Access::needs_pin`]).
    pub fn authenticate_link(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.verifier.verify(token.trim())?;
        if self.store.covers(&claims) || self.shares.shuts_out(&claims, now_secs()) {
            return Err(AuthError::Revoked);
        }
        Ok(claims)
    }

    /// Is `claims` a PIN-protected share's link token?
    pub fn needs_pin(&self, claims: &Claims) -> bool {
        self.shares.needs_pin(claims)
    }

    /// The share `id`: in a cluster as Redis has it now (a share made through another
    /// node), else as this node knows it.
    pub async fn share(&self, id: &str) -> Option<ShareRecord> {
        if let Some(shared) = &self.shared
            && let Ok(all) = shared.load_shares(now_secs()).await
        {
            let found = all.get(id).cloned();
            self.shares.replace(all);
            return found;
        }
        self.shares.get(id)
    }

    /// The share `id` as this node knows it now (no trip to Redis: for checks on every
    /// answer).
    pub fn share_known(&self, id: &str) -> Option<ShareRecord> {
        self.shares.get(id)
    }

    /// Every share, as [`Access::share`] sees each.
    pub async fn shares(&self) -> Vec<ShareRecord> {
        if let Some(shared) = &self.shared
            && let Ok(all) = shared.load_shares(now_secs()).await
        {
            self.shares.replace(all);
        }
        self.shares.all()
    }

    /// Keep a share, new or changed, on every node; once closed, its tokens are refused
    /// and its connections cut off everywhere. Says which long-expired shares' channels
    /// were forgotten on the way.
    pub async fn put_share(&self, share: ShareRecord) -> Result<Vec<String>, RevokeError> {
        let kick = self.kicks(&share);
        let forgotten = self.shares.put(share.clone(), now_secs())?;
        match &self.shared {
            Some(shared) => {
                shared.store_share(&share).await?;
                shared.tell(&Control::Share(share)).await?;
            }
            None => {
                if kick {
                    self.registry.kick(&Target::Share(share.channel));
                }
            }
        }
        Ok(forgotten)
    }

    /// Does `share`, about to be kept, cut its guests off: closed, or a PIN set anew
    /// (guests let in before then give it again)?
    fn kicks(&self, share: &ShareRecord) -> bool {
        share.closed.is_some()
            || (share.pin.is_some()
                && self.shares.get(&share.id).map(|k| k.pin_set) != Some(share.pin_set))
    }

    /// Register a connection until the guard drops.
    pub fn register(
        &self,
        conn: u64,
        claims: &Claims,
        transport: Transport,
        remote: String,
        kick: Arc<Kick>,
    ) -> Registered {
        self.registry.add(conn, claims, transport, remote, kick)
    }

    /// This node's registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Every node's connections, optionally of one subject.
    pub async fn connections(&self, sub: Option<&str>) -> Result<Vec<Connection>, Unavailable> {
        let records = match &self.shared {
            Some(shared) => shared
                .connections()
                .await?
                .into_iter()
                .filter(|r| sub.is_none_or(|s| r.connection.sub == s))
                .collect(),
            None => self.registry.list(sub),
        };
        let mut list: Vec<Connection> = records.into_iter().map(|r| r.connection).collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(list)
    }

    /// Cut off the connections `target` means, on every node; how many there were.
    pub async fn disconnect(&self, target: Target) -> Result<usize, Unavailable> {
        match &self.shared {
            Some(shared) => {
                let count = shared
                    .connections()
                    .await?
                    .iter()
                    .filter(|r| target.matches(r))
                    .count();
                shared.tell(&Control::Disconnect(target)).await?;
                Ok(count)
            }
            None => Ok(self.registry.kick(&target)),
        }
    }

    /// Revoke a token (by `jti`) or every token of a subject issued up to now; their
    /// connections are cut off on every node.
    pub async fn revoke(&self, jti: Option<&str>, sub: Option<&str>) -> Result<(), RevokeError> {
        let now = now_secs();
        let records = match &self.shared {
            Some(shared) => shared.connections().await?,
            None => self.registry.list(None),
        };
        // Kept until the token would have expired: known from a live connection, else long.
        let until = |matches: &dyn Fn(&registry::Record) -> bool| {
            records
                .iter()
                .filter(|r| matches(r))
                .map(|r| r.exp.saturating_add(60))
                .max()
                .unwrap_or(now + KEEP_UNKNOWN_SECS)
        };
        let mut revoked = Revoked::default();
        let mut targets = Vec::new();
        if let Some(jti) = jti {
            // Kept as long as the token itself lives (its children expire no later).
            revoked
                .jti
                .insert(jti.to_string(), until(&|r| r.jti.as_deref() == Some(jti)));
            targets.push(Target::Jti(jti.to_string()));
        }
        if let Some(sub) = sub {
            revoked.sub.insert(
                sub.to_string(),
                SubjectRevoked {
                    before: now,
                    until: now + KEEP_UNKNOWN_SECS,
                },
            );
            targets.push(Target::SubBefore(sub.to_string(), now));
        }
        self.store.add(revoked.clone())?;
        match &self.shared {
            Some(shared) => {
                shared.store(&revoked).await?;
                shared.tell(&Control::Revoke(revoked)).await?;
            }
            None => {
                for target in &targets {
                    self.registry.kick(target);
                }
            }
        }
        Ok(())
    }

    /// Carry out a control message from any node.
    fn control(&self, control: Control) {
        match control {
            Control::Disconnect(target) => {
                self.registry.kick(&target);
            }
            Control::Revoke(revoked) => {
                let now = now_secs();
                for jti in revoked.jti.keys() {
                    self.registry.kick(&Target::Jti(jti.clone()));
                }
                for (sub, r) in &revoked.sub {
                    self.registry
                        .kick(&Target::SubBefore(sub.clone(), r.before.min(now)));
                }
                if let Err(e) = self.store.add(revoked) {
                    tracing::error!("keeping a revocation: {e}");
                }
            }
            Control::Share(share) => {
                let kick = self.kicks(&share).then(|| share.channel.clone());
                if let Err(e) = self.shares.put(share, now_secs()).map(drop) {
                    tracing::error!("keeping a share: {e}");
                }
                if let Some(channel) = kick {
                    self.registry.kick(&Target::Share(channel));
                }
            }
        }
    }

    /// In a cluster, read the revocations every node keeps before the first connection
    /// (a node that restarts must refuse what was revoked). Redis down: it goes on and
    /// reads them once Redis answers.
    pub async fn prepare(&self) {
        let Some(shared) = &self.shared else {
            return;
        };
        let load = async {
            Ok::<_, Unavailable>((shared.load().await?, shared.load_shares(now_secs()).await?))
        };
        match tokio::time::timeout(Duration::from_secs(3), load).await {
            Ok(Ok((revoked, shares))) => {
                self.store.replace(revoked);
                self.shares.replace(shares);
            }
            Ok(Err(e)) => tracing::warn!("reading revocations from redis: {e}; retrying"),
            Err(_) => tracing::warn!("reading revocations from redis timed out; retrying"),
        }
    }

    /// In a cluster: mirror this node's connections, keep it alive, hear the other
    /// nodes, and reload the revocations now and then. Runs until aborted; returns at once
    /// for a single node.
    pub async fn run(self: Arc<Self>) {
        let (Some(shared), Some(mirror)) = (&self.shared, &self.mirror) else {
            return;
        };
        let mirror = async {
            let mut rx = mirror.lock().await;
            while let Some(change) = rx.recv().await {
                if let Err(e) = shared.mirror(&change).await {
                    tracing::warn!("mirroring a connection to redis: {e}");
                }
            }
        };
        let heartbeat = async {
            loop {
                if let Err(e) = shared.heartbeat().await {
                    tracing::debug!("redis heartbeat: {e}");
                }
                match shared.load().await {
                    Ok(all) => self.store.replace(all),
                    Err(e) => tracing::debug!("reloading revocations: {e}"),
                }
                match shared.load_shares(now_secs()).await {
                    Ok(all) => self.shares.replace(all),
                    Err(e) => tracing::debug!("reloading shares: {e}"),
                }
                tokio::time::sleep(shared::NODE_TTL / 3).await;
            }
        };
        let listen = async {
            let mut attempt = 0;
            loop {
                let error = shared.listen(|c| self.control(c)).await;
                tracing::debug!("redis control channel: {error}");
                attempt += 1;
                let pause = shotline_protocol::retry::backoff(
                    attempt,
                    Duration::from_millis(100),
                    Duration::from_secs(5),
                );
                tokio::time::sleep(pause).await;
            }
        };
        tokio::join!(mirror, heartbeat, listen);
    }
}

/// A revocation (or a share) could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// Redis is unreachable.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// The revocations file could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
}
