//! The studio's metadata template the tests configure, and exiftool's reading of a
//! sidecar checked against it.

use std::path::Path;

use serde_json::Value;

use super::SESSION;

/// `[metadata]` with every key, placeholders in some.
pub const METADATA: &str = r#"
[metadata]
creator = "Ana Ruiz"
rights = "© {year} Ana Ruiz Studio"
usage_terms = "Web and print for {session}, 12 months"
credit = "Ana Ruiz Studio"
headline = "{session} on {camera}"
description = "Shot {date}"
keywords = ["studio", "{session}"]
client = "Old client"
job = "ACME-041"
contact_email = "ana@example.com"
contact_url = "https://ana.example.com"
contact_phone = "+34 600 000 000"
contact_address = "Calle Mayor 1"
contact_city = "Madrid"
contact_region = "Madrid"
contact_postcode = "28013"
contact_country = "Spain"
"#;

/// exiftool's reading of the XMP in `path`, as one JSON object of `Group:Tag` values.
pub fn exiftool(path: &Path) -> Value {
    let out = std::process::Command::new("exiftool")
        .args(["-j", "-G1", "-struct", "-XMP:all"])
        .arg(path)
        .output()
        .expect("exiftool (apt libimage-exiftool-perl; cargo xtask setup installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: Value = serde_json::from_slice(&out.stdout).expect("exiftool JSON");
    all[0].clone()
}

/// Every template field as exiftool reads it from `sidecar`, for frames of `camera`.
pub fn assert_every_field(sidecar: &Path, camera: &str) {
    let x = exiftool(sidecar);
    let year = &chrono::Local::now().format("%Y").to_string();
    assert_eq!(
        x["XMP-dc:Creator"],
        serde_json::json!(["Ana Ruiz"]),
        "{x:#}"
    );
    assert_eq!(
        x["XMP-dc:Rights"],
        format!("© {year} Ana Ruiz Studio"),
        "{x:#}"
    );
    assert_eq!(
        x["XMP-xmpRights:UsageTerms"],
        format!("Web and print for {SESSION}, 12 months"),
        "{x:#}"
    );
    assert_eq!(x["XMP-photoshop:Credit"], "Ana Ruiz Studio", "{x:#}");
    assert!(
        x["XMP-photoshop:Headline"]
            .as_str()
            .is_some_and(|h| h.starts_with(&format!("{SESSION} on ")) && h.contains(camera)),
        "the headline names the session and {camera}: {x:#}"
    );
    assert!(
        x["XMP-dc:Description"]
            .as_str()
            .is_some_and(|d| d.starts_with(&format!("Shot {year}-"))),
        "{x:#}"
    );
    assert_eq!(
        x["XMP-photoshop:TransmissionReference"], "ACME-041",
        "{x:#}"
    );
    assert_eq!(
        x["XMP-plus:Licensee"],
        serde_json::json!([{"LicenseeName": "Acme"}]),
        "the session's client: {x:#}"
    );
    let contact = &x["XMP-iptcCore:CreatorContactInfo"];
    for (key, want) in [
        ("CiEmailWork", "ana@example.com"),
        ("CiUrlWork", "https://ana.example.com"),
        ("CiTelWork", "+34 600 000 000"),
        ("CiAdrExtadr", "Calle Mayor 1"),
        ("CiAdrCity", "Madrid"),
        ("CiAdrRegion", "Madrid"),
        ("CiAdrPcode", "28013"),
        ("CiAdrCtry", "Spain"),
    ] {
        // exiftool gives what looks like a number (the postcode) as one.
        let read = match &contact[key] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert_eq!(read, want, "{key}: {x:#}");
    }
}
