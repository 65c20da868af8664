//! `[metadata]`: what the studio writes into every frame's XMP sidecar as it arrives —
//! creator, rights, usage terms, credit, contact, keywords, headline, description, the
//! client and the job — with `{session}`, `{date}`, `{year}` and `{camera}` filled in per
//! frame. A session adds to it or overrides it (`shotline run --meta key=value`).

use serde::{Deserialize, Serialize};

/// `[metadata]`; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Metadata {
    /// `dc:creator`: the photographer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// `dc:rights`: the copyright notice, e.g. `© {year} Ana Ruiz Studio`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rights: Option<String>,
    /// `xmpRights:UsageTerms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_terms: Option<String>,
    /// `photoshop:Credit`: the credit line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
    /// `photoshop:Headline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    /// `dc:description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `dc:subject`, added to the keywords a sidecar already has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// The client, as licensee (`plus:Licensee` / `plus:LicenseeName`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The job (`photoshop:TransmissionReference`, IPTC's Job Identifier).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The creator's contact (`Iptc4xmpCore:CreatorContactInfo`): e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// ... web site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_url: Option<String>,
    /// ... phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// ... street address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_address: Option<String>,
    /// ... city.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_city: Option<String>,
    /// ... region or state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_region: Option<String>,
    /// ... postal code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_postcode: Option<String>,
    /// ... country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_country: Option<String>,
}

/// Every key, as `[metadata]` and `--meta` spell them.
pub const KEYS: [&str; 17] = [
    "creator",
    "rights",
    "usage_terms",
    "credit",
    "headline",
    "description",
    "keywords",
    "client",
    "job",
    "contact_email",
    "contact_url",
    "contact_phone",
    "contact_address",
    "contact_city",
    "contact_region",
    "contact_postcode",
    "contact_country",
];

/// The placeholders a value may hold.
pub const PLACEHOLDERS: [&str; 4] = ["{session}", "{date}", "{year}", "{camera}"];

impl Metadata {
    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "creator" => &mut self.creator,
            "rights" => &mut self.rights,
            "usage_terms" => &mut self.usage_terms,
            "credit" => &mut self.credit,
            "headline" => &mut self.headline,
            "description" => &mut self.description,
            "client" => &mut self.client,
            "job" => &mut self.job,
            "contact_email" => &mut self.contact_email,
            "contact_url" => &mut self.contact_url,
            "contact_phone" => &mut self.contact_phone,
            "contact_address" => &mut self.contact_address,
            "contact_city" => &mut self.contact_city,
            "contact_region" => &mut self.contact_region,
            "contact_postcode" => &mut self.contact_postcode,
            "contact_country" => &mut self.contact_country,
            _ => return None,
        })
    }

    /// Set `key` to `value` (a session's `--meta key=value`): `keywords` takes a
    /// comma-separated list, added to the configured ones; an empty value clears the key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        if key == "keywords" {
            for k in value.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                if !self.keywords.iter().any(|have| have == k) {
                    self.keywords.push(k.to_string());
                }
            }
            if value.is_empty() {
                self.keywords.clear();
            }
            return Ok(());
        }
        let slot = self
            .slot(key)
            .ok_or_else(|| format!("no metadata key {key:?}; the keys: {}", KEYS.join(", ")))?;
        *slot = (!value.is_empty()).then(|| value.to_string());
        Ok(())
    }

    /// Every value set, by key (keywords one by one, last).
    pub fn values(&self) -> Vec<(&'static str, &str)> {
        let single: [(&'static str, &Option<String>); 16] = [
            ("creator", &self.creator),
            ("rights", &self.rights),
            ("usage_terms", &self.usage_terms),
            ("credit", &self.credit),
            ("headline", &self.headline),
            ("description", &self.description),
            ("client", &self.client),
            ("job", &self.job),
            ("contact_email", &self.contact_email),
            ("contact_url", &self.contact_url),
            ("contact_phone", &self.contact_phone),
            ("contact_address", &self.contact_address),
            ("contact_city", &self.contact_city),
            ("contact_region", &self.contact_region),
            ("contact_postcode", &self.contact_postcode),
            ("contact_country", &self.contact_country),
        ];
        let mut all: Vec<(&'static str, &str)> = single
            .iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
            .collect();
        all.extend(self.keywords.iter().map(|k| ("keywords", k.as_str())));
        all
    }

    /// The first value holding a placeholder that is not one of [`PLACEHOLDERS`], or
    /// a control character: its key and what is wrong.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        for (key, value) in self.values() {
            if value
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
            {
                return Some((key, "holds a control character".into()));
            }
            let mut rest = value;
            while let Some(at) = rest.find('{') {
                let tail = &rest[at..];
                let Some(end) = tail.find('}') else {
                    return Some((key, format!("{tail:?} has no closing brace")));
                };
                let placeholder = &tail[..=end];
                if !PLACEHOLDERS.contains(&placeholder) {
                    return Some((
                        key,
                        format!(
                            "{placeholder} is not a placeholder (there are {})",
                            PLACEHOLDERS.join(", ")
                        ),
                    ));
                }
                rest = &tail[end + 1..];
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_overrides_and_adds_keywords() {
        let mut m = Metadata {
            creator: Some("Ana".into()),
            keywords: vec!["studio".into()],
            ..Metadata::default()
        };
        m.set("client", "Acme").expect("client");
        m.set("keywords", "spring, studio,hat").expect("keywords");
        m.set("creator", "").expect("cleared");
        assert_eq!(m.client.as_deref(), Some("Acme"));
        assert_eq!(m.keywords, ["studio", "spring", "hat"]);
        assert_eq!(m.creator, None);
        assert!(m.set("colour", "red").is_err());
        assert_eq!(m.problem(), None);
        m.set("rights", "© {year} {studio}").expect("set");
        assert_eq!(m.problem().map(|(k, _)| k), Some("rights"));
        assert_eq!(
            m.values().iter().filter(|(k, _)| *k == "keywords").count(),
            3
        );
    }
}
