//! The token secret: guests hold HS256 tokens signed with it, and anyone holding one can
//! try secrets offline until one signs an admin token, so a short or guessable secret is
//! refused with a message that shows how to make a good one.

/// How to make a good secret, for the messages that refuse one.
pub const SECRET_FIX: &str =
    "make one with `openssl rand -base64 32` (or `head -c 32 /dev/urandom | base64`)";

/// Refuse a token secret that could be guessed: guests hold tokens signed with it, and
/// anyone holding one can try secrets offline until one signs an admin token. It must be
/// 32 bytes or more, not a repetition, and carry about 112 bits or more by its letters'
/// spread (a random 32-byte value in hex or base64 carries over 200).
pub fn check_secret(secret: &[u8]) -> Result<(), String> {
    let n = secret.len();
    if n < 32 {
        return Err(format!(
            "the secret is {n} bytes; it must be 32 or more; {SECRET_FIX}"
        ));
    }
    let periodic = (1..=n / 2).any(|p| (p..n).all(|i| secret[i] == secret[i % p]));
    let mut counts = [0u32; 256];
    for b in secret {
        counts[usize::from(*b)] += 1;
    }
    let bits: f64 = counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n as f64;
            -p * p.log2()
        })
        .sum::<f64>()
        * n as f64;
    if periodic || bits < 112.0 {
        return Err(format!(
            "the secret could be guessed (about {bits:.0} bits{}); {SECRET_FIX}",
            if periodic { ", a repeated pattern" } else { "" }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_secret_that_cannot_be_guessed_is_taken() {
        for weak in [
            "0123456789abcdef",
            "test-secret-0123456789",
            &"a".repeat(64),
            &"abc123".repeat(8),
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        ] {
            let e = check_secret(weak.as_bytes()).expect_err(weak);
            assert!(e.contains("openssl rand"), "{e}");
        }
        for good in [
            "q2ZpV8m3xKc0Lr7tYb1HwN5sJd9fUe4G6aTiOyXzPk8=",
            "3f1c9a7e5b2d4c8f0e6a1b3d5c7e9f2a4b6c8d0e1f3a5c7e9b2d4f6a8c0e1b3d",
        ] {
            check_secret(good.as_bytes()).expect(good);
        }
    }
}
