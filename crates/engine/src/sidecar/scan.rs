//! What a sidecar holds already, read before the studio's fields are merged in: the
//! namespace bindings (everywhere, and those in scope at the first top-level
//! `rdf:Description`), and the keywords of its `dc:subject`.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Every `xmlns:P="URI"` anywhere in `xml`.
pub(super) fn every_binding(xml: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                for a in e.attributes().flatten() {
                    let key: &str = a.key.as_ref();
                    if let Some(prefix) = key.strip_prefix("xmlns:") {
                        found.push((prefix.to_string(), a.value.to_string()));
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => return found,
            _ => {}
        }
    }
}

/// The namespace bindings in scope at the first top-level `rdf:Description` (declared on
/// it or on its ancestors), the nearest winning: prefix → URI. Only these may be used in
/// it; a binding on a sibling Description or deeper down is not in scope there.
pub(super) fn bindings(xml: &str) -> HashMap<String, String> {
    let local = |name: &str| name.rsplit(':').next().unwrap_or(name).to_string();
    let own = |e: &BytesStart<'_>| -> Vec<(String, String)> {
        e.attributes()
            .flatten()
            .filter_map(|a| {
                let key: &str = a.key.as_ref();
                key.strip_prefix("xmlns:")
                    .map(|p| (p.to_string(), a.value.to_string()))
            })
            .collect()
    };
    let mut stack: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e))
                if local(e.name().as_ref()) == "Description"
                    && stack.last().is_some_and(|(n, _)| local(n) == "RDF") =>
            {
                let mut scope = HashMap::new();
                for (_, declared) in &stack {
                    scope.extend(declared.iter().cloned());
                }
                scope.extend(own(&e));
                return scope;
            }
            Ok(Event::Start(e)) => stack.push((e.name().as_ref().to_string(), own(&e))),
            Ok(Event::End(_)) => {
                stack.pop();
            }
            Ok(Event::Eof) | Err(_) => return HashMap::new(),
            _ => {}
        }
    }
}

/// The keywords already in `xml`'s `dc:subject` (element form), in order.
pub(super) fn keywords_in(xml: &str, subject: &str, li: &str) -> Vec<String> {
    let mut reader = Reader::from_str(xml);
    let (mut inside, mut in_li, mut found) = (0usize, false, Vec::<String>::new());
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.name().as_ref() == subject => inside += 1,
            Ok(Event::End(e)) if e.name().as_ref() == subject => inside = inside.saturating_sub(1),
            Ok(Event::Start(e)) if inside > 0 && e.name().as_ref() == li => {
                in_li = true;
                found.push(String::new());
            }
            Ok(Event::End(e)) if e.name().as_ref() == li => in_li = false,
            Ok(Event::Text(t)) if in_li => {
                if let Some(last) = found.last_mut() {
                    last.push_str(&t);
                }
            }
            // `&lt;` and the like come apart from the text around them.
            Ok(Event::GeneralRef(r)) if in_li => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                if let (Some(last), Some(c)) = (found.last_mut(), c) {
                    last.push(c);
                }
            }
            Ok(Event::Eof) | Err(_) => return found,
            _ => {}
        }
    }
}
