//! Scale-out through Redis: the channels' offsets, history, id index and snapshot live in
//! Redis, so any node can resume any client, and every event reaches every node through
//! Redis pub/sub.
//!
//! Per channel `c`, the keys share the hash tag `{c}` (one Redis Cluster slot):
//! `shotline:{c}:seq` (latest offset), `:stream` (a Stream whose entry ids are the
//! offsets, capped at the history length), `:ids` (a sorted set, publisher id → offset,
//! for idempotent publish), `:snap` (a hash, event type → latest event) and `:epoch`.
//! A publish is one Lua script: duplicate check, `INCR`, `XADD`, snapshot, `PUBLISH` of
//! the finished `event` frame on `shotline:ev:c`, so offsets, history and live delivery
//! always agree. When the keys are lost (Redis restarted without persistence, or the
//! channel idle past the expiry) the next script starts a new epoch, so clients are told
//! honestly that they cannot resume.

use crate::hub::Frame;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, RedisError, Script, Value as RedisValue};
use serde_json::Value;

/// Prefix of every key and pub/sub channel.
const PREFIX: &str = "shotline";

/// Channel keys expire this long after the last publish, at the least.
const MIN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Makes sure the channel has an epoch; without one, the other keys are from a lost
/// generation and are cleared. Shared by both scripts.
const ENSURE_EPOCH: &str = r"
local function ensure_epoch(seq, stream, ids, snap, epoch, fresh)
  local current = redis.call('GET', epoch)
  if current then return current end
  redis.call('DEL', seq, stream, ids, snap)
  redis.call('SET', epoch, fresh)
  return fresh
end
";

/// KEYS: seq, stream, ids, snap, epoch.
/// ARGV: id, id as JSON, channel as JSON, event type, event JSON, history length, ids kept,
/// expiry ms, a fresh epoch, pub/sub channel.
/// Returns {offset, duplicate (0/1), epoch}.
const PUBLISH: &str = r#"
local epoch = ensure_epoch(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[9])
local known = redis.call('ZSCORE', KEYS[3], ARGV[1])
if known then return {tonumber(known), 1, epoch} end
local offset = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
local ts = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
local frame = '{"type":"event","channel":' .. ARGV[3] .. ',"offset":' .. offset ..
  ',"id":' .. ARGV[2] .. ',"ts":' .. ts .. ',"event":' .. ARGV[5] .. '}'
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[6], offset .. '-0', 't', ts, 'f', frame)
redis.call('ZADD', KEYS[3], offset, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[7]) + 1))
redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])
for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ARGV[8]) end
redis.call('PUBLISH', ARGV[10], offset .. ' ' .. epoch .. ' ' .. frame)
return {offset, 0, epoch}
"#;

/// KEYS: seq, stream, ids, snap, epoch.
/// ARGV: first offset wanted ('' for none), how many at most, '1' for the snapshot,
/// a fresh epoch.
/// Returns {epoch, latest, entries, snapshot as a flat list}.
const READ: &str = r"
local epoch = ensure_epoch(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[4])
local latest = tonumber(redis.call('GET', KEYS[1]) or '0')
local entries = {}
if ARGV[1] ~= '' then
  entries = redis.call('XRANGE', KEYS[2], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
end
local snap = {}
if ARGV[3] == '1' then snap = redis.call('HGETALL', KEYS[4]) end
return {epoch, latest, entries, snap}
";

/// Redis is unreachable or answered with an error.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct Unavailable(pub String);

impl From<RedisError> for Unavailable {
    fn from(e: RedisError) -> Self {
        Self(e.to_string())
    }
}

/// What a publish did.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The event's offset (the first one's, for a duplicate id).
    pub offset: u64,
    /// True when the id was seen before and nothing was sent.
    pub duplicate: bool,
}

/// One event read back from a channel's stream.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Offset in its channel.
    pub offset: u64,
    /// Relay time, ms since the Unix epoch.
    pub ts: u64,
    /// The finished `event` frame.
    pub frame: Frame,
}

/// A consistent read of a channel.
#[derive(Debug, Clone)]
pub struct Read {
    /// The channel's epoch.
    pub epoch: String,
    /// The latest offset.
    pub latest: u64,
    /// Events from the first offset asked for, in order.
    pub entries: Vec<Entry>,
    /// Latest event of each type, ordered by type.
    pub snapshot: Vec<Value>,
}

/// One event as it arrives over pub/sub.
#[derive(Debug, Clone)]
pub struct Live {
    /// The relay channel.
    pub channel: String,
    /// Offset in its channel.
    pub offset: u64,
    /// The channel's epoch.
    pub epoch: String,
    /// The finished `event` frame.
    pub frame: Frame,
}

/// A connection to the shared Redis, re-established on demand.
#[derive(Debug)]
pub struct Redis {
    client: Client,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    publish: Script,
    read: Script,
    history: usize,
    ttl: Duration,
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
    pub fn open(url: &str, history: usize, history_age: Duration) -> Result<Self, String> {
        let client = Client::open(url)
            .map_err(|e| format!("redis URL {url:?}: {e}; write e.g. redis://127.0.0.1:6379/0"))?;
        Ok(Self {
            client,
            conn: tokio::sync::Mutex::new(None),
            publish: Script::new(&format!("{ENSURE_EPOCH}{PUBLISH}")),
            read: Script::new(&format!("{ENSURE_EPOCH}{READ}")),
            history: history.max(1),
            ttl: history_age.max(MIN_TTL),
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

    /// Publish `event` (already validated) under `id` on `channel`.
    pub async fn publish(
        &self,
        channel: &str,
        id: &str,
        event: &Value,
    ) -> Result<Appended, Unavailable> {
        let kind = event["type"].as_str().unwrap_or_default();
        let json = |v: &str| serde_json::to_string(v).unwrap_or_default();
        let mut invocation = self.publish.prepare_invoke();
        for key in keys(channel) {
            invocation.key(key);
        }
        invocation
            .arg(id)
            .arg(json(id))
            .arg(json(channel))
            .arg(kind)
            .arg(event.to_string())
            .arg(self.history)
            .arg(self.history.max(crate::hub::MIN_IDS))
            .arg(self.ttl.as_millis() as u64)
            .arg(fresh_epoch())
            .arg(topic(channel));
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

    /// The channel's epoch and latest offset, the events from offset `from` on (when
    /// given; at most the history length), and the snapshot when asked for — all from one
    /// atomic script.
    pub async fn read(
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
            .arg(fresh_epoch());
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
        let mut entries = Vec::new();
        for entry in reply.get(2).map(items).unwrap_or_default() {
            let [id, fields] = items(entry) else {
                return Err(bad_reply("XRANGE"));
            };
            let offset = text(id)
                .and_then(|id| id.split('-').next().and_then(|o| o.parse().ok()))
                .ok_or_else(|| bad_reply("XRANGE"))?;
            let (mut ts, mut frame) = (0, None);
            for pair in items(fields).chunks(2) {
                match (pair.first().and_then(text).as_deref(), pair.get(1)) {
                    (Some("t"), Some(v)) => ts = number(v).unwrap_or_default(),
                    (Some("f"), Some(v)) => frame = text(v),
                    _ => {}
                }
            }
            let frame = frame.ok_or_else(|| bad_reply("XRANGE"))?;
            entries.push(Entry {
                offset,
                ts,
                frame: frame.into(),
            });
        }
        let mut snapshot: Vec<(String, Value)> = reply
            .get(3)
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
        Ok(Read {
            epoch,
            latest,
            entries,
            snapshot: snapshot.into_iter().map(|(_, event)| event).collect(),
        })
    }

    /// Subscribe to every channel's events over pub/sub. `on_connected` runs once the
    /// subscription stands (to catch up on what was missed while it did not); the
    /// function returns when the connection is lost.
    pub async fn listen<C, F>(&self, on_connected: C, mut on_event: impl FnMut(Live)) -> Unavailable
    where
        C: FnOnce() -> F,
        F: Future<Output = ()>,
    {
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
        on_connected().await;
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let Some(channel) = message
                .get_channel_name()
                .strip_prefix(&format!("{PREFIX}:ev:"))
                .map(str::to_string)
            else {
                continue;
            };
            let Ok(payload) = std::str::from_utf8(message.get_payload_bytes()) else {
                continue;
            };
            let mut parts = payload.splitn(3, ' ');
            let (Some(offset), Some(epoch), Some(frame)) = (
                parts.next().and_then(|o| o.parse().ok()),
                parts.next(),
                parts.next(),
            ) else {
                tracing::warn!(channel, "malformed pub/sub message ignored");
                continue;
            };
            on_event(Live {
                channel,
                offset,
                epoch: epoch.to_string(),
                frame: frame.into(),
            });
        }
        Unavailable("the pub/sub connection closed".into())
    }
}
