//! `[notify]`: how the studio is told of what happens beyond the window's notifications —
//! `[notify.email]`, mail through the studio's SMTP server (STARTTLS by default): a
//! guest's selection at once, a daily digest of comments, a share about to expire. The
//! password is never in the file: `SHOTLINE_SMTP_PASSWORD`, or the desktop app's keychain.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[notify]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Notify {
    /// `[notify.email]`; absent: no mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
}

impl Notify {
    /// Nothing set.
    pub fn is_empty(&self) -> bool {
        self.email.is_none()
    }
}

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTls {
    /// Plain, then STARTTLS before anything is said (port 587; the default). A server
    /// that cannot upgrade is refused, so nothing goes out in the clear.
    #[default]
    Starttls,
    /// TLS from the start (port 465).
    Tls,
    /// None at all: only for a server on this computer (127.0.0.1, ::1, localhost).
    None,
}

/// `[notify.email]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Email {
    /// The SMTP server's host name.
    pub server: String,
    /// Its port (default: 587 with STARTTLS, 465 with TLS, 25 with none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub tls: MailTls,
    /// A CA certificate (PEM) to trust besides the public ones: a studio's own server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The account, when the server asks for one (its password: `SHOTLINE_SMTP_PASSWORD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The sender, e.g. `Shotline <studio@example.com>`.
    pub from: String,
    /// Who is told.
    pub to: Vec<String>,
    /// When the day's comments are mailed, local time `HH:MM` (empty: no digest).
    #[serde(default = "default_digest_at")]
    pub digest_at: String,
    /// How long before a share ends it is said, e.g. `24h` (empty: never).
    #[serde(default = "default_expiry_warning")]
    pub expiry_warning: String,
}

fn default_digest_at() -> String {
    "18:00".into()
}

fn default_expiry_warning() -> String {
    "24h".into()
}

impl Email {
    /// The port to use.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            MailTls::Starttls => 587,
            MailTls::Tls => 465,
            MailTls::None => 25,
        })
    }

    /// The digest's hour and minute, if one is set and readable.
    pub fn digest_time(&self) -> Option<(u32, u32)> {
        let (h, m) = self.digest_at.trim().split_once(':')?;
        let (h, m) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some((h, m))
    }

    /// [`Email::expiry_warning`] as a duration, if set.
    pub fn expiry_warning(&self) -> Option<std::time::Duration> {
        let text = self.expiry_warning.trim();
        (!text.is_empty())
            .then(|| humantime::parse_duration(text).ok())
            .flatten()
    }

    /// What is wrong with it, if anything (for `config check`).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.server.trim().is_empty() {
            problems.push(("notify.email.server", "no server".to_string()));
        }
        let local = matches!(self.server.trim(), "127.0.0.1" | "::1" | "localhost");
        if self.tls == MailTls::None && !local {
            problems.push((
                "notify.email.tls",
                format!("tls = \"none\" sends the password and the mail in the clear to {}: only a server on this computer may go without (use starttls)", self.server),
            ));
        }
        for (key, address) in std::iter::once(("notify.email.from", &self.from))
            .chain(self.to.iter().map(|t| ("notify.email.to", t)))
        {
            if address.parse::<lettre::message::Mailbox>().is_err() {
                problems.push((key, format!("`{address}` is not an email address")));
            }
        }
        if let Some(ca) = &self.ca_file
            && !ca.is_file()
        {
            problems.push((
                "notify.email.ca_file",
                format!("{} is not a file (write its full path)", ca.display()),
            ));
        }
        if self.to.is_empty() {
            problems.push(("notify.email.to", "nobody to tell".to_string()));
        }
        if !self.digest_at.trim().is_empty() && self.digest_time().is_none() {
            problems.push((
                "notify.email.digest_at",
                format!("`{}` is not a time HH:MM", self.digest_at),
            ));
        }
        if !self.expiry_warning.trim().is_empty() && self.expiry_warning().is_none() {
            problems.push((
                "notify.email.expiry_warning",
                format!("`{}` is not a duration", self.expiry_warning),
            ));
        }
        problems
    }
}
