//! C4 ids (SMPTE ST 2114): how an ASC MHL chain names each generation file. SHA-512 of
//! the bytes, read as a big-endian number, written in base 58 (no `0 O I l`), padded to
//! 88 digits with `1` and prefixed `c4`: always 90 characters.

use sha2::{Digest, Sha512};

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// The C4 id of `bytes`.
pub fn c4(bytes: &[u8]) -> String {
    let mut number: Vec<u8> = Sha512::digest(bytes).to_vec();
    let mut digits = Vec::with_capacity(88);
    // Long division of the big-endian number by 58 until nothing is left.
    while number.iter().any(|b| *b != 0) {
        let mut remainder = 0u32;
        for byte in &mut number {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = (value / 58) as u8;
            remainder = value % 58;
        }
        digits.push(ALPHABET[remainder as usize]);
    }
    while digits.len() < 88 {
        digits.push(b'1');
    }
    digits.reverse();
    format!("c4{}", String::from_utf8_lossy(&digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_tools_ids() {
        // From ascmhl 1.2's own hasher.
        assert_eq!(
            c4(b""),
            "c459dsjfscH38cYeXXYogktxf4Cd9ibshE3BHUo6a58hBXmRQdZrAkZzsWcbWtDg5oQstpDuni4Hirj75GEmTc1sFT"
        );
        assert_eq!(
            c4(b"foo"),
            "c45xZeXwMSpqXjpDumcHMA6mhoAmGHkUo7r9WmN2UgSEQzj9KjgseaQdkEJ11fGb5S1WEENcV3q8RFWwEeVpC7Fjk2"
        );
        assert_eq!(
            c4(b"hello\n"),
            "c45dkQrAqUiR8WzPGgn6fAGji3VAVeAE7cKVG4G53ou9dTk4Nzb9vFYEwzy9jq5ZKQKM64DMpPpVbYe2bMsZP2yYKi"
        );
        assert_eq!(c4(b"x").len(), 90);
    }
}
