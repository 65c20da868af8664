//! The originals area: what the studio's engine sent for guests who asked for a frame's
//! original — the file itself (kept for [`KEPT_FOR`]), or a short-lived presigned address
//! of the studio's cloud copy — and which originals guests are waiting for. Bounded by
//! `originals_limit` bytes: a file that does not fit beside the others still kept is
//! refused (the engine tries again later), never an eviction of one being downloaded.
//!
//! - this module: the area, what it keeps, a body read in pieces.
//! - [`local`](super::local): one node's, in files.
//! - [`cluster`](super::cluster): a cluster's, in Redis, in chunks.

use std::path::Path;
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures_util::{Stream, StreamExt};

use super::cluster::RedisOriginals;
use super::local::{Entry, Local};
use crate::backend::Unavailable;

/// A file the engine sent is kept this long (a guest's download starts within seconds;
/// a retry after a cut finds it still).
pub const KEPT_FOR: Duration = Duration::from_secs(15 * 60);
/// A guest's request waits this long for the engine.
pub const WANTED_FOR: Duration = Duration::from_secs(5 * 60);
/// Originals waited for at once, over every share, at most (more: `overloaded`).
pub const MAX_WANTED: usize = 1000;
/// Of them, for one share (a guest asking for every frame at once cannot fill the list
/// for the others, nor make the engine send a whole session).
pub const MAX_WANTED_PER_SHARE: usize = 20;
/// One share's files take at most this part of `originals_limit` (1/4).
pub const SHARE_PART: u64 = 4;
/// A ticket for an original works this long, once.
pub const TICKET_FOR: Duration = Duration::from_secs(60);
/// Tickets open at once on a node, at most.
pub const MAX_TICKETS: usize = 10_000;
/// One original, at most (a 150 MP raw file is about 200 MB).
pub const MAX_ORIGINAL: u64 = 1 << 30;

/// What the area holds for a frame.
pub enum Kept {
    /// A presigned address of the studio's cloud copy.
    Url(String),
    /// The file: its name, size and bytes.
    File {
        /// Its name in the studio's library.
        name: String,
        /// Its size.
        size: u64,
        /// Its bytes, read as they are sent.
        body: Body,
    },
}

/// A file the area did not keep.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// Larger than [`MAX_ORIGINAL`], or than the area.
    #[error("{0}")]
    TooLarge(String),
    /// The area is full of files still kept.
    #[error("{0}")]
    Full(String),
    /// The body was not what its length said.
    #[error("{0}")]
    Body(String),
    /// The store cannot be reached.
    #[error("{0}")]
    Unavailable(String),
}

impl From<Unavailable> for PutError {
    fn from(e: Unavailable) -> Self {
        PutError::Unavailable(e.0)
    }
}

/// One wait of a guest: the share, its channel, the frame and when it was asked (ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The share.
    pub share: String,
    /// Its channel.
    pub channel: String,
    /// The frame.
    pub frame: i64,
    /// Asked at (ms since the epoch).
    pub asked_ms: u64,
}

/// The originals area.
pub enum Originals {
    /// This node's.
    Local(Box<Local>),
    /// A cluster's.
    Redis(Box<RedisOriginals>),
}

impl std::fmt::Debug for Originals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Originals::Local(_) => "Originals::Local",
            Originals::Redis(_) => "Originals::Redis",
        })
    }
}

/// A body read up to `size` bytes: an error if it is longer or shorter.
pub type BodyStream = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, axum::Error>> + Send>>;

impl Originals {
    /// Files under `dir/originals` (emptied: what a run kept is for that run), or under
    /// the system's temporary folder without `dir`; or Redis at `redis`. `limit` bytes.
    pub fn open(dir: Option<&Path>, redis: Option<&str>, limit: u64) -> std::io::Result<Self> {
        if let Some(url) = redis {
            return Ok(Originals::Redis(Box::new(
                RedisOriginals::open(url, limit).map_err(std::io::Error::other)?,
            )));
        }
        let folder = match dir {
            Some(dir) => dir.join("originals"),
            None => std::env::temp_dir().join(format!(
                "shotline-relay-originals-{}-{:08x}",
                std::process::id(),
                rand::random::<u32>()
            )),
        };
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder)?;
        Ok(Originals::Local(Box::new(Local::new(folder, limit))))
    }

    /// A guest waits for `frame` of `share` (on `channel`): the engine is told.
    pub async fn want(&self, share: &str, channel: &str, frame: i64) -> Result<bool, Unavailable> {
        let wanted = Wanted {
            share: share.to_string(),
            channel: channel.to_string(),
            frame,
            asked_ms: now_ms(),
        };
        match self {
            Originals::Local(local) => Ok(local.want(wanted)),
            Originals::Redis(redis) => redis.want(&wanted).await,
        }
    }

    /// The originals guests wait for (asked within [`WANTED_FOR`]).
    pub async fn wanted(&self) -> Result<Vec<Wanted>, Unavailable> {
        match self {
            Originals::Local(local) => Ok(local.wanted()),
            Originals::Redis(redis) => redis.wanted().await,
        }
    }

    /// Keep the presigned `url` (good for `good_for`) for `frame` of `share`: handed out
    /// until a minute before it stops working, [`KEPT_FOR`] at most.
    pub async fn put_url(
        &self,
        share: &str,
        frame: i64,
        url: &str,
        good_for: Duration,
    ) -> Result<(), Unavailable> {
        let ttl = (good_for.as_millis() as u64)
            .saturating_sub(60_000)
            .min(KEPT_FOR.as_millis() as u64);
        match self {
            Originals::Local(local) => {
                local.put(share, frame, Entry::Url(url.to_string()), ttl, 0);
                Ok(())
            }
            Originals::Redis(redis) => redis.put_url(share, frame, url, ttl).await,
        }
    }

    /// Keep `body` (`size` bytes, named `name`) as `frame` of `share`'s original.
    pub async fn put_file(
        &self,
        share: &str,
        frame: i64,
        name: &str,
        size: u64,
        body: BodyStream,
    ) -> Result<(), PutError> {
        if size > MAX_ORIGINAL {
            return Err(PutError::TooLarge(format!(
                "an original is {MAX_ORIGINAL} bytes at most"
            )));
        }
        match self {
            Originals::Local(local) => local.put_file(share, frame, name, size, body).await,
            Originals::Redis(redis) => redis.put_file(share, frame, name, size, body).await,
        }
    }

    /// What is kept for `frame` of `share`.
    pub async fn get(&self, share: &str, frame: i64) -> Result<Option<Kept>, Unavailable> {
        match self {
            Originals::Local(local) => local.get(share, frame).await,
            Originals::Redis(redis) => redis.get(share, frame).await,
        }
    }

    /// A one-use ticket for `frame` of `share`'s original, good for [`TICKET_FOR`]: the
    /// page opens its address, so the browser saves the file as it comes (a fetch would
    /// hold all of it in memory), and no token goes into an address.
    pub async fn ticket(&self, share: &str, frame: i64) -> Result<Option<String>, Unavailable> {
        let ticket = format!("{:032x}", rand::random::<u128>());
        match self {
            Originals::Local(local) => Ok(local.ticket(&ticket, share, frame).then_some(ticket)),
            Originals::Redis(redis) => redis
                .ticket(&ticket, share, frame)
                .await
                .map(|()| Some(ticket)),
        }
    }

    /// The share and frame of `ticket`, once (it is used up).
    pub async fn redeem(&self, ticket: &str) -> Result<Option<(String, i64)>, Unavailable> {
        if ticket.len() != 32 || !ticket.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        match self {
            Originals::Local(local) => Ok(local.redeem(ticket)),
            Originals::Redis(redis) => redis.redeem(ticket).await,
        }
    }

    /// Forget everything of `share` (closed).
    pub async fn drop_share(&self, share: &str) -> Result<(), Unavailable> {
        match self {
            Originals::Local(local) => {
                local.drop_share(share);
                Ok(())
            }
            Originals::Redis(redis) => redis.drop_share(share).await,
        }
    }
}

/// `body` in pieces of `piece` bytes (the last one shorter); an error unless it is
/// exactly `size` bytes.
pub struct Pieces {
    body: BodyStream,
    size: u64,
    seen: u64,
    piece: usize,
    buf: Vec<u8>,
    ended: bool,
}

impl Pieces {
    /// The pieces of `body`, which says it is `size` bytes.
    pub fn new(body: BodyStream, size: u64, piece: usize) -> Self {
        Self {
            body,
            size,
            seen: 0,
            piece,
            buf: Vec::new(),
            ended: false,
        }
    }

    /// The next piece; `None` after the last.
    pub async fn next(&mut self) -> Option<Result<Bytes, PutError>> {
        while !self.ended && self.buf.len() < self.piece {
            match self.body.next().await {
                Some(Ok(chunk)) => {
                    self.seen += chunk.len() as u64;
                    if self.seen > self.size {
                        self.ended = true;
                        return Some(Err(PutError::Body(format!(
                            "the body is longer than its Content-Length ({})",
                            self.size
                        ))));
                    }
                    self.buf.extend_from_slice(&chunk);
                }
                Some(Err(e)) => {
                    self.ended = true;
                    return Some(Err(PutError::Body(format!("the body was cut off: {e}"))));
                }
                None => {
                    self.ended = true;
                    if self.seen != self.size {
                        return Some(Err(PutError::Body(format!(
                            "the body ended after {} of {} bytes",
                            self.seen, self.size
                        ))));
                    }
                }
            }
        }
        if self.buf.is_empty() {
            return None;
        }
        let take = self.buf.len().min(self.piece);
        let rest = self.buf.split_off(take);
        Some(Ok(Bytes::from(std::mem::replace(&mut self.buf, rest))))
    }
}

pub(super) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}
