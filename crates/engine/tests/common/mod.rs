//! A studio in a temporary folder: a config, and the real `shotline` binary run against it
//! as a separate process, the way a photographer runs it.

#![allow(dead_code)]

pub mod camera;
pub mod gallery;
pub mod xmp;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_shotline");
pub const SESSION: &str = "shoot";

/// A backup target for the config.
pub struct Target {
    pub name: &'static str,
    pub path: PathBuf,
    pub require_mount: bool,
}

pub struct Studio {
    pub dir: tempfile::TempDir,
    pub hot: PathBuf,
    pub library: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
    /// Extra environment for every `shotline` process.
    pub env: Vec<(String, String)>,
    child: Option<Child>,
}

impl Studio {
    /// A studio whose library names frames `{session}/{original}` (predictable in tests).
    pub fn new(targets: impl FnOnce(&Path) -> Vec<Target>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let hot = dir.path().join("hot");
        let library = dir.path().join("library");
        let mut toml = format!(
            "[[hot_folder]]\npath = {hot:?}\n\n[library]\npath = {library:?}\nnaming = \"{{session}}/{{original}}\"\n\n[camera]\nenabled = false\n\n[relay]\nlisten = \"127.0.0.1:0\"\n",
        );
        for t in targets(dir.path()) {
            toml.push_str(&format!(
                "\n[[backup]]\nname = {:?}\npath = {:?}\nrequire_mount = {}\n",
                t.name, t.path, t.require_mount
            ));
        }
        let config = dir.path().join("shotline.toml");
        fs::write(&config, toml).expect("write config");
        fs::create_dir_all(&hot).expect("hot folder");
        let log = dir.path().join("run.log");
        Self {
            dir,
            hot,
            library,
            config,
            log,
            env: Vec::new(),
            child: None,
        }
    }

    /// A studio with one plain backup folder named `name`.
    pub fn with_backup(name: &'static str) -> Self {
        Self::new(|root| {
            vec![Target {
                name,
                path: root.join(name),
                require_mount: false,
            }]
        })
    }

    /// A `shotline` command against this studio, isolated from the user's home.
    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join(".config"))
            .env_remove("SHOTLINE_CONFIG")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .arg("--config")
            .arg(&self.config);
        command
    }

    /// Run a subcommand to completion.
    pub fn shotline(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run shotline")
    }

    /// The file `shotline run --ready-file` writes once the engine runs.
    pub fn ready_file(&self) -> PathBuf {
        self.dir.path().join("ready.json")
    }

    /// Wait for the running engine's ready file: where its relay is, its tokens.
    pub fn ready(&self) -> Value {
        let start = Instant::now();
        loop {
            if let Ok(text) = fs::read_to_string(self.ready_file()) {
                return serde_json::from_str(&text).expect("ready file is JSON");
            }
            if start.elapsed() > Duration::from_secs(60) {
                panic!("shotline run never became ready\nlog:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Start `shotline run` in the background, appending its output to the log; it
    /// writes [`Studio::ready_file`] once running.
    pub fn start(&mut self) {
        self.start_with(&[]);
    }

    /// [`Studio::start`] with more arguments for `shotline run`.
    pub fn start_with(&mut self, extra: &[&str]) {
        assert!(self.child.is_none(), "already running");
        let _ = fs::remove_file(self.ready_file());
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log");
        let err = out.try_clone().expect("log");
        let child = self
            .command()
            .args(["run", "--session", SESSION, "--ready-file"])
            .arg(self.ready_file())
            .args(extra)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start shotline run");
        self.child = Some(child);
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9");
            child.wait().expect("reap");
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
            let status = child.wait().expect("wait");
            assert!(
                status.success(),
                "shotline run exited with {status}\n{}",
                self.output()
            );
        }
    }

    /// Everything the runs printed.
    pub fn output(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `shotline status --json`.
    pub fn status(&self) -> Value {
        let out = self.shotline(&["status", "--json"]);
        assert!(
            out.status.success(),
            "status failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("status json")
    }

    /// Wait until `done` holds for the status, or fail with `what` and the log.
    pub fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let status = self.status();
            if done(&status) {
                return status;
            }
            if start.elapsed() > timeout {
                panic!(
                    "timed out waiting for {what}\nstatus: {status:#}\nlog:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Wait until the log shows `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) {
        let start = Instant::now();
        while !self.output().contains(needle) {
            if start.elapsed() > timeout {
                panic!(
                    "timed out waiting for `{needle}` in the log:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The target's counts from a status.
    pub fn target<'a>(status: &'a Value, name: &str) -> &'a Value {
        status["targets"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["name"] == name))
            .expect("target in status")
    }
}

impl Drop for Studio {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Raw HTTP/1.1 GET on 127.0.0.1: the body.
pub fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// Every file below `root` (relative path → bytes), skipping the journal folder and the
/// ASC MHL history (the frames, and only the frames).
pub fn tree(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .expect("below root")
                .to_string_lossy()
                .into_owned();
            if rel == ".shotline" || rel == "ascmhl" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(rel, fs::read(&path).expect("read"));
            }
        }
    }
    out
}

/// Deterministic pseudo-random bytes.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Fail unless root (tests that need it are `#[ignore]`d; `cargo xtask test` includes
/// them as root, and under `CI=true` refuses to run without root): a test that needs root must not pass by doing nothing.
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test mounts a tmpfs and needs root; run it as root (cargo xtask test does)"
    );
}

/// Mount a tmpfs of `size` at `at` (needs root: see [`require_root`]); true once mounted.
pub fn mount_tmpfs(at: &Path, size: &str) -> bool {
    require_root();
    fs::create_dir_all(at).expect("mount point");
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(at)
        .status()
        .expect("mount")
        .success();
    assert!(ok, "mount tmpfs at {}", at.display());
    true
}

/// Unmount `at`.
pub fn umount(at: &Path) {
    let _ = Command::new("umount").arg(at).status();
}

/// Unmounts on drop, so a failed test leaves no mount behind.
pub struct Mounted<'a>(pub &'a Path);

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        umount(self.0);
    }
}
