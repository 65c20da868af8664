//! Mail to the studio (`[notify.email]`): what it is told by mail, composed into the
//! journal's mail queue ([`Journal::queue_mail`], once per thing) and sent through the
//! studio's SMTP server with `lettre` — STARTTLS by default (a server that cannot
//! upgrade is refused before anything is said), TLS, or none for a server on this
//! computer; a private CA may be trusted (`ca_file`).
//!
//! - a guest's selection, at once (queued by [`crate::share::selection`]);
//! - the day's comments, at `digest_at` (local time), when there were any;
//! - a share about to end, `expiry_warning` before it does.
//!
//! A message the server refuses or a server away is tried again with backoff (a minute,
//! then up to an hour); every try is in the journal.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Local, TimeZone};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use tokio::sync::watch;

use crate::config::notify::{Email, MailTls};
use crate::journal::{Journal, now_ms};

/// Messages sent per round, at most.
const BATCH: usize = 20;

/// The mail task's parts.
#[derive(Debug, Clone)]
pub struct Mailer {
    journal: Arc<Journal>,
    email: Email,
    password: Option<String>,
}

/// A message not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The message could not be made (an address).
    #[error("the message: {0}")]
    Message(String),
    /// The server could not be reached, or refused.
    #[error("the SMTP server: {0}")]
    Smtp(String),
}

impl Mailer {
    /// A mailer for `email`, with the SMTP `password` when the server wants one (else
    /// `SHOTLINE_SMTP_PASSWORD`'s).
    pub fn new(journal: Arc<Journal>, email: Email, password: Option<String>) -> Self {
        let password = password.or_else(|| {
            std::env::var(shotline_protocol::env::SMTP_PASSWORD)
                .ok()
                .filter(|p| !p.is_empty())
        });
        Self {
            journal,
            email,
            password,
        }
    }

    fn transport(&self) -> Result<SmtpTransport, MailError> {
        let email = &self.email;
        let server = email.server.trim();
        let smtp = |e: lettre::transport::smtp::Error| MailError::Smtp(e.to_string());
        let tls = || -> Result<TlsParameters, MailError> {
            let mut params = TlsParameters::builder(server.to_string());
            if let Some(ca) = &email.ca_file {
                let pem = std::fs::read(ca)
                    .map_err(|e| MailError::Smtp(format!("{}: {e}", ca.display())))?;
                params = params.add_root_certificate(Certificate::from_pem(&pem).map_err(smtp)?);
            }
            params.build_rustls().map_err(smtp)
        };
        let builder = SmtpTransport::builder_dangerous(server)
            .port(email.port())
            .timeout(Some(Duration::from_secs(30)));
        let builder = match email.tls {
            MailTls::Starttls => builder.tls(Tls::Required(tls()?)),
            MailTls::Tls => builder.tls(Tls::Wrapper(tls()?)),
            MailTls::None => builder.tls(Tls::None),
        };
        let builder = match (&email.username, &self.password) {
            (Some(user), Some(password)) => {
                builder.credentials(Credentials::new(user.clone(), password.clone()))
            }
            // An account without its password would be sent without signing in: the
            // server refuses it (or, worse, relays it as anyone's). Say what is missing.
            (Some(user), None) => {
                return Err(MailError::Smtp(format!(
                    "[notify.email] username = {user:?} but no password: set {} (or save it in the window's settings)",
                    shotline_protocol::env::SMTP_PASSWORD
                )));
            }
            _ => builder,
        };
        Ok(builder.build())
    }

    fn message(&self, subject: &str, body: &str) -> Result<Message, MailError> {
        let bad = |e: lettre::address::AddressError| MailError::Message(e.to_string());
        let mut builder = Message::builder()
            .from(self.email.from.parse::<Mailbox>().map_err(bad)?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN);
        for to in &self.email.to {
            builder = builder.to(to.parse::<Mailbox>().map_err(bad)?);
        }
        builder
            .body(body.to_string())
            .map_err(|e| MailError::Message(e.to_string()))
    }

    /// Queue what is due now (the digest, expiry warnings).
    pub fn compose(&self) -> crate::Result<()> {
        self.digest(Local::now())?;
        self.expiries()
    }

    /// The day's comments, once past `digest_at` (local): everything since the last one.
    fn digest(&self, now: chrono::DateTime<Local>) -> crate::Result<()> {
        let Some((hour, minute)) = self.email.digest_time() else {
            return Ok(());
        };
        let Some(at) = now
            .date_naive()
            .and_hms_opt(hour, minute, 0)
            .and_then(|t| Local.from_local_datetime(&t).earliest())
        else {
            return Ok(());
        };
        if now < at {
            return Ok(());
        }
        let key = format!("digest:{}", at.format("%Y-%m-%d"));
        if self.journal.mail_known(&key)? {
            return Ok(());
        }
        // Keyed on the journal's rows, not the relay's times: a comment collected after
        // the last digest is in the next one, whenever it was given.
        let after_row = self
            .journal
            .meta("mail_digest_row")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let (comments, last_row) = self
            .journal
            .comments_since(after_row, at.timestamp_millis() - 86_400_000)?;
        if !comments.is_empty() {
            let mut body = String::new();
            let mut share = "";
            for c in &comments {
                if c.share != share {
                    share = &c.share;
                    body.push_str(&format!("\n{share}\n"));
                }
                let when = chrono::DateTime::from_timestamp_millis(c.ts_ms)
                    .map(|t| t.with_timezone(&Local).format("%H:%M").to_string())
                    .unwrap_or_default();
                body.push_str(&format!("  {when}  {}  {}: {}\n", c.file, c.name, c.text));
            }
            let n = comments.len();
            let subject = format!(
                "{n} new comment{} from your clients",
                if n == 1 { "" } else { "s" }
            );
            self.journal.queue_mail(&key, &subject, body.trim_start())?;
        }
        self.journal
            .set_meta("mail_digest_row", &last_row.to_string())?;
        Ok(())
    }

    /// A warning for every open share ending within `expiry_warning`.
    fn expiries(&self) -> crate::Result<()> {
        let Some(warning) = self.email.expiry_warning() else {
            return Ok(());
        };
        let now = now_ms();
        for share in self.journal.shares()? {
            if !share.open() || share.expires_ms - now > warning.as_millis() as i64 {
                continue;
            }
            let key = format!("expiry:{}:{}", share.id, share.expires_ms);
            let title = share.title.clone().unwrap_or_else(|| share.session.clone());
            let ends = chrono::DateTime::from_timestamp_millis(share.expires_ms)
                .map(|t| {
                    t.with_timezone(&Local)
                        .format("%A %-d %B, %H:%M")
                        .to_string()
                })
                .unwrap_or_default();
            let subject = format!("The gallery \"{title}\" ends {ends}");
            let body = format!(
                "The gallery \u{201c}{title}\u{201d} (share {}) closes {ends}; its guests can no longer open it after that.\n\nTo keep it open longer: shotline share set {} --extend 3d (or Extend in the window's Share session…).\n{}",
                share.id,
                share.id,
                share.link.as_deref().unwrap_or("")
            );
            self.journal.queue_mail(&key, &subject, &body)?;
        }
        Ok(())
    }

    /// Send what is queued; how many went, and the first problem.
    pub fn send_due(&self) -> crate::Result<(usize, Option<MailError>)> {
        let due = self.journal.mail_due(BATCH)?;
        if due.is_empty() {
            return Ok((0, None));
        }
        let transport = match self.transport() {
            Ok(t) => t,
            Err(e) => return Ok((0, Some(e))),
        };
        let mut sent = 0;
        let mut problem = None;
        for mail in due {
            let outcome = self.message(&mail.subject, &mail.body).and_then(|m| {
                transport
                    .send(&m)
                    .map(drop)
                    .map_err(|e| MailError::Smtp(e.to_string()))
            });
            match outcome {
                Ok(()) => {
                    self.journal.mail_sent(&mail.key)?;
                    sent += 1;
                }
                Err(e) => {
                    self.journal.mail_failed(&mail.key, &e.to_string())?;
                    // The server away: the others would fail too; refused: try the next.
                    let away = matches!(&e, MailError::Smtp(m) if m.contains("network") || m.contains("connection"));
                    problem.get_or_insert(e);
                    if away {
                        break;
                    }
                }
            }
        }
        Ok((sent, problem))
    }
}

/// Run until shutdown: compose and send every few seconds, backing off while the server
/// refuses.
pub async fn run(mailer: Mailer, mut shutdown: watch::Receiver<bool>) {
    let mut failures = 0u32;
    loop {
        let m = mailer.clone();
        let pause = match tokio::task::spawn_blocking(move || {
            m.compose()?;
            m.send_due()
        })
        .await
        {
            Ok(Ok((_, None))) => {
                failures = 0;
                Duration::from_secs(2)
            }
            Ok(Ok((_, Some(e)))) => {
                failures += 1;
                tracing::warn!("mail: {e}");
                shotline_protocol::retry::backoff(
                    failures,
                    Duration::from_secs(60),
                    Duration::from_secs(3600),
                )
            }
            Ok(Err(e)) => {
                tracing::warn!("mail: {e}");
                Duration::from_secs(30)
            }
            Err(_) => Duration::from_secs(30),
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Answer;

    fn email() -> Email {
        Email {
            server: "127.0.0.1".into(),
            port: None,
            tls: MailTls::None,
            ca_file: None,
            username: None,
            from: "Shotline <s@studio.test>".into(),
            to: vec!["studio@studio.test".into()],
            digest_at: "18:00".into(),
            expiry_warning: "24h".into(),
        }
    }

    #[test]
    fn the_digest_holds_the_days_comments_once_at_its_time() {
        let dir = tempfile::tempdir().expect("tmp");
        let journal = Arc::new(Journal::open(&dir.path().join("journal.db")).expect("journal"));
        let share = crate::share::create(
            &journal,
            "shoot",
            Some("Proofs"),
            Duration::from_secs(7 * 86_400),
            Default::default(),
        )
        .expect("share");
        let at = Local
            .from_local_datetime(
                &Local::now()
                    .date_naive()
                    .and_hms_opt(18, 0, 0)
                    .expect("time"),
            )
            .earliest()
            .expect("local");
        let comment = |seq: u64, ts: i64, text: &str| Answer {
            share: share.id.clone(),
            id: format!("c{seq}"),
            seq,
            ts_ms: ts,
            sub: "guest-a".into(),
            name: Some("Ana".into()),
            shot_id: 1,
            frame_name: String::new(),
            kind: "comment".into(),
            value: text.into(),
        };
        let t = at.timestamp_millis();
        let answers = [
            comment(1, t - 7_200_000, "warmer, please"),
            comment(2, t - 3_600_000, "love this one"),
        ];
        journal
            .record_answers(&share.id, &answers, 2)
            .expect("answers");
        let mailer = Mailer::new(journal.clone(), email(), None);
        mailer
            .digest(at - chrono::Duration::minutes(1))
            .expect("digest");
        assert!(journal.mail_due(10).expect("due").is_empty(), "not yet");
        mailer
            .digest(at + chrono::Duration::minutes(1))
            .expect("digest");
        mailer
            .digest(at + chrono::Duration::minutes(2))
            .expect("digest");
        let due = journal.mail_due(10).expect("due");
        assert_eq!(due.len(), 1, "once: {due:?}");
        assert_eq!(due[0].subject, "2 new comments from your clients");
        assert!(due[0].body.starts_with("Proofs\n"), "{}", due[0].body);
        assert!(due[0].body.contains("Ana: warmer, please"));
        // A comment given before the digest but brought in after it (this computer was
        // off), and one given later: both in the next day's.
        let later = [
            comment(3, t - 1_800_000, "late but kept"),
            comment(4, t + 3_600_000, "tomorrow's"),
        ];
        journal
            .record_answers(&share.id, &later, 4)
            .expect("answers");
        mailer
            .digest(at + chrono::Duration::days(1) + chrono::Duration::minutes(1))
            .expect("digest");
        let due = journal.mail_due(10).expect("due");
        assert_eq!(due.len(), 2, "{due:?}");
        let next = due
            .iter()
            .find(|m| m.body.contains("tomorrow's"))
            .expect("next");
        assert!(next.body.contains("late but kept"), "{}", next.body);
        assert!(!next.body.contains("warmer"), "{}", next.body);
        assert!(email().problems().is_empty());
        let clear = Email {
            server: "smtp.example.com".into(),
            ..email()
        };
        assert_eq!(clear.problems().len(), 1, "none only on this computer");
    }
}
