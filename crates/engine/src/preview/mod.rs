//! Previews of every stored frame, made off the copy path (backups never wait for them):
//! a thumbnail of 400 px first (from an eighth-scale decode: guests see the frame in a
//! fraction of the time), then a JPEG of long edge 2048 px, EXIF orientation applied. From a
//! JPEG, decoded at reduced scale; from a RAW file, its largest embedded JPEG. A frame with
//! nothing to show gets none (the gallery shows a placeholder with its name).
//!
//! - [`embedded`]: the largest JPEG inside a RAW file.
//! - [`image`]: scaled decoding, orientation, resizing, encoding.
//! - [`worker`]: the engine's background task that makes them.
//!
//! Colour: camera JPEGs are sRGB (or say Adobe RGB in EXIF, which is kept as is); the
//! previews carry no ICC profile, so browsers show them as sRGB.

pub mod embedded;
pub mod image;
pub mod watermark;
pub mod worker;

use std::path::{Path, PathBuf};

/// Long edge of the preview.
pub const PREVIEW_EDGE: u32 = 2048;
/// Long edge of the thumbnail.
pub const THUMB_EDGE: u32 = 400;

/// Why a frame has no preview.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The file could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Neither a JPEG nor a RAW file with a JPEG inside.
    #[error("no picture to show in it (not a JPEG, and no JPEG inside)")]
    NoPicture,
    /// The JPEG could not be decoded.
    #[error("cannot decode its JPEG: {0}")]
    Decode(String),
    /// The preview could not be encoded.
    #[error("cannot encode the preview: {0}")]
    Encode(String),
}

/// A frame's previews.
#[derive(Debug, Clone)]
pub struct Previews {
    /// The preview JPEG (long edge 2048 at most).
    pub preview: Vec<u8>,
    /// The thumbnail JPEG (long edge 400 at most).
    pub thumbnail: Vec<u8>,
    /// The frame's width, upright, as far as its JPEG says.
    pub width: u32,
    /// The frame's height, upright.
    pub height: u32,
}

/// EXIF orientation of a file (1 when unknown).
fn orientation(bytes: &[u8]) -> u16 {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .ok()
        .and_then(|e| {
            e.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
                .and_then(|f| f.value.get_uint(0))
        })
        .map_or(1, |o| o as u16)
}

/// The previews of the frame at `path`.
pub fn make(path: &Path) -> Result<Previews, PreviewError> {
    let bytes = std::fs::read(path)?;
    make_from(&bytes)
}

/// The picture in a frame's bytes: the JPEG (the frame, or the largest inside a RAW), the
/// orientation to turn it upright, and its upright size.
struct Source<'a> {
    jpeg: &'a [u8],
    turn: u16,
    width: u32,
    height: u32,
}

impl Source<'_> {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

fn source(bytes: &[u8]) -> Result<Source<'_>, PreviewError> {
    let jpeg = if bytes.starts_with(&[0xFF, 0xD8]) {
        bytes
    } else {
        let found = embedded::largest(bytes).ok_or(PreviewError::NoPicture)?;
        &bytes[found.start..found.end]
    };
    // The RAW's own orientation first (an embedded JPEG often says nothing).
    let turn = match orientation(bytes) {
        1 => orientation(jpeg),
        o => o,
    };
    let (w, h) = embedded::size(jpeg).ok_or(PreviewError::NoPicture)?;
    let (width, height) = if turn >= 5 {
        (u32::from(h), u32::from(w))
    } else {
        (u32::from(w), u32::from(h))
    };
    Ok(Source {
        jpeg,
        turn,
        width,
        height,
    })
}

/// A frame's thumbnail and its upright size.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    /// The thumbnail JPEG (long edge 400 at most).
    pub thumbnail: Vec<u8>,
    /// The frame's width, upright.
    pub width: u32,
    /// Its height, upright.
    pub height: u32,
}

/// The thumbnail of a frame's bytes, from the smallest decode that gives it (an eighth
/// of a 24 MP frame's pixels): a fraction of the preview's work, so it goes first.
pub fn thumbnail_from(bytes: &[u8]) -> Result<Thumbnail, PreviewError> {
    let src = source(bytes)?;
    let decoded = image::orient(image::decode(src.jpeg, THUMB_EDGE)?, src.turn);
    Ok(Thumbnail {
        thumbnail: image::encode(&image::fit(&decoded, THUMB_EDGE)?, 78)?,
        width: src.width,
        height: src.height,
    })
}

/// The 2048 px preview of a frame's bytes.
pub fn preview_from(bytes: &[u8]) -> Result<Vec<u8>, PreviewError> {
    let src = source(bytes)?;
    let decoded = image::orient(image::decode(src.jpeg, PREVIEW_EDGE)?, src.turn);
    image::encode(&image::fit(&decoded, PREVIEW_EDGE)?, 82)
}

/// The previews of a frame's bytes (both at once: the thumbnail from the preview).
pub fn make_from(bytes: &[u8]) -> Result<Previews, PreviewError> {
    let src = source(bytes)?;
    let decoded = image::orient(image::decode(src.jpeg, PREVIEW_EDGE)?, src.turn);
    let large = image::fit(&decoded, PREVIEW_EDGE)?;
    let small = image::fit(&large, THUMB_EDGE)?;
    Ok(Previews {
        preview: image::encode(&large, 82)?,
        thumbnail: image::encode(&small, 78)?,
        width: src.width,
        height: src.height,
    })
}

/// Where a shot's previews are kept: `<library>/.shotline/previews/<id>-{2048,400}.jpg`.
pub fn paths(library: &Path, shot: i64) -> (PathBuf, PathBuf) {
    let dir = library.join(".shotline").join("previews");
    (
        dir.join(format!("{shot}-{PREVIEW_EDGE}.jpg")),
        dir.join(format!("{shot}-{THUMB_EDGE}.jpg")),
    )
}

/// Keep `previews` for `shot` (partial file, then renamed: a reader never sees half).
pub fn store(
    library: &Path,
    shot: i64,
    previews: &Previews,
) -> std::io::Result<(PathBuf, PathBuf)> {
    let (preview, thumb) = paths(library, shot);
    store_one(&preview, &previews.preview)?;
    store_one(&thumb, &previews.thumbnail)?;
    Ok((preview, thumb))
}

/// Keep one of a shot's pictures at `path` (one of [`paths`]), whole or not at all.
pub fn store_one(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let partial = crate::copy::partial_path(path);
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_gives_its_embedded_jpeg_turned_upright() {
        let frame = image::Rgb {
            width: 3000,
            height: 2000,
            pixels: vec![120u8; 3000 * 2000 * 3],
        };
        let jpeg = image::encode(&frame, 80).expect("encode");
        let mut raw = crate::metadata::tests::tiff_with_exif("NIKON D750", "2026:12:01 10:00:00");
        raw.extend(&jpeg);
        let made = make_from(&raw).expect("previews");
        assert_eq!((made.width, made.height), (3000, 2000));
        let (pw, ph) = embedded::size(&made.preview).expect("size");
        assert_eq!((pw, ph), (2048, 1365));
        let (tw, th) = embedded::size(&made.thumbnail).expect("size");
        assert_eq!((tw, th), (400, 267));
        assert!(matches!(
            make_from(b"not a picture"),
            Err(PreviewError::NoPicture)
        ));
        // The thumbnail alone, first: the same size, from a smaller decode.
        let first = thumbnail_from(&raw).expect("thumbnail");
        assert_eq!((first.width, first.height), (3000, 2000));
        assert_eq!(embedded::size(&first.thumbnail), Some((400, 267)));
        assert_eq!(
            embedded::size(&preview_from(&raw).expect("preview")),
            Some((2048, 1365))
        );
    }
}
