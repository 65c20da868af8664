//! XMP sidecars beside a frame's library file, where Lightroom, Capture One, darktable and
//! exiftool read them: a frame's rating and colour label (the latest any gallery guest
//! gave), and the studio's metadata ([`fields`]). A sidecar another program wrote is
//! merged into: for the marks only `xmp:Rating` and `xmp:Label` change (as attributes of
//! the first `rdf:Description`; element forms of the two are folded into it), every other
//! tag, comment and namespace is kept; the file is replaced atomically (a partial file,
//! fsynced, renamed over it).
//!
//! - this module: names, the marks, and the atomic write.
//! - [`fields`]: the studio's metadata fields.
//! - `scan`: what a sidecar holds already (namespaces, keywords).

pub mod fields;
mod scan;

use std::io::Write;
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, Writer};

/// The XMP basic namespace (`xmp:`).
pub const XMP_NS: &str = "http://ns.adobe.com/xap/1.0/";

/// How a sidecar is named: `IMG_0001.xmp` (`name.xmp`, the default: Lightroom, Capture
/// One) or `IMG_0001.NEF.xmp` (`name.ext.xmp`: darktable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Naming {
    /// `IMG_0001.xmp`.
    #[default]
    Name,
    /// `IMG_0001.NEF.xmp`.
    NameExt,
}

impl Naming {
    /// From the config value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "name.xmp" => Some(Naming::Name),
            "name.ext.xmp" => Some(Naming::NameExt),
            _ => None,
        }
    }

    /// The sidecar of `file`.
    pub fn path(self, file: &Path) -> PathBuf {
        match self {
            Naming::Name => file.with_extension("xmp"),
            Naming::NameExt => {
                let mut name = file.as_os_str().to_os_string();
                name.push(".xmp");
                PathBuf::from(name)
            }
        }
    }
}

/// What to set in a sidecar; what is not set is left as the file has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Marks<'a> {
    /// 0 to 5 stars; `None`: the rating is left alone.
    pub rating: Option<u8>,
    /// `Some(Some("Red"))` (`Yellow`, `Green`, `Blue`, `Purple`) sets the label,
    /// `Some(None)` takes it away; `None`: the label is left alone.
    pub label: Option<Option<&'a str>>,
}

/// A fresh sidecar with `marks`.
fn fresh(marks: Marks<'_>) -> String {
    let mut attrs = String::new();
    if let Some(r) = marks.rating {
        attrs.push_str(&format!("\n    xmp:Rating=\"{r}\""));
    }
    if let Some(Some(l)) = marks.label {
        attrs.push_str(&format!("\n    xmp:Label=\"{}\"", escape(l)));
    }
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"Shotline\">\n \
         <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n  \
         <rdf:Description rdf:about=\"\"\n    xmlns:xmp=\"{XMP_NS}\"{attrs}/>\n \
         </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>\n"
    )
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// The prefix `xml` binds to the XMP namespace (`xmp` when it binds none).
fn xmp_prefix(xml: &str) -> String {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                for a in e.attributes().flatten() {
                    let key: &str = a.key.as_ref();
                    if let Some(prefix) = key.strip_prefix("xmlns:")
                        && &*a.value == XMP_NS
                    {
                        return prefix.to_string();
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => return "xmp".into(),
            _ => {}
        }
    }
}

/// `existing` (a sidecar's text) with `marks` in it; a new sidecar when there is none.
pub fn merge(existing: Option<&str>, marks: Marks<'_>) -> Result<String, SidecarError> {
    let Some(xml) = existing else {
        return Ok(fresh(marks));
    };
    let prefix = xmp_prefix(xml);
    let (rating_key, label_key) = (format!("{prefix}:Rating"), format!("{prefix}:Label"));
    // Only what is being set is taken out (to go back in, or to go).
    let ours = |name: &str| {
        (marks.rating.is_some() && name == rating_key)
            || (marks.label.is_some() && name == label_key)
    };
    let mut reader = Reader::from_str(xml);
    let mut writer = Writer::new(Vec::new());
    let mut done = false;
    // Inside an element form of Rating or Label (dropped): its depth.
    let mut skipping = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| SidecarError::Xml(e.to_string()))?;
        if skipping > 0 {
            match event {
                Event::Start(_) => skipping += 1,
                Event::End(_) => skipping -= 1,
                Event::Eof => break,
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(e) if ours(e.name().as_ref()) => skipping = 1,
            Event::Empty(e) if ours(e.name().as_ref()) => {}
            // Whitespace before a dropped element stays; harmless.
            Event::Start(e) if !done && e.name().as_ref() == "rdf:Description" => {
                done = true;
                writer
                    .write_event(Event::Start(described(&e, &prefix, marks, &ours)?))
                    .map_err(|e| SidecarError::Xml(e.to_string()))?;
            }
            Event::Empty(e) if !done && e.name().as_ref() == "rdf:Description" => {
                done = true;
                writer
                    .write_event(Event::Empty(described(&e, &prefix, marks, &ours)?))
                    .map_err(|e| SidecarError::Xml(e.to_string()))?;
            }
            Event::Start(e) if e.name().as_ref() == "rdf:Description" => {
                let cleaned = without(&e, &ours)?;
                writer
                    .write_event(Event::Start(cleaned))
                    .map_err(|e| SidecarError::Xml(e.to_string()))?;
            }
            Event::Empty(e) if e.name().as_ref() == "rdf:Description" => {
                let cleaned = without(&e, &ours)?;
                writer
                    .write_event(Event::Empty(cleaned))
                    .map_err(|e| SidecarError::Xml(e.to_string()))?;
            }
            Event::Eof => break,
            other => writer
                .write_event(other)
                .map_err(|e| SidecarError::Xml(e.to_string()))?,
        }
    }
    if !done {
        return Err(SidecarError::Xml("no rdf:Description in it".into()));
    }
    String::from_utf8(writer.into_inner()).map_err(|e| SidecarError::Xml(e.to_string()))
}

/// `e` without the attributes being set; the others as they were, character for character
/// (a `"` inside a single-quoted value escaped, as it is written back in double quotes).
fn without<'a>(
    e: &BytesStart<'a>,
    ours: &dyn Fn(&str) -> bool,
) -> Result<BytesStart<'static>, SidecarError> {
    let mut out = BytesStart::new(e.name().as_ref().to_owned());
    for a in e.attributes() {
        let a = a.map_err(|e| SidecarError::Xml(e.to_string()))?;
        let key: &str = a.key.as_ref();
        if !ours(key) {
            let value = if a.value.contains('"') {
                std::borrow::Cow::Owned(a.value.replace('"', "&quot;"))
            } else {
                a.value.clone()
            };
            out.push_attribute(quick_xml::events::attributes::Attribute { key: a.key, value });
        }
    }
    Ok(out.into_owned())
}

/// The first `rdf:Description` with `marks` in it (and the namespace declared).
fn described<'a>(
    e: &BytesStart<'a>,
    prefix: &str,
    marks: Marks<'_>,
    ours: &dyn Fn(&str) -> bool,
) -> Result<BytesStart<'static>, SidecarError> {
    let mut out = without(e, ours)?;
    let declared = format!("xmlns:{prefix}");
    let has = |e: &BytesStart<'_>| {
        e.attributes().flatten().any(|a| {
            let key: &str = a.key.as_ref();
            key == declared
        })
    };
    if !has(e) && (marks.rating.is_some() || matches!(marks.label, Some(Some(_)))) {
        out.push_attribute((declared.as_str(), XMP_NS));
    }
    if let Some(r) = marks.rating {
        out.push_attribute((format!("{prefix}:Rating").as_str(), r.to_string().as_str()));
    }
    if let Some(Some(l)) = marks.label {
        out.push_attribute((format!("{prefix}:Label").as_str(), l));
    }
    Ok(out)
}

/// Write `marks` into the sidecar at `path`, merged into what is there, atomically.
pub fn write(path: &Path, marks: Marks<'_>) -> Result<(), SidecarError> {
    rewrite(path, |existing| merge(existing, marks))
}

/// Set the studio's metadata `fields` in the sidecar at `path`, merged into what is
/// there, atomically.
pub fn write_fields(path: &Path, fields: &[fields::Field]) -> Result<(), SidecarError> {
    rewrite(path, |existing| fields::set(existing, fields))
}

/// Replace the sidecar at `path` with `change` of what is there (nothing when there is
/// none), atomically; left alone when nothing changes.
fn rewrite(
    path: &Path,
    change: impl FnOnce(Option<&str>) -> Result<String, SidecarError>,
) -> Result<(), SidecarError> {
    let existing = match std::fs::read(path) {
        Ok(bytes) => Some(
            String::from_utf8(bytes)
                .map_err(|_| SidecarError::Xml("not UTF-8 text: left as it is".into()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let text = change(existing.as_deref())?;
    if existing.as_deref() == Some(text.as_str()) {
        return Ok(());
    }
    let partial = crate::copy::partial_path(path);
    {
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(text.as_bytes())?;
        crate::platform::sync_file(&file)?;
    }
    std::fs::rename(&partial, path)?;
    // The rename itself durable too: a frame counted stored has its sidecar.
    if let Some(dir) = path.parent() {
        crate::platform::sync_dir(dir)?;
    }
    Ok(())
}

/// A sidecar not written.
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    /// Reading or writing it.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The sidecar there is not XMP we can merge into (it is left as it is).
    #[error("the sidecar there is not XMP Shotline can merge into: {0}")]
    Xml(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_sidecar_has_both_marks() {
        let xml = merge(
            None,
            Marks {
                rating: Some(4),
                label: Some(Some("Red")),
            },
        )
        .expect("merge");
        assert!(xml.contains("xmp:Rating=\"4\""), "{xml}");
        assert!(xml.contains("xmp:Label=\"Red\""), "{xml}");
    }

    #[test]
    fn another_programs_sidecar_keeps_everything_else() {
        let theirs = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <!-- written by a raw developer -->
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" xmp:Rating="1" crs:Exposure2012="+0.50">
   <xmp:Label>Blue</xmp:Label>
   <dc:subject><rdf:Bag><rdf:li>hat</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"#;
        let ours = merge(
            Some(theirs),
            Marks {
                rating: Some(5),
                label: Some(None),
            },
        )
        .expect("merge");
        assert!(ours.contains(r#"crs:Exposure2012="+0.50""#), "{ours}");
        assert!(ours.contains("<rdf:li>hat</rdf:li>"), "{ours}");
        assert!(
            ours.contains("<!-- written by a raw developer -->"),
            "{ours}"
        );
        assert!(ours.contains(r#"xmp:Rating="5""#), "{ours}");
        assert!(!ours.contains("Rating=\"1\""), "{ours}");
        assert!(!ours.contains("Blue"), "no label now: {ours}");
        assert_eq!(ours.matches("xmlns:xmp=").count(), 1, "{ours}");
        // Merging again changes nothing.
        let again = merge(
            Some(&ours),
            Marks {
                rating: Some(5),
                label: Some(None),
            },
        )
        .expect("merge");
        assert_eq!(again, ours);
    }

    #[test]
    fn what_guests_did_not_give_stays_as_the_photographer_left_it() {
        let theirs = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about='' xmlns:xmp='http://ns.adobe.com/xap/1.0/' xmlns:dc='http://purl.org/dc/elements/1.1/' xmp:Rating='3' dc:format='say "raw"'/></rdf:RDF></x:xmpmeta>"#;
        let ours = merge(
            Some(theirs),
            Marks {
                rating: None,
                label: Some(Some("Green")),
            },
        )
        .expect("merge");
        assert!(ours.contains(r#"xmp:Rating="3""#), "{ours}");
        assert!(ours.contains(r#"xmp:Label="Green""#), "{ours}");
        assert!(
            ours.contains(r#"dc:format="say &quot;raw&quot;""#),
            "{ours}"
        );
        let mut reader = quick_xml::Reader::from_str(&ours);
        loop {
            match reader.read_event() {
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("not well-formed: {e}\n{ours}"),
            }
        }
    }

    #[test]
    fn a_file_that_is_not_xmp_is_left_as_it_is() {
        assert!(
            merge(
                Some("not xml at all"),
                Marks {
                    rating: Some(1),
                    label: None
                }
            )
            .is_err()
        );
    }

    #[test]
    fn sidecar_names() {
        let f = Path::new("/l/s/IMG_0001.NEF");
        assert_eq!(Naming::Name.path(f), Path::new("/l/s/IMG_0001.xmp"));
        assert_eq!(Naming::NameExt.path(f), Path::new("/l/s/IMG_0001.NEF.xmp"));
        assert_eq!(Naming::parse("name.ext.xmp"), Some(Naming::NameExt));
        assert_eq!(Naming::parse("xmp"), None);
    }
}
