//! The originals area in a cluster: Redis, which every node shares, so a guest on one
//! node downloads what the engine sent to another. A file is kept in chunks of 1 MiB that
//! expire with it; the space is reserved (and expired files' space taken back) by one Lua
//! script, so nodes never overfill it together.

use axum::body::{Body, Bytes};
use redis::Script;

use super::lua::{COMMIT, DROP, FORGET, RELEASE, RESERVE, WANT};
use super::store::{
    BodyStream, KEPT_FOR, Kept, MAX_WANTED, MAX_WANTED_PER_SHARE, Pieces, PutError, SHARE_PART,
    WANTED_FOR, Wanted, now_ms,
};
use crate::backend::Unavailable;
use crate::gallery::blobs::LazyRedis;

const CHUNK: usize = 1 << 20;

/// A cluster's originals in Redis.
pub struct RedisOriginals {
    redis: std::sync::Arc<LazyRedis>,
    limit: u64,
    reserve: Script,
    release: Script,
    commit: Script,
    drop: Script,
    want: Script,
}

impl RedisOriginals {
    /// The area in the Redis at `url` (connected on first use), `limit` bytes.
    pub fn open(url: &str, limit: u64) -> Result<Self, Unavailable> {
        let with = |body: &str| Script::new(&format!("{FORGET}{body}"));
        Ok(Self {
            redis: std::sync::Arc::new(LazyRedis::open(url)?),
            limit,
            reserve: with(RESERVE),
            release: with(RELEASE),
            commit: with(COMMIT),
            drop: with(DROP),
            want: Script::new(WANT),
        })
    }

    pub(super) async fn want(&self, w: &Wanted) -> Result<bool, Unavailable> {
        let field = format!("{}/{}", w.share, w.frame);
        let value = format!("{} {}", w.asked_ms, w.channel);
        let since = w.asked_ms.saturating_sub(WANTED_FOR.as_millis() as u64);
        let kept: u64 = self
            .redis
            .run(async |c| {
                self.want
                    .arg(&field)
                    .arg(&value)
                    .arg(since)
                    .arg(MAX_WANTED)
                    .arg(MAX_WANTED_PER_SHARE)
                    .arg(&w.share)
                    .invoke_async(c)
                    .await
            })
            .await?;
        Ok(kept == 1)
    }

    pub(super) async fn wanted(&self) -> Result<Vec<Wanted>, Unavailable> {
        let all: Vec<(String, String)> = self
            .redis
            .run(async |c| {
                redis::cmd("HGETALL")
                    .arg("shotline:orig:wanted")
                    .query_async(c)
                    .await
            })
            .await?;
        let since = now_ms().saturating_sub(WANTED_FOR.as_millis() as u64);
        let mut list = Vec::new();
        let mut stale = Vec::new();
        for (field, value) in all {
            let parsed = field.rsplit_once('/').and_then(|(share, frame)| {
                let (asked, channel) = value.split_once(' ')?;
                Some(Wanted {
                    share: share.to_string(),
                    channel: channel.to_string(),
                    frame: frame.parse().ok()?,
                    asked_ms: asked.parse().ok()?,
                })
            });
            match parsed {
                Some(w) if w.asked_ms >= since => list.push(w),
                _ => stale.push(field),
            }
        }
        if !stale.is_empty() {
            self.redis
                .run(async |c| {
                    redis::cmd("HDEL")
                        .arg("shotline:orig:wanted")
                        .arg(&stale)
                        .query_async::<usize>(c)
                        .await
                })
                .await?;
        }
        list.sort_by_key(|w| w.asked_ms);
        Ok(list)
    }

    pub(super) async fn put_url(
        &self,
        share: &str,
        frame: i64,
        url: &str,
        ttl_ms: u64,
    ) -> Result<(), Unavailable> {
        // (`ttl_ms` 0: already too old to hand out; only the wait is answered.)
        let id = format!("{share}/{frame}");
        self.redis
            .run(async |c| {
                if ttl_ms > 0 {
                    let _: () = redis::cmd("SET")
                        .arg(format!("shotline:orig:url:{id}"))
                        .arg(url)
                        .arg("PX")
                        .arg(ttl_ms)
                        .query_async(c)
                        .await?;
                }
                redis::cmd("HDEL")
                    .arg("shotline:orig:wanted")
                    .arg(&id)
                    .query_async::<usize>(c)
                    .await
                    .map(drop)
            })
            .await
    }

    pub(super) async fn put_file(
        &self,
        share: &str,
        frame: i64,
        name: &str,
        size: u64,
        body: BodyStream,
    ) -> Result<(), PutError> {
        let part = self.limit / SHARE_PART;
        if size > part {
            return Err(PutError::TooLarge(format!(
                "an original of {size} bytes is larger than a share's part of originals_limit ({part})"
            )));
        }
        let id = format!("{share}/{frame}");
        let version = format!("{:x}", rand::random::<u64>());
        let member = format!("{id}/{version}");
        let chunks = size.div_ceil(CHUNK as u64).max(1);
        let now = now_ms();
        let ttl = KEPT_FOR.as_millis() as u64;
        let reserved: u64 = self
            .redis
            .run(async |c| {
                self.reserve
                    .arg(&member)
                    .arg(size)
                    .arg(chunks)
                    .arg(now)
                    .arg(self.limit)
                    .arg(now + ttl)
                    .arg(share)
                    .arg(self.limit / SHARE_PART)
                    .invoke_async(c)
                    .await
            })
            .await?;
        if reserved == 0 {
            return Err(PutError::Full(format!(
                "the originals kept for downloads fill originals_limit ({} bytes; a share {part}) until they expire",
                self.limit
            )));
        }
        let mut n = 0u64;
        let mut pieces = Pieces::new(body, size, CHUNK);
        let written = async {
            while let Some(piece) = pieces.next().await {
                let piece = piece?;
                let key = format!("shotline:orig:chunk:{member}:{n}");
                n += 1;
                self.redis
                    .run(async |c| {
                        redis::cmd("SET")
                            .arg(&key)
                            .arg(&piece[..])
                            .arg("PX")
                            .arg(ttl)
                            .query_async::<()>(c)
                            .await
                    })
                    .await?;
            }
            Ok::<(), PutError>(())
        }
        .await;
        let meta = format!("{version} {size} {n} {name}");
        if let Err(e) = written {
            let _ = self
                .redis
                .run(async |c| self.release.arg(&member).invoke_async::<u64>(c).await)
                .await;
            return Err(e);
        }
        let committed: u64 = self
            .redis
            .run(async |c| {
                self.commit
                    .arg(&id)
                    .arg(&meta)
                    .arg(ttl)
                    .arg(&member)
                    .arg(n)
                    .arg(now_ms())
                    .invoke_async(c)
                    .await
            })
            .await?;
        if committed == 0 {
            return Err(PutError::Full(
                "the original's room was taken back while it was sent (it took longer than it is kept, or the share closed)".into(),
            ));
        }
        Ok(())
    }

    pub(super) async fn get(&self, share: &str, frame: i64) -> Result<Option<Kept>, Unavailable> {
        let id = format!("{share}/{frame}");
        let (url, meta): (Option<String>, Option<String>) = self
            .redis
            .run(async |c| {
                redis::cmd("MGET")
                    .arg(format!("shotline:orig:url:{id}"))
                    .arg(format!("shotline:orig:meta:{id}"))
                    .query_async(c)
                    .await
            })
            .await?;
        if let Some(meta) = meta {
            let mut parts = meta.splitn(4, ' ');
            let (Some(version), Some(size), Some(chunks), Some(name)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Ok(None);
            };
            let (Ok(size), Ok(chunks)) = (size.parse::<u64>(), chunks.parse::<u64>()) else {
                return Ok(None);
            };
            let prefix = format!("shotline:orig:chunk:{id}/{version}");
            let redis = self.redis.clone();
            let stream = futures_util::stream::unfold(0u64, move |n| {
                let redis = redis.clone();
                let key = format!("{prefix}:{n}");
                async move {
                    if n >= chunks {
                        return None;
                    }
                    let chunk: Result<Option<Vec<u8>>, Unavailable> = redis
                        .run(async |c| redis::cmd("GET").arg(&key).query_async(c).await)
                        .await;
                    match chunk {
                        Ok(Some(bytes)) => Some((Ok(Bytes::from(bytes)), n + 1)),
                        Ok(None) => Some((
                            Err(std::io::Error::other(
                                "the original expired while it was read",
                            )),
                            chunks,
                        )),
                        Err(e) => Some((Err(std::io::Error::other(e.0)), chunks)),
                    }
                }
            });
            return Ok(Some(Kept::File {
                name: name.to_string(),
                size,
                body: Body::from_stream(stream),
            }));
        }
        Ok(url.map(Kept::Url))
    }

    pub(super) async fn ticket(
        &self,
        ticket: &str,
        share: &str,
        frame: i64,
    ) -> Result<(), Unavailable> {
        self.redis
            .run(async |c| {
                redis::cmd("SET")
                    .arg(format!("shotline:orig:ticket:{ticket}"))
                    .arg(format!("{share}/{frame}"))
                    .arg("PX")
                    .arg(super::store::TICKET_FOR.as_millis() as u64)
                    .query_async::<()>(c)
                    .await
            })
            .await
    }

    pub(super) async fn redeem(&self, ticket: &str) -> Result<Option<(String, i64)>, Unavailable> {
        let value: Option<String> = self
            .redis
            .run(async |c| {
                redis::cmd("GETDEL")
                    .arg(format!("shotline:orig:ticket:{ticket}"))
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(value.and_then(|v| {
            let (share, frame) = v.rsplit_once('/')?;
            Some((share.to_string(), frame.parse().ok()?))
        }))
    }

    pub(super) async fn drop_share(&self, share: &str) -> Result<(), Unavailable> {
        self.redis
            .run(async |c| self.drop.arg(share).invoke_async::<u64>(c).await)
            .await
            .map(drop)
    }
}
