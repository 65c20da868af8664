//! Small previews for a window's frame list: the JPEG thumbnail a camera embeds in a frame's
//! EXIF (JPEG files and the TIFF-based RAW formats carry one in IFD1), else, for a JPEG
//! small enough, the frame itself. Nothing is decoded or scaled: only bytes already there
//! are read, so a preview costs a few kilobytes of I/O.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use exif::{In, Tag};

/// A JPEG this size or smaller is its own preview.
const WHOLE_JPEG_MAX: u64 = 3 << 20;

/// The JPEG bytes of a preview of the frame at `path`, if it has one.
pub fn preview(path: &Path) -> Option<Vec<u8>> {
    if let Some(thumb) = embedded(path) {
        return Some(thumb);
    }
    let name = path.to_string_lossy().to_ascii_lowercase();
    let jpeg = name.ends_with(".jpg") || name.ends_with(".jpeg");
    let meta = std::fs::metadata(path).ok()?;
    if jpeg && meta.len() <= WHOLE_JPEG_MAX {
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        File::open(path).ok()?.read_to_end(&mut bytes).ok()?;
        return bytes.starts_with(&[0xFF, 0xD8]).then_some(bytes);
    }
    None
}

fn embedded(path: &Path) -> Option<Vec<u8>> {
    let file = File::open(path).ok()?;
    let exif = exif::Reader::new()
        .read_from_container(&mut BufReader::new(file))
        .ok()?;
    let at = |tag| exif.get_field(tag, In::THUMBNAIL)?.value.get_uint(0);
    let (offset, len) = (
        at(Tag::JPEGInterchangeFormat)? as usize,
        at(Tag::JPEGInterchangeFormatLength)? as usize,
    );
    let bytes = exif.buf().get(offset..offset.checked_add(len)?)?;
    bytes.starts_with(&[0xFF, 0xD8]).then(|| bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_jpegs_are_their_own_preview_and_other_files_have_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let jpeg = dir.path().join("a.JPG");
        std::fs::write(&jpeg, [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).expect("write");
        assert_eq!(preview(&jpeg).map(|b| b.len()), Some(7));
        let raw = dir.path().join("a.NEF");
        std::fs::write(&raw, b"not a tiff").expect("write");
        assert_eq!(preview(&raw), None);
        let fake = dir.path().join("b.jpg");
        std::fs::write(&fake, b"text").expect("write");
        assert_eq!(preview(&fake), None);
    }
}
