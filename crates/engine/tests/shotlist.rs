//! A shot list as a catalogue studio uses it: loaded from a CSV, an item chosen by its
//! scanned code, frames named after the item and its views, an unknown code refused with
//! nothing renamed, frames of no item kept as unsorted, and a kill -9 mid-item: the next
//! frame continues the item. `shotline shotlist status` lists what is complete, what is
//! missing and what is extra.

mod common;

use std::fs;
use std::time::Duration;

use common::{SESSION, Studio, bytes};

const WAIT: Duration = Duration::from_secs(60);

fn studio() -> Studio {
    let s = Studio::with_backup("b");
    let config = fs::read_to_string(&s.config).expect("config").replace(
        "naming = \"{session}/{original}\"",
        "naming = \"{session}/{code}-{view}-{n}.{ext}\"",
    );
    fs::write(&s.config, config).expect("config");
    s
}

fn ok(out: std::process::Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

/// Drop frame `k` into the hot folder and wait until `total` frames are in.
fn shoot(s: &Studio, k: u64, total: u64) {
    fs::write(
        s.hot.join(format!("DSC_{k:04}.jpg")),
        bytes(k, 5_000 + k as usize),
    )
    .expect("frame");
    s.wait_for(&format!("{total} frames"), WAIT, |st| {
        st["shots"] == total && st["queue_depth"] == 0
    });
}

fn names(s: &Studio) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(s.library.join(SESSION))
        .expect("session folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jpg"))
        .collect();
    names.sort();
    names
}

#[test]
fn frames_are_named_by_the_scanned_item_and_its_views_across_a_crash() {
    let mut s = studio();
    let list = s.dir.path().join("list.csv");
    fs::write(
        &list,
        "code,name,views\nSKU-1,Red hat,front|back\nSKU-2,Blue hat,front|side|detail\n",
    )
    .expect("csv");
    ok(s.shotline(&[
        "shotlist",
        "load",
        list.to_str().expect("path"),
        "--session",
        SESSION,
    ]));
    s.start_with(&[]);
    s.ready();
    shoot(&s, 1, 1);
    let out = ok(s.shotline(&["shot", "next", "SKU-1"]));
    assert!(out.contains("next view front"), "{out}");
    shoot(&s, 2, 2);
    shoot(&s, 3, 3);
    shoot(&s, 4, 4);
    // An unknown code is shown and nothing changes: the next frame is still SKU-1's.
    let out = s.shotline(&["shot", "next", "SKU-9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SKU-9"),
        "{out:?}"
    );
    shoot(&s, 5, 5);
    ok(s.shotline(&["shot", "next", "SKU-2"]));
    shoot(&s, 6, 6);
    // A duplicate of an earlier frame (its content is in the library) takes no view.
    fs::write(s.hot.join("again.jpg"), bytes(1, 5_001)).expect("duplicate");
    s.wait_for("the duplicate", WAIT, |st| {
        st["duplicates"] == 1 && st["queue_depth"] == 0
    });
    // A crash mid-item: the next frame after the restart continues it.
    s.kill9();
    s.start_with(&[]);
    s.ready();
    shoot(&s, 7, 7);
    // A RAW and its JPEG: one exposure, one view.
    fs::write(s.hot.join("DSC_0007.nef"), bytes(77, 9_000)).expect("raw");
    s.wait_for("the RAW", WAIT, |st| {
        st["shots"] == 8 && st["queue_depth"] == 0
    });
    s.stop();
    assert_eq!(
        names(&s),
        [
            "SKU-1-back-02.jpg",
            "SKU-1-extra-03.jpg",
            "SKU-1-extra-04.jpg",
            "SKU-1-front-01.jpg",
            "SKU-2-front-01.jpg",
            "SKU-2-side-02.jpg",
            "unsorted--01.jpg",
        ]
    );
    assert!(
        s.library.join(SESSION).join("SKU-2-side-02.nef").is_file(),
        "the RAW beside its JPEG, same view"
    );
    let csv = ok(s.shotline(&["shotlist", "status", "--format", "csv"]));
    assert_eq!(
        csv,
        "code,name,state,shot,missing,extra\n\
         SKU-1,Red hat,complete,front|back,,2\n\
         SKU-2,Blue hat,incomplete,front|side,detail,0\n\
         unsorted,,unsorted,,,1\n"
    );
    // The transfer report lists the same.
    let pdf = s.dir.path().join("report.pdf");
    ok(s.shotline(&[
        "report",
        "--session",
        SESSION,
        "--output",
        pdf.to_str().expect("path"),
    ]));
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (apt poppler-utils)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("Shot list: 1 complete, 1 incomplete, 1 unsorted frame(s)")
            && report.contains("MISSING detail"),
        "{report}"
    );
    let text = ok(s.shotline(&["shotlist", "status"]));
    assert!(
        text.contains("1 items complete, 1 incomplete, 1 unsorted frames; shooting SKU-2"),
        "{text}"
    );
}

#[test]
fn a_bad_list_is_refused_with_its_line() {
    let s = studio();
    let list = s.dir.path().join("list.csv");
    fs::write(
        &list,
        "code,name,views\nA,Hat,front\nB,Cap,front\nA,Scarf,back\n",
    )
    .expect("csv");
    let out = s.shotline(&["shotlist", "load", list.to_str().expect("path")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("line 4") && err.contains("code A"),
        "{err}"
    );
    fs::write(&list, "code,views\nA,front\n").expect("csv");
    let out = s.shotline(&["shotlist", "load", list.to_str().expect("path")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("line 1") && err.contains("name"),
        "{err}"
    );
}
