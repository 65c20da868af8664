//! One frame's upload (blocking): one `PUT` below the part size, else a multipart upload
//! resumed from the parts the journal holds; every step recorded in the journal, and
//! transient failures scheduled for retry.

use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::Ordering;
use std::time::Duration;

use shotline_protocol::retry::backoff;
use shotline_protocol::{Event, UploadComplete, UploadProgress};

use super::s3::S3Error;
use super::{Context, Outcome, STALE_AFTER};
use crate::journal::{Part, UploadDue};
use crate::naming::KeyFields;

/// Retry delay after `attempts` failures, in ms: 1 s doubling to 5 min, with jitter.
fn backoff_ms(attempts: u32) -> i64 {
    let delay = backoff(
        attempts + 1,
        Duration::from_secs(1),
        Duration::from_secs(300),
    );
    delay.as_millis() as i64
}

/// Upload one frame (blocking), recording each step in the journal; transient failures
/// are scheduled for retry here.
pub(super) fn upload_one(ctx: &Context, due: &UploadDue) -> Result<Outcome, S3Error> {
    let key = ctx.key.render_key(&KeyFields {
        studio: &ctx.studio,
        session: &due.session,
        path: &due.rel_path,
    });
    let result = match attempt(ctx, due, &key) {
        Ok(outcome) => {
            ctx.bucket_seen.store(true, Ordering::Relaxed);
            Ok(outcome)
        }
        // The bucket was there in this run: the server lost it for now; try again later.
        Err(S3Error::NoSuchBucket(why)) if ctx.bucket_seen.load(Ordering::Relaxed) => Err(
            S3Error::Transient(format!("{why} (it was there before; retrying)")),
        ),
        Err(e) => Err(e),
    };
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
    {
        // Before the first upload of a run, and once, the others waiting for its answer: a
        // missing bucket is one clear error, whatever the server would make of a `PUT` into
        // it (some create the bucket). Not answered: asked again before the next upload.
        let mut checked = ctx.bucket_checked.lock().unwrap_or_else(|e| e.into_inner());
        if !*checked {
            ctx.client.check_bucket()?;
            *checked = true;
        }
    }
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
    fn backoff_grows_and_is_capped() {
        assert!(backoff_ms(0) <= 1000);
        assert!(backoff_ms(3) >= 4000);
        assert!(backoff_ms(30) <= 300_000);
    }
}
