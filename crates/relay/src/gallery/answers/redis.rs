//! A cluster's answer logs in Redis: per share channel a list, the set of ids kept, the
//! bytes each guest has left and the list's bytes, all checked and appended by one Lua
//! script, so every node holds a share to the same quotas.

use std::time::Duration;

use redis::Script;

use super::{AppendError, Lock, MAX_ANSWERS, Quotas};
use crate::backend::Unavailable;
use crate::gallery::blobs::LazyRedis;

/// KEYS: the list, its ids (a set), bytes per guest (a hash), total bytes, the guests
/// whose selection is locked (a set).
/// ARGV: line, id, guest, bytes, guest quota, share quota, answers at most, expiry ms,
/// what the answer does to the selection (`pick`, `submit`, `unlock`, or empty), the
/// guest an unlock is for.
/// Returns the answer's seq, or -1 (duplicate), -2 (the share's log is full), -3 (the
/// guest's quota is used), -4 (the guest's selection is locked).
const APPEND: &str = r"
if (ARGV[9] == 'pick' or ARGV[9] == 'submit') and redis.call('SISMEMBER', KEYS[5], ARGV[3]) == 1 then
  return -4
end
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then return -1 end
local size = tonumber(ARGV[4])
local total = tonumber(redis.call('GET', KEYS[4]) or '0')
if total + size > tonumber(ARGV[6]) or redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[7]) then
  return -2
end
local mine = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0')
if mine + size > tonumber(ARGV[5]) then return -3 end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[3], ARGV[3], size)
redis.call('INCRBY', KEYS[4], size)
local seq = redis.call('RPUSH', KEYS[1], ARGV[1])
if ARGV[9] == 'submit' then redis.call('SADD', KEYS[5], ARGV[3]) end
if ARGV[9] == 'unlock' then redis.call('SREM', KEYS[5], ARGV[10]) end
for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ARGV[8]) end
return seq
";

/// A cluster's answer logs outlive their last answer this long (a share's are also
/// deleted when the share is forgotten).
const REDIS_KEEP: Duration = Duration::from_secs(400 * 86_400);

fn key(channel: &str) -> String {
    format!("shotline:answers:{channel}")
}

/// The list and its companions (ids, bytes per guest, total bytes, locked guests).
fn keys(channel: &str) -> [String; 5] {
    let list = key(channel);
    [
        format!("{list}:ids"),
        format!("{list}:guests"),
        format!("{list}:bytes"),
        format!("{list}:locked"),
        list,
    ]
}

/// The logs in one Redis.
#[derive(Debug)]
pub(super) struct Logs {
    redis: LazyRedis,
    append: Script,
}

impl Logs {
    /// The logs in the Redis at `url` (connected on first use).
    pub(super) fn open(url: &str) -> Result<Self, Unavailable> {
        Ok(Self {
            redis: LazyRedis::open(url)?,
            append: Script::new(APPEND),
        })
    }

    /// Keep `line` (answer `id` by `guest`) at the end of `channel`'s log; its `seq`.
    pub(super) async fn append(
        &self,
        channel: &str,
        line: &str,
        id: &str,
        guest: &str,
        quotas: &Quotas,
        lock: &Lock,
    ) -> Result<u64, AppendError> {
        let [ids, guests, bytes, locked, list] = keys(channel);
        let (turn, target) = match lock {
            Lock::None => ("", ""),
            Lock::Pick => ("pick", ""),
            Lock::Submit => ("submit", ""),
            Lock::Unlock(guest) => ("unlock", guest.as_str()),
        };
        let seq: i64 = self
            .redis
            .run(async |c| {
                self.append
                    .key(&list)
                    .key(&ids)
                    .key(&guests)
                    .key(&bytes)
                    .key(&locked)
                    .arg(line)
                    .arg(id)
                    .arg(guest)
                    .arg(line.len() + 1)
                    .arg(quotas.guest)
                    .arg(quotas.share)
                    .arg(MAX_ANSWERS)
                    .arg(REDIS_KEEP.as_millis() as u64)
                    .arg(turn)
                    .arg(target)
                    .invoke_async(c)
                    .await
            })
            .await?;
        match seq {
            -1 => Err(AppendError::Duplicate),
            -2 => Err(AppendError::Full),
            -3 => Err(AppendError::GuestFull),
            -4 => Err(AppendError::Locked),
            seq => Ok(seq as u64),
        }
    }

    /// Up to `limit` lines of `channel`'s log after the `after`th, and the log's length.
    pub(super) async fn since(
        &self,
        channel: &str,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<String>, u64), Unavailable> {
        let key = key(channel);
        let first = i64::try_from(after).unwrap_or(i64::MAX);
        self.redis
            .run(async |c| {
                redis::pipe()
                    .cmd("LRANGE")
                    .arg(&key)
                    .arg(first)
                    .arg(first.saturating_add(limit as i64 - 1))
                    .cmd("LLEN")
                    .arg(&key)
                    .query_async(c)
                    .await
            })
            .await
    }

    /// Delete `channel`'s log.
    pub(super) async fn forget(&self, channel: &str) -> Result<(), Unavailable> {
        let keys = keys(channel);
        self.redis
            .run(async |c| redis::cmd("DEL").arg(&keys[..]).query_async(c).await)
            .await
    }
}
