//! `bench liveview`: live view on the virtual camera (patched for live view) and through
//! the relay, each beside its peer in one run, three rounds with the spread.
//!
//! - Camera: pictures per second, Shotline (a running `shotline run`, its pictures read as
//!   MJPEG from its embedded relay on loopback: the window's path plus the relay) against
//!   `gphoto2 --capture-movie=5s --stdout` (the CLI's live view) on the same camera,
//!   5 s each, in turn; Shotline's glass-to-viewer latency (the moment libgphoto2 handed
//!   the picture over to its arrival at the viewer) p50/p99. Shotline runs at its highest
//!   cap (`liveview_fps = 60`).
//! - Capture: fired-to-stored latency of `shotline capture --json`, with and without a
//!   live viewer, in turn (4 of each per round: the virtual card is full after 25).
//! - Relay (`bench_liveview_relay`): a publisher sends 30 pictures a second (48 KB) to a
//!   release relay; 1, 10 and 50 MJPEG viewers on loopback; picture-to-viewer latency
//!   p50/p99 and each viewer's pictures per second. The goal there is absolute (p99 at
//!   most 150 ms with 50 viewers): the publisher's own rate is the peer.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::bench_liveview_relay::Viewer;
use crate::{camera_sim, sys};

pub(crate) const ROUNDS: usize = 3;
pub(crate) const SECONDS: u64 = 5;
/// Captures with and without a viewer per round: the virtual card takes 25 in all.
const CAPTURES: usize = 4;

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// p-quantile of sorted `v`.
pub(crate) fn at(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

pub(crate) fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// "median (min–max)" of rounds.
pub(crate) fn spread(rounds: &[f64]) -> String {
    let s = sorted(rounds.to_vec());
    format!("{:.1} ({:.1}–{:.1})", at(&s, 0.5), s[0], s[s.len() - 1])
}

pub fn bench() -> anyhow::Result<()> {
    if !sys::which("gphoto2") {
        bail!("the gphoto2 command-line tool is missing: run `cargo xtask setup`");
    }
    if !sys::which("convert") {
        bail!("ImageMagick's convert is missing: run `cargo xtask setup`");
    }
    camera_sim::ensure()?;
    let bin = crate::bench::release_shotline()?;
    let relay_bin = crate::bench::release_relay()?;
    std::fs::create_dir_all(crate::bench::target_dir())?;
    let work = tempfile::Builder::new()
        .prefix("bench-liveview-")
        .tempdir_in(crate::bench::target_dir())?;
    camera(&bin, work.path())?;
    crate::bench_liveview_relay::relay(&relay_bin)?;
    Ok(())
}

/// Five 640×424 JPEGs for the camera's folder (about 40 KB each, as a DSLR's live view).
fn pictures(card: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(card)?;
    for i in 0..5 {
        let status = Command::new("convert")
            .args([
                "-seed",
                &i.to_string(),
                "-size",
                "640x424",
                "plasma:fractal",
            ])
            .args(["-quality", "80"])
            .arg(card.join(format!("LV_{i}.JPG")))
            .status()?;
        if !status.success() {
            bail!("convert could not make a picture");
        }
    }
    Ok(())
}

fn camera(bin: &Path, root: &Path) -> anyhow::Result<()> {
    let card = root.join("vcam/DCIM/100TEST");
    pictures(&card)?;
    let env: Vec<(&str, std::ffi::OsString)> = camera_sim::env()
        .into_iter()
        .map(|(k, v)| (k, v.into_os_string()))
        .chain([("VCAMERADIR", root.join("vcam").into_os_string())])
        .collect();
    let config = root.join("shotline.toml");
    std::fs::write(
        &config,
        format!(
            "[[hot_folder]]\npath = {:?}\n[library]\npath = {:?}\nnaming = \"{{session}}/{{original}}\"\n[camera]\nenabled = true\nliveview_fps = 60\nliveview_idle = \"1s\"\n[relay]\nlisten = \"127.0.0.1:0\"\n",
            root.join("hot"),
            root.join("library"),
        ),
    )?;
    let shotline = |args: &[&str]| {
        let mut c = Command::new(bin);
        c.arg("--config")
            .arg(&config)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)));
        c
    };
    let ready = root.join("ready.json");
    let mut run = shotline(&["run", "--session", "bench", "--ready-file"])
        .arg(&ready)
        .env("SHOTLINE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting shotline run")?;
    let result = (|| {
        let start = Instant::now();
        let ready: serde_json::Value = loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                break serde_json::from_str(&text)?;
            }
            if start.elapsed() > Duration::from_secs(30) {
                bail!("shotline run did not start");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        crate::bench_camera::connected(&shotline)?;
        let address = ready["relay"]["address"]
            .as_str()
            .context("address")?
            .trim_start_matches("http://")
            .to_string();
        let token = ready["relay"]["subscriber_token"]
            .as_str()
            .context("token")?
            .to_string();
        let path = format!(
            "/v1/live/{}:live",
            ready["studio"].as_str().unwrap_or("studio")
        );
        let (mut ours, mut cli, mut latency) = (Vec::new(), Vec::new(), Vec::new());
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            eprintln!("bench liveview: camera round {}", round + 1);
            cli.push(gphoto2_fps(&env)?);
            let (fps, ms) = shotline_fps(&address, &path, &token)?;
            ours.push(fps);
            latency.extend(ms);
            for i in 0..CAPTURES {
                let seed = (round * CAPTURES + i) as u64;
                without.push(capture(&shotline, &card, seed * 2)?);
                let mut viewer = Viewer::open(&address, &path, &token)?;
                viewer.next()?;
                with.push(capture(&shotline, &card, seed * 2 + 1)?);
                drop(viewer);
            }
        }
        Ok((ours, cli, latency, with, without))
    })();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(run.id().to_string())
        .status();
    let _ = run.wait();
    let (ours, cli, latency, with, without) = result?;
    let latency = sorted(latency);
    println!();
    println!(
        "liveview: pictures per second on the virtual camera, {ROUNDS} rounds of {SECONDS} s, median (min–max)"
    );
    println!("  Shotline (MJPEG from its relay)   {}", spread(&ours));
    println!("  gphoto2 --capture-movie --stdout  {}", spread(&cli));
    println!(
        "  ratio Shotline / gphoto2: {:.2} (goal: at least 1.00)",
        at(&sorted(ours), 0.5) / at(&sorted(cli), 0.5)
    );
    println!(
        "  Shotline glass to viewer: p50 {:.1} ms, p99 {:.1} ms over {} pictures",
        at(&latency, 0.5),
        at(&latency, 0.99),
        latency.len()
    );
    let (with, without) = (sorted(with), sorted(without));
    println!(
        "capture fired to stored: without live view p50 {:.1} ms p99 {:.1} ms; with a viewer p50 {:.1} ms p99 {:.1} ms ({} each; goal: with ≤ without's p99)",
        at(&without, 0.5),
        at(&without, 0.99),
        at(&with, 0.5),
        at(&with, 0.99),
        with.len()
    );
    Ok(())
}

/// The CLI's live view for [`SECONDS`]: pictures per second.
fn gphoto2_fps(env: &[(&str, std::ffi::OsString)]) -> anyhow::Result<f64> {
    let out = Command::new("gphoto2")
        .arg(format!("--capture-movie={SECONDS}s"))
        .arg("--stdout")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stderr(Stdio::null())
        .output()?;
    // Each picture of the virtual camera starts with SOI and its comment segment.
    let frames = out
        .stdout
        .windows(4)
        .filter(|w| *w == b"\xff\xd8\xff\xfe")
        .count();
    if frames == 0 {
        bail!("gphoto2 --capture-movie gave no pictures (is the camera patched for live view?)");
    }
    Ok(frames as f64 / SECONDS as f64)
}

/// Shotline's pictures per second over [`SECONDS`] after the first, and each one's latency.
fn shotline_fps(addr: &str, path: &str, token: &str) -> anyhow::Result<(f64, Vec<f64>)> {
    let mut viewer = Viewer::open(addr, path, token)?;
    viewer.next()?;
    let start = Instant::now();
    let mut ms = Vec::new();
    while start.elapsed() < Duration::from_secs(SECONDS) {
        let (taken, _) = viewer.next()?;
        ms.push((now_ms() - taken) as f64);
    }
    Ok((ms.len() as f64 / start.elapsed().as_secs_f64(), ms))
}

/// One capture (the folder's pictures given new bytes after their end, so no frame is a
/// duplicate); fired to stored, ms.
fn capture(shotline: &dyn Fn(&[&str]) -> Command, card: &Path, seed: u64) -> anyhow::Result<f64> {
    for entry in std::fs::read_dir(card)? {
        let path = entry?.path();
        let mut bytes = std::fs::read(&path)?;
        let end = bytes
            .windows(2)
            .rposition(|w| w == b"\xff\xd9")
            .map_or(bytes.len(), |i| i + 2);
        bytes.truncate(end);
        bytes.extend_from_slice(&seed.to_le_bytes());
        std::fs::write(&path, bytes)?;
    }
    let out = shotline(&["capture", "--json"]).output()?;
    if !out.status.success() {
        bail!("capture: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let fired = v["fired_ms"].as_i64().context("fired_ms")?;
    let stored = v["frames"][0]["stored_ms"].as_i64().context("stored_ms")?;
    Ok((stored - fired) as f64)
}
