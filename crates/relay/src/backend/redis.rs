//! Scale-out through Redis: the channels' offsets, history, id index and snapshot live in
//! Redis, so any node can resume any client, and every event reaches every node through
//! Redis pub/sub.
//!
//! Per channel `c`, the keys share the hash tag `{c}` (one Redis Cluster slot):
//! `shotline:{c}:seq` (latest offset), `:stream` (a Stream whose entry ids are the
//! offsets, capped at the history length), `:ids` (a sorted set, publisher id → offset,
//! for idempotent publish), `:snap` (a hash, event type → latest event) and `:epoch`.
//! A publish is one Lua script: duplicate check, `INCR`, `XADD`, snapshot, `PUBLISH` on
//! `shotline:ev:c` of the event's parts (offset, epoch, time, id, event, excluded
//! subjects) as a JSON array, so offsets, history and live delivery always agree; every
//! node builds the frame from the parts with [`super::event_frame`]. When the keys are lost (Redis restarted without persistence, or the
//! channel idle past the expiry) the next script starts a new epoch, so clients are told
//! honestly that they cannot resume.

use std::sync::OnceLock;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, RedisError, Script, Value as RedisValue};
use serde_json::Value;

use super::{
    Appended, Backend, BoxFuture, Entry, Live, LiveSink, MIN_IDS, Publish, Read, Unavailable,
    event_frame,
};

/// Prefix of every key and pub/sub channel.
const PREFIX: &str = "shotline";

/// Channel keys expire this long after the last publish, at the least.
const MIN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Makes sure the channel has an epoch; without one, the other keys are from a lost
/// generation and are cleared. Shared by both scripts.
const ENSURE_EPOCH: &str = r"
local function ensure_epoch(seq, stream, ids, snap, epoch, fresh, ttl)
  local current = redis.call('GET', epoch)
  if current then return current end
  redis.call('DEL', seq, stream, ids, snap)
  redis.call('SET', epoch, fresh, 'PX', ttl)
  return fresh
end
";

/// KEYS: seq, stream, ids, snap, epoch.
/// ARGV: id, id as JSON, excluded subjects as a JSON array, event type, event JSON,
/// history length, ids kept, expiry ms, a fresh epoch, pub/sub channel.
/// Returns {offset, duplicate (0/1), epoch}.
const PUBLISH: &str = r#"
local epoch = ensure_epoch(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[9], ARGV[8])
local known = redis.call('ZSCORE', KEYS[3], ARGV[1])
if known then return {tonumber(known), 1, epoch} end
local offset = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
local ts = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[6], offset .. '-0', 't', ts, 'i', ARGV[1],
  'e', ARGV[5], 'x', ARGV[3])
redis.call('ZADD', KEYS[3], offset, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[7]) + 1))
redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])
for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ARGV[8]) end
redis.call('PUBLISH', ARGV[10], '[' .. offset .. ',"' .. epoch .. '",' .. ts .. ',' ..
  ARGV[2] .. ',' .. ARGV[5] .. ',' .. ARGV[3] .. ']')
return {offset, 0, epoch}
"#;

/// KEYS: seq, stream, ids, snap, epoch.
/// ARGV: first offset wanted ('' for none), how many at most, '1' for the snapshot,
/// a fresh epoch, expiry ms (a channel only read is forgotten after it).
/// Returns {epoch, latest, entries, snapshot as a flat list}.
const READ: &str = r"
local epoch = ensure_epoch(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[4], ARGV[5])
local latest = tonumber(redis.call('GET', KEYS[1]) or '0')
local entries = {}
if ARGV[1] ~= '' then
  entries = redis.call('XRANGE', KEYS[2], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
end
local snap = {}
if ARGV[3] == '1' then snap = redis.call('HGETALL', KEYS[4]) end
return {epoch, latest, entries, snap}
";

impl From<RedisError> for Unavailable {
    fn from(e: RedisError) -> Self {
        Self(e.to_string())
    }
}

/// The Redis URL cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("redis URL {url:?}: {why}; write e.g. redis://127.0.0.1:6379/0")]
pub struct BadUrl {
    url: String,
    why: String,
}

/// A connection to the shared Redis, re-established on demand.
pub struct Redis {
    client: Client,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    publish: Script,
    read: Script,
    history: usize,
    ttl: Duration,
    sink: OnceLock<LiveSink>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("client", &self.client)
            .field("history", &self.history)
            .finish_non_exhaustive()
    }
}

fn keys(channel: &str) -> [String; 5] {
    ["seq", "stream", "ids", "snap", "epoch"].map(|k| format!("{PREFIX}:{{{channel}}}:{k}"))
}

/// The pub/sub channel carrying `channel`'s events.
fn topic(channel: &str) -> String {
    format!("{PREFIX}:ev:{channel}")
}

fn fresh_epoch() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{:x}",
        (nanos as u64) ^ u64::from(std::process::id()).rotate_left(40)
    )
}

fn text(value: &RedisValue) -> Option<String> {
    match value {
        RedisValue::BulkString(b) => String::from_utf8(b.clone()).ok(),
        RedisValue::SimpleString(s) => Some(s.clone()),
        RedisValue::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn number(value: &RedisValue) -> Option<u64> {
    match value {
        RedisValue::Int(i) => u64::try_from(*i).ok(),
        other => text(other)?.parse().ok(),
    }
}

fn items(value: &RedisValue) -> &[RedisValue] {
    match value {
        RedisValue::Array(items) | RedisValue::Set(items) => items,
        _ => &[],
    }
}

fn bad_reply(what: &str) -> Unavailable {
    Unavailable(format!("unexpected reply from redis to {what}"))
}

impl Redis {
    /// A client for `url` (`redis://host:port/db`); nothing is connected yet.
    pub fn open(url: &str, history: usize, history_age: Duration) -> Result<Self, BadUrl> {
        let client = Client::open(url).map_err(|e| BadUrl {
            url: url.into(),
            why: e.to_string(),
        })?;
        Ok(Self {
            client,
            conn: tokio::sync::Mutex::new(None),
            publish: Script::new(&format!("{ENSURE_EPOCH}{PUBLISH}")),
            read: Script::new(&format!("{ENSURE_EPOCH}{READ}")),
            history: history.max(1),
            ttl: history_age.max(MIN_TTL),
            sink: OnceLock::new(),
        })
    }

    fn connection_config() -> AsyncConnectionConfig {
        AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(3)))
    }

    async fn conn(&self) -> Result<MultiplexedConnection, Unavailable> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&Self::connection_config())
            .await?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Forget the connection after an I/O failure, so the next call reconnects.
    async fn failed(&self, e: RedisError) -> Unavailable {
        if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() {
            *self.conn.lock().await = None;
        }
        e.into()
    }

    /// `PING`, for `/health`.
    pub async fn ping(&self) -> Result<(), Unavailable> {
        let mut conn = self.conn().await?;
        match redis::cmd("PING").query_async::<String>(&mut conn).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed(e).await),
        }
    }

    async fn append(&self, p: Publish<'_>) -> Result<Appended, Unavailable> {
        let kind = p.event["type"].as_str().unwrap_or_default();
        let json = |v: &str| serde_json::to_string(v).unwrap_or_default();
        let exclude = serde_json::to_string(p.exclude).unwrap_or_else(|_| "[]".into());
        let mut invocation = self.publish.prepare_invoke();
        for key in keys(p.channel) {
            invocation.key(key);
        }
        invocation
            .arg(p.id)
            .arg(json(p.id))
            .arg(exclude)
            .arg(kind)
            .arg(p.event.to_string())
            .arg(self.history)
            .arg(self.history.max(MIN_IDS))
            .arg(self.ttl.as_millis() as u64)
            .arg(fresh_epoch())
            .arg(topic(p.channel));
        let mut conn = self.conn().await?;
        let reply: RedisValue = match invocation.invoke_async(&mut conn).await {
            Ok(reply) => reply,
            Err(e) => return Err(self.failed(e).await),
        };
        let reply = items(&reply);
        match (
            reply.first().and_then(number),
            reply.get(1).and_then(number),
        ) {
            (Some(offset), Some(duplicate)) => Ok(Appended {
                offset,
                duplicate: duplicate == 1,
            }),
            _ => Err(bad_reply("publish")),
        }
    }

    async fn read_now(
        &self,
        channel: &str,
        from: Option<u64>,
        snapshot: bool,
    ) -> Result<Read, Unavailable> {
        let mut invocation = self.read.prepare_invoke();
        for key in keys(channel) {
            invocation.key(key);
        }
        invocation
            .arg(from.map(|f| f.to_string()).unwrap_or_default())
            .arg(self.history)
            .arg(if snapshot { "1" } else { "0" })
            .arg(fresh_epoch())
            .arg(self.ttl.as_millis() as u64);
        let mut conn = self.conn().await?;
        let reply: RedisValue = match invocation.invoke_async(&mut conn).await {
            Ok(reply) => reply,
            Err(e) => return Err(self.failed(e).await),
        };
        let reply = items(&reply);
        let (Some(epoch), Some(latest)) =
            (reply.first().and_then(text), reply.get(1).and_then(number))
        else {
            return Err(bad_reply("read"));
        };
        let entries = reply
            .get(2)
            .map(items)
            .unwrap_or_default()
            .iter()
            .map(|entry| stream_entry(channel, entry))
            .collect::<Result<_, _>>()?;
        Ok(Read {
            epoch,
            latest,
            entries,
            snapshot: if snapshot {
                snapshot_of(reply.get(3))
            } else {
                Vec::new()
            },
        })
    }

    /// Subscribe to every channel's events over pub/sub, into the sink; returns when the
    /// connection is lost.
    async fn listen(&self, linked: BoxFuture<'_, ()>) -> Unavailable {
        use futures_util::StreamExt;
        let mut pubsub = match tokio::time::timeout(
            Duration::from_secs(3),
            self.client.get_async_pubsub(),
        )
        .await
        {
            Ok(Ok(pubsub)) => pubsub,
            Ok(Err(e)) => return e.into(),
            Err(_) => return Unavailable("connecting for pub/sub timed out".into()),
        };
        if let Err(e) = pubsub.psubscribe(format!("{PREFIX}:ev:*")).await {
            return e.into();
        }
        linked.await;
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let Some(channel) = message
                .get_channel_name()
                .strip_prefix(&format!("{PREFIX}:ev:"))
            else {
                continue;
            };
            match live(channel, message.get_payload_bytes()) {
                Some(live) => {
                    if let Some(sink) = self.sink.get() {
                        sink(live);
                    }
                }
                None => tracing::warn!(channel, "malformed pub/sub message ignored"),
            }
        }
        Unavailable("the pub/sub connection closed".into())
    }
}

/// One pub/sub message: `[offset, epoch, ts, id, event, exclude]`.
fn live(channel: &str, payload: &[u8]) -> Option<Live> {
    let (offset, epoch, ts, id, event, exclude): (u64, String, u64, String, Value, Vec<String>) =
        serde_json::from_slice(payload).ok()?;
    Some(Live {
        channel: channel.to_string(),
        epoch,
        entry: Entry {
            offset,
            ts,
            frame: event_frame(channel, offset, &id, ts, &event),
            exclude,
        },
    })
}

/// One `XRANGE` entry: id `offset-0`, fields t (time), i (id), e (event), x (excluded).
fn stream_entry(channel: &str, entry: &RedisValue) -> Result<Entry, Unavailable> {
    let [id, fields] = items(entry) else {
        return Err(bad_reply("XRANGE"));
    };
    let offset = text(id)
        .and_then(|id| id.split('-').next().and_then(|o| o.parse().ok()))
        .ok_or_else(|| bad_reply("XRANGE"))?;
    let (mut ts, mut event_id, mut event, mut exclude) = (0, None, None, Vec::new());
    for pair in items(fields).chunks(2) {
        match (pair.first().and_then(text).as_deref(), pair.get(1)) {
            (Some("t"), Some(v)) => ts = number(v).unwrap_or_default(),
            (Some("i"), Some(v)) => event_id = text(v),
            (Some("e"), Some(v)) => event = text(v).and_then(|e| serde_json::from_str(&e).ok()),
            (Some("x"), Some(v)) => {
                exclude = text(v)
                    .and_then(|x| serde_json::from_str(&x).ok())
                    .unwrap_or_default();
            }
            _ => {}
        }
    }
    let (Some(event_id), Some(event)) = (event_id, event) else {
        return Err(bad_reply("XRANGE"));
    };
    Ok(Entry {
        offset,
        ts,
        frame: event_frame(channel, offset, &event_id, ts, &event),
        exclude,
    })
}

/// The snapshot hash as events ordered by type.
fn snapshot_of(value: Option<&RedisValue>) -> Vec<Value> {
    let mut snapshot: Vec<(String, Value)> = value
        .map(items)
        .unwrap_or_default()
        .chunks(2)
        .filter_map(|pair| {
            let kind = text(pair.first()?)?;
            let event = serde_json::from_str(&text(pair.get(1)?)?).ok()?;
            Some((kind, event))
        })
        .collect();
    snapshot.sort_by(|a, b| a.0.cmp(&b.0));
    snapshot.into_iter().map(|(_, event)| event).collect()
}

impl Backend for Redis {
    fn shared(&self) -> bool {
        true
    }

    fn health(&self) -> BoxFuture<'_, Result<(), Unavailable>> {
        Box::pin(self.ping())
    }

    fn set_sink(&self, sink: LiveSink) {
        let _ = self.sink.set(sink);
    }

    fn publish<'a>(&'a self, publish: Publish<'a>) -> BoxFuture<'a, Result<Appended, Unavailable>> {
        Box::pin(self.append(publish))
    }

    fn read<'a>(
        &'a self,
        channel: &'a str,
        from: Option<u64>,
        snapshot: bool,
    ) -> BoxFuture<'a, Result<Read, Unavailable>> {
        Box::pin(self.read_now(channel, from, snapshot))
    }

    fn follow<'a>(&'a self, linked: BoxFuture<'a, ()>) -> BoxFuture<'a, Unavailable> {
        Box::pin(self.listen(linked))
    }
}
