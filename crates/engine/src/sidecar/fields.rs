//! The studio's metadata in a sidecar: IPTC Core and XMP fields (creator, rights, usage
//! terms, credit, contact, keywords, headline, description, the client and the job) set
//! in the element forms Lightroom, Capture One and exiftool read, merged into a sidecar
//! another program wrote. Only the fields being set change: an attribute or element of
//! the same name (in whatever prefix the file binds its namespace to) is replaced,
//! keywords are added to those already there, and every other tag, comment and namespace
//! is kept, as are the gallery's rating and label.
//!
//! - this module: the fields, and the merge.
//! - `scan`: what a sidecar holds already (namespaces in scope, keywords).

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

use super::SidecarError;
use super::scan::{bindings, every_binding, keywords_in};

/// A namespace: the prefix written when the file binds none to it, and its URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Namespace {
    /// Prefix used when the file has none for it.
    pub prefix: &'static str,
    /// The namespace URI.
    pub uri: &'static str,
}

/// Dublin Core.
pub const DC: Namespace = Namespace {
    prefix: "dc",
    uri: "http://purl.org/dc/elements/1.1/",
};
/// XMP rights management.
pub const XMP_RIGHTS: Namespace = Namespace {
    prefix: "xmpRights",
    uri: "http://ns.adobe.com/xap/1.0/rights/",
};
/// Photoshop (IPTC Core's credit, headline, job identifier).
pub const PHOTOSHOP: Namespace = Namespace {
    prefix: "photoshop",
    uri: "http://ns.adobe.com/photoshop/1.0/",
};
/// IPTC Core (the creator's contact info).
pub const IPTC_CORE: Namespace = Namespace {
    prefix: "Iptc4xmpCore",
    uri: "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
};
/// PLUS, which IPTC Extension uses for licensing (the client, as licensee).
pub const PLUS: Namespace = Namespace {
    prefix: "plus",
    uri: "http://ns.useplus.org/ldf/xmp/1.0/",
};

const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// A field's value, in the form XMP gives that field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Simple text (`photoshop:Credit`).
    Text(String),
    /// An ordered list (`dc:creator`).
    Seq(Vec<String>),
    /// A set, added to what is there (`dc:subject`).
    Bag(Vec<String>),
    /// A set, these taken out of what is there (a keyword no longer true).
    BagWithout(Vec<String>),
    /// A language alternative, `x-default` (`dc:rights`).
    Alt(String),
    /// A structure of simple fields in the same namespace (`CreatorContactInfo`).
    Struct(Vec<(&'static str, String)>),
    /// An ordered list of structures of one field each (`plus:Licensee` of
    /// `plus:LicenseeName`).
    SeqOf(&'static str, Vec<String>),
}

/// One field to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its namespace.
    pub ns: Namespace,
    /// Its local name.
    pub name: &'static str,
    /// What to set.
    pub value: Value,
}

fn xml_error(e: impl std::fmt::Display) -> SidecarError {
    SidecarError::Xml(e.to_string())
}

/// A fresh, empty sidecar.
fn fresh() -> String {
    "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
     <x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"Shotline\">\n \
     <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n  \
     <rdf:Description rdf:about=\"\"/>\n \
     </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>\n"
        .to_string()
}

/// How the fields are written into this file: each field's qualified name, and the
/// namespaces to declare.
struct Plan<'a> {
    fields: Vec<(String, &'a Field)>,
    declare: Vec<(String, &'static str)>,
    rdf: String,
}

impl<'a> Plan<'a> {
    fn new(xml: &str, fields: &'a [Field]) -> Self {
        let scope = bindings(xml);
        let everywhere = every_binding(xml);
        let prefix_for = |uri: &str| {
            scope
                .iter()
                .filter(|(_, u)| *u == uri)
                .map(|(p, _)| p.clone())
                .min()
        };
        let mut declare: Vec<(String, &'static str)> = Vec::new();
        let mut prefix_of = |ns: Namespace| {
            if let Some(p) = prefix_for(ns.uri) {
                return p;
            }
            if let Some((p, _)) = declare.iter().find(|(_, uri)| *uri == ns.uri) {
                return p.clone();
            }
            // Its usual prefix, unless that one means something else here or anywhere in
            // the file (its elements are told apart by their prefix).
            let taken = |p: &str| {
                scope.contains_key(p)
                    || everywhere.iter().any(|(q, u)| q == p && u != ns.uri)
                    || declare.iter().any(|(d, _)| d == p)
            };
            let mut prefix = ns.prefix.to_string();
            let mut n = 1;
            while taken(&prefix) {
                prefix = format!("{}{n}", ns.prefix);
                n += 1;
            }
            declare.push((prefix.clone(), ns.uri));
            prefix
        };
        let fields = fields
            .iter()
            .map(|f| (format!("{}:{}", prefix_of(f.ns), f.name), f))
            .collect();
        let rdf = prefix_for(RDF).unwrap_or_else(|| "rdf".into());
        Self {
            fields,
            declare,
            rdf,
        }
    }

    fn ours(&self, name: &str) -> bool {
        self.fields.iter().any(|(q, _)| q == name)
    }
}

/// `existing` (a sidecar's text) with `fields` set in it; a new sidecar when there is
/// none.
pub fn set(existing: Option<&str>, fields: &[Field]) -> Result<String, SidecarError> {
    let owned;
    let xml = match existing {
        Some(xml) => xml,
        None => {
            owned = fresh();
            &owned
        }
    };
    let plan = Plan::new(xml, fields);
    let description = format!("{}:Description", plan.rdf);
    let rdf_root = format!("{}:RDF", plan.rdf);
    let mut reader = Reader::from_str(xml);
    let mut writer = Writer::new(Vec::new());
    let mut parents: Vec<String> = Vec::new();
    let mut done = false;
    let mut skipping = 0usize;
    let mut pending: Option<BytesText<'static>> = None;
    let put = |w: &mut Writer<Vec<u8>>, e: Event<'_>| w.write_event(e).map_err(xml_error);
    loop {
        let event = reader.read_event().map_err(xml_error)?;
        if skipping > 0 {
            match event {
                Event::Start(_) => skipping += 1,
                Event::End(_) => skipping -= 1,
                Event::Eof => break,
                _ => {}
            }
            continue;
        }
        let top_description = |e: &BytesStart<'_>, parents: &[String]| {
            e.name().as_ref() == description && parents.last().is_some_and(|p| *p == rdf_root)
        };
        let in_description = parents.last().is_some_and(|p| *p == description)
            && parents.len() >= 2
            && parents[parents.len() - 2] == rdf_root;
        // The whitespace before a field being replaced goes with it (the new one brings
        // its own), so setting the same fields again changes nothing.
        match &event {
            Event::Text(t) if in_description && t.trim().is_empty() => {
                if let Some(ws) = pending.take() {
                    put(&mut writer, Event::Text(ws))?;
                }
                pending = Some(t.clone().into_owned());
                continue;
            }
            Event::Start(e) | Event::Empty(e) if in_description && plan.ours(e.name().as_ref()) => {
                pending = None;
            }
            _ => {
                if let Some(ws) = pending.take() {
                    put(&mut writer, Event::Text(ws))?;
                }
            }
        }
        match event {
            Event::Start(e) if in_description && plan.ours(e.name().as_ref()) => skipping = 1,
            Event::Empty(e) if in_description && plan.ours(e.name().as_ref()) => {}
            Event::Start(e) if top_description(&e, &parents) => {
                parents.push(e.name().as_ref().to_string());
                put(&mut writer, Event::Start(cleaned(&e, &plan, !done)?))?;
                if !done {
                    done = true;
                    write_fields(&mut writer, xml, &plan)?;
                }
            }
            Event::Empty(e) if top_description(&e, &parents) => {
                if done {
                    put(&mut writer, Event::Empty(cleaned(&e, &plan, false)?))?;
                } else {
                    done = true;
                    put(&mut writer, Event::Start(cleaned(&e, &plan, true)?))?;
                    write_fields(&mut writer, xml, &plan)?;
                    put(&mut writer, Event::Text(BytesText::new("\n  ")))?;
                    put(&mut writer, Event::End(BytesEnd::new(description.clone())))?;
                }
            }
            Event::Start(e) => {
                parents.push(e.name().as_ref().to_string());
                put(&mut writer, Event::Start(e))?;
            }
            Event::End(e) => {
                parents.pop();
                put(&mut writer, Event::End(e))?;
            }
            Event::Eof => break,
            other => put(&mut writer, other)?,
        }
    }
    if !done {
        return Err(SidecarError::Xml("no rdf:Description in it".into()));
    }
    String::from_utf8(writer.into_inner()).map_err(xml_error)
}

/// A top-level `rdf:Description` without the attribute forms of the fields being set
/// (and, for the first one, with the namespaces they need declared).
fn cleaned(
    e: &BytesStart<'_>,
    plan: &Plan<'_>,
    first: bool,
) -> Result<BytesStart<'static>, SidecarError> {
    let mut out = BytesStart::new(e.name().as_ref().to_owned());
    for a in e.attributes() {
        let a = a.map_err(xml_error)?;
        if plan.ours(a.key.as_ref()) {
            continue;
        }
        let value = if a.value.contains('"') {
            std::borrow::Cow::Owned(a.value.replace('"', "&quot;"))
        } else {
            a.value.clone()
        };
        out.push_attribute(quick_xml::events::attributes::Attribute { key: a.key, value });
    }
    if first {
        for (prefix, uri) in &plan.declare {
            out.push_attribute((format!("xmlns:{prefix}").as_str(), *uri));
        }
    }
    Ok(out.into_owned())
}

/// The element forms of every field, as the first children of a description.
fn write_fields(w: &mut Writer<Vec<u8>>, xml: &str, plan: &Plan<'_>) -> Result<(), SidecarError> {
    let rdf = |name: &str| format!("{}:{name}", plan.rdf);
    let text = |w: &mut Writer<Vec<u8>>, t: &str| {
        w.write_event(Event::Text(BytesText::new(t)))
            .map_err(xml_error)
    };
    let open = |w: &mut Writer<Vec<u8>>, name: &str, attrs: &[(&str, &str)]| {
        let mut e = BytesStart::new(name.to_string());
        for a in attrs {
            e.push_attribute(*a);
        }
        w.write_event(Event::Start(e)).map_err(xml_error)
    };
    let close = |w: &mut Writer<Vec<u8>>, name: &str| {
        w.write_event(Event::End(BytesEnd::new(name.to_string())))
            .map_err(xml_error)
    };
    let list = |w: &mut Writer<Vec<u8>>, kind: &str, items: &[String]| {
        open(w, &rdf(kind), &[])?;
        for item in items {
            text(w, "\n     ")?;
            open(w, &rdf("li"), &[])?;
            text(w, item)?;
            close(w, &rdf("li"))?;
        }
        text(w, "\n    ")?;
        close(w, &rdf(kind))
    };
    for (qname, field) in &plan.fields {
        // A set left empty is left out (exiftool would read an empty bag as a blank).
        if let Value::BagWithout(items) = &field.value
            && keywords_in(xml, qname, &rdf("li"))
                .iter()
                .all(|k| items.contains(k))
        {
            continue;
        }
        text(w, "\n   ")?;
        let prefix = qname.split_once(':').map_or("", |(p, _)| p);
        match &field.value {
            Value::Text(t) => {
                open(w, qname, &[])?;
                text(w, t)?;
                close(w, qname)?;
                continue;
            }
            Value::Struct(parts) => {
                open(w, qname, &[(&rdf("parseType"), "Resource")])?;
                for (name, value) in parts {
                    let part = format!("{prefix}:{name}");
                    text(w, "\n    ")?;
                    open(w, &part, &[])?;
                    text(w, value)?;
                    close(w, &part)?;
                }
                text(w, "\n   ")?;
                close(w, qname)?;
                continue;
            }
            _ => {}
        }
        open(w, qname, &[])?;
        text(w, "\n    ")?;
        match &field.value {
            Value::Seq(items) => list(w, "Seq", items)?,
            Value::Bag(items) => {
                let mut all = keywords_in(xml, qname, &rdf("li"));
                for item in items {
                    if !all.contains(item) {
                        all.push(item.clone());
                    }
                }
                list(w, "Bag", &all)?;
            }
            Value::BagWithout(items) => {
                let mut all = keywords_in(xml, qname, &rdf("li"));
                all.retain(|k| !items.contains(k));
                list(w, "Bag", &all)?;
            }
            Value::Alt(t) => {
                open(w, &rdf("Alt"), &[])?;
                text(w, "\n     ")?;
                open(w, &rdf("li"), &[("xml:lang", "x-default")])?;
                text(w, t)?;
                close(w, &rdf("li"))?;
                text(w, "\n    ")?;
                close(w, &rdf("Alt"))?;
            }
            Value::SeqOf(part, items) => {
                let part = format!("{prefix}:{part}");
                open(w, &rdf("Seq"), &[])?;
                for item in items {
                    text(w, "\n     ")?;
                    open(w, &rdf("li"), &[(&rdf("parseType"), "Resource")])?;
                    open(w, &part, &[])?;
                    text(w, item)?;
                    close(w, &part)?;
                    close(w, &rdf("li"))?;
                }
                text(w, "\n    ")?;
                close(w, &rdf("Seq"))?;
            }
            Value::Text(_) | Value::Struct(_) => {}
        }
        text(w, "\n   ")?;
        close(w, qname)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
