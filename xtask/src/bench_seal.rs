//! `cargo xtask bench seal`: the proof of backup for 2,000 frames. Shotline's `shotline
//! seal` (a generation on the library and on one backup, hashes from the journal) against
//! the ASC MHL reference tool's `ascmhl create` on the same backup (which re-hashes every
//! file), side by side: time, and bytes read (`rchar` and `read_bytes` from
//! `/proc/<pid>/io`, which counts a process's reaped children). Then `shotline report` of
//! the session, PDF and CSV.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::bench::{release_shotline, target_dir};
use crate::sys;

const FRAMES: usize = 2000;
const FRAME_BYTES: usize = 1_000_000;
const SESSION: &str = "seal";

/// Run `command` under bash and read what it read from `/proc/$$/io` after it was reaped:
/// (time, rchar, read_bytes).
fn measured(command: &str) -> anyhow::Result<(Duration, u64, u64)> {
    let start = Instant::now();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{command} >/dev/null 2>&1 || exit 9; cat /proc/$$/io"
        ))
        .output()?;
    let took = start.elapsed();
    if !out.status.success() {
        bail!("`{command}` failed");
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or(0)
    };
    Ok((took, field("rchar:"), field("read_bytes:")))
}

pub fn bench() -> anyhow::Result<()> {
    let ascmhl = sys::venv().join("bin").join("ascmhl");
    if !ascmhl.is_file() {
        bail!("{} is missing: run `cargo xtask setup`", ascmhl.display());
    }
    let bin = release_shotline()?;
    std::fs::create_dir_all(target_dir())?;
    let work = tempfile::Builder::new()
        .prefix("bench-seal-")
        .tempdir_in(target_dir())?;
    let root = work.path();
    let hot = root.join("hot");
    std::fs::create_dir_all(&hot)?;
    eprintln!(
        "bench: writing {FRAMES} frames of {} MB",
        FRAME_BYTES / 1_000_000
    );
    for i in 0..FRAMES {
        let data = crate::bench::frame_of(i as u64, FRAME_BYTES);
        std::fs::write(hot.join(format!("DSC_{i:05}.JPG")), data)?;
    }
    let config = root.join("shotline.toml");
    std::fs::write(
        &config,
        format!(
            "[[hot_folder]]\npath = {hot:?}\n[library]\npath = {:?}\nnaming = \"{{session}}/{{original}}\"\n[[backup]]\nname = \"b\"\npath = {:?}\nseal_every = \"1h\"\n[camera]\nenabled = false\n",
            root.join("library"),
            root.join("backup")
        ),
    )?;
    // Ingest and back up; the session-end seal is what is measured next, so it is stopped
    // with SIGKILL (no seal) once everything is verified.
    ingest(&bin, &config)?;
    let shotline = format!("{} --config {} seal", bin.display(), config.display());
    let (seal_time, seal_rchar, seal_read) = measured(&shotline)?;
    let copy = root.join("peer");
    sys::status(
        Command::new("cp")
            .arg("-a")
            .arg(root.join("backup"))
            .arg(&copy),
    )?;
    let _ = std::fs::remove_dir_all(copy.join("ascmhl"));
    let _ = std::fs::write("/proc/sys/vm/drop_caches", "3\n");
    let (peer_time, peer_rchar, peer_read) =
        measured(&format!("{} create {}", ascmhl.display(), copy.display()))?;
    let start = Instant::now();
    sys::status(Command::new(&bin).arg("--config").arg(&config).args([
        "report",
        "--session",
        SESSION,
    ]))?;
    let pdf = start.elapsed();
    let start = Instant::now();
    sys::status(Command::new(&bin).arg("--config").arg(&config).args([
        "report",
        "--session",
        SESSION,
        "--format",
        "csv",
    ]))?;
    let csv = start.elapsed();
    let frames_mb = (FRAMES * FRAME_BYTES) as f64 / 1e6;
    println!(
        "seal bench: {FRAMES} frames of {} MB ({frames_mb:.0} MB a root)",
        FRAME_BYTES / 1_000_000
    );
    println!(
        "  shotline seal (library + backup)   {:>8.2}s  read {:>9.1} MB ({:.1} MB from disk)",
        seal_time.as_secs_f64(),
        seal_rchar as f64 / 1e6,
        seal_read as f64 / 1e6
    );
    println!(
        "  ascmhl create (the backup only)    {:>8.2}s  read {:>9.1} MB ({:.1} MB from disk)",
        peer_time.as_secs_f64(),
        peer_rchar as f64 / 1e6,
        peer_read as f64 / 1e6
    );
    println!(
        "  ratio ascmhl / shotline             {:>8.1}x time, {:.0}x bytes read",
        peer_time.as_secs_f64() / seal_time.as_secs_f64(),
        peer_rchar as f64 / seal_rchar.max(1) as f64
    );
    println!(
        "  shotline report: PDF {:.2}s, CSV {:.2}s",
        pdf.as_secs_f64(),
        csv.as_secs_f64()
    );
    Ok(())
}

/// `shotline run` until every frame is verified on the backup, then SIGKILL.
fn ingest(bin: &Path, config: &Path) -> anyhow::Result<()> {
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(config)
        .args(["run", "--session", SESSION])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("starting shotline")?;
    let start = Instant::now();
    loop {
        let status = crate::bench_upload::status(bin, config)?;
        if status["targets"][0]["verified"] == FRAMES as u64 && status["queue_depth"] == 0 {
            break;
        }
        if start.elapsed() > Duration::from_secs(1800) {
            let _ = child.kill();
            bail!("shotline did not store the frames in 30 minutes: {status}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    child.kill()?;
    child.wait()?;
    Ok(())
}
