//! Tokens: JWT signed with HS256, carrying a `role` (publisher or subscriber), the
//! `channels` it may use (a trailing `*` matches a prefix) and `exp` (seconds since the
//! Unix epoch). Minted by `shotline-relay token`, checked on every connection and request.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use shotline_protocol::relay::ErrorCode;

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May publish and subscribe.
    Publisher,
    /// May subscribe only.
    Subscriber,
}

/// A token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Publisher or subscriber.
    pub role: Role,
    /// Channel names or prefixes (`studio:*`).
    pub channels: Vec<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Malformed, wrong algorithm or bad signature.
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// Past its `exp`.
    #[error("token expired")]
    Expired,
}

impl AuthError {
    /// The error code clients see.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Invalid(_) => ErrorCode::Unauthorized,
            AuthError::Expired => ErrorCode::TokenExpired,
        }
    }
}

impl Claims {
    /// True when the token covers `channel`.
    pub fn allows(&self, channel: &str) -> bool {
        self.channels
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => channel.starts_with(prefix),
                None => pattern == channel,
            })
    }
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    Hmac::<Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("hmac accepts any key length"))
}

/// Sign `claims` with `secret`.
pub fn mint(claims: &Claims, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing = format!("{header}.{body}");
    let mut m = mac(secret);
    m.update(signing.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    format!("{signing}.{sig}")
}

/// Check a token's signature and expiry at `now` (seconds since the Unix epoch).
pub fn verify(token: &str, secret: &[u8], now: u64) -> Result<Claims, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(body), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Invalid("not three parts"));
    };
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(AuthError::Invalid("bad header"))?;
    if header["alg"] != "HS256" {
        return Err(AuthError::Invalid("algorithm is not HS256"));
    }
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| AuthError::Invalid("bad signature encoding"))?;
    let mut m = mac(secret);
    m.update(format!("{}.{body}", token.split('.').next().unwrap_or_default()).as_bytes());
    m.verify_slice(&sig)
        .map_err(|_| AuthError::Invalid("bad signature"))?;
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(AuthError::Invalid("bad claims"))?;
    if claims.exp <= now {
        return Err(AuthError::Expired);
    }
    Ok(claims)
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(role: Role, exp: u64) -> Claims {
        Claims {
            role,
            channels: vec!["north:*".into(), "admin".into()],
            exp,
        }
    }

    #[test]
    fn minted_tokens_verify_and_tampering_fails() {
        let token = mint(&claims(Role::Publisher, 2_000), b"secret");
        assert_eq!(
            verify(&token, b"secret", 1_000),
            Ok(claims(Role::Publisher, 2_000))
        );
        assert_eq!(
            verify(&token, b"other", 1_000),
            Err(AuthError::Invalid("bad signature"))
        );
        assert_eq!(verify(&token, b"secret", 2_000), Err(AuthError::Expired));
        let forged = mint(&claims(Role::Subscriber, 2_000), b"secret");
        let (head, _) = forged.rsplit_once('.').expect("parts");
        let (_, sig) = token.rsplit_once('.').expect("parts");
        assert!(verify(&format!("{head}.{sig}"), b"secret", 1_000).is_err());
        assert!(verify("a.b", b"secret", 0).is_err());
    }

    #[test]
    fn channel_patterns() {
        let c = claims(Role::Subscriber, 1);
        assert!(c.allows("north:camera") && c.allows("admin"));
        assert!(!c.allows("south:camera") && !c.allows("admins"));
    }
}
