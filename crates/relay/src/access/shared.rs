//! Access state every node of a cluster shares through Redis: revocations (hashes
//! `shotline:revoked:jti` and `shotline:revoked:sub`, kept across restarts), the
//! gallery's shares (hash `shotline:shares`), each node's
//! connections (`shotline:conns:<node>`, alive while `shotline:node:<node>` is), and a
//! control channel (`shotline:ctl`) that tells every node to cut connections off.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, AsyncConnectionConfig, Client};
use serde::{Deserialize, Serialize};

use super::registry::{Change, Record, Target};
use super::revocations::{Revoked, SubjectRevoked};
use super::shares::ShareRecord;
use crate::backend::Unavailable;

const CONTROL: &str = "shotline:ctl";
const JTI: &str = "shotline:revoked:jti";
const SUB: &str = "shotline:revoked:sub";
const SHARES: &str = "shotline:shares";
/// A node counts as alive this long after its last heartbeat.
pub const NODE_TTL: Duration = Duration::from_secs(30);

/// A message to every node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// Cut these connections off.
    Disconnect(Target),
    /// These revocations are new: keep them, cut their connections off.
    Revoke(Revoked),
    /// A share is new or changed (closed: cut its pages off).
    Share(ShareRecord),
}

/// The link to the shared Redis.
pub struct Shared {
    client: Client,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    node: String,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

fn conns_key(node: &str) -> String {
    format!("shotline:conns:{node}")
}

fn node_key(node: &str) -> String {
    format!("shotline:node:{node}")
}

impl Shared {
    /// A link for node `node` to the Redis at `url` (connected on first use).
    pub fn open(url: &str, node: String) -> Result<Self, Unavailable> {
        let client = Client::open(url).map_err(|e| Unavailable(e.to_string()))?;
        Ok(Self {
            client,
            conn: tokio::sync::Mutex::new(None),
            node,
        })
    }

    async fn conn(&self) -> Result<MultiplexedConnection, Unavailable> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(3)));
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| Unavailable(e.to_string()))?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut MultiplexedConnection) -> redis::RedisResult<T>,
    ) -> Result<T, Unavailable> {
        let mut conn = self.conn().await?;
        match f(&mut conn).await {
            Ok(v) => Ok(v),
            Err(e) => {
                if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() {
                    *self.conn.lock().await = None;
                }
                Err(Unavailable(e.to_string()))
            }
        }
    }

    /// Mirror one registry change.
    pub async fn mirror(&self, change: &Change) -> Result<(), Unavailable> {
        let key = conns_key(&self.node);
        match change {
            Change::Put(record) => {
                let json = serde_json::to_string(record)
                    .unwrap_or_else(|e| unreachable!("records serialise: {e}"));
                let id = record.connection.id.clone();
                self.run(async |c| c.hset::<_, _, _, ()>(&key, id, json).await)
                    .await
            }
            Change::Remove(id) => {
                let id = id.clone();
                self.run(async |c| c.hdel::<_, _, ()>(&key, id).await).await
            }
        }
    }

    /// Say this node is alive (and keep its connections listed).
    pub async fn heartbeat(&self) -> Result<(), Unavailable> {
        let (node, conns) = (node_key(&self.node), conns_key(&self.node));
        let ttl = NODE_TTL.as_millis() as u64;
        self.run(async |c| {
            redis::pipe()
                .cmd("SET")
                .arg(&node)
                .arg(1)
                .arg("PX")
                .arg(ttl)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&conns)
                .arg(ttl * 2)
                .ignore()
                .query_async::<()>(c)
                .await
        })
        .await
    }

    /// Every live node's connections.
    pub async fn connections(&self) -> Result<Vec<Record>, Unavailable> {
        let keys: Vec<String> = self
            .run(async |c| {
                let mut iter: redis::AsyncIter<'_, String> =
                    c.scan_match("shotline:conns:*").await?;
                let mut keys = Vec::new();
                while let Some(key) = futures_util::StreamExt::next(&mut iter).await {
                    keys.push(key?);
                }
                Ok(keys)
            })
            .await?;
        let mut out = Vec::new();
        for key in keys {
            let node = key.trim_start_matches("shotline:conns:").to_string();
            let alive: bool = self.run(async |c| c.exists(node_key(&node)).await).await?;
            if !alive {
                // A node that died without saying so: its connections are gone.
                let _: Result<(), _> = self.run(async |c| c.del(&key).await).await;
                continue;
            }
            let values: Vec<String> = self.run(async |c| c.hvals(&key).await).await?;
            out.extend(values.iter().filter_map(|v| serde_json::from_str(v).ok()));
        }
        Ok(out)
    }

    /// Keep `revoked` in Redis.
    pub async fn store(&self, revoked: &Revoked) -> Result<(), Unavailable> {
        for (jti, until) in &revoked.jti {
            let (jti, until) = (jti.clone(), *until);
            self.run(async |c| c.hset::<_, _, _, ()>(JTI, jti, until).await)
                .await?;
        }
        for (sub, r) in &revoked.sub {
            let (sub, json) = (sub.clone(), serde_json::to_string(r).unwrap_or_default());
            self.run(async |c| c.hset::<_, _, _, ()>(SUB, sub, json).await)
                .await?;
        }
        Ok(())
    }

    /// Every revocation kept in Redis.
    pub async fn load(&self) -> Result<Revoked, Unavailable> {
        let jti: std::collections::HashMap<String, u64> =
            self.run(async |c| c.hgetall(JTI).await).await?;
        let sub: std::collections::HashMap<String, String> =
            self.run(async |c| c.hgetall(SUB).await).await?;
        Ok(Revoked {
            jti,
            sub: sub
                .into_iter()
                .filter_map(|(k, v)| Some((k, serde_json::from_str::<SubjectRevoked>(&v).ok()?)))
                .collect(),
        })
    }

    /// Keep a share in Redis.
    pub async fn store_share(&self, share: &ShareRecord) -> Result<(), Unavailable> {
        let (id, json) = (
            share.id.clone(),
            serde_json::to_string(share).unwrap_or_default(),
        );
        self.run(async |c| c.hset::<_, _, _, ()>(SHARES, id, json).await)
            .await
    }

    /// Every share kept in Redis (and forget those long expired).
    pub async fn load_shares(
        &self,
        now: u64,
    ) -> Result<std::collections::HashMap<String, ShareRecord>, Unavailable> {
        let all: std::collections::HashMap<String, String> =
            self.run(async |c| c.hgetall(SHARES).await).await?;
        let mut shares = std::collections::HashMap::new();
        for (id, json) in all {
            match serde_json::from_str::<ShareRecord>(&json) {
                Ok(s) if s.exp.saturating_add(super::shares::KEEP_AFTER_EXPIRY_SECS) > now => {
                    shares.insert(id, s);
                }
                _ => {
                    let _: Result<(), _> = self.run(async |c| c.hdel(SHARES, &id).await).await;
                }
            }
        }
        Ok(shares)
    }

    /// Tell every node (this one included).
    pub async fn tell(&self, control: &Control) -> Result<(), Unavailable> {
        let json = serde_json::to_string(control)
            .unwrap_or_else(|e| unreachable!("controls serialise: {e}"));
        self.run(async |c| c.publish::<_, _, ()>(CONTROL, json).await)
            .await
    }

    /// Hear every node's control messages until the link is lost.
    pub async fn listen(&self, mut on: impl FnMut(Control)) -> Unavailable {
        let mut pubsub = match tokio::time::timeout(
            Duration::from_secs(3),
            self.client.get_async_pubsub(),
        )
        .await
        {
            Ok(Ok(pubsub)) => pubsub,
            Ok(Err(e)) => return Unavailable(e.to_string()),
            Err(_) => return Unavailable("connecting for pub/sub timed out".into()),
        };
        if let Err(e) = pubsub.subscribe(CONTROL).await {
            return Unavailable(e.to_string());
        }
        let mut messages = pubsub.on_message();
        while let Some(message) = futures_util::StreamExt::next(&mut messages).await {
            match serde_json::from_slice::<Control>(message.get_payload_bytes()) {
                Ok(control) => on(control),
                Err(e) => tracing::warn!("a control message not understood: {e}"),
            }
        }
        Unavailable("the control channel closed".into())
    }
}
