//! The blob store in a cluster: Redis, which every node already shares. One Lua script
//! per put (keep, index, evict past the limit) and per dropped channel, so nodes never see
//! half an eviction.

use std::time::Duration;

use axum::body::Bytes;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Script};

use super::{age, now_ms};
use crate::backend::Unavailable;

/// Keys: `shotline:blob:<channel>/<name>` (the bytes), the sorted set `shotline:blobs`
/// (score: the share's first put; member: `<13-digit ms>/<channel>/<name>`, so a share's
/// blobs sort oldest first), hashes `shotline:blobidx` (id → member), `shotline:blobsize`
/// (id → bytes) and `shotline:blobchan` (channel → first put, unique among shares: the
/// string `shotline:blobclock` keeps the last one given), and `shotline:blobtotal`.
const PUT: &str = r#"
local ch, name, data, now, limit, age = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local id = ch .. '/' .. name
local old = redis.call('HGET', 'shotline:blobidx', id)
if old then
  redis.call('ZREM', 'shotline:blobs', old)
  redis.call('DECRBY', 'shotline:blobtotal', tonumber(redis.call('HGET', 'shotline:blobsize', id) or '0'))
end
if age > 0 and redis.call('HEXISTS', 'shotline:blobchan', ch) == 0 then
  -- Shares begun in the same millisecond still get an order: the first put's clock only
  -- moves forward.
  local last = tonumber(redis.call('GET', 'shotline:blobclock') or '0')
  if age <= last then age = last + 1 end
  redis.call('SET', 'shotline:blobclock', age)
end
redis.call('HSETNX', 'shotline:blobchan', ch, age)
local first = redis.call('HGET', 'shotline:blobchan', ch)
local member = string.format('%013d', now) .. '/' .. id
redis.call('SET', 'shotline:blob:' .. id, data)
redis.call('ZADD', 'shotline:blobs', first, member)
redis.call('HSET', 'shotline:blobidx', id, member)
redis.call('HSET', 'shotline:blobsize', id, #data)
local total = redis.call('INCRBY', 'shotline:blobtotal', #data)
local evicted = 0
while total > limit do
  local oldest = redis.call('ZRANGE', 'shotline:blobs', 0, 0)[1]
  if not oldest or oldest == member then break end
  local oid = string.sub(oldest, 15)
  local size = tonumber(redis.call('HGET', 'shotline:blobsize', oid) or '0')
  redis.call('DEL', 'shotline:blob:' .. oid)
  redis.call('HDEL', 'shotline:blobidx', oid)
  redis.call('HDEL', 'shotline:blobsize', oid)
  redis.call('ZREM', 'shotline:blobs', oldest)
  total = redis.call('DECRBY', 'shotline:blobtotal', size)
  evicted = evicted + 1
end
return evicted
"#;

const DROP: &str = r#"
local ch = ARGV[1]
local first = redis.call('HGET', 'shotline:blobchan', ch)
if not first then return 0 end
local n = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', 'shotline:blobs', first, first)) do
  local oid = string.sub(m, 15)
  if string.sub(oid, 1, #ch + 1) == ch .. '/' then
    local size = tonumber(redis.call('HGET', 'shotline:blobsize', oid) or '0')
    redis.call('DEL', 'shotline:blob:' .. oid)
    redis.call('HDEL', 'shotline:blobidx', oid)
    redis.call('HDEL', 'shotline:blobsize', oid)
    redis.call('ZREM', 'shotline:blobs', m)
    redis.call('DECRBY', 'shotline:blobtotal', size)
    n = n + 1
  end
end
redis.call('HDEL', 'shotline:blobchan', ch)
return n
"#;

/// A Redis connection made on first use, and made again after it broke.
pub struct LazyRedis {
    client: Client,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
}

impl std::fmt::Debug for LazyRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyRedis").finish_non_exhaustive()
    }
}

impl LazyRedis {
    /// The Redis at `url` (not connected yet).
    pub fn open(url: &str) -> Result<Self, Unavailable> {
        Ok(Self {
            client: Client::open(url).map_err(|e| Unavailable(e.to_string()))?,
            conn: tokio::sync::Mutex::new(None),
        })
    }

    /// Run `f` on the connection (connecting first when there is none).
    pub async fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut MultiplexedConnection) -> redis::RedisResult<T>,
    ) -> Result<T, Unavailable> {
        let mut conn = {
            let mut slot = self.conn.lock().await;
            match slot.as_ref() {
                Some(conn) => conn.clone(),
                None => {
                    let config = AsyncConnectionConfig::new()
                        .set_connection_timeout(Some(Duration::from_secs(2)))
                        .set_response_timeout(Some(Duration::from_secs(5)));
                    let conn = self
                        .client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await
                        .map_err(|e| Unavailable(e.to_string()))?;
                    *slot = Some(conn.clone());
                    conn
                }
            }
        };
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
}

/// A cluster's blobs in Redis.
pub struct RedisBlobs {
    redis: LazyRedis,
    limit: u64,
    put: Script,
    drop: Script,
}

impl std::fmt::Debug for RedisBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBlobs")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl RedisBlobs {
    /// Blobs in the Redis at `url` (connected on first use), `limit` bytes at most.
    pub fn open(url: &str, limit: u64) -> Result<Self, Unavailable> {
        Ok(Self {
            redis: LazyRedis::open(url)?,
            limit,
            put: Script::new(PUT),
            drop: Script::new(DROP),
        })
    }

    async fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut MultiplexedConnection) -> redis::RedisResult<T>,
    ) -> Result<T, Unavailable> {
        self.redis.run(f).await
    }

    pub(super) async fn put(
        &self,
        channel: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<usize, Unavailable> {
        let now = now_ms();
        self.run(async |c| {
            self.put
                .arg(channel)
                .arg(name)
                .arg(bytes)
                .arg(now)
                .arg(self.limit)
                .arg(age(channel, now))
                .invoke_async::<usize>(c)
                .await
        })
        .await
    }

    pub(super) async fn get(
        &self,
        channel: &str,
        name: &str,
    ) -> Result<Option<Bytes>, Unavailable> {
        let key = format!("shotline:blob:{channel}/{name}");
        let bytes: Option<Vec<u8>> = self
            .run(async |c| redis::cmd("GET").arg(&key).query_async(c).await)
            .await?;
        Ok(bytes.map(Bytes::from))
    }

    pub(super) async fn drop_channel(&self, channel: &str) -> Result<usize, Unavailable> {
        self.run(async |c| self.drop.arg(channel).invoke_async::<usize>(c).await)
            .await
    }
}
