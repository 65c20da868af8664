//! ASC MHL v2.0 files, written and read with `quick-xml`: a generation (`hashlist`, one
//! `<hash>` per file with its `xxh128`) and the chain (`ascmhldirectory`, each generation
//! by file name and C4 id). What the reference tool `ascmhl` 1.2 writes and reads, and
//! what the format's XSDs accept: the hash elements in XSD order, `<hashes>` left out when
//! empty, ignore patterns repeated in every generation (only the latest counts).

use std::io::Cursor;
use std::path::Path;

use chrono::{DateTime, Local, SecondsFormat};
use quick_xml::XmlVersion;
use quick_xml::events::{BytesDecl, BytesRef, BytesText, Event};
use quick_xml::reader::Reader;
use quick_xml::writer::Writer;

const NAMESPACE: &str = "urn:ASC:MHL:v2.0";
const DIRECTORY_NAMESPACE: &str = "urn:ASC:MHL:DIRECTORY:v2.0";

/// What a hash entry says about the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The first time the file is in the history.
    Original,
    /// Hashed again and the same.
    Verified,
    /// Hashed again and different.
    Failed,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Original => "original",
            Action::Verified => "verified",
            Action::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "original" => Some(Action::Original),
            "verified" => Some(Action::Verified),
            "failed" => Some(Action::Failed),
            _ => None,
        }
    }
}

/// One file in a generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashEntry {
    /// Path from the root, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// The file's modification time, when known.
    pub modified: Option<DateTime<Local>>,
    /// XXH3-128, 32 lowercase hex digits.
    pub xxh128: String,
    /// What the entry says.
    pub action: Action,
    /// When the hash was taken (the copy verified).
    pub hashdate: DateTime<Local>,
}

/// One generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// Its number in the history.
    pub number: u32,
    /// When it was sealed.
    pub created: DateTime<Local>,
    /// The computer.
    pub hostname: String,
    /// Shotline's version.
    pub tool_version: String,
    /// Where: the studio.
    pub location: Option<String>,
    /// What: the studio, the sessions.
    pub comment: Option<String>,
    /// Ignore patterns (gitwildmatch), the full list.
    pub ignore: Vec<String>,
    /// The files.
    pub hashes: Vec<HashEntry>,
}

fn date(d: &DateTime<Local>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, false)
}

impl Generation {
    /// `NNNN_<root folder>_<UTC time>Z.mhl`, as the reference tool names its own.
    pub fn file_name(&self, root: &Path) -> String {
        let base: String = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "root".into())
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-._".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!(
            "{:04}_{base}_{}.mhl",
            self.number,
            self.created
                .with_timezone(&chrono::Utc)
                .format("%Y-%m-%d_%H%M%SZ")
        )
    }
}

/// The generation's XML.
pub fn write_generation(g: &Generation) -> Vec<u8> {
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    let written: std::io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("hashlist")
            .with_attribute(("version", "2.0"))
            .with_attribute(("xmlns", NAMESPACE))
            .write_inner_content(|w| {
                w.create_element("creatorinfo").write_inner_content(|w| {
                    text(w, "creationdate", &date(&g.created))?;
                    text(w, "hostname", &g.hostname)?;
                    w.create_element("tool")
                        .with_attribute(("version", g.tool_version.as_str()))
                        .write_text_content(BytesText::new("Shotline"))?;
                    if let Some(location) = &g.location {
                        text(w, "location", location)?;
                    }
                    if let Some(comment) = &g.comment {
                        text(w, "comment", comment)?;
                    }
                    Ok(())
                })?;
                w.create_element("processinfo").write_inner_content(|w| {
                    text(w, "process", "in-place")?;
                    if !g.ignore.is_empty() {
                        w.create_element("ignore").write_inner_content(|w| {
                            for pattern in &g.ignore {
                                text(w, "pattern", pattern)?;
                            }
                            Ok(())
                        })?;
                    }
                    Ok(())
                })?;
                if !g.hashes.is_empty() {
                    w.create_element("hashes").write_inner_content(|w| {
                        for h in &g.hashes {
                            hash(w, h)?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        Ok(())
    })();
    written.unwrap_or_else(|e| unreachable!("writing XML to memory cannot fail: {e}"));
    let mut bytes = w.into_inner().into_inner();
    bytes.push(b'\n');
    bytes
}

type W = Writer<Cursor<Vec<u8>>>;

fn text(w: &mut W, name: &str, value: &str) -> std::io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(value))
        .map(drop)
}

fn hash(w: &mut W, h: &HashEntry) -> std::io::Result<()> {
    w.create_element("hash").write_inner_content(|w| {
        let size = h.size.to_string();
        let modified = h.modified.as_ref().map(date);
        let mut path = w
            .create_element("path")
            .with_attribute(("size", size.as_str()));
        if let Some(modified) = &modified {
            path = path.with_attribute(("lastmodificationdate", modified.as_str()));
        }
        path.write_text_content(BytesText::new(&h.path))?;
        w.create_element("xxh128")
            .with_attribute(("action", h.action.as_str()))
            .with_attribute(("hashdate", date(&h.hashdate).as_str()))
            .write_text_content(BytesText::new(&h.xxh128))?;
        Ok(())
    })?;
    Ok(())
}

/// A generation in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry {
    /// Its number.
    pub sequence: u32,
    /// Its file name in `ascmhl/`.
    pub path: String,
    /// The C4 id of its bytes.
    pub c4: String,
}

/// The chain's XML.
pub fn write_chain(entries: &[ChainEntry]) -> Vec<u8> {
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    let written: std::io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("ascmhldirectory")
            .with_attribute(("xmlns", DIRECTORY_NAMESPACE))
            .write_inner_content(|w| {
                for e in entries {
                    let sequence = e.sequence.to_string();
                    w.create_element("hashlist")
                        .with_attribute(("sequencenr", sequence.as_str()))
                        .write_inner_content(|w| {
                            text(w, "path", &e.path)?;
                            text(w, "c4", &e.c4)
                        })?;
                }
                Ok(())
            })?;
        Ok(())
    })();
    written.unwrap_or_else(|e| unreachable!("writing XML to memory cannot fail: {e}"));
    let mut bytes = w.into_inner().into_inner();
    bytes.push(b'\n');
    bytes
}

/// The text of entity references (`&amp;`, `&#233;`).
fn push_ref(buf: &mut String, r: &BytesRef<'_>) -> Result<(), quick_xml::Error> {
    if let Some(c) = r.resolve_char_ref()? {
        buf.push(c);
    } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(r) {
        buf.push_str(s);
    } else {
        buf.push('&');
        buf.push_str(r);
        buf.push(';');
    }
    Ok(())
}

/// An element: its local name, its attributes (name, value) and its text.
type Element = (String, Vec<(String, String)>, String);

/// Every element's text, with its local name and attributes, in document order: the
/// little both readers need.
fn elements(bytes: &[u8]) -> Result<Vec<Element>, quick_xml::Error> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| quick_xml::Error::Io(std::sync::Arc::new(std::io::Error::other(e))))?;
    let mut reader = Reader::from_str(text);
    let mut out = Vec::new();
    let mut stack: Vec<Element> = Vec::new();
    loop {
        match reader.read_event()? {
            Event::Start(e) => {
                let mut attributes = Vec::new();
                for a in e.attributes() {
                    let a = a?;
                    let value = a.normalized_value(XmlVersion::Implicit1_0)?.into_owned();
                    attributes.push((a.key.local_name().as_ref().to_string(), value));
                }
                stack.push((
                    e.local_name().as_ref().to_string(),
                    attributes,
                    String::new(),
                ));
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.2.push_str(&t.xml_content(XmlVersion::Implicit1_0));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    push_ref(&mut top.2, &r)?;
                }
            }
            Event::End(_) => {
                if let Some(done) = stack.pop() {
                    out.push(done);
                }
            }
            Event::Eof => return Ok(out),
            _ => {}
        }
    }
}

/// The chain's entries.
pub fn read_chain(bytes: &[u8]) -> Result<Vec<ChainEntry>, quick_xml::Error> {
    let mut out = Vec::new();
    let (mut path, mut c4) = (None, None);
    for (name, attributes, text) in elements(bytes)? {
        match name.as_str() {
            "path" => path = Some(text),
            "c4" => c4 = Some(text.trim().to_string()),
            "hashlist" => {
                let sequence = attributes
                    .iter()
                    .find(|(k, _)| k == "sequencenr")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(out.len() as u32 + 1);
                if let (Some(path), Some(c4)) = (path.take(), c4.take()) {
                    out.push(ChainEntry { sequence, path, c4 });
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Each file of a generation with the action of its `xxh128` entry (any hash entry's,
/// when it has no `xxh128`).
pub fn read_generation(bytes: &[u8]) -> Result<Vec<(String, Option<Action>)>, quick_xml::Error> {
    let mut out = Vec::new();
    let (mut path, mut action) = (None, None);
    for (name, attributes, text) in elements(bytes)? {
        let of = |key: &str| {
            attributes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        match name.as_str() {
            "path" => path = Some(text),
            "xxh128" | "xxh3" | "xxh64" | "md5" | "sha1" | "c4" => {
                let this = of("action").and_then(Action::parse);
                if name == "xxh128" || action.is_none() {
                    action = this;
                }
            }
            "hash" => {
                if let Some(path) = path.take() {
                    out.push((path, action.take()));
                }
                action = None;
            }
            "directoryhash" => {
                path = None;
                action = None;
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Local> {
        DateTime::from_timestamp(secs, 0)
            .expect("time")
            .with_timezone(&Local)
    }

    #[test]
    fn a_generation_and_its_chain_round_trip() {
        let g = Generation {
            number: 3,
            created: at(1_764_584_000),
            hostname: "studio-mac".into(),
            tool_version: "0.1.0".into(),
            location: Some("north".into()),
            comment: Some("Shotline session Acme & Co".into()),
            ignore: vec![".DS_Store".into(), ".shotline/".into()],
            hashes: vec![HashEntry {
                path: "2026-12-01/R&D <1>/DSC_0001.NEF".into(),
                size: 25_000_000,
                modified: Some(at(1_764_583_000)),
                xxh128: "6bba86c7e069f56d5a10b435f1c8e49c".into(),
                action: Action::Original,
                hashdate: at(1_764_583_900),
            }],
        };
        let xml = write_generation(&g);
        let text = String::from_utf8(xml.clone()).expect("utf8");
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        assert!(text.contains("<tool version=\"0.1.0\">Shotline</tool>"));
        assert!(text.contains("R&amp;D &lt;1&gt;"), "{text}");
        assert_eq!(
            read_generation(&xml).expect("read"),
            [(
                "2026-12-01/R&D <1>/DSC_0001.NEF".to_string(),
                Some(Action::Original)
            )]
        );
        assert!(
            g.file_name(Path::new("/mnt/Backup A"))
                .starts_with("0003_Backup_A_")
        );
        let chain = vec![ChainEntry {
            sequence: 1,
            path: "0001_x.mhl".into(),
            c4: "c4abc".into(),
        }];
        assert_eq!(read_chain(&write_chain(&chain)).expect("read"), chain);
        let empty = Generation {
            hashes: Vec::new(),
            ..g
        };
        assert!(
            !String::from_utf8(write_generation(&empty))
                .expect("utf8")
                .contains("<hashes")
        );
    }
}
