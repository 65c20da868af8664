//! `bench camera`: trigger-to-file latency and frames per second over 25 captures of the
//! virtual camera (libgphoto2 2.5.31's vusb "Nikon D750"), Shotline against the gphoto2
//! command-line tool in the same run.
//!
//! - Shotline: a running `shotline run` holds the camera; each frame is fired with
//!   `shotline capture --json`, which reports when the engine fired the shutter and when
//!   the frame was stored in the library (downloaded to the spool, fsynced, hashed,
//!   renamed into the library, recorded). Latency: stored − fired. Frames per
//!   second: 25 over the summed wall time of the 25 commands (request round trip
//!   and the wait for the library copy included).
//! - gphoto2: `gphoto2 --trigger-capture --wait-event-and-download=FILEADDED`, one process
//!   per frame (opening the camera each time, as a script would), latency from start to
//!   exit with the file written (not fsynced).
//!
//! The two alternate frame by frame (a CLI frame, then a Shotline frame), so the
//! machine's drift over the run weighs on both alike; each CLI frame waits until the
//! engine has finished with the last frame (`queue_depth` 0: its backup copy verified)
//! and is idle (no CPU tick over 50 ms). Each process has its own virtual
//! camera (libgphoto2's vusb runs in the process), so neither holds the other's.
//!
//! The virtual card is full after 26 frames, hence 25.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{camera_sim, sys};

const CAPTURES: usize = 25;
/// A large JPEG.
const FRAME_BYTES: usize = 8_000_000;

pub fn bench() -> anyhow::Result<()> {
    if !sys::which("gphoto2") {
        bail!("the gphoto2 command-line tool is missing: run `cargo xtask setup`");
    }
    camera_sim::ensure()?;
    let bin = crate::bench::release_shotline()?;
    std::fs::create_dir_all(crate::bench::target_dir())?;
    let work = tempfile::Builder::new()
        .prefix("bench-camera-")
        .tempdir_in(crate::bench::target_dir())?;
    let root = work.path();
    let card = root.join("vcam/DCIM/100TEST");
    std::fs::create_dir_all(&card)?;
    next_frame(root, 0)?;
    let env: Vec<(&str, std::ffi::OsString)> = camera_sim::env()
        .into_iter()
        .map(|(k, v)| (k, v.into_os_string()))
        .chain([("VCAMERADIR", root.join("vcam").into_os_string())])
        .collect();

    eprintln!(
        "bench camera: {CAPTURES} captures of a {} MB JPEG each",
        FRAME_BYTES / 1_000_000
    );
    let Run {
        ours,
        cli,
        latency,
        command,
        log,
    } = interleaved(&bin, root, &env)?;
    println!();
    println!("camera: trigger to file on disk over {CAPTURES} captures of the virtual camera");
    println!(
        "{:<34} {:>9} {:>9} {:>9}",
        "", "p50 ms", "p99 ms", "frames/s"
    );
    for (name, r) in [
        ("Shotline (into the library)", &ours),
        ("gphoto2 CLI (one file)", &cli),
    ] {
        println!("{:<34} {:>9.1} {:>9.1} {:>9.2}", name, r.p50, r.p99, r.fps);
    }
    println!(
        "Shotline p99 / gphoto2 p50: {:.2} (goal: at most 1.00); frames/s ratio {:.2}",
        ours.p99 / cli.p50,
        ours.fps / cli.fps
    );
    crate::bench_camera_stages::commands(&command);
    crate::bench_camera_stages::stages(&log, &latency);
    Ok(())
}

/// Milliseconds since the epoch, as the journal's times are.
fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Give the virtual camera's next frame its own content (it serves the JPEG's bytes at
/// download time), so no frame is a duplicate of another.
fn next_frame(root: &Path, seed: u64) -> anyhow::Result<()> {
    let jpeg = crate::bench::frame_of(seed, FRAME_BYTES);
    std::fs::write(root.join("vcam/DCIM/100TEST/IMG_0001.JPG"), &jpeg)?;
    Ok(())
}

struct Figures {
    p50: f64,
    p99: f64,
    fps: f64,
}

fn figures(mut ms: Vec<f64>, wall: Duration) -> Figures {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    Figures {
        p50: at(0.5),
        p99: at(0.99),
        fps: ms.len() as f64 / wall.as_secs_f64(),
    }
}

/// Frame `i` with the gphoto2 CLI, into the folder `out`: its time from start to exit, in ms.
fn gphoto2_frame(env: &[(&str, std::ffi::OsString)], out: &Path, i: usize) -> anyhow::Result<f64> {
    let file = out.join(format!("frame-{i:02}.jpg"));
    let t = Instant::now();
    let status = Command::new("gphoto2")
        .args([
            "--trigger-capture",
            "--wait-event-and-download=FILEADDED",
            "--filename",
        ])
        .arg(&file)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    if !status.success()
        || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) != FRAME_BYTES as u64
    {
        bail!("gphoto2 did not download frame {i}");
    }
    Ok(ms)
}

/// Wait until the running engine (asked through `shotline`) has the virtual camera
/// connected, 30 s at most.
pub fn connected(shotline: &dyn Fn(&[&str]) -> Command) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        let out = shotline(&["camera", "list", "--json"]).output()?;
        let cameras: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if cameras[0]["state"] == "connected" {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("the virtual camera did not connect: {cameras}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Wait until the engine (`pid`, asked through `shotline`) has finished with the last frame
/// (`queue_depth` 0: its backup copy verified) and is idle (no CPU tick over 50 ms, for at
/// most 2 s).
fn settle(shotline: &dyn Fn(&[&str]) -> Command, pid: u32) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        let out = shotline(&["status", "--json"]).output()?;
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if status["queue_depth"] == 0 {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            bail!("the engine did not finish its work: {status}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    let mut ticks = crate::bench::cpu_seconds(pid);
    while start.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(50));
        let now = crate::bench::cpu_seconds(pid);
        if now == ticks {
            break;
        }
        ticks = now;
    }
    Ok(())
}

/// What one run saw.
struct Run {
    ours: Figures,
    cli: Figures,
    /// Shotline's shutter-to-stored latencies, ms.
    latency: Vec<f64>,
    /// Per `shotline capture`: [start to queued, queued to fired, fired to stored, stored
    /// to exit], ms.
    command: Vec<[i64; 4]>,
    /// The engine's log (its timing lines).
    log: String,
}

/// Shotline's figures and the CLI's, frame by frame in turn.
fn interleaved(bin: &Path, root: &Path, env: &[(&str, std::ffi::OsString)]) -> anyhow::Result<Run> {
    let out = root.join("gphoto2");
    std::fs::create_dir_all(&out)?;
    let library = root.join("library");
    let config = root.join("shotline.toml");
    std::fs::write(
        &config,
        format!(
            "[[hot_folder]]\npath = {:?}\n[library]\npath = {library:?}\nnaming = \"{{session}}/{{original}}\"\n[[backup]]\nname = \"b1\"\npath = {:?}\n[camera]\nenabled = true\n[relay]\nlisten = \"127.0.0.1:0\"\n",
            root.join("hot"),
            root.join("b1"),
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
    // The engine's timing lines (debug) say where each frame's time went.
    let log = root.join("engine.log");
    let mut run = shotline(&["run", "--session", "bench"])
        .env(
            "SHOTLINE_LOG",
            "warn,shotline_engine::source::camera=debug,shotline_engine::ingest=debug",
        )
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .spawn()
        .context("starting shotline run")?;
    let result = (|| {
        connected(&shotline)?;
        let (mut ms, mut cli_ms) = (Vec::new(), Vec::new());
        // Per `shotline capture`: [start to queued, queued to fired, fired to stored,
        // stored to exit], ms.
        let mut command: Vec<[i64; 4]> = Vec::new();
        let (mut wall, mut cli_wall) = (Duration::ZERO, Duration::ZERO);
        for i in 0..CAPTURES {
            // The CLI's frame gets a quiet machine.
            settle(&shotline, run.id())?;
            next_frame(root, 1000 + i as u64)?;
            let one = gphoto2_frame(env, &out, i)?;
            cli_wall += Duration::from_secs_f64(one / 1000.0);
            cli_ms.push(one);
            next_frame(root, 100 + i as u64)?;
            let t = Instant::now();
            let began = epoch_ms();
            let out = shotline(&["capture", "--json"]).output()?;
            wall += t.elapsed();
            let ended = epoch_ms();
            if !out.status.success() {
                bail!("capture {i}: {}", String::from_utf8_lossy(&out.stderr));
            }
            let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
            let requested = v["requested_ms"].as_i64().context("requested_ms")?;
            let fired = v["fired_ms"].as_i64().context("fired_ms")?;
            let stored = v["frames"][0]["stored_ms"].as_i64().context("stored_ms")?;
            ms.push((stored - fired) as f64);
            command.push([
                requested - began,
                fired - requested,
                stored - fired,
                ended - stored,
            ]);
        }
        Ok((
            ms.clone(),
            command,
            figures(ms, wall),
            figures(cli_ms, cli_wall),
        ))
    })();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(run.id().to_string())
        .status();
    let _ = run.wait();
    // Kept for a closer look: the bench's folder goes with it.
    let kept = crate::bench::target_dir().join("bench-camera-engine.log");
    let _ = std::fs::copy(&log, &kept);
    eprintln!(
        "bench camera: the engine's log is kept in {}",
        kept.display()
    );
    let (latency, command, ours, cli) = result?;
    Ok(Run {
        ours,
        cli,
        latency,
        command,
        log: std::fs::read_to_string(&log)?,
    })
}
