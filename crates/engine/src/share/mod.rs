//! The live gallery from the studio's side: a share opens one session to its guests.
//! `shotline share create` (or the window) records a share in the journal; the running
//! engine's [`publisher`] mints its link token on the relay, tells the relay about it, and
//! sends it every frame of its session as its previews are made — the previews into the
//! relay's blob store, a `gallery_frame` event onto `<studio>:gallery:<id>`, and the
//! share's state (every frame so far, for late guests) as `state.json`.
//!
//! Guests answer (rate, label, like, comment); [`answers`] brings their answers from the
//! relay's log into the journal and the frames' XMP sidecars.
//!
//! - [`link`]: the address guests open, and whether other devices can reach it.
//! - [`relay_http`]: the relay calls (token, share, blobs).
//! - [`publisher`]: the engine's task that sends frames.
//! - [`answers`]: the engine's task that reads answers.
//! - [`comments`]: new comments as batched notifications.

pub mod answers;
pub mod comments;
pub mod link;
pub mod publisher;
pub mod relay_http;

use std::time::Duration;

use crate::journal::{Journal, Share, now_ms};

/// A share lasts this long unless told otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(7 * 86_400);

/// A share's channel on the relay.
pub fn channel(studio: &str, id: &str) -> String {
    format!("{studio}:gallery:{id}")
}

/// A new share id: 12 of `a-z 0-9` (62 bits: not guessable, short enough to read out).
pub fn new_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    rand::random::<[u8; 12]>()
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// Record a new share of `session` for `ttl`; the running engine makes its link.
pub fn create(
    journal: &Journal,
    session: &str,
    title: Option<&str>,
    ttl: Duration,
) -> crate::Result<Share> {
    let now = now_ms();
    let share = Share {
        id: new_id(),
        session: session.to_string(),
        title: title
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from),
        token: None,
        link: None,
        created_ms: now,
        expires_ms: now + ttl.as_millis() as i64,
        revoked_ms: None,
        registered: false,
    };
    journal.create_share(&share)?;
    Ok(share)
}

#[cfg(test)]
mod tests {
    #[test]
    fn share_ids_are_new_each_time_and_make_valid_channels() {
        let a = super::new_id();
        assert_eq!(a.len(), 12);
        assert_ne!(a, super::new_id());
        assert!(shotline_protocol::relay::valid_channel(&super::channel(
            "studio", &a
        )));
    }
}
