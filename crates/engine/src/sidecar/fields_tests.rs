//! The fields' merge: a fresh sidecar, another program's, namespaces in scope, idempotence.

use super::*;

fn fields() -> Vec<Field> {
    vec![
        Field {
            ns: DC,
            name: "creator",
            value: Value::Seq(vec!["Ana Ruiz".into()]),
        },
        Field {
            ns: DC,
            name: "rights",
            value: Value::Alt("© 2026 Ana Ruiz Studio".into()),
        },
        Field {
            ns: PHOTOSHOP,
            name: "Credit",
            value: Value::Text("Ana Ruiz / Studio <North>".into()),
        },
        Field {
            ns: DC,
            name: "subject",
            value: Value::Bag(vec!["spring".into(), "hat".into()]),
        },
        Field {
            ns: IPTC_CORE,
            name: "CreatorContactInfo",
            value: Value::Struct(vec![("CiEmailWork", "ana@example.com".into())]),
        },
        Field {
            ns: PLUS,
            name: "Licensee",
            value: Value::SeqOf("LicenseeName", vec!["Acme".into()]),
        },
    ]
}

fn well_formed(xml: &str) {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed: {e}\n{xml}"),
        }
    }
}

#[test]
fn a_fresh_sidecar_holds_every_field() {
    let xml = set(None, &fields()).expect("set");
    well_formed(&xml);
    for needle in [
        "<dc:creator>",
        "<rdf:li>Ana Ruiz</rdf:li>",
        "<rdf:li xml:lang=\"x-default\">© 2026 Ana Ruiz Studio</rdf:li>",
        "<photoshop:Credit>Ana Ruiz / Studio &lt;North&gt;</photoshop:Credit>",
        "<Iptc4xmpCore:CiEmailWork>ana@example.com</Iptc4xmpCore:CiEmailWork>",
        "<plus:LicenseeName>Acme</plus:LicenseeName>",
        "xmlns:photoshop=\"http://ns.adobe.com/photoshop/1.0/\"",
    ] {
        assert!(xml.contains(needle), "{needle}\n{xml}");
    }
    assert_eq!(
        set(Some(&xml), &fields()).expect("again"),
        xml,
        "idempotent"
    );
}

#[test]
fn a_prefix_bound_only_on_another_description_is_declared_where_it_is_used() {
    // exiftool writes one Description per namespace.
    let theirs = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:aux="http://ns.adobe.com/exif/1.0/aux/" aux:Lens="50mm"/>
 <rdf:Description rdf:about="" xmlns:dc="http://example.com/not-dublin-core/" dc:x="1"/>
</rdf:RDF></x:xmpmeta>"#;
    let ours = set(Some(theirs), &fields()).expect("set");
    well_formed(&ours);
    let first = &ours[ours.find("<rdf:Description").expect("first")
        ..ours.find("</rdf:Description>").expect("end")];
    assert!(
        first.contains("xmlns:dc1=\"http://purl.org/dc/elements/1.1/\"")
            && first.contains("<dc1:creator>"),
        "dc means something else in the file: a prefix of its own, declared where it is used\n{ours}"
    );
    assert!(first.contains("xmlns:photoshop="), "{ours}");
    assert!(
        ours.contains(r#"aux:Lens="50mm""#) && ours.contains(r#"dc:x="1""#),
        "{ours}"
    );
    assert_eq!(
        set(Some(&ours), &fields()).expect("again"),
        ours,
        "idempotent"
    );
}

#[test]
fn another_programs_sidecar_keeps_its_fields_and_keywords_are_added() {
    let theirs = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <!-- a raw developer's -->
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:purl="http://purl.org/dc/elements/1.1/" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" xmlns:ps="http://ns.adobe.com/photoshop/1.0/" xmp:Rating="3" ps:Credit="old credit" crs:Exposure2012="+0.50">
   <purl:subject><rdf:Bag><rdf:li>hat</rdf:li><rdf:li>studio</rdf:li></rdf:Bag></purl:subject>
   <purl:creator><rdf:Seq><rdf:li>Someone Else</rdf:li></rdf:Seq></purl:creator>
   <purl:title><rdf:Alt><rdf:li xml:lang="x-default">Look 4</rdf:li></rdf:Alt></purl:title>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"#;
    let ours = set(Some(theirs), &fields()).expect("set");
    well_formed(&ours);
    assert!(ours.contains(r#"crs:Exposure2012="+0.50""#), "{ours}");
    assert!(ours.contains(r#"xmp:Rating="3""#), "{ours}");
    assert!(ours.contains("<!-- a raw developer's -->"), "{ours}");
    assert!(ours.contains("Look 4"), "{ours}");
    assert!(!ours.contains("old credit"), "replaced: {ours}");
    assert!(!ours.contains("Someone Else"), "replaced: {ours}");
    assert!(
        ours.contains("<ps:Credit>"),
        "in the file's own prefix: {ours}"
    );
    assert!(!ours.contains("xmlns:dc="), "no second prefix: {ours}");
    let keywords = keywords_in(&ours, "purl:subject", "rdf:li");
    assert_eq!(keywords, ["hat", "studio", "spring"]);
    // The gallery's marks go in beside them, and the fields stay.
    let marked = super::super::merge(
        Some(&ours),
        super::super::Marks {
            rating: Some(5),
            label: Some(Some("Red")),
        },
    )
    .expect("marks");
    well_formed(&marked);
    assert!(marked.contains(r#"xmp:Rating="5""#), "{marked}");
    assert!(marked.contains("<purl:creator>"), "{marked}");
    assert_eq!(set(Some(&marked), &fields()).expect("again"), marked);
}

#[test]
fn a_keyword_taken_out_leaves_the_others_and_an_emptied_set_goes() {
    let without = |words: &[&str]| {
        vec![Field {
            ns: DC,
            name: "subject",
            value: Value::BagWithout(words.iter().map(|w| w.to_string()).collect()),
        }]
    };
    let theirs = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:subject><rdf:Bag><rdf:li>hat</rdf:li><rdf:li>Client pick</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"#;
    let ours = set(Some(theirs), &without(&["Client pick"])).expect("set");
    well_formed(&ours);
    assert_eq!(keywords_in(&ours, "dc:subject", "rdf:li"), ["hat"]);
    let none = set(Some(&ours), &without(&["hat"])).expect("set");
    well_formed(&none);
    assert!(!none.contains("subject"), "{none}");
}
