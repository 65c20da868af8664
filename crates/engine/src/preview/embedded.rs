//! The largest JPEG inside a RAW file (NEF, CR2, ARW, DNG, RAF, ORF, PEF, CR3's ISO-BMFF):
//! every camera embeds a full- or near-full-size JPEG preview. Found without knowing each
//! format: every JPEG start (`FF D8 FF`) is parsed as far as its frame header (its size)
//! and its end is found past the entropy-coded data; the one with the most pixels wins.

/// A JPEG found inside a file: where, and how big.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Embedded {
    /// Offset of its `FF D8`.
    pub start: usize,
    /// Offset just past its `FF D9`.
    pub end: usize,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
}

/// The size a JPEG declares (its frame header).
pub fn size(jpeg: &[u8]) -> Option<(u16, u16)> {
    header(jpeg, 0).map(|(w, h, _)| (w, h))
}

/// The size a JPEG at `start` declares (its SOF segment), and where its scan starts.
fn header(bytes: &[u8], start: usize) -> Option<(u16, u16, usize)> {
    let mut at = start + 2;
    let mut size = None;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return None;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if length < 2 {
            return None;
        }
        match marker {
            // SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let sof = bytes.get(at + 4..at + 9)?;
                let height = u16::from_be_bytes([sof[1], sof[2]]);
                let width = u16::from_be_bytes([sof[3], sof[4]]);
                size = Some((width, height));
            }
            0xDA => {
                let (width, height) = size?;
                return Some((width, height, at + 2 + length));
            }
            _ => {}
        }
        at += 2 + length;
    }
    None
}

/// Where the entropy-coded data from `from` ends: just past the `FF D9`.
fn end_of(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + 1 < bytes.len() {
        if bytes[at] == 0xFF {
            match bytes[at + 1] {
                0xD9 => return Some(at + 2),
                // Stuffed zero, restart markers and fill bytes belong to the scan.
                0x00 | 0xD0..=0xD7 | 0xFF => {}
                // Another scan (progressive JPEGs): its header, then its data.
                0xDA | 0xC4 | 0xDB | 0xDD => {
                    let length = usize::from(u16::from_be_bytes([
                        *bytes.get(at + 2)?,
                        *bytes.get(at + 3)?,
                    ]));
                    at += 2 + length;
                    continue;
                }
                _ => {}
            }
        }
        at += 1;
    }
    None
}

/// Every JPEG in `bytes` with a readable size, in file order.
pub fn all(bytes: &[u8]) -> Vec<Embedded> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = memchr_jpeg(&bytes[at..]) {
        let start = at + offset;
        match header(bytes, start).and_then(|(w, h, scan)| Some((w, h, end_of(bytes, scan)?))) {
            Some((width, height, end)) if width > 0 && height > 0 => {
                found.push(Embedded {
                    start,
                    end,
                    width,
                    height,
                });
                at = end;
            }
            _ => at = start + 2,
        }
    }
    found
}

/// The next `FF D8 FF` in `bytes`.
fn memchr_jpeg(bytes: &[u8]) -> Option<usize> {
    bytes.windows(3).position(|w| w == [0xFF, 0xD8, 0xFF])
}

/// The JPEG with the most pixels in `bytes`.
pub fn largest(bytes: &[u8]) -> Option<Embedded> {
    all(bytes)
        .into_iter()
        .max_by_key(|e| u32::from(e.width) * u32::from(e.height))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let rgb = vec![128u8; usize::from(width) * usize::from(height) * 3];
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 80)
            .encode(&rgb, width, height, jpeg_encoder::ColorType::Rgb)
            .expect("encode");
        out
    }

    #[test]
    fn the_largest_jpeg_in_a_raw_is_found_among_others() {
        let mut raw = b"II*\0\x08\0\0\0 pretend TIFF and sensor data ".to_vec();
        raw.extend([0xFF, 0xD8, 0xFF, 0x00, 0x13]); // a false start
        let thumb = jpeg(160, 120);
        let big = jpeg(1200, 800);
        let t_at = raw.len();
        raw.extend(&thumb);
        raw.extend(vec![0x55u8; 5000]);
        let b_at = raw.len();
        assert!(b_at > t_at);
        raw.extend(&big);
        raw.extend(vec![0xAAu8; 3000]);
        let found = all(&raw);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].start, found[0].end), (t_at, t_at + thumb.len()));
        let best = largest(&raw).expect("found");
        assert_eq!((best.width, best.height), (1200, 800));
        assert_eq!(&raw[best.start..best.end], &big[..]);
        assert_eq!(largest(b"no jpeg here"), None);
    }
}
