//! Naming templates (`{date}/{session}/{original}`) and the sanitising of every path
//! component they produce: names from cameras and hot folders are untrusted input.

use std::path::PathBuf;

/// The tokens a template may use.
pub const TOKENS: &[&str] = &[
    "date", "time", "session", "camera", "seq", "stem", "ext", "name", "original",
];

/// A parsed naming template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Token(&'static str),
}

impl Default for Template {
    fn default() -> Self {
        Self::parse("{date}/{session}/{original}").unwrap_or(Self { parts: Vec::new() })
    }
}

/// What a template is filled with.
#[derive(Debug, Clone, Default)]
pub struct Fields<'a> {
    /// Capture date, `YYYY-MM-DD`.
    pub date: &'a str,
    /// Capture time, `HHMMSS`.
    pub time: &'a str,
    /// Session name.
    pub session: &'a str,
    /// Camera (model, or the hot folder's name).
    pub camera: &'a str,
    /// Sequence number in the session.
    pub seq: u64,
    /// Path relative to the hot folder (`/`-separated), or the camera's file name.
    pub original: &'a str,
}

impl Template {
    /// Parse `text`; the error says which token or brace is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(format!("`}}` without `{{` in `{text}`"));
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("`{{` without `}}` in `{text}`"))?;
            let name = &after[..close];
            let token = TOKENS.iter().find(|t| **t == name).ok_or_else(|| {
                format!(
                    "unknown token `{{{name}}}`; known: {}",
                    TOKENS
                        .iter()
                        .map(|t| format!("{{{t}}}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            })?;
            parts.push(Part::Token(token));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if text.starts_with(['/', '\\']) {
            return Err(format!(
                "`{text}` is absolute; it must be relative to the library"
            ));
        }
        if !parts
            .iter()
            .any(|p| matches!(p, Part::Token("original" | "name" | "stem" | "seq")))
        {
            return Err(format!(
                "`{text}` has none of {{original}}, {{name}}, {{stem}}, {{seq}}: every frame would get the same name"
            ));
        }
        Ok(Self { parts })
    }

    /// Render to a relative path whose every component is safe on every platform.
    pub fn render(&self, fields: &Fields<'_>) -> PathBuf {
        let original = fields.original.replace('\\', "/");
        let name = original.rsplit('/').next().unwrap_or_default();
        let (stem, ext) = split_ext(name);
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => text.push_str(t),
                Part::Token(token) => text.push_str(&match *token {
                    "date" => fields.date.to_string(),
                    "time" => fields.time.to_string(),
                    // Values other than {original} must stay one component.
                    "session" => fields.session.replace(['/', '\\'], "_"),
                    "camera" => fields.camera.replace(['/', '\\'], "_"),
                    "seq" => format!("{:04}", fields.seq),
                    "stem" => stem.to_string(),
                    "ext" => ext.to_string(),
                    "name" => name.to_string(),
                    _ => original.clone(),
                }),
            }
        }
        let mut path = PathBuf::new();
        for component in text
            .split(['/', '\\'])
            .filter(|c| !c.is_empty() && *c != ".")
        {
            path.push(sanitize_component(component));
        }
        if path.as_os_str().is_empty() {
            path.push("_");
        }
        path
    }
}

/// Split `name` at its last dot into stem and extension (without the dot). A leading dot
/// is part of the stem.
pub fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(0) | None => (name, ""),
        Some(i) => (&name[..i], &name[i + 1..]),
    }
}

const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];
const MAX_COMPONENT_BYTES: usize = 200;

/// Make one path component safe: no separators, control characters or characters Windows
/// forbids, no `..`, no reserved device names, no trailing dot or space, no leading dot
/// (a hidden file would be skipped by every other tool), bounded length.
pub fn sanitize_component(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    while out.ends_with(['.', ' ']) {
        out.pop();
    }
    let trimmed = out.trim_start_matches(['.', ' ']);
    if trimmed.len() != out.len() {
        out = format!("_{trimmed}");
    }
    let stem = out.split('.').next().unwrap_or_default().trim_end();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        out.insert(0, '_');
    }
    if out.is_empty() {
        out.push('_');
    }
    if out.len() > MAX_COMPONENT_BYTES {
        let (stem, ext) = split_ext(&out);
        let keep = MAX_COMPONENT_BYTES.saturating_sub(ext.len() + 1);
        let mut cut = keep.min(stem.len());
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        out = if ext.is_empty() || ext.len() > 16 {
            stem[..cut].to_string()
        } else {
            format!("{}.{ext}", &stem[..cut])
        };
    }
    out
}

/// The `n`th alternative for a taken name: `DSC_0001.NEF` → `DSC_0001-n.NEF`.
pub fn with_suffix(path: &std::path::Path, n: u32) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = split_ext(&name);
    let new = if ext.is_empty() {
        format!("{stem}-{n}")
    } else {
        format!("{stem}-{n}.{ext}")
    };
    path.with_file_name(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::{Component, Path};

    fn fields(original: &str) -> Fields<'_> {
        Fields {
            date: "2026-11-22",
            time: "101500",
            session: "smith",
            camera: "D750",
            seq: 7,
            original,
        }
    }

    #[test]
    fn renders_every_token() {
        let t = Template::parse("{date}/{session}/{camera}-{seq}-{time}-{stem}.{ext}|{name}")
            .expect("parse");
        let p = t.render(&fields("sub/DSC_1.NEF"));
        assert_eq!(
            p,
            Path::new("2026-11-22/smith/D750-0007-101500-DSC_1.NEF_DSC_1.NEF")
        );
        let t = Template::default();
        assert_eq!(
            t.render(&fields("a/b/c.jpg")),
            Path::new("2026-11-22/smith/a/b/c.jpg")
        );
    }

    #[test]
    fn bad_templates_say_why() {
        assert!(
            Template::parse("{date}/{nope}")
                .expect_err("bad")
                .contains("{nope}")
        );
        assert!(Template::parse("{date").is_err());
        assert!(Template::parse("x}").is_err());
        assert!(Template::parse("/{original}").is_err());
        assert!(Template::parse("{date}/{session}").is_err());
    }

    #[test]
    fn hostile_names_are_tamed() {
        let t = Template::default();
        let p = t.render(&fields("../../etc/passwd"));
        assert!(
            p.components().all(|c| matches!(c, Component::Normal(_))),
            "{p:?}"
        );
        assert_eq!(sanitize_component("CON.txt"), "_CON.txt");
        assert_eq!(sanitize_component("a\u{0}b\nc"), "a_b_c");
        assert_eq!(sanitize_component(".."), "_");
        assert_eq!(sanitize_component(".hidden"), "_hidden");
        assert_eq!(sanitize_component("x. "), "x");
        assert_eq!(
            with_suffix(Path::new("a/DSC.NEF"), 2),
            Path::new("a/DSC-2.NEF")
        );
    }

    proptest! {
        #[test]
        fn any_original_renders_to_safe_relative_components(original in any::<String>()) {
            let p = Template::default().render(&fields(&original));
            prop_assert!(p.is_relative());
            for c in p.components() {
                let Component::Normal(part) = c else { return Err(TestCaseError::fail(format!("{p:?}"))) };
                let part = part.to_string_lossy();
                prop_assert!(!part.is_empty() && part.len() <= MAX_COMPONENT_BYTES);
                prop_assert!(!part.starts_with('.'));
                prop_assert!(!part.chars().any(|c| c.is_control() || "/\\:*?\"<>|".contains(c)));
            }
        }
    }
}
