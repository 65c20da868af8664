//! The Windows lane's end-to-end scenario, under Wine: the real `shotline.exe` with a hot
//! folder, a library and two backup targets. 20 frames dropped into the hot folder reach
//! the library and are verified on both backups; the engine is killed (`SIGKILL` to the
//! Windows process: no chance to clean up); 5 more frames arrive while it is down; a new
//! run takes them and finishes; it is killed again and `shotline verify` finds every copy
//! whole. The three trees are compared byte for byte from Linux, with no partial file and
//! nothing under two names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::windows::{self, TARGET};

/// Frames before the kill, and while the engine is down.
const FIRST: usize = 20;
const SECOND: usize = 5;

/// A Linux path as Wine's `Z:` drive spells it.
fn win(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// Build `shotline.exe` for Windows; its path.
fn build() -> anyhow::Result<PathBuf> {
    let out = windows::cargo_nightly()
        .args(["build", "--message-format=json"])
        .args(["-Zbuild-std=std,panic_abort", "--target", TARGET])
        .args(["-p", "shotline-engine", "--bin", "shotline"])
        .stderr(Stdio::inherit())
        .output()
        .context("cargo +nightly build")?;
    if !out.status.success() {
        bail!("the Windows build of shotline.exe failed");
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .find(|p| p.file_name().is_some_and(|n| n == "shotline.exe"))
        .context("cargo made no shotline.exe")
}

struct Scenario {
    exe: PathBuf,
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Scenario {
    fn new(exe: PathBuf) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let p = |name: &str| win(&dir.path().join(name));
        std::fs::create_dir_all(dir.path().join("hot"))?;
        let config = dir.path().join("shotline.toml");
        std::fs::write(
            &config,
            format!(
                "[[hot_folder]]\npath = '{}'\n\n[library]\npath = '{}'\nnaming = \"{{session}}/{{original}}\"\n\n[camera]\nenabled = false\n\n[relay]\nlisten = \"127.0.0.1:0\"\n\n[[backup]]\nname = \"b1\"\npath = '{}'\n\n[[backup]]\nname = \"b2\"\npath = '{}'\n",
                p("hot"),
                p("library"),
                p("b1"),
                p("b2")
            ),
        )?;
        Ok(Self { exe, dir, config })
    }

    fn command(&self) -> Command {
        let mut command = windows::wine();
        command
            .arg(&self.exe)
            .env("SHOTLINE_CONFIG", win(&self.config))
            .stdin(Stdio::null());
        command
    }

    fn start(&self) -> anyhow::Result<Child> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("run.log"))?;
        Ok(self
            .command()
            .args(["run", "--session", "shoot"])
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("run.log")).unwrap_or_default()
    }

    fn drop_frames(&self, range: std::ops::Range<usize>) -> anyhow::Result<()> {
        for i in range {
            // Distinct content of a few hundred KB, written as a tethering tool does.
            let data: Vec<u8> = (0..300_000u32 + i as u32)
                .map(|n| (n.wrapping_mul(2_654_435_761).wrapping_add(i as u32) >> 13) as u8)
                .collect();
            std::fs::write(self.dir.path().join(format!("hot/IMG_{i:04}.CR3")), data)?;
        }
        Ok(())
    }

    /// Wait until the journal says `n` frames, each verified on both backups.
    fn wait_verified(&self, n: usize) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            let out = self.command().args(["status", "--json"]).output()?;
            if let Ok(status) = serde_json::from_slice::<serde_json::Value>(&out.stdout) {
                let verified = |name: &str| {
                    status["targets"]
                        .as_array()
                        .and_then(|t| t.iter().find(|t| t["name"] == name))
                        .and_then(|t| t["verified"].as_u64())
                };
                if status["shots"] == n
                    && verified("b1") == Some(n as u64)
                    && verified("b2") == Some(n as u64)
                {
                    return Ok(());
                }
                if start.elapsed() > Duration::from_secs(240) {
                    bail!(
                        "{n} frames never verified on both backups: {status:#}\n{}",
                        self.log()
                    );
                }
            } else if start.elapsed() > Duration::from_secs(240) {
                bail!(
                    "shotline status --json failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Every file under `root`, by relative path, Shotline's own folders aside.
    fn tree(&self, root: &str) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![self.dir.path().join(root)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if name == ".shotline" || name == "ascmhl" {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path
                        .strip_prefix(self.dir.path().join(root))?
                        .display()
                        .to_string();
                    out.insert(rel, std::fs::read(&path)?);
                }
            }
        }
        Ok(out)
    }
}

fn kill(child: &mut Child) -> anyhow::Result<()> {
    child.kill()?;
    child.wait()?;
    Ok(())
}

/// Run the scenario: (1, 0) when it holds; an error says where it broke.
pub fn run() -> anyhow::Result<(u64, u64)> {
    let exe = build()?;
    windows::shims_beside(&exe)?;
    let s = Scenario::new(exe)?;
    eprintln!("xtask windows: the scenario in {}", s.dir.path().display());
    let mut engine = s.start()?;
    s.drop_frames(0..FIRST)?;
    let first = s.wait_verified(FIRST);
    kill(&mut engine)?;
    first?;
    s.drop_frames(FIRST..FIRST + SECOND)?;
    let mut engine = s.start()?;
    let second = s.wait_verified(FIRST + SECOND);
    kill(&mut engine)?;
    second?;
    let verify = s.command().arg("verify").output()?;
    if !verify.status.success() {
        bail!(
            "shotline verify found trouble: {}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
    }
    let library = s.tree("library")?;
    if library.len() != FIRST + SECOND {
        bail!(
            "the library holds {} files, not {}: {:?}",
            library.len(),
            FIRST + SECOND,
            library.keys()
        );
    }
    for backup in ["b1", "b2"] {
        if s.tree(backup)? != library {
            bail!(
                "{backup} differs from the library: {:?}",
                s.tree(backup)?.keys()
            );
        }
    }
    println!(
        "windows scenario: {} frames in the library and on both backups, byte for byte, after a kill; verify clean",
        library.len()
    );
    Ok((1, 0))
}
