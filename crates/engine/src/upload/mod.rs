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

pub mod s3;

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use shotline_protocol::{Event, Level, UploadComplete, UploadProgress};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::bus::Bus;
use crate::config::Upload as UploadConfig;
use crate::journal::{Journal, Part, UploadDue};
use s3::{Client, S3Error};

/// Environment variables holding the credentials (the AWS names work too).
pub const ACCESS_KEY_ENV: &str = "SHOTLINE_UPLOAD_ACCESS_KEY_ID";
/// See [`ACCESS_KEY_ENV`].
pub const SECRET_KEY_ENV: &str = "SHOTLINE_UPLOAD_SECRET_ACCESS_KEY";
/// Failed attempts without progress after which a multipart upload is started afresh.
const STALE_AFTER: u32 = 3;
/// Quiet time after the last finished upload before the batched notification.
const BATCH_QUIET: Duration = Duration::from_secs(3);

/// Everything one upload needs.
struct Context {
    journal: Arc<Journal>,
    library: PathBuf,
    client: Client,
    key: String,
    studio: String,
    part_size: u64,
    public_url: Option<String>,
    bus: Bus,
    stopping: AtomicBool,
    limit: Option<Limiter>,
}

/// A bandwidth limit shared by every upload: each request waits for its turn on a virtual
/// clock that advances by its size over the rate, so the long-run rate stays under it.
#[derive(Debug)]
pub struct Limiter {
    rate: f64,
    next: std::sync::Mutex<Instant>,
}

impl Limiter {
    /// At most `bytes_per_second`.
    pub fn new(bytes_per_second: u64) -> Self {
        Self {
            rate: bytes_per_second.max(1) as f64,
            next: std::sync::Mutex::new(Instant::now()),
        }
    }

    /// Block until `bytes` may be sent.
    pub fn take(&self, bytes: u64) {
        let wait = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let start = (*next).max(now);
            *next = start + Duration::from_secs_f64(bytes as f64 / self.rate);
            start - now
        };
        std::thread::sleep(wait);
    }
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
enum Outcome {
    Done,
    Gone,
    Stopped,
}

/// The credentials from the environment: `SHOTLINE_UPLOAD_*`, else `AWS_*`.
pub fn credentials() -> Result<(String, String), String> {
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
        _ => Err(format!(
            "no upload credentials: set {ACCESS_KEY_ENV} and {SECRET_KEY_ENV} (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        )),
    }
}

/// The object key of a frame: the template's `{studio}`, `{session}`, `{name}` (file name),
/// `{path}` (path in the library), `{stem}` and `{ext}`, never with a leading `/`.
pub fn object_key(template: &str, studio: &str, session: &str, rel_path: &str) -> String {
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, ext),
        _ => (name, ""),
    };
    let key = template
        .replace("{studio}", studio)
        .replace("{session}", session)
        .replace("{name}", name)
        .replace("{path}", rel_path)
        .replace("{stem}", stem)
        .replace("{ext}", ext)
        .replace('\\', "/");
    key.split('/')
        .filter(|c| !c.is_empty() && *c != "." && *c != "..")
        .collect::<Vec<_>>()
        .join("/")
}

impl Uploader {
    /// An uploader for `config`, with `credentials` (access key, secret), else those of
    /// the environment.
    pub fn new(
        config: &UploadConfig,
        studio: &str,
        journal: Arc<Journal>,
        library: PathBuf,
        bus: Bus,
        credentials: Option<(String, String)>,
    ) -> Result<Self, String> {
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
                key: config.key.clone(),
                studio: studio.to_string(),
                part_size: config.part_size_bytes(),
                public_url: config.public_url.clone(),
                bus,
                stopping: AtomicBool::new(false),
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
                        Err(S3Error::Permanent(why)) => {
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

/// Retry delay after `attempts` failures: 1 s doubling to 5 min, with jitter.
fn backoff_ms(attempts: u32) -> i64 {
    let cap = 1000i64 << attempts.min(9);
    let cap = cap.min(300_000);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::from(d.subsec_nanos()))
        .unwrap_or_default();
    cap / 2 + nanos % (cap / 2 + 1)
}

/// Upload one frame (blocking), recording each step in the journal; transient failures
/// are scheduled for retry here.
fn upload_one(ctx: &Context, due: &UploadDue) -> Result<Outcome, S3Error> {
    let key = object_key(&ctx.key, &ctx.studio, &due.session, &due.rel_path);
    let result = attempt(ctx, due, &key);
    if let Err(e @ (S3Error::Transient(_) | S3Error::NoSuchUpload)) = &result {
        let _ = ctx
            .journal
            .upload_retry(due.shot_id, &e.to_string(), backoff_ms(due.attempts));
    }
    result
}

fn io_error(what: &str, e: std::io::Error) -> S3Error {
    S3Error::Transient(format!("{what}: {e}"))
}

fn attempt(ctx: &Context, due: &UploadDue, key: &str) -> Result<Outcome, S3Error> {
    let journal_error = |e: crate::Error| S3Error::Transient(format!("journal: {e}"));
    ctx.journal
        .upload_started(due.shot_id, key)
        .map_err(journal_error)?;
    let path = ctx.library.join(&due.rel_path);
    let mut file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some((upload_id, _)) = &due.multipart {
                let _ = ctx.client.abort(key, upload_id);
            }
            let _ = ctx
                .journal
                .upload_failed(due.shot_id, "the library file is gone");
            return Ok(Outcome::Gone);
        }
        Err(e) => return Err(io_error(&path.display().to_string(), e)),
    };
    let mut due = due.clone();
    if let Some((upload_id, _)) = &due.multipart
        && due.attempts >= STALE_AFTER
    {
        // Failing again and again without a part going up: the server may have lost the
        // upload (a restarted server, an expired upload) without saying so. Start afresh.
        tracing::warn!(
            key,
            "multipart upload failed {} times; starting it again",
            due.attempts
        );
        let _ = ctx.client.abort(key, upload_id);
        ctx.journal
            .upload_forget_multipart(due.shot_id)
            .map_err(journal_error)?;
        due.multipart = None;
    }
    let due = &due;
    if due.multipart.is_none() && ctx.client.head_hash(key)?.as_deref() == Some(&due.hash) {
        // Already there with the same content: nothing to send.
        return finish(ctx, due, key);
    }
    if due.size <= ctx.part_size && due.multipart.is_none() {
        let mut data = Vec::with_capacity(due.size as usize);
        file.read_to_end(&mut data)
            .map_err(|e| io_error(&due.rel_path, e))?;
        if crate::hash::hash_bytes(&data) != due.hash {
            return Err(S3Error::Transient(format!(
                "{}: its content no longer matches the journal's hash; run `shotline verify`",
                due.rel_path
            )));
        }
        if let Some(limit) = &ctx.limit {
            limit.take(data.len() as u64);
        }
        ctx.client.put(key, &data, &due.hash)?;
        progress(ctx, due, key, due.size);
        return finish(ctx, due, key);
    }
    let (upload_id, part_size) = match &due.multipart {
        Some((id, size)) => (id.clone(), *size),
        None => {
            let id = ctx.client.create_multipart(key, &due.hash)?;
            ctx.journal
                .upload_multipart(due.shot_id, &id, ctx.part_size)
                .map_err(journal_error)?;
            (id, ctx.part_size)
        }
    };
    let done: Vec<Part> = ctx
        .journal
        .upload_parts(due.shot_id, &upload_id)
        .map_err(journal_error)?;
    let count = due.size.div_ceil(part_size).max(1);
    let mut etags = Vec::with_capacity(count as usize);
    let mut sent = done.iter().map(|p| p.size).sum::<u64>();
    for number in 1..=count {
        if let Some(part) = done.iter().find(|p| u64::from(p.number) == number) {
            etags.push(part.etag.clone());
            continue;
        }
        if ctx.stopping.load(Ordering::SeqCst) {
            return Ok(Outcome::Stopped);
        }
        let offset = (number - 1) * part_size;
        let length = part_size.min(due.size - offset);
        let mut data = vec![0u8; length as usize];
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(&mut data))
            .map_err(|e| io_error(&due.rel_path, e))?;
        if let Some(limit) = &ctx.limit {
            limit.take(length);
        }
        let etag = match ctx
            .client
            .upload_part(key, &upload_id, number as u16, &data)
        {
            Ok(etag) => etag,
            Err(S3Error::NoSuchUpload) => {
                let _ = ctx.journal.upload_forget_multipart(due.shot_id);
                return Err(S3Error::NoSuchUpload);
            }
            Err(e) => return Err(e),
        };
        ctx.journal
            .upload_part_done(
                due.shot_id,
                &upload_id,
                &Part {
                    number: number as u32,
                    etag: etag.clone(),
                    size: length,
                },
            )
            .map_err(journal_error)?;
        etags.push(etag);
        sent += length;
        progress(ctx, due, key, sent);
    }
    match ctx.client.complete(key, &upload_id, &etags) {
        Ok(()) => {}
        Err(S3Error::NoSuchUpload) => {
            // Completed before a crash, or aborted: start over; the HEAD will tell which.
            let _ = ctx.journal.upload_forget_multipart(due.shot_id);
            return Err(S3Error::NoSuchUpload);
        }
        Err(e) => return Err(e),
    }
    finish(ctx, due, key)
}

fn progress(ctx: &Context, due: &UploadDue, key: &str, bytes_done: u64) {
    ctx.bus.publish(Event::UploadProgress(UploadProgress {
        shot_id: due.shot_id,
        key: key.to_string(),
        bytes_done,
        bytes_total: due.size,
    }));
}

fn finish(ctx: &Context, due: &UploadDue, key: &str) -> Result<Outcome, S3Error> {
    ctx.journal
        .upload_done(due.shot_id)
        .map_err(|e| S3Error::Transient(format!("journal: {e}")))?;
    ctx.bus.publish(Event::UploadComplete(UploadComplete {
        shot_id: due.shot_id,
        key: key.to_string(),
        size: due.size,
        url: ctx
            .public_url
            .as_ref()
            .map(|base| format!("{}/{key}", base.trim_end_matches('/'))),
    }));
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_template_and_never_escape() {
        assert_eq!(
            object_key(
                "{studio}/{session}/{name}",
                "north",
                "2026-11-22",
                "2026-11-22/s/a.CR3"
            ),
            "north/2026-11-22/a.CR3"
        );
        assert_eq!(
            object_key("/{studio}/../{stem}.{ext}", "n", "s", "x/IMG_1.jpg"),
            "n/IMG_1.jpg"
        );
        assert_eq!(object_key("{path}", "n", "s", "a/b/c.jpg"), "a/b/c.jpg");
    }

    #[test]
    fn the_limiter_holds_the_long_run_rate() {
        let limit = Limiter::new(10_000_000);
        let start = Instant::now();
        for _ in 0..5 {
            limit.take(1_000_000);
        }
        // 5 MB at 10 MB/s: the last one may start after 0.4 s, not before.
        assert!(start.elapsed() >= Duration::from_millis(390));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff_ms(0) <= 1000);
        assert!(backoff_ms(3) >= 4000);
        assert!(backoff_ms(30) <= 300_000);
    }
}
