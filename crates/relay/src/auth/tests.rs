//! Tokens: what is accepted and what is refused, and what each role may do.

use super::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const SECRET: &[u8] = b"auth-unit-test-secret-0123";
const ED_PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/ed25519.pem");
const ED_PUBLIC: &[u8] = include_bytes!("../../tests/fixtures/ed25519.pub.pem");
const RSA_PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/rsa.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("../../tests/fixtures/rsa.pub.pem");

fn claims() -> Claims {
    Claims::new(
        Role::Publisher,
        vec!["north:*".into(), "admin".into()],
        Duration::from_secs(3600),
    )
    .with_sub("engine")
}

/// A token with any header and body, signed (or not) as given.
fn raw(header: &str, body: &serde_json::Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(body.to_string())
    )
}

fn signed(alg: Algorithm, key: &EncodingKey, body: &impl Serialize) -> String {
    jsonwebtoken::encode(&Header::new(alg), body, key).expect("sign")
}

#[test]
fn minted_tokens_verify_with_every_claim() {
    let c = claims();
    assert_eq!(verify(&mint(&c, SECRET), SECRET), Ok(c.clone()));
    assert_eq!(c.subject(), "engine");
    assert_eq!(c.jti.as_ref().map(String::len), Some(32));
    let anonymous = Claims {
        sub: None,
        ..c.clone()
    };
    assert_eq!(anonymous.subject(), ANONYMOUS);
}

#[test]
fn bad_tokens_are_refused_with_a_reason() {
    let c = claims();
    let good = mint(&c, SECRET);
    assert!(
        matches!(verify(&good, b"another-secret-0123456"), Err(AuthError::Invalid(m)) if m.contains("signature"))
    );
    // A changed signature.
    let (head, sig) = good.rsplit_once('.').expect("parts");
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{head}.{flipped}{}", &sig[1..]);
    assert!(verify(&tampered, SECRET).is_err());
    // A changed body under the old signature.
    let other = mint(
        &Claims {
            role: Role::Admin,
            ..c.clone()
        },
        SECRET,
    );
    let (other_head, _) = other.rsplit_once('.').expect("parts");
    assert!(verify(&format!("{other_head}.{sig}"), SECRET).is_err());
    // HS512, even with the right secret.
    let hs512 = signed(
        Algorithm::HS512,
        &EncodingKey::from_secret(SECRET).expect("key"),
        &c,
    );
    assert!(matches!(verify(&hs512, SECRET), Err(AuthError::Invalid(m)) if m.contains("HS512")));
    // alg none, with or without a signature.
    let body = serde_json::to_value(&c).expect("json");
    for header in [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"None"}"#] {
        assert!(matches!(
            verify(&raw(header, &body, ""), SECRET),
            Err(AuthError::Invalid(_))
        ));
    }
    // No exp.
    let mut no_exp = body.clone();
    no_exp.as_object_mut().expect("object").remove("exp");
    let no_exp = signed(
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET).expect("key"),
        &no_exp,
    );
    assert!(matches!(verify(&no_exp, SECRET), Err(AuthError::Invalid(m)) if m.contains("exp")));
    assert!(verify("a.b", SECRET).is_err());
    assert!(verify("", SECRET).is_err());
}

#[test]
fn expiry_has_a_minute_of_leeway() {
    let at = |exp: u64| mint(&Claims { exp, ..claims() }, SECRET);
    let now = now_secs();
    assert!(verify(&at(now - 30), SECRET).is_ok(), "inside the leeway");
    assert_eq!(verify(&at(now - 120), SECRET), Err(AuthError::Expired));
    assert_eq!(AuthError::Expired.code(), ErrorCode::TokenExpired);
    assert_eq!(AuthError::Revoked.code(), ErrorCode::Revoked);
}

#[test]
fn a_studio_backend_signs_with_ed25519_or_rsa() {
    let c = claims();
    let ed = signed(
        Algorithm::EdDSA,
        &EncodingKey::from_ed_pem(ED_PRIVATE).expect("key"),
        &c,
    );
    let rs = signed(
        Algorithm::RS256,
        &EncodingKey::from_rsa_pem(RSA_PRIVATE).expect("key"),
        &c,
    );
    let with_ed = Verifier::new(SECRET, Some(ED_PUBLIC)).expect("ed key");
    let with_rsa = Verifier::new(SECRET, Some(RSA_PUBLIC)).expect("rsa key");
    let plain = Verifier::new(SECRET, None).expect("secret");
    assert_eq!(with_ed.verify(&ed), Ok(c.clone()));
    assert_eq!(with_rsa.verify(&rs), Ok(c.clone()));
    assert!(with_ed.verify(&rs).is_err() && with_rsa.verify(&ed).is_err());
    assert!(plain.verify(&ed).is_err() && plain.verify(&rs).is_err());
    assert!(
        with_ed.verify(&mint(&c, SECRET)).is_ok(),
        "HS256 still works"
    );
    // RS512 with the RSA key is not RS256.
    let rs512 = signed(
        Algorithm::RS512,
        &EncodingKey::from_rsa_pem(RSA_PRIVATE).expect("key"),
        &c,
    );
    assert!(with_rsa.verify(&rs512).is_err());
    // An HS256 token "signed" with the public key as the secret is not accepted.
    let confused = signed(
        Algorithm::HS256,
        &EncodingKey::from_secret(RSA_PUBLIC).expect("key"),
        &c,
    );
    assert!(with_rsa.verify(&confused).is_err());
    assert!(Verifier::new(SECRET, Some(b"not a key")).is_err());
}

#[test]
fn roles_channels_and_publish_types() {
    assert!(Role::Guest < Role::Subscriber && Role::Subscriber < Role::Publisher);
    assert!(Role::Publisher < Role::Admin);
    let c = claims();
    assert!(c.allows("north:camera") && c.allows("admin"));
    assert!(!c.allows("south:camera") && !c.allows("admins"));
    assert!(c.covers("north:*") && c.covers("north:gallery:*") && c.covers("north:x"));
    assert!(!c.covers("*") && !c.covers("nor*") && !c.covers("admin*"));
    let guest = Claims {
        role: Role::Guest,
        publish: Some(vec!["gallery_like".into()]),
        ..c.clone()
    };
    assert!(guest.may_publish("gallery_like") && !guest.may_publish("shot_stored"));
    let subscriber = Claims {
        role: Role::Subscriber,
        ..c.clone()
    };
    assert!(!subscriber.may_publish("gallery_like"));
    assert!(c.may_publish("anything"));
    let admin = Claims {
        role: Role::Admin,
        channels: Vec::new(),
        ..c
    };
    assert!(admin.allows("anywhere") && admin.covers("*"));
}
