//! Tokens: standard JWTs (through `jsonwebtoken`), checked on every connection and request.
//!
//! - Claims: `role` (guest < subscriber < publisher < admin), `channels` (names; a
//!   trailing `*` matches a prefix), `exp`, and `sub` (who: a user, a device, a guest;
//!   absent: `anonymous`), `jti` (the token's id), `iat`, `name` (shown to people),
//!   `publish` (for guests: the event types they may publish).
//! - Signatures: HS256 with the relay's secret; with `jwt_public_key`, also EdDSA or
//!   RS256 tokens signed by the studio's own backend. 60 s of clock leeway; `alg: none`,
//!   any other algorithm, and a token without `exp` are refused.
//! - [`exchange`]: a token for a token never wider than it (`POST /v1/tokens`).
//! - [`names`]: what a person may be called.
//! - [`secret`]: a signing secret that cannot be guessed.

pub mod exchange;
pub mod names;
pub mod secret;

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use shotline_protocol::relay::ErrorCode;

/// The subject of a token without `sub`.
pub const ANONYMOUS: &str = "anonymous";

/// Clock leeway for `exp`.
pub const LEEWAY_SECS: u64 = 60;

/// What a token allows, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Subscribes on its channels; publishes only the types in its `publish` claim, slowly.
    Guest,
    /// Subscribes on its channels (a dashboard).
    Subscriber,
    /// Subscribes and publishes on its channels (the engine).
    Publisher,
    /// Everything, and the admin API.
    Admin,
}

impl Role {
    /// The wire name, e.g. `"guest"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guest => "guest",
            Role::Subscriber => "subscriber",
            Role::Publisher => "publisher",
            Role::Admin => "admin",
        }
    }

    /// Every role, lowest first.
    pub const ALL: [Role; 4] = [Role::Guest, Role::Subscriber, Role::Publisher, Role::Admin];
}

/// A token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// What it allows.
    pub role: Role,
    /// Channel names or prefixes (`studio:*`).
    pub channels: Vec<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Who: a user, a device, a guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The token's id (for revocation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// When it was issued, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// A name to show people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For guests: the event types they may publish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Vec<String>>,
    /// The tokens this one was exchanged from, oldest first (at most [`MAX_PARENTS`]):
    /// revoking any of them revokes this one too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<Parent>,
}

/// Ancestors a token carries at most; an exchange that would carry more is refused (the
/// gallery page exchanges the link itself: its guests' tokens carry two).
pub const MAX_PARENTS: usize = 8;

/// A token another was exchanged from: what revocation matches on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parent {
    /// Its `jti`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Its subject (`anonymous` when it had none).
    pub sub: String,
    /// Its `iat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Missing, malformed, of an algorithm the relay does not take, or badly signed.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// Past its `exp`.
    #[error("the token expired: mint a new one (or ask the studio for a new link)")]
    Expired,
    /// Revoked by an admin.
    #[error("the token was revoked: ask the studio for a new link")]
    Revoked,
    /// A PIN-protected share's link token, used for anything but its exchange.
    #[error("this gallery asks for a PIN: exchange the link's token with it first")]
    PinRequired,
}

impl AuthError {
    /// The error code clients see.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Invalid(_) => ErrorCode::Unauthorized,
            AuthError::Expired => ErrorCode::TokenExpired,
            AuthError::Revoked => ErrorCode::Revoked,
            AuthError::PinRequired => ErrorCode::PinRequired,
        }
    }
}

/// A new random id (a token's `jti`, a guest's `sub`): 128 bits as hex.
pub fn random_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// True when `pattern` (a name, or a prefix ending in `*`) matches `channel`.
fn matches(pattern: &str, channel: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => channel.starts_with(prefix),
        None => pattern == channel,
    }
}

impl Claims {
    /// A token for `role` on `channels`, valid for `ttl`, with a fresh `jti` and `iat` now.
    pub fn new(role: Role, channels: Vec<String>, ttl: Duration) -> Self {
        let now = now_secs();
        Self {
            role,
            channels,
            exp: now.saturating_add(ttl.as_secs()),
            sub: None,
            jti: Some(random_id()),
            iat: Some(now),
            name: None,
            publish: None,
            parents: Vec::new(),
        }
    }

    /// The chain a token exchanged from this one carries: this one's parents and this one;
    /// `None` past [`MAX_PARENTS`] (nothing is dropped from a chain: any link in it may be
    /// revoked).
    pub fn lineage(&self) -> Option<Vec<Parent>> {
        let mut chain = self.parents.clone();
        chain.push(Parent {
            jti: self.jti.clone(),
            sub: self.subject().to_string(),
            iat: self.iat,
        });
        (chain.len() <= MAX_PARENTS).then_some(chain)
    }

    /// With subject `sub`.
    pub fn with_sub(mut self, sub: impl Into<String>) -> Self {
        self.sub = Some(sub.into());
        self
    }

    /// Who the token is for (`anonymous` without `sub`).
    pub fn subject(&self) -> &str {
        self.sub.as_deref().unwrap_or(ANONYMOUS)
    }

    /// True when the token covers `channel` (an admin's covers every channel).
    pub fn allows(&self, channel: &str) -> bool {
        self.role == Role::Admin || self.channels.iter().any(|p| matches(p, channel))
    }

    /// True when every channel `pattern` names is covered: `a:*` covers `a:b*` and `a:b`.
    pub fn covers(&self, pattern: &str) -> bool {
        if self.role == Role::Admin {
            return true;
        }
        match pattern.strip_suffix('*') {
            None => self.allows(pattern),
            Some(prefix) => self.channels.iter().any(|own| match own.strip_suffix('*') {
                Some(own) => prefix.starts_with(own),
                None => false,
            }),
        }
    }

    /// True when the token may publish events of type `kind` (a guest: only those in its
    /// `publish` claim; a subscriber: none).
    pub fn may_publish(&self, kind: &str) -> bool {
        match self.role {
            Role::Publisher | Role::Admin => true,
            Role::Guest => self
                .publish
                .as_ref()
                .is_some_and(|types| types.iter().any(|t| t == kind)),
            Role::Subscriber => false,
        }
    }
}

/// Sign `claims` with HS256 and `secret`.
pub fn mint(claims: &Claims, secret: &[u8]) -> String {
    let key = EncodingKey::from_secret(secret)
        .unwrap_or_else(|e| unreachable!("the relay's secret is never empty: {e}"));
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key)
        .unwrap_or_else(|e| unreachable!("HS256 signing cannot fail: {e}"))
}

/// The configured public key cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("jwt_public_key: {0}")]
pub struct KeyError(String);

/// Checks tokens: HS256 with the secret; EdDSA or RS256 with the public key, if any.
pub struct Verifier {
    secret: DecodingKey,
    hs256: Validation,
    public: Option<(DecodingKey, Validation)>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let public = self.public.as_ref().map(|(_, v)| v.algorithms.clone());
        f.debug_struct("Verifier")
            .field("public", &public)
            .finish_non_exhaustive()
    }
}

fn validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = LEEWAY_SECS;
    v.validate_exp = true;
    v.validate_aud = false;
    v.set_required_spec_claims(&["exp"]);
    v
}

impl Verifier {
    /// A verifier for `secret` and, optionally, a public key (PEM: Ed25519 or RSA).
    pub fn new(secret: &[u8], public_pem: Option<&[u8]>) -> Result<Self, KeyError> {
        let secret = DecodingKey::from_secret(secret)
            .map_err(|e| KeyError(format!("the secret cannot be used: {e}")))?;
        let public = match public_pem {
            None => None,
            Some(pem) => Some(
                DecodingKey::from_ed_pem(pem)
                    .map(|k| (k, validation(Algorithm::EdDSA)))
                    .or_else(|_| {
                        DecodingKey::from_rsa_pem(pem).map(|k| (k, validation(Algorithm::RS256)))
                    })
                    .map_err(|_| {
                        KeyError(
                            "not an Ed25519 or RSA public key in PEM (BEGIN PUBLIC KEY)".into(),
                        )
                    })?,
            ),
        };
        Ok(Self {
            secret,
            hs256: validation(Algorithm::HS256),
            public,
        })
    }

    /// Check a token's algorithm, signature and expiry (not revocation: see
    /// [`crate::access`]).
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| refusal(e.kind()))?;
        let (key, validation) = match header.alg {
            Algorithm::HS256 => (&self.secret, &self.hs256),
            alg => match &self.public {
                Some((key, v)) if v.algorithms.contains(&alg) => (key, v),
                _ => {
                    return Err(AuthError::Invalid(format!(
                        "algorithm {alg:?} is not accepted here (HS256{})",
                        match &self.public {
                            Some((_, v)) =>
                                format!(", or {:?} with the studio's key", v.algorithms[0]),
                            None => String::new(),
                        }
                    )));
                }
            },
        };
        jsonwebtoken::decode::<Claims>(token, key, validation)
            .map(|data| data.claims)
            .map_err(|e| refusal(e.kind()))
    }
}

/// What a decoding error means for the client.
fn refusal(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::InvalidSignature => AuthError::Invalid("bad signature".into()),
        ErrorKind::InvalidAlgorithm => AuthError::Invalid("unexpected algorithm".into()),
        ErrorKind::MissingRequiredClaim(claim) => {
            AuthError::Invalid(format!("no `{claim}` claim: tokens must expire"))
        }
        ErrorKind::Json(e) if e.to_string().contains("`exp`") => {
            AuthError::Invalid("no `exp` claim: tokens must expire".into())
        }
        ErrorKind::Json(e) if e.to_string().contains("unknown variant") => {
            AuthError::Invalid("unexpected algorithm (alg none is never accepted)".into())
        }
        ErrorKind::Json(_) => AuthError::Invalid("bad claims".into()),
        _ => AuthError::Invalid("malformed token".into()),
    }
}

/// Check an HS256 token with `secret` (no public key, no revocation).
pub fn verify(token: &str, secret: &[u8]) -> Result<Claims, AuthError> {
    Verifier::new(secret, None)
        .map_err(|e| AuthError::Invalid(e.to_string()))?
        .verify(token)
}

#[cfg(test)]
mod tests;
