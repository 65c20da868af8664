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
//! - [`originals`]: guests' downloads of originals, answered from the library or the
//!   cloud.
//! - [`activity`]: who opened a share, wrong PINs, downloads, from the relay.
//! - [`comments`]: new comments as batched notifications.
//! - [`selection`]: a guest's sent selection ("choose N") into sidecars, an export and a
//!   notification.

pub mod activity;
pub mod answers;
pub mod comments;
pub mod link;
pub mod originals;
pub mod publisher;
pub mod relay_http;
pub mod selection;
mod state;
mod studio;

use std::time::Duration;

use shotline_protocol::gallery::{Choose, Downloads};

use crate::journal::{Journal, Share, now_ms};
use crate::preview::watermark::Watermark;

/// Start the gallery's tasks for one run on `relay`: the publisher (woken by `made`, a
/// preview made), the answers' collector and the originals' sender (presigning with
/// `cloud` when uploads are set up).
#[allow(clippy::too_many_arguments)]
pub fn spawn(
    tasks: &mut tokio::task::JoinSet<()>,
    config: &crate::Config,
    journal: &std::sync::Arc<Journal>,
    bus: &crate::Bus,
    relay: &crate::relay_client::RelayTarget,
    made: std::sync::Arc<tokio::sync::Notify>,
    cloud: Option<crate::upload::s3::Client>,
    shutdown: &tokio::sync::watch::Receiver<bool>,
) {
    let library = config.library.path.clone();
    let publisher = publisher::Publisher::new(
        journal.clone(),
        library.clone(),
        &config.studio.id,
        relay,
        bus.clone(),
    );
    tasks.spawn(publisher::run(publisher, made, shutdown.clone()));
    let collector = answers::Collector::new(
        journal.clone(),
        library,
        relay_http::RelayHttp::new(&relay.url, &relay.token),
        crate::sidecar::Naming::parse(&config.gallery.sidecar).unwrap_or_default(),
        bus.clone(),
        selection::PickMarks::from_config(&config.gallery, config.notify.email.is_some()),
    );
    tasks.spawn(answers::run(collector, shutdown.clone()));
    let sender = originals::Originals::new(
        journal.clone(),
        config.library.path.clone(),
        relay_http::RelayHttp::new(&relay.url, &relay.token),
        cloud,
    );
    tasks.spawn(originals::run(sender, shutdown.clone()));
}

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

/// How a share is set up beyond its session, title and time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The PIN's Argon2 hash ([`hash_pin`]).
    pub pin_hash: Option<String>,
    /// What guests may download.
    pub downloads: Downloads,
    /// "Choose N".
    pub choose: Option<Choose>,
    /// The watermark burned into what guests see.
    pub watermark: Option<Watermark>,
    /// Guests see the studio's live view.
    pub live: bool,
    /// The layout overlay they see over it ([`keep_overlay`]'s copy).
    pub live_overlay: Option<String>,
}

/// The largest layout overlay shared with guests.
pub const MAX_OVERLAY: u64 = 8 << 20;

/// Keep a copy of the layout overlay at `source` (a PNG of at most [`MAX_OVERLAY`]) for
/// share `id`'s guests, so it stays when the original moves; the copy's path.
pub fn keep_overlay(
    library: &std::path::Path,
    id: &str,
    source: &std::path::Path,
) -> Result<String, String> {
    let size = std::fs::metadata(source)
        .map_err(|e| format!("{}: {e}", source.display()))?
        .len();
    if size > MAX_OVERLAY {
        return Err(format!(
            "{} is larger than 8 MB: export the layout smaller",
            source.display()
        ));
    }
    let bytes = std::fs::read(source).map_err(|e| format!("{}: {e}", source.display()))?;
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(format!(
            "{} is not a PNG: a layout overlay is a PNG with transparency",
            source.display()
        ));
    }
    let dir = library.join(".shotline").join("overlays");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let copy = dir.join(format!("{id}-{:08x}.png", rand::random::<u32>()));
    std::fs::write(&copy, bytes).map_err(|e| format!("{}: {e}", copy.display()))?;
    Ok(copy.to_string_lossy().into_owned())
}

/// Keep a copy of the logo at `source` (checked to be a PNG the watermark can use) for
/// share `id`'s watermark, so it stays when the original moves; the copy's path.
pub fn keep_logo(
    library: &std::path::Path,
    id: &str,
    source: &std::path::Path,
) -> Result<String, String> {
    crate::preview::watermark::read_logo(source)?;
    let dir = library.join(".shotline").join("watermarks");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let copy = dir.join(format!("{id}-{:08x}.png", rand::random::<u32>()));
    std::fs::copy(source, &copy).map_err(|e| format!("{}: {e}", copy.display()))?;
    Ok(copy.to_string_lossy().into_owned())
}

/// Check a PIN (4 to 8 digits, or a passphrase of 6 to 128 characters) and hash it with
/// Argon2id and a random salt, as the journal and the relay keep it.
pub fn hash_pin(pin: &str) -> Result<String, String> {
    use argon2::PasswordHasher;
    let pin = pin.trim();
    let digits = pin.chars().all(|c| c.is_ascii_digit());
    let length = pin.chars().count();
    if digits && !(4..=8).contains(&length) {
        return Err("a PIN of digits has 4 to 8 of them".into());
    }
    if !digits && !(6..=128).contains(&length) {
        return Err("a passphrase has 6 to 128 characters".into());
    }
    if pin.chars().any(char::is_control) {
        return Err("a PIN has no control characters".into());
    }
    let salt = argon2::password_hash::SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Let guest `sub` of share `id` change their sent selection: a `gallery_unlock` into the
/// outbox, which the running engine delivers to the relay.
pub fn unlock(journal: &Journal, studio: &str, id: &str, sub: &str) -> crate::Result<()> {
    let event = serde_json::json!({"type": "gallery_unlock", "payload": {"guest": sub}});
    journal.push_events(&[(channel(studio, id), event.to_string())])
}

/// Record a new share of `session` for `ttl`; the running engine makes its link.
pub fn create(
    journal: &Journal,
    session: &str,
    title: Option<&str>,
    ttl: Duration,
    settings: Settings,
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
        pin_hash: settings.pin_hash,
        downloads: settings.downloads,
        choose: settings.choose,
        watermark: settings.watermark,
        watermark_version: 0,
        settings_version: 0,
        link_exp_ms: None,
        live: settings.live,
        live_overlay: settings.live_overlay,
    };
    journal.create_share(&share)?;
    Ok(share)
}

#[cfg(test)]
mod tests {
    #[test]
    fn pins_are_checked_and_only_their_hash_is_kept() {
        use argon2::PasswordVerifier;
        let hash = super::hash_pin(" 2468 ").expect("four digits");
        assert!(!hash.contains("2468"));
        let parsed = argon2::PasswordHash::new(&hash).expect("PHC");
        assert!(
            argon2::Argon2::default()
                .verify_password(b"2468", &parsed)
                .is_ok()
        );
        assert!(super::hash_pin("123").is_err());
        assert!(super::hash_pin("123456789").is_err());
        assert!(super::hash_pin("short").is_err());
        assert!(super::hash_pin("correct horse").is_ok());
    }

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
