//! Content hashes: XXH3-128, written as 32 lowercase hex digits.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use xxhash_rust::xxh3::Xxh3;

/// Size of the buffer every copy and verification reads with.
pub const CHUNK: usize = 1 << 20;

/// An incremental XXH3-128 hasher.
#[derive(Default, Clone)]
pub struct Hasher(Xxh3);

impl Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self(Xxh3::new())
    }

    /// Feed bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest as 32 lowercase hex digits.
    pub fn finish_hex(&self) -> String {
        format!("{:032x}", self.0.digest128())
    }
}

/// Hash of a byte slice.
pub fn hash_bytes(bytes: &[u8]) -> String {
    let mut hasher = Hasher::new();
    hasher.update(bytes);
    hasher.finish_hex()
}

/// Hash a file and its length. With `from_disk`, the bytes come from the medium, not from
/// the OS's cache (the meaning of "verified"; [`crate::platform::open_from_medium`]); the
/// file must have been made durable first.
pub fn hash_file(path: &Path, from_disk: bool) -> io::Result<(String, u64)> {
    if from_disk {
        hash_reader(&mut crate::platform::open_from_medium(path)?)
    } else {
        hash_reader(&mut File::open(path)?)
    }
}

/// Hash everything a reader yields, and count it.
pub fn hash_reader(reader: &mut impl Read) -> io::Result<(String, u64)> {
    let mut hasher = Hasher::new();
    let mut buf = vec![0u8; CHUNK];
    let mut len = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hasher.finish_hex(), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut hasher = Hasher::new();
        for chunk in data.chunks(777) {
            hasher.update(chunk);
        }
        assert_eq!(hasher.finish_hex(), hash_bytes(&data));
        assert_eq!(hash_bytes(&data).len(), 32);
        assert_ne!(hash_bytes(b"a"), hash_bytes(b"b"));
    }
}
