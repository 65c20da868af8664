//! A ZIP archive written as it is sent: each file stored as it is (JPEGs do not compress),
//! its CRC-32 and size known before its header goes out, so no data descriptors and no
//! seeking; then the central directory. Names are UTF-8 (flag bit 11), made unique.

use std::collections::HashSet;

use bytes::{BufMut, Bytes, BytesMut};

/// What the central directory says of each file.
struct Entry {
    name: String,
    crc: u32,
    size: u32,
    offset: u32,
}

/// An archive being written.
#[derive(Default)]
pub struct Zip {
    entries: Vec<Entry>,
    names: HashSet<String>,
    offset: u64,
}

/// A 1980-01-01 00:00 DOS date and time: the archive says nothing of when.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;
/// UTF-8 names.
const FLAGS: u16 = 1 << 11;

/// Why a file cannot go into the archive.
#[derive(Debug, thiserror::Error)]
#[error("the archive would pass 4 GiB (ZIP without its 64-bit extension)")]
pub struct TooLarge;

impl Zip {
    /// `name`, or `name (2)`, … when taken.
    fn unique(&mut self, name: &str) -> String {
        let mut candidate = name.to_string();
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
        let mut n = 2;
        while self.names.contains(&candidate) {
            candidate = if ext.is_empty() {
                format!("{stem} ({n})")
            } else {
                format!("{stem} ({n}).{ext}")
            };
            n += 1;
        }
        self.names.insert(candidate.clone());
        candidate
    }

    /// The bytes that put `data` into the archive as `name`: its header and itself.
    pub fn file(&mut self, name: &str, data: &[u8]) -> Result<Bytes, TooLarge> {
        let name = self.unique(name);
        let size = u32::try_from(data.len()).map_err(|_| TooLarge)?;
        let offset = u32::try_from(self.offset).map_err(|_| TooLarge)?;
        let crc = crc32fast::hash(data);
        let mut out = BytesMut::with_capacity(30 + name.len() + data.len());
        out.put_u32_le(0x0403_4b50);
        out.put_u16_le(20);
        out.put_u16_le(FLAGS);
        out.put_u16_le(0); // stored
        out.put_u16_le(DOS_TIME);
        out.put_u16_le(DOS_DATE);
        out.put_u32_le(crc);
        out.put_u32_le(size);
        out.put_u32_le(size);
        out.put_u16_le(name.len() as u16);
        out.put_u16_le(0);
        out.put_slice(name.as_bytes());
        out.put_slice(data);
        self.offset += out.len() as u64;
        u32::try_from(self.offset).map_err(|_| TooLarge)?;
        self.entries.push(Entry {
            name,
            crc,
            size,
            offset,
        });
        Ok(out.freeze())
    }

    /// The central directory and its end: the archive's last bytes.
    pub fn finish(self) -> Bytes {
        let mut out = BytesMut::new();
        for e in &self.entries {
            out.put_u32_le(0x0201_4b50);
            out.put_u16_le(20);
            out.put_u16_le(20);
            out.put_u16_le(FLAGS);
            out.put_u16_le(0);
            out.put_u16_le(DOS_TIME);
            out.put_u16_le(DOS_DATE);
            out.put_u32_le(e.crc);
            out.put_u32_le(e.size);
            out.put_u32_le(e.size);
            out.put_u16_le(e.name.len() as u16);
            out.put_u16_le(0);
            out.put_u16_le(0);
            out.put_u16_le(0);
            out.put_u16_le(0);
            out.put_u32_le(0);
            out.put_u32_le(e.offset);
            out.put_slice(e.name.as_bytes());
        }
        let size = out.len() as u32;
        out.put_u32_le(0x0605_4b50);
        out.put_u16_le(0);
        out.put_u16_le(0);
        out.put_u16_le(self.entries.len() as u16);
        out.put_u16_le(self.entries.len() as u16);
        out.put_u32_le(size);
        out.put_u32_le(self.offset as u32);
        out.put_u16_le(0);
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_unique_and_offsets_add_up() {
        let mut zip = Zip::default();
        let a = zip.file("A.jpg", b"one").expect("file");
        let b = zip.file("A.jpg", b"two").expect("file");
        assert_eq!(a.len(), 30 + 5 + 3);
        assert_eq!(&b[30..30 + 9], b"A (2).jpg");
        let end = zip.finish();
        assert_eq!(&end[end.len() - 22..end.len() - 18], &[0x50, 0x4b, 5, 6]);
    }
}
