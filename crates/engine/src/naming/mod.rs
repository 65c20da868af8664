//! Naming: the templates that name library files (`{date}/{session}/{original}`) and
//! upload keys (`{studio}/{session}/{name}`), through one template engine, and the
//! sanitising of every path component they produce.
//!
//! - [`Template`]: parsed once, rendered per frame; [`TemplateError`] says what is wrong.
//! - `sanitize`: one safe path component from untrusted text.

mod sanitize;

use std::path::PathBuf;

pub use sanitize::{sanitize_component, split_ext, with_suffix};

/// The tokens a library naming template may use.
pub const TOKENS: &[&str] = &[
    "date", "time", "session", "camera", "seq", "stem", "ext", "name", "original", "code", "item",
    "view", "n",
];

/// The tokens an upload key template may use.
pub const KEY_TOKENS: &[&str] = &["studio", "session", "name", "path", "stem", "ext"];

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Token(&'static str),
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `}` with no `{` before it.
    #[error("`}}` without `{{` in `{0}`")]
    Unopened(String),
    /// A `{` with no `}` after it.
    #[error("`{{` without `}}` in `{0}`")]
    Unclosed(String),
    /// A token that is not known.
    #[error("unknown token `{{{token}}}`; known: {known}")]
    UnknownToken {
        /// The token as written.
        token: String,
        /// The known ones, `{a} {b}`.
        known: String,
    },
    /// A library template starting with a separator.
    #[error("`{0}` is absolute; it must be relative to the library")]
    Absolute(String),
    /// A library template that would give every frame the same name.
    #[error(
        "`{0}` has none of {{original}}, {{name}}, {{stem}}, {{seq}}, {{n}}: every frame would get the same name"
    )]
    NotUnique(String),
}

impl Default for Template {
    fn default() -> Self {
        Self::parse("{date}/{session}/{original}").unwrap_or(Self { parts: Vec::new() })
    }
}

/// What a library template is filled with.
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
    /// The frame's place in the session's shot list (`{code}`, `{item}`, `{view}`,
    /// `{n}`); `None`: unsorted, the first.
    pub slot: Option<&'a crate::shotlist::Slot>,
}

/// What an upload key template is filled with.
#[derive(Debug, Clone, Default)]
pub struct KeyFields<'a> {
    /// The studio id.
    pub studio: &'a str,
    /// Session name.
    pub session: &'a str,
    /// The frame's path in the library (`/`-separated).
    pub path: &'a str,
}

impl Template {
    /// Parse a library naming template; the error says which token or brace is wrong.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let parts = tokens(text, TOKENS)?;
        if text.starts_with(['/', '\\']) {
            return Err(TemplateError::Absolute(text.into()));
        }
        if !parts
            .iter()
            .any(|p| matches!(p, Part::Token("original" | "name" | "stem" | "seq" | "n")))
        {
            return Err(TemplateError::NotUnique(text.into()));
        }
        Ok(Self { parts })
    }

    /// Parse an upload key template (tokens [`KEY_TOKENS`]).
    pub fn parse_key(text: &str) -> Result<Self, TemplateError> {
        Ok(Self {
            parts: tokens(text, KEY_TOKENS)?,
        })
    }

    /// The text with each token replaced by `value(token)`.
    fn fill(&self, value: impl Fn(&str) -> String) -> String {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => text.push_str(t),
                Part::Token(token) => text.push_str(&value(token)),
            }
        }
        text
    }

    /// Render a library path whose every component is safe on every platform.
    pub fn render(&self, fields: &Fields<'_>) -> PathBuf {
        let original = fields.original.replace('\\', "/");
        let name = original.rsplit('/').next().unwrap_or_default();
        let (stem, ext) = split_ext(name);
        let text = self.fill(|token| match token {
            "date" => fields.date.to_string(),
            "time" => fields.time.to_string(),
            // Values other than {original} must stay one component.
            "session" => fields.session.replace(['/', '\\'], "_"),
            "camera" => fields.camera.replace(['/', '\\'], "_"),
            "seq" => format!("{:04}", fields.seq),
            "code" => fields
                .slot
                .map_or(crate::shotlist::UNSORTED, |s| s.code.as_str())
                .replace(['/', '\\'], "_"),
            "item" => fields
                .slot
                .map_or(crate::shotlist::UNSORTED, |s| s.item.as_str())
                .replace(['/', '\\'], "_"),
            "view" => fields
                .slot
                .map_or("", |s| s.view.as_str())
                .replace(['/', '\\'], "_"),
            "n" => format!("{:02}", fields.slot.map_or(1, |s| s.n)),
            "stem" => stem.to_string(),
            "ext" => ext.to_string(),
            "name" => name.to_string(),
            _ => original.clone(),
        });
        let mut path = PathBuf::new();
        let mut previous = String::new();
        for component in text
            .split(['/', '\\'])
            .filter(|c| !c.is_empty() && *c != ".")
        {
            let component = sanitize_component(component);
            // An unnamed session is the date: `{date}/{session}` reads once, not twice.
            if fields.session == fields.date && component == previous && component == fields.date {
                continue;
            }
            path.push(&component);
            previous = component;
        }
        if path.as_os_str().is_empty() {
            path.push("_");
        }
        path
    }

    /// Render an object key: `/`-separated, no empty, `.` or `..` component, so a key
    /// never escapes its prefix.
    pub fn render_key(&self, fields: &KeyFields<'_>) -> String {
        let path = fields.path.replace('\\', "/");
        let name = path.rsplit('/').next().unwrap_or_default();
        let (stem, ext) = split_ext(name);
        let text = self.fill(|token| match token {
            "studio" => fields.studio.replace(['/', '\\'], "_"),
            "session" => fields.session.replace(['/', '\\'], "_"),
            "name" => name.to_string(),
            "stem" => stem.to_string(),
            "ext" => ext.to_string(),
            _ => path.clone(),
        });
        text.split(['/', '\\'])
            .filter(|c| !c.is_empty() && *c != "." && *c != "..")
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Split `text` into literal text and the `known` tokens.
fn tokens(text: &str, known: &[&'static str]) -> Result<Vec<Part>, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(TemplateError::Unopened(text.into()));
        }
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| TemplateError::Unclosed(text.into()))?;
        let name = &after[..close];
        let token =
            known
                .iter()
                .find(|t| **t == name)
                .ok_or_else(|| TemplateError::UnknownToken {
                    token: name.into(),
                    known: known
                        .iter()
                        .map(|t| format!("{{{t}}}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                })?;
        parts.push(Part::Token(token));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sanitize::MAX_COMPONENT_BYTES;
    use std::path::{Component, Path};

    fn fields(original: &str) -> Fields<'_> {
        Fields {
            date: "2026-11-22",
            time: "101500",
            session: "smith",
            camera: "D750",
            seq: 7,
            original,
            slot: None,
        }
    }

    #[test]
    fn shot_list_tokens_name_a_frame_by_its_item_and_view() {
        let t = Template::parse("{session}/{code}_{view}_{n}.{ext}").expect("parse");
        let slot = crate::shotlist::Slot {
            code: "SKU/12".into(),
            item: "Red hat".into(),
            view: "back".into(),
            n: 2,
        };
        let f = Fields {
            slot: Some(&slot),
            ..fields("IMG_0001.JPG")
        };
        assert_eq!(t.render(&f), Path::new("smith/SKU_12_back_02.JPG"));
        let unsorted = crate::shotlist::Slot::unsorted(3);
        let f = Fields {
            slot: Some(&unsorted),
            ..fields("IMG_0002.JPG")
        };
        assert_eq!(t.render(&f), Path::new("smith/unsorted__03.JPG"));
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
    fn an_unnamed_session_does_not_repeat_the_date() {
        let t = Template::default();
        let today = Fields {
            session: "2026-11-22",
            ..fields("DSC_1.NEF")
        };
        assert_eq!(t.render(&today), Path::new("2026-11-22/DSC_1.NEF"));
        assert_eq!(
            t.render(&fields("DSC_1.NEF")),
            Path::new("2026-11-22/smith/DSC_1.NEF"),
            "a named session keeps its folder"
        );
    }

    #[test]
    fn bad_templates_say_why() {
        assert!(
            Template::parse("{date}/{nope}")
                .expect_err("bad")
                .to_string()
                .contains("{nope}")
        );
        assert!(matches!(
            Template::parse_key("{studio}/{original}"),
            Err(TemplateError::UnknownToken { .. })
        ));
        assert!(Template::parse("{date").is_err());
        assert!(Template::parse("x}").is_err());
        assert!(Template::parse("/{original}").is_err());
        assert!(Template::parse("{date}/{session}").is_err());
    }

    #[test]
    fn keys_follow_the_template_and_never_escape() {
        let key = |template: &str, path: &str| {
            Template::parse_key(template)
                .expect("parse")
                .render_key(&KeyFields {
                    studio: "north",
                    session: "2026-11-22",
                    path,
                })
        };
        assert_eq!(
            key("{studio}/{session}/{name}", "2026-11-22/s/a.CR3"),
            "north/2026-11-22/a.CR3"
        );
        assert_eq!(
            key("/{studio}/../{stem}.{ext}", "x/IMG_1.jpg"),
            "north/IMG_1.jpg"
        );
        assert_eq!(key("{path}", "a/b/../c.jpg"), "a/b/c.jpg");
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
