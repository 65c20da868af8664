//! The Lua scripts of the originals area in Redis (each runs whole, so nodes never see
//! half a reservation, commit or drop).

/// Keys: the hash `shotline:orig:wanted` (`<share>/<frame>` → `<asked ms> <channel>`);
/// `shotline:orig:url:<share>/<frame>` (a presigned address, expiring with it);
/// `shotline:orig:meta:<share>/<frame>` (`<version> <size> <chunks> <name>`) and
/// `shotline:orig:chunk:<share>/<frame>/<version>:<n>`, expiring after `KEPT_FOR`; the
/// sorted set `shotline:orig:space` (member `<share>/<frame>/<version>`, score: when it
/// expires), the hash `shotline:orig:sizes` (member → `<size> <chunks>`) and the
/// string `shotline:orig:total`.
pub(super) const FORGET: &str = r#"
local function forget(m)
  local rec = redis.call('HGET', 'shotline:orig:sizes', m)
  if rec then
    local size, chunks = string.match(rec, '(%d+) (%d+)')
    for i = 0, tonumber(chunks) - 1 do redis.call('DEL', 'shotline:orig:chunk:' .. m .. ':' .. i) end
    redis.call('DECRBY', 'shotline:orig:total', tonumber(size))
    redis.call('HDEL', 'shotline:orig:sizes', m)
  end
  redis.call('ZREM', 'shotline:orig:space', m)
  local id, version = string.match(m, '^(.*)/([^/]*)$')
  local meta = redis.call('GET', 'shotline:orig:meta:' .. id)
  if meta and string.sub(meta, 1, #version + 1) == version .. ' ' then
    redis.call('DEL', 'shotline:orig:meta:' .. id)
  end
end
"#;

/// Room for a file of `size` (expired files' room taken back first), within the area and
/// the share's part of it.
pub(super) const RESERVE: &str = r#"
local member, size, chunks, now, limit, expires, share, part = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])
for _, m in ipairs(redis.call('ZRANGEBYSCORE', 'shotline:orig:space', '-inf', now)) do forget(m) end
local total = tonumber(redis.call('GET', 'shotline:orig:total') or '0')
if total + size > limit then return 0 end
local mine = 0
for _, m in ipairs(redis.call('ZRANGE', 'shotline:orig:space', 0, -1)) do
  if string.sub(m, 1, #share + 1) == share .. '/' then
    local rec = redis.call('HGET', 'shotline:orig:sizes', m)
    if rec then mine = mine + tonumber(string.match(rec, '^(%d+)')) end
  end
end
if mine + size > part then return 0 end
redis.call('ZADD', 'shotline:orig:space', expires, member)
redis.call('HSET', 'shotline:orig:sizes', member, size .. ' ' .. chunks)
redis.call('INCRBY', 'shotline:orig:total', size)
return 1
"#;

/// A guest waits (stale waits dropped first; at most so many, so many per share); asked
/// again, the wait starts again.
pub(super) const WANT: &str = r#"
local field, value, since, most, per_share, share = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local all = redis.call('HGETALL', 'shotline:orig:wanted')
local count, mine, known = 0, 0, false
for i = 1, #all, 2 do
  local asked = tonumber(string.match(all[i + 1], '^(%d+)') or '0')
  if asked < since then
    redis.call('HDEL', 'shotline:orig:wanted', all[i])
  else
    count = count + 1
    if string.sub(all[i], 1, #share + 1) == share .. '/' then mine = mine + 1 end
    if all[i] == field then known = true end
  end
end
if not known and (count >= most or mine >= per_share) then return 0 end
redis.call('HSET', 'shotline:orig:wanted', field, value)
return 1
"#;

pub(super) const RELEASE: &str = r#"
forget(ARGV[1])
return 1
"#;

/// `<share>/<frame>` answered: its file (meta) in place of any earlier one, whose space is
/// taken back; the wait forgotten.
pub(super) const COMMIT: &str = r#"
local id, meta, ttl, member, chunks, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
-- Its room taken back meanwhile (expired during a slow upload, or the share closed):
-- its chunks go too, and it is not kept.
if not redis.call('ZSCORE', 'shotline:orig:space', member) then
  for i = 0, chunks - 1 do redis.call('DEL', 'shotline:orig:chunk:' .. member .. ':' .. i) end
  return 0
end
-- Every chunk, the file and its room expire together, from now.
for i = 0, chunks - 1 do redis.call('PEXPIRE', 'shotline:orig:chunk:' .. member .. ':' .. i, ttl) end
redis.call('ZADD', 'shotline:orig:space', now + ttl, member)
local old = redis.call('GET', 'shotline:orig:meta:' .. id)
redis.call('SET', 'shotline:orig:meta:' .. id, meta, 'PX', ttl)
if old then
  local version = string.match(old, '^(%S+) ')
  if version and id .. '/' .. version ~= member then forget(id .. '/' .. version) end
end
redis.call('HDEL', 'shotline:orig:wanted', id)
return 1
"#;

/// Every file and wait of a share.
pub(super) const DROP: &str = r#"
local share = ARGV[1]
for _, m in ipairs(redis.call('ZRANGE', 'shotline:orig:space', 0, -1)) do
  if string.sub(m, 1, #share + 1) == share .. '/' then forget(m) end
end
for _, field in ipairs(redis.call('HKEYS', 'shotline:orig:wanted')) do
  if string.sub(field, 1, #share + 1) == share .. '/' then
    redis.call('HDEL', 'shotline:orig:wanted', field)
    redis.call('DEL', 'shotline:orig:url:' .. field)
  end
end
return 1
"#;
