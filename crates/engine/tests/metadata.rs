//! The studio's metadata in every frame's sidecar, read back with exiftool: every
//! `[metadata]` field and a session's `--meta` on a hot-folder frame (and on a frame of
//! libgphoto2's virtual camera, in `camera.rs`'s build); a sidecar another program wrote
//! keeps its fields; the gallery's rating and label, arriving later, go in beside them;
//! the original is never touched.

mod common;

use std::fs;
use std::time::Duration;

use common::xmp::{METADATA, assert_every_field, exiftool};
use common::{SESSION, Studio, bytes};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

fn keywords(x: &Value) -> Vec<String> {
    match &x["XMP-dc:Subject"] {
        Value::Array(items) => items
            .iter()
            .filter_map(|k| k.as_str().map(String::from))
            .collect(),
        Value::String(one) => vec![one.clone()],
        _ => Vec::new(),
    }
}

#[test]
fn every_frame_carries_the_studios_metadata_merged_with_what_is_there() {
    let mut s = Studio::with_backup("b");
    let mut config = fs::read_to_string(&s.config).expect("config");
    config.push_str(METADATA);
    fs::write(&s.config, config).expect("config");
    // Another program's sidecar is already where b.jpg's will be.
    let folder = s.library.join(SESSION);
    fs::create_dir_all(&folder).expect("mkdir");
    let theirs = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" crs:Exposure2012="+0.50">
   <dc:subject><rdf:Bag><rdf:li>hat</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"#;
    fs::write(folder.join("b.xmp"), theirs).expect("their sidecar");
    s.start_with(&["--meta", "client=Acme", "--meta", "keywords=spring"]);
    let (a, b) = (bytes(1, 20_000), bytes(2, 30_000));
    fs::write(s.hot.join("a.jpg"), &a).expect("a");
    fs::write(s.hot.join("b.jpg"), &b).expect("b");
    s.wait_for("both frames", WAIT, |st| {
        st["shots"] == 2 && st["queue_depth"] == 0
    });
    s.stop();

    // The hot folder's name stands for the camera when the frame has no EXIF.
    assert_every_field(&folder.join("a.xmp"), "hot");
    assert_every_field(&folder.join("b.xmp"), "hot");
    let a_keys = keywords(&exiftool(&folder.join("a.xmp")));
    assert_eq!(a_keys, ["studio", SESSION, "spring"]);
    let bx = exiftool(&folder.join("b.xmp"));
    assert_eq!(
        bx["XMP-crs:Exposure2012"], "+0.50",
        "their field stays: {bx:#}"
    );
    assert_eq!(keywords(&bx), ["hat", "studio", SESSION, "spring"]);
    // The originals are untouched, byte for byte.
    assert_eq!(fs::read(folder.join("a.jpg")).expect("a"), a);
    assert_eq!(fs::read(folder.join("b.jpg")).expect("b"), b);

    // A guest's rating and label, later, go in beside the metadata.
    shotline_engine::sidecar::write(
        &folder.join("a.xmp"),
        shotline_engine::sidecar::Marks {
            rating: Some(4),
            label: Some(Some("Green")),
        },
    )
    .expect("marks");
    let x = exiftool(&folder.join("a.xmp"));
    assert_eq!(
        (x["XMP-xmp:Rating"].clone(), x["XMP-xmp:Label"].clone()),
        (4.into(), "Green".into())
    );
    assert_every_field(&folder.join("a.xmp"), "hot");

    // A restart without --meta: the session keeps its own metadata (the journal has it),
    // and a sidecar already written is left as it is.
    let before = fs::read(folder.join("b.xmp")).expect("b.xmp");
    s.start_with(&[]);
    s.ready();
    fs::write(s.hot.join("c.jpg"), bytes(3, 10_000)).expect("c");
    s.wait_for("the third frame", WAIT, |st| {
        st["shots"] == 3 && st["queue_depth"] == 0
    });
    s.stop();
    assert_eq!(fs::read(folder.join("b.xmp")).expect("b.xmp"), before);
    assert_every_field(&folder.join("c.xmp"), "hot");
    assert_eq!(
        keywords(&exiftool(&folder.join("c.xmp"))),
        ["studio", SESSION, "spring"]
    );
}

#[test]
fn a_bad_template_or_meta_is_refused_with_its_key() {
    let s = Studio::with_backup("b");
    let mut config = fs::read_to_string(&s.config).expect("config");
    config.push_str("\n[metadata]\nrights = \"© {yaer} Ana\"\n");
    fs::write(&s.config, &config).expect("config");
    let out = s.shotline(&["config", "check"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("metadata.rights") && text.contains("{yaer}"),
        "{text}"
    );
    let config = config.replace("{yaer}", "{year}");
    fs::write(&s.config, config).expect("config");
    let out = s.shotline(&["run", "--meta", "colour=red"]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && text.contains("colour"), "{text}");
}
