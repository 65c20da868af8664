//! Benchmarks that measure Shotline against the tools a studio would otherwise use, in the
//! same run on the same data, and print ratios (never pass/fail on time: machines are
//! shared and noisy).
//!
//! `backup`: ~1 GB of 25 MB frames to two targets, verified. Contenders, interleaved over
//! several rounds, page cache dropped before each (when root):
//! - Shotline: the engine's backup stage, library → two targets, each copy fsynced and
//!   re-read from disk before it counts;
//! - naive: `cp -r` to each target, `sync`, drop caches, `xxhsum -H2` of every copy;
//! - rsync: `rsync -a` to each target, then `sync` (no verification at all).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::sys;

const FILES: usize = 40;
/// Size of a benchmark frame (a large JPEG or a small RAW).
pub const FILE_BYTES: usize = 25_000_000;
/// Rounds unless `SHOTLINE_BENCH_ROUNDS` says otherwise.
const ROUNDS: usize = 3;
const SESSION: &str = "bench";

pub fn bench(args: &[String]) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        Some("backup") => backup(),
        Some("relay") => {
            let sizes: Vec<usize> = match args.get(1) {
                Some(list) => list
                    .split(',')
                    .map(|n| n.trim().parse())
                    .collect::<Result<_, _>>()
                    .context("cargo xtask bench relay [SUBSCRIBERS,...], e.g. 1000,5000")?,
                None => vec![1000, 5000],
            };
            let kinds = match args.get(2) {
                Some(list) => {
                    let mut kinds: Vec<crate::bench_relay::Kind> = Vec::new();
                    for k in list.split(',') {
                        let kind = crate::bench_relay::Kind::parse(k.trim())?;
                        // Named twice, run once: a server's rounds are its own median.
                        if !kinds.contains(&kind) {
                            kinds.push(kind);
                        }
                    }
                    kinds
                }
                None => crate::bench_relay::Kind::ALL.to_vec(),
            };
            let rounds = match args.get(3) {
                Some(r) => r
                    .parse::<usize>()
                    .ok()
                    .filter(|r| *r > 0)
                    .context("bench relay: ROUNDS is a count of rounds, 1 or more")?,
                None => 1,
            };
            crate::bench_relay::bench(&sizes, &kinds, rounds)
        }
        Some("upload") => crate::bench_upload::bench(),
        Some("camera") => crate::bench_camera::bench(),
        Some("desktop") => crate::bench_desktop::bench(),
        Some("burst") => crate::bench_burst::bench(),
        Some("seal") => crate::bench_seal::bench(),
        Some("gallery") => crate::bench_gallery::bench(),
        Some("answers") => crate::bench_answers::bench(),
        Some("hostile") => crate::bench_hostile::bench(),
        Some("downloads") => crate::bench_downloads::bench(),
        Some("liveview") => crate::bench_liveview::bench(),
        _ => bail!(
            "usage: cargo xtask bench <backup | burst | seal | gallery | answers | hostile | downloads | liveview | relay [1000,5000 [floor,relay,relay-socketio,socketio [ROUNDS]]] | upload | camera | desktop>"
        ),
    }
}

/// Build the `shotline` binary in release mode; its path.
pub fn release_shotline() -> anyhow::Result<PathBuf> {
    sys::cargo(&[
        "build",
        "--release",
        "--package",
        "shotline-engine",
        "--bin",
        "shotline",
    ])?;
    Ok(target_dir().join("release/shotline"))
}

/// The release relay binary, built.
pub fn release_relay() -> anyhow::Result<PathBuf> {
    sys::cargo(&[
        "build",
        "--release",
        "--package",
        "shotline-relay",
        "--bin",
        "shotline-relay",
    ])?;
    Ok(target_dir().join("release/shotline-relay"))
}

/// Resident memory of `pid` now, in bytes (0 when it is gone).
pub fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// utime + stime of `pid` so far, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = after.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| sys::workspace_root().join("target"))
}

fn backup() -> anyhow::Result<()> {
    for tool in ["rsync", "xxhsum", "cp", "sync"] {
        if !sys::which(tool) {
            bail!("{tool} is missing: run `cargo xtask setup`");
        }
    }
    let bin = release_shotline()?;
    // Under target/: a real disk, where /tmp may be a tmpfs.
    std::fs::create_dir_all(target_dir())?;
    let work = tempfile::Builder::new()
        .prefix("bench-backup-")
        .tempdir_in(target_dir())?;
    let root = work.path();
    let hot = root.join("frames");
    std::fs::create_dir_all(&hot)?;
    eprintln!(
        "bench: writing {FILES} frames of {} MB",
        FILE_BYTES / 1_000_000
    );
    for i in 0..FILES {
        std::fs::write(hot.join(format!("DSC_{i:04}.NEF")), frame(i as u64))?;
    }
    let library = root.join("library");
    let ingest = time_shotline(&bin, root, &hot, &library, &[], FILES)?;
    eprintln!(
        "bench: ingest into the library took {:.2}s",
        ingest.as_secs_f64()
    );
    let session = library.join(SESSION);
    let drops = drop_caches();
    if !drops {
        eprintln!(
            "bench: not root, so page caches are not dropped: figures flatter every contender"
        );
    }
    let rounds: usize = std::env::var("SHOTLINE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    let mut times: [Vec<f64>; 3] = Default::default();
    for round in 0..rounds {
        // New target names each round: the journal remembers what earlier rounds verified.
        let (n1, n2) = (format!("r{round}a"), format!("r{round}b"));
        let (t1, t2) = (root.join(&n1), root.join(&n2));
        let started = [
            {
                drop_caches();
                time_shotline(&bin, root, &hot, &library, &[(&n1, &t1), (&n2, &t2)], FILES)?
            },
            {
                clear(&[&t1, &t2])?;
                drop_caches();
                naive(&session, &t1, &t2)?
            },
            {
                clear(&[&t1, &t2])?;
                drop_caches();
                rsync(&session, &t1, &t2)?
            },
        ];
        clear(&[&t1, &t2])?;
        for (i, t) in started.iter().enumerate() {
            times[i].push(t.as_secs_f64());
        }
        eprintln!(
            "bench: round {} of {rounds}: shotline {:.2}s, naive {:.2}s, rsync {:.2}s",
            round + 1,
            started[0].as_secs_f64(),
            started[1].as_secs_f64(),
            started[2].as_secs_f64()
        );
    }
    let mb = (FILES * FILE_BYTES) as f64 / 1e6;
    let [shotline, naive, rsync] = times.map(median);
    println!(
        "backup bench: {FILES} × {} MB = {mb:.0} MB to two targets, median of {rounds} rounds{}",
        FILE_BYTES / 1_000_000,
        if drops { ", caches dropped" } else { "" }
    );
    println!(
        "  shotline (verified from disk)   {:>8.1} MB/s  {shotline:.2}s",
        mb / shotline
    );
    println!(
        "  naive cp + sync + xxhsum        {:>8.1} MB/s  {naive:.2}s",
        mb / naive
    );
    println!(
        "  rsync -a + sync (unverified)    {:>8.1} MB/s  {rsync:.2}s",
        mb / rsync
    );
    println!(
        "  ratio shotline / naive          {:>8.2}x  (goal ≥ 1.30x)",
        naive / shotline
    );
    println!(
        "  ratio shotline / rsync          {:>8.2}x",
        rsync / shotline
    );
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Incompressible, cheap to make.
pub fn frame(seed: u64) -> Vec<u8> {
    frame_of(seed, FILE_BYTES)
}

/// `len` bytes of a frame's content from `seed` (made to that size: a 20 KB frame is not
/// cut from a 25 MB one, which took the burst bench's setup longer than the bench).
pub fn frame_of(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn clear(dirs: &[&Path]) -> anyhow::Result<()> {
    for dir in dirs {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
    }
    Ok(())
}

fn drop_caches() -> bool {
    let synced = Command::new("sync").status().is_ok_and(|s| s.success());
    synced && std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

/// Run `shotline run` until `status` shows `expect` shots with every copy verified.
fn time_shotline(
    bin: &Path,
    root: &Path,
    hot: &Path,
    library: &Path,
    targets: &[(&str, &Path)],
    expect: usize,
) -> anyhow::Result<Duration> {
    let config = root.join("shotline.toml");
    let mut toml = String::from(if targets.is_empty() {
        "backup = []\n"
    } else {
        ""
    });
    toml.push_str(&format!("[[hot_folder]]\npath = {hot:?}\n[library]\npath = {library:?}\nnaming = \"{{session}}/{{original}}\"\n[camera]\nenabled = false\n"));
    for (name, path) in targets {
        toml.push_str(&format!("[[backup]]\nname = {name:?}\npath = {path:?}\n"));
    }
    std::fs::write(&config, toml)?;
    crate::bench_upload::run_until(bin, &config, SESSION, |status| {
        let verified_everywhere = status["targets"]
            .as_array()
            .is_some_and(|t| t.iter().all(|t| t["verified"] == expect as u64));
        status["shots"] == expect as u64 && status["queue_depth"] == 0 && verified_everywhere
    })
}

fn naive(source: &Path, t1: &Path, t2: &Path) -> anyhow::Result<Duration> {
    let script = format!(
        "set -e; mkdir -p {t1:?} {t2:?}; cp -r {source:?} {t1:?}/; cp -r {source:?} {t2:?}/; sync; \
         echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; \
         find {t1:?} {t2:?} -type f -print0 | xargs -0 xxhsum -H2 > /dev/null"
    );
    shell(&script)
}

fn rsync(source: &Path, t1: &Path, t2: &Path) -> anyhow::Result<Duration> {
    shell(&format!(
        "set -e; mkdir -p {t1:?} {t2:?}; rsync -a {source:?} {t1:?}/; rsync -a {source:?} {t2:?}/; sync"
    ))
}

fn shell(script: &str) -> anyhow::Result<Duration> {
    let start = Instant::now();
    sys::status(Command::new("bash").arg("-c").arg(script))?;
    Ok(start.elapsed())
}
