//! What a frame says about itself: the camera model and the capture time from its EXIF
//! (JPEG, TIFF and the TIFF-based RAW formats: NEF, CR2, ARW, DNG, ...). Used for the
//! `{camera}`, `{date}` and `{time}` naming tokens; a file without readable EXIF falls
//! back to the hot folder's name and the file's modification time.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use chrono::NaiveDateTime;
use exif::{In, Tag, Value};

/// Capture facts read from a frame.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capture {
    /// Camera model, e.g. `NIKON D750`.
    pub model: Option<String>,
    /// When the shutter fired (camera's local time).
    pub taken: Option<NaiveDateTime>,
}

/// Read a frame's EXIF; any problem (no EXIF, not an image, unreadable) gives nothing.
pub fn read(path: &Path) -> Capture {
    let Ok(file) = File::open(path) else {
        return Capture::default();
    };
    let Ok(exif) = exif::Reader::new().read_from_container(&mut BufReader::new(file)) else {
        return Capture::default();
    };
    let ascii = |tag| match exif.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(parts)) => parts.first().map(|p| {
            String::from_utf8_lossy(p)
                .trim()
                .trim_end_matches('\0')
                .to_string()
        }),
        _ => None,
    };
    let model = ascii(Tag::Model).filter(|m| !m.is_empty());
    let taken = ascii(Tag::DateTimeOriginal)
        .or_else(|| ascii(Tag::DateTime))
        .and_then(|t| NaiveDateTime::parse_from_str(&t, "%Y:%m:%d %H:%M:%S").ok());
    Capture { model, taken }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use exif::Field;

    /// A minimal TIFF (the container of most RAW formats) with a model and capture time.
    pub(crate) fn tiff_with_exif(model: &str, taken: &str) -> Vec<u8> {
        let fields = [
            Field {
                tag: Tag::Model,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![model.as_bytes().to_vec()]),
            },
            Field {
                tag: Tag::DateTimeOriginal,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![taken.as_bytes().to_vec()]),
            },
        ];
        let mut writer = exif::experimental::Writer::new();
        for field in &fields {
            writer.push_field(field);
        }
        let mut out = std::io::Cursor::new(Vec::new());
        writer.write(&mut out, false).expect("write exif");
        out.into_inner()
    }

    #[test]
    fn model_and_capture_time_are_read_and_junk_gives_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let raw = dir.path().join("DSC_0001.NEF");
        std::fs::write(&raw, tiff_with_exif("NIKON D750", "2024:05:06 07:08:09")).expect("write");
        let capture = read(&raw);
        assert_eq!(capture.model.as_deref(), Some("NIKON D750"));
        assert_eq!(
            capture.taken.map(|t| t.to_string()).as_deref(),
            Some("2024-05-06 07:08:09")
        );
        let junk = dir.path().join("x.jpg");
        std::fs::write(&junk, b"not an image").expect("write");
        assert_eq!(read(&junk), Capture::default());
        assert_eq!(read(&dir.path().join("missing")), Capture::default());
    }
}
