//! The relay token, the storage keys and the SMTP password, in the OS keychain (Keychain on macOS, Credential
//! Manager on Windows, the Secret Service (GNOME Keyring, KWallet) on Linux): never in the
//! config file or the logs.
//! The environment variables of the headless binary still win when set.

use keyring::Entry;

const SERVICE: &str = "studio.shotline.desktop";

/// A secret Shotline keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// The relay's publisher token.
    RelayToken,
    /// The storage access key id.
    UploadKey,
    /// The storage secret access key.
    UploadSecret,
    /// The embedded relay's signing secret: kept, so the dashboard link outlives a restart.
    RelaySecret,
    /// The SMTP password of `[notify.email]`.
    SmtpPassword,
}

impl Secret {
    fn account(self) -> &'static str {
        match self {
            Self::RelayToken => "relay-token",
            Self::UploadKey => "upload-access-key-id",
            Self::UploadSecret => "upload-secret-access-key",
            Self::RelaySecret => "relay-secret",
            Self::SmtpPassword => "smtp-password",
        }
    }

    fn env(self) -> &'static str {
        use shotline_protocol::env;
        match self {
            Self::RelayToken => env::RELAY_TOKEN,
            Self::UploadKey => env::UPLOAD_ACCESS_KEY_ID,
            Self::UploadSecret => env::UPLOAD_SECRET_ACCESS_KEY,
            Self::RelaySecret => env::RELAY_SECRET,
            Self::SmtpPassword => env::SMTP_PASSWORD,
        }
    }

    /// The value: the environment's, else the keychain's.
    pub fn get(self) -> Option<String> {
        if let Ok(v) = std::env::var(self.env())
            && !v.is_empty()
        {
            return Some(v);
        }
        Entry::new(SERVICE, self.account())
            .ok()?
            .get_password()
            .ok()
            .filter(|v| !v.is_empty())
    }

    /// Store `value` in the keychain (empty: remove it).
    pub fn set(self, value: &str) -> Result<(), KeychainError> {
        let entry = Entry::new(SERVICE, self.account()).map_err(|e| self.problem(e))?;
        let result = if value.is_empty() {
            match entry.delete_credential() {
                Err(keyring::Error::NoEntry) => Ok(()),
                other => other,
            }
        } else {
            entry.set_password(value)
        };
        result.map_err(|e| self.problem(e))
    }

    fn problem(self, source: keyring::Error) -> KeychainError {
        KeychainError {
            source,
            env: self.env(),
        }
    }
}

/// The OS keychain refused to store or remove a secret.
#[derive(Debug, thiserror::Error)]
#[error("the OS keychain refused it ({source}); set {env} in the environment instead")]
pub struct KeychainError {
    source: keyring::Error,
    env: &'static str,
}

/// The embedded relay's secret: the keychain's, else a new one stored there (when the
/// keychain refuses, a new one for this run only).
pub fn relay_secret() -> Vec<u8> {
    if let Some(secret) = Secret::RelaySecret.get().filter(|s| s.len() >= 32) {
        return secret.into_bytes();
    }
    let secret: String = shotline_engine::relay_setup::random_secret()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Err(e) = Secret::RelaySecret.set(&secret) {
        tracing::warn!("the dashboard link will change at the next start: {e}");
    }
    secret.into_bytes()
}

/// The upload credentials, when both parts are there.
pub fn upload_credentials() -> Option<(String, String)> {
    Some((Secret::UploadKey.get()?, Secret::UploadSecret.get()?))
}
