//! `cargo xtask bench burst`: a burst of 10,000 small frames (a tethering tool emptying a
//! card, an event photographer's day) from the hot folder into the library and onto one
//! backup, every copy verified, every event through the journal's outbox to the embedded
//! relay, against the naive verified pipeline on the same files (`cp` into a library and a
//! backup, `sync`, drop caches, `xxhsum -H2` of every copy). Prints frames per second, the
//! ratio, and the outbox writer's share of the wall time (from its own log line).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::bench::{release_shotline, target_dir};
use crate::bench_upload::status;
use crate::sys;

const FRAMES: usize = 10_000;
const FRAME_BYTES: usize = 20_000;
const SESSION: &str = "burst";

pub fn bench() -> anyhow::Result<()> {
    for tool in ["xxhsum", "cp", "sync"] {
        if !sys::which(tool) {
            bail!("{tool} is missing: run `cargo xtask setup`");
        }
    }
    let bin = release_shotline()?;
    std::fs::create_dir_all(target_dir())?;
    let work = tempfile::Builder::new()
        .prefix("bench-burst-")
        .tempdir_in(target_dir())?;
    let root = work.path();
    let hot = root.join("hot");
    std::fs::create_dir_all(&hot)?;
    eprintln!(
        "bench: writing {FRAMES} frames of {} KB",
        FRAME_BYTES / 1000
    );
    for i in 0..FRAMES {
        let data = crate::bench::frame_of(i as u64, FRAME_BYTES);
        std::fs::write(hot.join(format!("DSC_{i:05}.JPG")), data)?;
    }
    let (shotline, outbox_ms) = shotline_burst(&bin, root, &hot)?;
    let naive = naive(
        &hot,
        &root.join("naive-library"),
        &root.join("naive-backup"),
    )?;
    let fps = |d: Duration| FRAMES as f64 / d.as_secs_f64();
    println!(
        "burst bench: {FRAMES} frames of {} KB, library + one backup, verified",
        FRAME_BYTES / 1000
    );
    println!(
        "  shotline (events to the relay)  {:>8.0} frames/s  {:.1}s",
        fps(shotline),
        shotline.as_secs_f64()
    );
    println!(
        "  naive cp + sync + xxhsum        {:>8.0} frames/s  {:.1}s",
        fps(naive),
        naive.as_secs_f64()
    );
    println!(
        "  ratio shotline / naive          {:>8.2}x",
        naive.as_secs_f64() / shotline.as_secs_f64()
    );
    println!(
        "  outbox writer                   {:>8.1} % of the wall time ({outbox_ms} ms)",
        100.0 * outbox_ms as f64 / shotline.as_millis().max(1) as f64
    );
    Ok(())
}

/// Shotline from start to the last event acknowledged by the relay; the time and the
/// outbox writer's milliseconds.
fn shotline_burst(bin: &Path, root: &Path, hot: &Path) -> anyhow::Result<(Duration, u64)> {
    let config = root.join("shotline.toml");
    std::fs::write(
        &config,
        format!(
            "[[hot_folder]]\npath = {hot:?}\n[library]\npath = {:?}\nnaming = \"{{session}}/{{original}}\"\n[[backup]]\nname = \"b\"\npath = {:?}\n[camera]\nenabled = false\n[relay]\nlisten = \"127.0.0.1:0\"\n",
            root.join("library"),
            root.join("backup")
        ),
    )?;
    let log = root.join("shotline.log");
    let start = Instant::now();
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .args(["run", "--session", SESSION])
        .env("SHOTLINE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .spawn()
        .context("starting shotline")?;
    let took = loop {
        let now = status(bin, &config)?;
        let verified = now["targets"][0]["verified"] == FRAMES as u64;
        if now["shots"] == FRAMES as u64 && verified && now["relay_queued"] == 0 {
            break start.elapsed();
        }
        if start.elapsed() > Duration::from_secs(1800) {
            let _ = child.kill();
            bail!("shotline did not finish the burst in 30 minutes: {now}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    sys::status(
        Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string()),
    )?;
    child.wait()?;
    let text = std::fs::read_to_string(&log)?;
    let ms = text
        .lines()
        .rev()
        .find_map(|l| {
            l.split("batches, ")
                .nth(1)?
                .split(" ms writing")
                .next()?
                .parse()
                .ok()
        })
        .context("the outbox writer's log line is missing")?;
    Ok((took, ms))
}

fn naive(hot: &Path, library: &Path, backup: &Path) -> anyhow::Result<Duration> {
    let script = format!(
        "set -e; mkdir -p {library:?} {backup:?}; cp -r {hot:?}/. {library:?}/; cp -r {library:?}/. {backup:?}/; sync; \
         echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; \
         find {library:?} {backup:?} -type f -print0 | xargs -0 xxhsum -H2 > /dev/null"
    );
    let start = Instant::now();
    sys::status(Command::new("bash").arg("-c").arg(script))?;
    Ok(start.elapsed())
}
