//! Originals for guests, when a share allows them: every second the engine asks the
//! relay which originals guests wait for (`GET /v1/originals/wanted`) and answers each
//! one of a share that still allows them and shows that frame — with a presigned `GET`
//! of its cloud copy when it is uploaded (the relay never holds the studio's
//! credentials), else with the file from the library, sent into the relay's bounded,
//! expiring originals area. A file that changed since it was verified is not sent.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shotline_protocol::gallery::Downloads;
use tokio::sync::watch;

use super::relay_http::{RelayError, RelayHttp};
use crate::journal::Journal;
use crate::upload::s3;

/// How long a presigned address is good for.
pub const PRESIGNED_FOR: Duration = Duration::from_secs(15 * 60);
/// An original tried is not tried again for this long (the relay keeps the wait; a guest
/// waits 25 s, so a failed first try still has a second within it).
const RETRY: Duration = Duration::from_secs(5);
/// Files go to the relay at this rate at least, or the transfer is cut off.
const SLOWEST: u64 = 256 << 10;

/// What answering one wait did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answered {
    /// The presigned address of the cloud copy.
    Url,
    /// The file, this many bytes.
    File(u64),
    /// The file is to be sent (after every address).
    Later,
    /// Nothing: the share does not allow originals, or does not show the frame.
    Refused(&'static str),
}

/// The engine's side of guests' originals.
pub struct Originals {
    journal: Arc<Journal>,
    library: PathBuf,
    relay: RelayHttp,
    cloud: Option<s3::Client>,
    tried: HashMap<(String, i64), Instant>,
}

impl Originals {
    /// Answer from `library` (and the `cloud` bucket, when uploads are set up and guests can
    /// reach it).
    pub fn new(
        journal: Arc<Journal>,
        library: PathBuf,
        relay: RelayHttp,
        cloud: Option<s3::Client>,
    ) -> Self {
        Self {
            journal,
            library,
            relay,
            cloud,
            tried: HashMap::new(),
        }
    }

    /// Answer every wait not tried in the last 5 s: the cloud's addresses first (they
    /// take no time), then the files one at a time, each only if a guest still waits
    /// for it. How many were answered.
    pub fn round(&mut self) -> Result<usize, RelayError> {
        let wanted = self.relay.originals_wanted()?;
        self.tried.retain(|_, at| at.elapsed() < RETRY);
        let mut answered = 0;
        let mut files = Vec::new();
        for (share, frame) in wanted {
            if self.tried.contains_key(&(share.clone(), frame)) {
                continue;
            }
            self.tried.insert((share.clone(), frame), Instant::now());
            match self.answer(&share, frame, false) {
                Ok(Answered::Later) => files.push((share, frame)),
                outcome => answered += self.report(&share, frame, outcome),
            }
        }
        for (n, (share, frame)) in files.into_iter().enumerate() {
            // A file can take a while: the next one only if someone still waits for it.
            if n > 0
                && !self
                    .relay
                    .originals_wanted()?
                    .contains(&(share.clone(), frame))
            {
                continue;
            }
            let outcome = self.answer(&share, frame, true);
            answered += self.report(&share, frame, outcome);
        }
        Ok(answered)
    }

    fn report(&self, share: &str, frame: i64, outcome: anyhow::Result<Answered>) -> usize {
        match outcome {
            Ok(Answered::Refused(why)) => {
                tracing::info!(share, frame, why, "an original not sent");
                0
            }
            Ok(_) => 1,
            Err(e) => {
                tracing::warn!(share, frame, "an original not sent: {e:#}");
                0
            }
        }
    }

    /// Answer the wait for `frame` of `share`: with the cloud's address when it can be;
    /// with the file when `files` (else [`Answered::Later`]).
    pub fn answer(&self, share: &str, frame: i64, files: bool) -> anyhow::Result<Answered> {
        let Some(known) = self.journal.share(share)? else {
            return Ok(Answered::Refused("no such share"));
        };
        if known.downloads != Downloads::Originals || !known.open() {
            return Ok(Answered::Refused("the share does not allow originals"));
        }
        let Some(original) = self.journal.original(share, frame)? else {
            return Ok(Answered::Refused("the share does not show this frame"));
        };
        let name = original
            .rel_path
            .rsplit('/')
            .next()
            .unwrap_or(&original.rel_path)
            .to_string();
        if let (Some(cloud), Some(key)) = (&self.cloud, &original.cloud_key) {
            let url = cloud.presigned_get(key, &name, PRESIGNED_FOR);
            self.relay
                .put_original_url(share, frame, url.as_str(), PRESIGNED_FOR.as_secs())?;
            return Ok(Answered::Url);
        }
        if !files {
            return Ok(Answered::Later);
        }
        let path = self.library.join(&original.rel_path);
        let file =
            std::fs::File::open(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let size = file.metadata()?.len();
        if size != original.size {
            anyhow::bail!(
                "{} is {size} bytes, not the {} that were verified: not sent",
                path.display(),
                original.size
            );
        }
        let within = Duration::from_secs(60 + size / SLOWEST);
        self.relay
            .put_original_file(share, frame, &name, file, size, within)?;
        Ok(Answered::File(size))
    }
}

/// Answer guests' waits every second until `shutdown`.
pub async fn run(originals: Originals, mut shutdown: watch::Receiver<bool>) {
    let mut originals = Some(originals);
    loop {
        let Some(mut o) = originals.take() else {
            return;
        };
        let Ok((back, result)) = tokio::task::spawn_blocking(move || {
            let result = o.round();
            (o, result)
        })
        .await
        else {
            tracing::error!("the originals task stopped");
            return;
        };
        if let Err(e) = result {
            tracing::debug!("originals: {e}");
        }
        originals = Some(back);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
