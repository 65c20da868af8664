//! The upload stage: each frame in the library goes to the studio's S3-compatible bucket
//! under the key template, once it is stored (or, with `after_backups`, once it is verified
//! on that many backup targets).
//!
//! - Below the part size, one `PUT`; above it, a multipart upload whose id and finished
//!   parts (with ETags) are in the journal, so a restart sends only the missing parts.
//! - Every body carries `Content-MD5`; the frame's XXH3-128 is object metadata, and a key
//!   that already holds an object with the same hash is not uploaded again.
//! - Bounded concurrency, an optional bandwidth limit over all uploads; transient failures retried with exponential backoff and jitter;
//!   a permanent one (credentials, bucket, access) stops uploads with one critical
//!   notification until Shotline is restarted with other settings.
//! - `upload_progress` per part, `upload_complete` per frame, and one batched
//!   "N photos uploaded" notification when a burst of uploads is over.

//!
//! - this module: the service (what is due, concurrency, the permanent stop, the batched
//!   notification) and the credentials.
//! - `transfer`: one frame, `PUT` or multipart.
//! - [`limiter`]: the bandwidth limit.
//! - [`s3`]: the signed requests and what their answers mean.

pub mod limiter;
pub mod s3;
mod transfer;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use shotline_protocol::Level;
use shotline_protocol::env::{
    UPLOAD_ACCESS_KEY_ID as ACCESS_KEY_ENV, UPLOAD_SECRET_ACCESS_KEY as SECRET_KEY_ENV,
};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::bus::Bus;
use crate::config::Upload as UploadConfig;
use crate::journal::Journal;
use crate::naming::Template;
pub use limiter::Limiter;
use s3::{Client, S3Error};
use transfer::upload_one;
/// Failed attempts without progress after which a multipart upload is started afresh.
const STALE_AFTER: u32 = 3;
/// Quiet time after the last finished upload before the batched notification.
const BATCH_QUIET: Duration = Duration::from_secs(3);

/// Everything one upload needs.
pub(crate) struct Context {
    journal: Arc<Journal>,
    library: PathBuf,
    client: Client,
    key: Template,
    studio: String,
    part_size: u64,
    public_url: Option<String>,
    bus: Bus,
    stopping: AtomicBool,
    /// An upload to the bucket worked in this run.
    bucket_seen: AtomicBool,
    /// The bucket's `HEAD` was answered in this run (held while it is asked).
    bucket_checked: std::sync::Mutex<bool>,
    limit: Option<Limiter>,
}

/// The upload service.
pub struct Uploader {
    ctx: Arc<Context>,
    after_backups: u32,
    concurrency: usize,
    paused: Arc<AtomicBool>,
}

/// How one upload ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Done,
    Gone,
    Stopped,
}

/// The credentials from the environment: `SHOTLINE_UPLOAD_*`, else `AWS_*`.
pub fn credentials() -> Result<(String, String), S3Error> {
    let get = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
    };
    match (
        get([ACCESS_KEY_ENV, "AWS_ACCESS_KEY_ID"]),
        get([SECRET_KEY_ENV, "AWS_SECRET_ACCESS_KEY"]),
    ) {
        (Some(key), Some(secret)) => Ok((key, secret)),
        _ => Err(S3Error::Permanent(format!(
            "no upload credentials: set {ACCESS_KEY_ENV} and {SECRET_KEY_ENV} (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        ))),
    }
}

impl Uploader {
    /// Its S3 client (for presigned addresses of uploaded frames).
    pub fn client(&self) -> Client {
        self.ctx.client.clone()
    }

    /// An uploader for `config`, with `credentials` (access key, secret), else those of
    /// the environment.
    pub fn new(
        config: &UploadConfig,
        studio: &str,
        journal: Arc<Journal>,
        library: PathBuf,
        bus: Bus,
        credentials: Option<(String, String)>,
    ) -> Result<Self, S3Error> {
        let (access, secret) = match credentials {
            Some(pair) => pair,
            None => self::credentials()?,
        };
        let client = Client::new(
            &config.endpoint,
            &config.region,
            &config.bucket,
            config.path_style(),
            &access,
            &secret,
        )?;
        Ok(Self {
            ctx: Arc::new(Context {
                journal,
                library,
                client,
                key: Template::parse_key(&config.key)
                    .map_err(|e| S3Error::Permanent(format!("upload.key: {e}")))?,
                studio: studio.to_string(),
                part_size: config.part_size_bytes(),
                public_url: config.public_url.clone(),
                bus,
                stopping: AtomicBool::new(false),
                bucket_seen: AtomicBool::new(false),
                bucket_checked: std::sync::Mutex::new(false),
                limit: config.bandwidth_bytes().map(Limiter::new),
            }),
            after_backups: config.after_backups,
            concurrency: config.concurrency.max(1),
            paused: Arc::default(),
        })
    }

    /// Start no new upload while `paused` holds.
    pub fn with_pause(mut self, paused: Arc<AtomicBool>) -> Self {
        self.paused = paused;
        self
    }

    /// Upload until shutdown.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tasks: JoinSet<(i64, Result<Outcome, S3Error>)> = JoinSet::new();
        let mut running: HashSet<i64> = HashSet::new();
        let mut stopped_for: Option<String> = None;
        let mut finished = 0u64;
        let mut last_finished = Instant::now();
        loop {
            if stopped_for.is_none()
                && !self.paused.load(Ordering::Relaxed)
                && running.len() < self.concurrency
            {
                let journal = self.ctx.journal.clone();
                let (after, limit) = (self.after_backups, self.concurrency * 2 + running.len());
                let due = tokio::task::spawn_blocking(move || journal.uploads_due(after, limit))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default();
                for item in due {
                    if running.len() >= self.concurrency {
                        break;
                    }
                    if running.insert(item.shot_id) {
                        let ctx = self.ctx.clone();
                        tasks.spawn_blocking(move || (item.shot_id, upload_one(&ctx, &item)));
                    }
                }
            }
            tokio::select! {
                Some(joined) = tasks.join_next() => {
                    let Ok((shot_id, result)) = joined else { continue };
                    running.remove(&shot_id);
                    match result {
                        Ok(Outcome::Done) => {
                            finished += 1;
                            last_finished = Instant::now();
                        }
                        Ok(Outcome::Gone | Outcome::Stopped) => {}
                        Err(S3Error::Permanent(why) | S3Error::NoSuchBucket(why)) => {
                            if stopped_for.is_none() {
                                self.ctx.bus.notify(
                                    Level::Critical,
                                    "upload_stopped",
                                    "Uploads stopped",
                                    format!("{why}. Frames stay safe in the library and on the backups; uploads resume when Shotline is restarted with working settings."),
                                );
                                stopped_for = Some(why.clone());
                            }
                            let _ = self.ctx.journal.upload_retry(shot_id, &why, 0);
                        }
                        Err(e) => tracing::warn!(shot_id, "upload failed, will retry: {e}"),
                    }
                }
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = shutdown.changed() => break,
            }
            if finished > 0 && last_finished.elapsed() >= BATCH_QUIET {
                let photos = if finished == 1 { "photo" } else { "photos" };
                self.ctx.bus.notify(
                    Level::Info,
                    "upload_finished",
                    format!("{finished} {photos} uploaded"),
                    "They are in the bucket.",
                );
                finished = 0;
            }
        }
        // Uploads in flight stop at their next part; the journal has what they finished.
        self.ctx.stopping.store(true, Ordering::SeqCst);
    }
}
