//! Proof of backup, checked by independent tools: the ASC MHL reference tool (`ascmhl`
//! 1.2, PyPI; `diff` for completeness, `create` on a copy to re-hash every file against
//! the history), `xmllint` against the format's XSDs, and `pdftotext` on the report.
//! Sealed histories pass after one seal and after a second; one flipped byte fails; `verify
//! --repair` makes them pass again; `kill -9` during a seal leaves a history that passes; a
//! history edited by hand is refused by name.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{SESSION, Studio, Target, bytes};

const WAIT: Duration = Duration::from_secs(60);

fn venv(name: &str) -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let bin = home.join(".cache/shotline/venv/bin").join(name);
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo xtask setup`",
        bin.display()
    );
    bin
}

/// `ascmhl diff <root>`: its exit code and output.
fn diff(root: &Path) -> (i32, String) {
    let out = Command::new(venv("ascmhl"))
        .arg("diff")
        .arg(root)
        .output()
        .expect("ascmhl");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `ascmhl create` on a copy of `root` (it writes a generation of its own, even when it
/// fails): its exit code and output.
fn create_on_copy(root: &Path) -> (i32, String) {
    let copy = tempfile::tempdir().expect("tempdir");
    let to = copy.path().join(root.file_name().expect("name"));
    assert!(
        Command::new("cp")
            .arg("-a")
            .arg(root)
            .arg(&to)
            .status()
            .expect("cp")
            .success()
    );
    let out = Command::new(venv("ascmhl"))
        .arg("create")
        .arg(&to)
        .output()
        .expect("ascmhl");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn accepted(root: &Path) {
    let (code, out) = diff(root);
    assert_eq!(code, 0, "ascmhl diff {}: {out}", root.display());
    let (code, out) = create_on_copy(root);
    assert_eq!(
        code,
        0,
        "ascmhl create on a copy of {}: {out}",
        root.display()
    );
}

/// Every generation and chain file of `root` is valid against the XSDs.
fn schema_valid(root: &Path) -> usize {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ascmhl");
    let dir = root.join("ascmhl");
    let mut n = 0;
    for entry in fs::read_dir(&dir).expect("ascmhl/") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let schema = if name.ends_with(".mhl") {
            n += 1;
            "ASCMHL.xsd"
        } else if name == "ascmhl_chain.xml" {
            "ASCMHLDirectory.xsd"
        } else {
            continue;
        };
        let out = Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(xsd.join(schema))
            .arg(&path)
            .output()
            .expect("xmllint (apt libxml2-utils)");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    n
}

fn studio() -> Studio {
    Studio::new(|root| {
        ["b1", "b2"]
            .into_iter()
            .map(|name| Target {
                name,
                path: root.join(name),
                require_mount: false,
            })
            .collect()
    })
}

fn shoot(s: &Studio, from: u64, to: u64) {
    for i in from..to {
        fs::write(
            s.hot.join(format!("DSC_{i:04}.JPG")),
            bytes(i, 30_000 + i as usize),
        )
        .expect("write");
    }
    s.wait_for("frames verified everywhere", WAIT, |st| {
        st["shots"] == to && st["queue_depth"] == 0
    });
}

fn roots(s: &Studio) -> [PathBuf; 3] {
    [
        s.library.clone(),
        s.dir.path().join("b1"),
        s.dir.path().join("b2"),
    ]
}

fn generations(root: &Path) -> usize {
    fs::read_dir(root.join("ascmhl"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".mhl"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn seals_pass_the_reference_tool_and_a_flipped_byte_is_found_then_repaired() {
    let mut s = studio();
    s.start();
    s.ready();
    shoot(&s, 0, 5);
    let out = s.shotline(&["seal", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sealed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        sealed["sealed"].as_array().map(Vec::len),
        Some(3),
        "{sealed}"
    );
    for root in roots(&s) {
        accepted(&root);
        assert_eq!(schema_valid(&root), 1);
    }
    let text = fs::read_to_string(
        fs::read_dir(s.library.join("ascmhl"))
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "mhl"))
            .expect("generation"),
    )
    .expect("read");
    assert!(
        text.contains("<tool version=") && text.contains(">Shotline</tool>"),
        "{text}"
    );
    assert!(
        text.contains("studio") && text.contains(SESSION),
        "the studio and session in the creator info: {text}"
    );
    assert!(text.contains("<pattern>.shotline/</pattern>"));
    // More frames, then the session ends: a second generation each, listing only those.
    shoot(&s, 5, 8);
    s.stop();
    for root in roots(&s) {
        assert_eq!(generations(&root), 2, "{}", root.display());
        accepted(&root);
        assert_eq!(schema_valid(&root), 2);
    }
    // One byte of a backup copy changes.
    let b1 = s.dir.path().join("b1");
    let victim = b1.join(SESSION).join("DSC_0003.JPG");
    let mut data = fs::read(&victim).expect("read");
    data[100] ^= 0x40;
    fs::write(&victim, &data).expect("flip");
    let (code, out) = create_on_copy(&b1);
    assert_ne!(
        code, 0,
        "the reference tool must refuse a changed file: {out}"
    );
    assert!(!s.shotline(&["verify"]).status.success());
    // And one byte of the library's copy of another frame.
    let damaged = s.library.join(SESSION).join("DSC_0006.JPG");
    let mut data = fs::read(&damaged).expect("read");
    data[7] ^= 0x01;
    fs::write(&damaged, &data).expect("flip");
    let out = s.shotline(&["verify", "--repair"]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("RECOPIED") && said.contains("RESTORED") && said.contains("MOVED_ASIDE"),
        "{said}"
    );
    assert_eq!(
        fs::read(&victim).expect("read"),
        bytes(3, 30_003),
        "the copy is right again"
    );
    assert_eq!(
        fs::read(&damaged).expect("read"),
        bytes(6, 30_006),
        "the library is right again"
    );
    let kept = walk(&s.library.join(".shotline/damaged"));
    assert_eq!(
        kept.len(),
        1,
        "the damaged library file is kept, not deleted"
    );
    for root in roots(&s) {
        accepted(&root);
    }
    assert!(s.shotline(&["verify"]).status.success());
    // The report lists every frame and the repairs.
    let out = s.shotline(&["report", "--session", SESSION]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("path")
        .trim()
        .to_string();
    assert!(
        path.ends_with(".pdf") && path.contains(".shotline/reports/"),
        "{path}"
    );
    let pdf = Command::new("pdftotext")
        .args(["-layout", &path, "-"])
        .output()
        .expect("pdftotext (apt poppler-utils)");
    let text = String::from_utf8_lossy(&pdf.stdout);
    for i in 0..8 {
        assert!(
            text.contains(&format!("DSC_{i:04}.JPG")),
            "frame {i} missing from the report:\n{text}"
        );
    }
    assert!(
        text.contains("Shotline transfer report") && text.contains("Page 1 of"),
        "{text}"
    );
    assert!(
        text.contains("recopied") && text.contains("restored"),
        "the repairs are in it:\n{text}"
    );
    let csv_path = s.dir.path().join("report.csv");
    let out = s.shotline(&[
        "report",
        "--session",
        SESSION,
        "--format",
        "csv",
        "--output",
        csv_path.to_str().expect("utf8"),
    ]);
    assert!(out.status.success());
    let csv = fs::read_to_string(&csv_path).expect("csv");
    assert_eq!(
        csv.lines().next(),
        Some("frame,library_path,size,xxh128,copy,state,verified_at,detail")
    );
    assert_eq!(
        csv.lines().count(),
        1 + 8 * 3,
        "a row per copy: library, b1, b2"
    );
    assert!(
        !s.shotline(&["report", "--session", "no-such-session"])
            .status
            .success()
    );
}

#[test]
fn kill_9_during_a_seal_leaves_a_history_the_tool_accepts() {
    let mut s = studio();
    s.start();
    s.ready();
    shoot(&s, 0, 4);
    assert!(s.shotline(&["seal"]).status.success());
    shoot(&s, 4, 6);
    // The second seal is held between writing the generation and the chain, then killed
    // (the running engine's own checkpoint is ten minutes away).
    let mut seal = s
        .command()
        .arg("seal")
        .env("SHOTLINE_TEST_SEAL_DELAY_MS", "3000")
        .spawn()
        .expect("seal");
    let library = s.library.join("ascmhl");
    let deadline = std::time::Instant::now() + WAIT;
    while generations(&s.library) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "no generation was written"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    seal.kill().expect("kill -9");
    seal.wait().expect("reap");
    let chain = fs::read_to_string(library.join("ascmhl_chain.xml")).expect("chain");
    assert_eq!(
        chain.matches("<hashlist").count(),
        1,
        "killed before the chain: {chain}"
    );
    accepted(&s.library);
    // The next seal (at session end) adopts the interrupted generation and goes on.
    shoot(&s, 6, 8);
    s.stop();
    for root in roots(&s) {
        accepted(&root);
        schema_valid(&root);
    }
    let chain = fs::read_to_string(library.join("ascmhl_chain.xml")).expect("chain");
    assert_eq!(
        chain.matches("<hashlist").count(),
        generations(&s.library),
        "{chain}"
    );
}

#[test]
fn a_history_edited_by_hand_is_refused_by_name() {
    let mut s = studio();
    s.start();
    s.ready();
    shoot(&s, 0, 2);
    assert!(s.shotline(&["seal"]).status.success());
    let dir = s.dir.path().join("b2").join("ascmhl");
    let generation = fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "mhl"))
        .expect("generation");
    let mut text = fs::read_to_string(&generation).expect("read");
    text = text.replace("Shotline</tool>", "Shotline </tool>");
    fs::write(&generation, text).expect("edit");
    shoot(&s, 2, 3);
    let out = s.shotline(&["seal"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let name = generation
        .file_name()
        .expect("name")
        .to_string_lossy()
        .to_string();
    assert!(
        err.contains("b2") && err.contains(&name) && err.contains("changed"),
        "{err}"
    );
    assert_eq!(
        generations(&s.dir.path().join("b2")),
        1,
        "nothing added to it"
    );
    assert_eq!(generations(&s.dir.path().join("b1")), 2, "the others go on");
    s.stop();
    assert!(
        s.output().contains("Proof of backup stopped for b2"),
        "a critical alert: {}",
        s.output()
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
