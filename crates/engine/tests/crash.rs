//! `kill -9` at random moments while frames arrive in every way a tethering tool writes
//! them: after the last restart nothing is lost, nothing is twice, nothing is partial.

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{SESSION, Studio, Target, bytes, tree};
use rand::{Rng, SeedableRng};

/// How one file arrives.
#[derive(Debug, Clone, Copy)]
enum Arrival {
    Whole,
    Chunks,
    RenamedIn,
}

fn write_file(hot: &Path, staging: &Path, rel: &str, data: &[u8], how: Arrival) {
    let path = hot.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    match how {
        Arrival::Whole => fs::write(&path, data).expect("write"),
        Arrival::Chunks => {
            let mut file = fs::File::create(&path).expect("create");
            for chunk in data.chunks(16 * 1024) {
                file.write_all(chunk).expect("chunk");
                file.flush().expect("flush");
                std::thread::sleep(Duration::from_millis(3));
            }
        }
        Arrival::RenamedIn => {
            let tmp = staging.join(rel.replace('/', "_"));
            fs::write(&tmp, data).expect("stage");
            fs::rename(&tmp, &path).expect("rename in");
        }
    }
}

#[test]
fn kill_9_at_random_moments_loses_nothing_and_doubles_nothing() {
    let seed: u64 = std::env::var("SHOTLINE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash test seed {seed} (rerun with SHOTLINE_CRASH_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut studio = Studio::new(|root| {
        vec![
            Target {
                name: "a",
                path: root.join("backup-a"),
                require_mount: false,
            },
            Target {
                name: "b",
                path: root.join("backup-b"),
                require_mount: false,
            },
        ]
    });
    let staging = studio.dir.path().join("staging");
    fs::create_dir_all(&staging).expect("staging");

    // A few hundred frames: nested folders, non-ASCII names, an empty file, a few large.
    let names = ["DSC", "Ünïcødé", "写真", "IMG 0001", "frame"];
    let mut files: Vec<(String, Vec<u8>, Arrival)> = (0..300)
        .map(|i| {
            let folder = match i % 4 {
                0 => String::new(),
                1 => "card1/".into(),
                2 => format!("card2/roll{}/", i % 3),
                _ => "Ordner ä/".into(),
            };
            let rel = format!(
                "{folder}{}_{i:04}.{}",
                names[i % names.len()],
                ["jpg", "NEF", "CR3"][i % 3]
            );
            let len = if i % 50 == 7 {
                rng.random_range(2_000_000..4_000_000)
            } else {
                rng.random_range(1..120_000)
            };
            let how = [Arrival::Whole, Arrival::Chunks, Arrival::RenamedIn][rng.random_range(0..3)];
            (rel, bytes(seed ^ i as u64, len), how)
        })
        .collect();
    files.push(("empty.jpg".into(), Vec::new(), Arrival::Whole));

    studio.start();
    let kills: Vec<usize> = {
        let mut k: Vec<usize> = (0..5).map(|_| rng.random_range(10..files.len())).collect();
        k.sort();
        k
    };
    for (i, (rel, data, how)) in files.iter().enumerate() {
        write_file(&studio.hot, &staging, rel, data, *how);
        if kills.contains(&i) {
            std::thread::sleep(Duration::from_millis(rng.random_range(0..400)));
            studio.kill9();
            studio.start();
        }
    }
    // And once more while it is busy catching up.
    std::thread::sleep(Duration::from_millis(rng.random_range(100..800)));
    studio.kill9();
    studio.start();

    let expected = files.len() as u64;
    let status = studio.wait_for(
        "every frame stored and copied",
        Duration::from_secs(180),
        |s| s["shots"].as_u64() == Some(expected) && s["queue_depth"] == 0,
    );
    studio.stop();
    assert_eq!(status["duplicates"], 0, "{status:#}");

    let library = tree(&studio.library);
    let want: std::collections::BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(rel, data, _)| (format!("{SESSION}/{rel}"), data.clone()))
        .collect();
    assert_eq!(
        library.len(),
        want.len(),
        "library holds exactly one copy of each frame"
    );
    for (rel, data) in &want {
        assert!(
            library.get(rel) == Some(data),
            "library copy of {rel} missing or different"
        );
    }
    for target in ["backup-a", "backup-b"] {
        let copy = tree(&studio.dir.path().join(target));
        assert!(
            copy == library,
            "{target} does not hold exactly the library's tree"
        );
    }
    let partials: Vec<PathBuf> = [
        &studio.library,
        &studio.dir.path().join("backup-a"),
        &studio.dir.path().join("backup-b"),
    ]
    .iter()
    .flat_map(|root| {
        tree(root)
            .into_keys()
            .filter(|k| k.ends_with(".partial"))
            .map(|k| root.join(k))
            .collect::<Vec<_>>()
    })
    .collect();
    assert!(partials.is_empty(), "partial files left: {partials:?}");
    let verify = studio.shotline(&["verify"]);
    assert!(
        verify.status.success(),
        "verify: {}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
