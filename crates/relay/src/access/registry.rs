//! Who is connected to this node: every WebSocket, Server-Sent Events stream, long poll
//! and Socket.IO connection, with its subject, role, transport, channels and address, and
//! a handle to cut it off. In a cluster each change is mirrored to Redis, so any node can
//! list every node's connections.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::auth::{Claims, Role};
use crate::queue::{Kick, KickReason};

/// How a client is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `GET /v1/ws`.
    Ws,
    /// `GET /v1/channels/{channel}/sse`.
    Sse,
    /// `GET /v1/channels/{channel}/events`, while the request lasts.
    Poll,
    /// `/socket.io/`.
    SocketIo,
    /// A live view stream (`GET /v1/live/{channel}`, `GET /v1/shares/{id}/live`).
    Live,
}

impl Transport {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Ws => "ws",
            Transport::Sse => "sse",
            Transport::Poll => "poll",
            Transport::SocketIo => "socketio",
            Transport::Live => "live",
        }
    }
}

/// One connection, as the admin API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// Unique across nodes: `<node>-<n>`.
    pub id: String,
    /// The token's subject.
    pub sub: String,
    /// The token's display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The token's role.
    pub role: Role,
    /// `ws`, `sse`, `poll` or `socketio`.
    pub transport: String,
    /// Channels it receives.
    pub channels: Vec<String>,
    /// Connected since, ms since the Unix epoch.
    pub since: u64,
    /// The client's address.
    pub remote: String,
}

/// A connection as the registry keeps it (and mirrors to Redis).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// What the admin API shows.
    #[serde(flatten)]
    pub connection: Connection,
    /// The token's id.
    #[serde(default)]
    pub jti: Option<String>,
    /// The token's `iat`.
    #[serde(default)]
    pub iat: Option<u64>,
    /// The token's expiry.
    pub exp: u64,
    /// The token's channels.
    #[serde(default)]
    pub scope: Vec<String>,
    /// The tokens it was exchanged from.
    #[serde(default)]
    pub parents: Vec<crate::auth::Parent>,
}

/// A change for the Redis mirror.
#[derive(Debug, Clone)]
pub enum Change {
    /// Added or changed.
    Put(Box<Record>),
    /// Gone.
    Remove(String),
}

struct Entry {
    record: Record,
    kick: Arc<Kick>,
}

/// This node's connections.
pub struct Registry {
    node: String,
    entries: Mutex<HashMap<u64, Entry>>,
    mirror: Option<mpsc::UnboundedSender<Change>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// Which connections an admin means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Every connection of a subject.
    Sub(String),
    /// One connection, by its id.
    Connection(String),
    /// Every connection of one token.
    Jti(String),
    /// Every connection of a subject's tokens issued at or before a time (seconds).
    SubBefore(String, u64),
    /// Every connection whose token reaches only this channel (a closed share's), but
    /// the publisher's and admins'.
    Share(String),
}

impl Target {
    /// True when `record` is one of the connections meant.
    pub fn matches(&self, record: &Record) -> bool {
        match self {
            Target::Sub(sub) => record.connection.sub == *sub,
            Target::Connection(id) => record.connection.id == *id,
            Target::Jti(jti) => {
                record.jti.as_ref() == Some(jti)
                    || record.parents.iter().any(|p| p.jti.as_ref() == Some(jti))
            }
            Target::SubBefore(sub, before) => {
                let issued_before = |iat: Option<u64>| iat.is_none_or(|iat| iat <= *before);
                (record.connection.sub == *sub && issued_before(record.iat))
                    || record
                        .parents
                        .iter()
                        .any(|p| p.sub == *sub && issued_before(p.iat))
            }
            Target::Share(channel) => {
                record.connection.role < Role::Publisher
                    && !record.scope.is_empty()
                    && record.scope.iter().all(|c| c == channel)
            }
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl Registry {
    /// A registry for node `node`; with `mirror`, every change is sent there.
    pub fn new(node: String, mirror: Option<mpsc::UnboundedSender<Change>>) -> Self {
        Self {
            node,
            entries: Mutex::new(HashMap::new()),
            mirror,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn mirror(&self, change: Change) {
        if let Some(tx) = &self.mirror {
            let _ = tx.send(change);
        }
    }

    /// The id other nodes know connection `conn` by.
    pub fn id(&self, conn: u64) -> String {
        format!("{}-{conn}", self.node)
    }

    /// Add connection `conn` of `claims`; it is removed when the returned guard drops.
    pub fn add(
        self: &Arc<Self>,
        conn: u64,
        claims: &Claims,
        transport: Transport,
        remote: String,
        kick: Arc<Kick>,
    ) -> Registered {
        let record = Record {
            connection: Connection {
                id: self.id(conn),
                sub: claims.subject().to_string(),
                name: claims.name.clone(),
                role: claims.role,
                transport: transport.as_str().to_string(),
                channels: Vec::new(),
                since: now_ms(),
                remote,
            },
            jti: claims.jti.clone(),
            iat: claims.iat,
            exp: claims.exp,
            scope: claims.channels.clone(),
            parents: claims.parents.clone(),
        };
        self.mirror(Change::Put(Box::new(record.clone())));
        self.lock().insert(conn, Entry { record, kick });
        Registered {
            registry: self.clone(),
            conn,
        }
    }

    fn update(&self, conn: u64, change: impl FnOnce(&mut Record)) {
        let record = {
            let mut entries = self.lock();
            let Some(entry) = entries.get_mut(&conn) else {
                return;
            };
            change(&mut entry.record);
            // Copied only for a cluster's mirror.
            self.mirror.as_ref().map(|_| entry.record.clone())
        };
        if let Some(record) = record {
            self.mirror(Change::Put(Box::new(record)));
        }
    }

    /// Cut off this node's connections that `cut` picks and that are not cut off yet,
    /// telling them `reason`; how many.
    pub fn kick_where(&self, reason: KickReason, cut: impl Fn(&Record) -> bool) -> usize {
        let entries = self.lock();
        let mut n = 0;
        for entry in entries.values() {
            if !entry.kick.is_set() && cut(&entry.record) {
                entry.kick.trigger(reason);
                n += 1;
            }
        }
        n
    }

    /// Cut off this node's connections that `target` means (WebSockets close with 4003,
    /// streams end); how many.
    pub fn kick(&self, target: &Target) -> usize {
        self.kick_for(target, KickReason::Disconnected)
    }

    /// As [`Registry::kick`], telling them `reason`.
    pub fn kick_for(&self, target: &Target, reason: KickReason) -> usize {
        let entries = self.lock();
        let mut n = 0;
        for entry in entries.values().filter(|e| target.matches(&e.record)) {
            entry.kick.trigger(reason);
            n += 1;
        }
        n
    }

    /// This node's connections, optionally of one subject.
    pub fn list(&self, sub: Option<&str>) -> Vec<Record> {
        let mut list: Vec<Record> = self
            .lock()
            .values()
            .filter(|e| sub.is_none_or(|s| e.record.connection.sub == s))
            .map(|e| e.record.clone())
            .collect();
        list.sort_by(|a, b| a.connection.id.cmp(&b.connection.id));
        list
    }

    /// Distinct subjects connected, and connections per role.
    pub fn census(&self) -> (usize, HashMap<Role, usize>) {
        let entries = self.lock();
        let subjects: HashSet<&str> = entries
            .values()
            .map(|e| e.record.connection.sub.as_str())
            .collect();
        let mut by_role: HashMap<Role, usize> = Role::ALL.iter().map(|r| (*r, 0)).collect();
        for entry in entries.values() {
            *by_role.entry(entry.record.connection.role).or_default() += 1;
        }
        (subjects.len(), by_role)
    }
}

/// A registered connection; removed from the registry when dropped.
pub struct Registered {
    registry: Arc<Registry>,
    conn: u64,
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("conn", &self.conn)
            .finish()
    }
}

impl Registered {
    /// The connection now receives `channel`.
    pub fn subscribed(&self, channel: &str) {
        self.registry.update(self.conn, |r| {
            if !r.connection.channels.iter().any(|c| c == channel) {
                r.connection.channels.push(channel.to_string());
            }
        });
    }

    /// The connection no longer receives `channel`.
    pub fn unsubscribed(&self, channel: &str) {
        self.registry.update(self.conn, |r| {
            r.connection.channels.retain(|c| c != channel)
        });
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if self.registry.lock().remove(&self.conn).is_some() {
            self.registry
                .mirror(Change::Remove(self.registry.id(self.conn)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn claims(sub: &str, role: Role) -> Claims {
        Claims::new(role, vec!["s:*".into()], Duration::from_secs(60)).with_sub(sub)
    }

    #[test]
    fn three_tabs_of_one_subject_are_listed_and_cut_off_together() {
        let registry = Arc::new(Registry::new("n1".into(), None));
        let kicks: Vec<Arc<Kick>> = (0..4).map(|_| Arc::new(Kick::default())).collect();
        let ana = claims("ana", Role::Subscriber);
        let tabs: Vec<Registered> = (0..3)
            .map(|i| {
                registry.add(
                    i,
                    &ana,
                    Transport::Ws,
                    "127.0.0.1:1".into(),
                    kicks[i as usize].clone(),
                )
            })
            .collect();
        let _ben = registry.add(
            3,
            &claims("ben", Role::Guest),
            Transport::Sse,
            "127.0.0.1:2".into(),
            kicks[3].clone(),
        );
        tabs[0].subscribed("s:camera");
        assert_eq!(registry.list(Some("ana")).len(), 3);
        assert_eq!(
            registry.list(Some("ana"))[0].connection.channels,
            ["s:camera"]
        );
        let (subjects, by_role) = registry.census();
        assert_eq!(
            (subjects, by_role[&Role::Subscriber], by_role[&Role::Guest]),
            (2, 3, 1)
        );
        assert_eq!(registry.kick(&Target::Sub("ana".into())), 3);
        assert!(kicks[..3].iter().all(|k| k.is_set()) && !kicks[3].is_set());
        drop(tabs);
        assert!(
            registry.list(Some("ana")).is_empty(),
            "gone when the connections end"
        );
        assert_eq!(registry.list(None).len(), 1);
    }
}
