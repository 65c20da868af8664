//! The studio's stationery pad: the `[metadata]` template (and a session's `--meta`)
//! made into the XMP fields written into each frame's sidecar as it arrives, with
//! `{session}`, `{date}`, `{year}` and `{camera}` filled in for that frame. The original
//! file is never touched (its hash is the proof); the sidecar is merged into, so what
//! another program or the gallery's guests put there stays.

use std::path::Path;

use chrono::{DateTime, Local};

use crate::config::Metadata;
use crate::sidecar::fields::{DC, Field, IPTC_CORE, PHOTOSHOP, PLUS, Value, XMP_RIGHTS};

/// What the placeholders stand for, for one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// `{session}`.
    pub session: String,
    /// `{date}`: the capture date, `YYYY-MM-DD`; `{year}` is its first four.
    pub date: String,
    /// `{camera}`: the camera model (empty when the frame does not say).
    pub camera: String,
}

impl Context {
    /// The context of the frame at `path` in `session`: its EXIF capture date and camera
    /// model, else the file's modification date and `camera` (where it came from).
    pub fn of(path: &Path, session: &str, camera: &str) -> Self {
        let capture = crate::metadata::read(path);
        let date = match capture.taken {
            Some(taken) => taken.format("%Y-%m-%d").to_string(),
            None => {
                let when: DateTime<Local> = std::fs::metadata(path)
                    .and_then(|m| m.modified())
                    .map(DateTime::from)
                    .unwrap_or_else(|_| Local::now());
                when.format("%Y-%m-%d").to_string()
            }
        };
        Self {
            session: session.to_string(),
            date,
            camera: capture.model.unwrap_or_else(|| camera.to_string()),
        }
    }

    /// `template` with the placeholders filled in, in one pass (a session named
    /// `{year} shoot` stays so).
    pub fn fill(&self, template: &str) -> String {
        let year = self.date.get(..4).unwrap_or_default();
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(at) = rest.find('{') {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            let (value, len) = [
                ("{session}", self.session.as_str()),
                ("{date}", self.date.as_str()),
                ("{year}", year),
                ("{camera}", self.camera.as_str()),
            ]
            .into_iter()
            .find(|(p, _)| tail.starts_with(p))
            .map_or(("{", 1), |(p, v)| (v, p.len()));
            out.push_str(value);
            rest = &tail[len..];
        }
        out.push_str(rest);
        out
    }
}

/// The sidecar fields `meta` sets for the frame of `ctx`.
pub fn fields(meta: &Metadata, ctx: &Context) -> Vec<Field> {
    let fill = |v: &Option<String>| v.as_deref().map(|t| ctx.fill(t));
    let mut out = Vec::new();
    let mut push = |ns, name, value: Option<Value>| {
        if let Some(value) = value {
            out.push(Field { ns, name, value });
        }
    };
    push(
        DC,
        "creator",
        fill(&meta.creator).map(|c| Value::Seq(vec![c])),
    );
    push(DC, "rights", fill(&meta.rights).map(Value::Alt));
    push(
        XMP_RIGHTS,
        "UsageTerms",
        fill(&meta.usage_terms).map(Value::Alt),
    );
    push(PHOTOSHOP, "Credit", fill(&meta.credit).map(Value::Text));
    push(PHOTOSHOP, "Headline", fill(&meta.headline).map(Value::Text));
    push(DC, "description", fill(&meta.description).map(Value::Alt));
    push(
        PHOTOSHOP,
        "TransmissionReference",
        fill(&meta.job).map(Value::Text),
    );
    push(
        PLUS,
        "Licensee",
        fill(&meta.client).map(|c| Value::SeqOf("LicenseeName", vec![c])),
    );
    let keywords: Vec<String> = meta
        .keywords
        .iter()
        .map(|k| ctx.fill(k))
        .filter(|k| !k.trim().is_empty())
        .collect();
    push(
        DC,
        "subject",
        (!keywords.is_empty()).then_some(Value::Bag(keywords)),
    );
    let contact: Vec<(&'static str, String)> = [
        ("CiEmailWork", &meta.contact_email),
        ("CiUrlWork", &meta.contact_url),
        ("CiTelWork", &meta.contact_phone),
        ("CiAdrExtadr", &meta.contact_address),
        ("CiAdrCity", &meta.contact_city),
        ("CiAdrRegion", &meta.contact_region),
        ("CiAdrPcode", &meta.contact_postcode),
        ("CiAdrCtry", &meta.contact_country),
    ]
    .into_iter()
    .filter_map(|(name, v)| fill(v).map(|v| (name, v)))
    .collect();
    push(
        IPTC_CORE,
        "CreatorContactInfo",
        (!contact.is_empty()).then_some(Value::Struct(contact)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_per_frame() {
        let meta = Metadata {
            rights: Some("© {year} Ana Ruiz".into()),
            headline: Some("{session} on {camera}, {date}".into()),
            keywords: vec!["{session}".into(), "studio".into()],
            contact_email: Some("ana@example.com".into()),
            ..Metadata::default()
        };
        let ctx = Context {
            session: "Acme spring".into(),
            date: "2026-12-07".into(),
            camera: "NIKON D750".into(),
        };
        let fields = fields(&meta, &ctx);
        let value = |name: &str| {
            fields
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.value.clone())
        };
        assert_eq!(value("rights"), Some(Value::Alt("© 2026 Ana Ruiz".into())));
        assert_eq!(
            value("Headline"),
            Some(Value::Text("Acme spring on NIKON D750, 2026-12-07".into()))
        );
        assert_eq!(
            value("subject"),
            Some(Value::Bag(vec!["Acme spring".into(), "studio".into()]))
        );
        assert_eq!(
            value("CreatorContactInfo"),
            Some(Value::Struct(vec![(
                "CiEmailWork",
                "ana@example.com".into()
            )]))
        );
        assert_eq!(value("creator"), None, "what is not set is not written");
        let odd = Context {
            session: "{year} shoot".into(),
            ..ctx
        };
        assert_eq!(odd.fill("{session} in {year}"), "{year} shoot in 2026");
    }
}
