//! The servers `bench relay` measures, each its own process on a free loopback port (the
//! relay's release build, Node's Socket.IO 4.8 peer, or the floor: this program's
//! `relay-floor`), pinned to core 0 when the client
//! has moved off it, and the relay tokens the client connects with.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

use crate::bench_relay::Kind;
use crate::sys;

const SECRET: &str = "MfY/Cbo4oOfkiWrTekSj83C8zfrRbjn7VMy8HWm1Ryc=";

/// A server process on a free port; killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Server {
    pub fn start(kind: Kind, relay_bin: &Path, peers: &Path, pinned: bool) -> anyhow::Result<Self> {
        use std::io::{BufRead, BufReader};
        let port = free_port()?;
        let mut command = match kind {
            Kind::Relay | Kind::RelaySocketIo => {
                let config = std::env::temp_dir().join(format!("bench-relay-{port}.toml"));
                std::fs::write(
                    &config,
                    "publish_rate = 1000000\nmax_connections = 100000\nhistory = 1000\n",
                )?;
                let mut c = Command::new(relay_bin);
                c.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                    .arg("--config")
                    .arg(&config)
                    .env("SHOTLINE_RELAY_SECRET", SECRET)
                    .env("SHOTLINE_LOG", "warn");
                c
            }
            Kind::Floor => {
                let mut c = Command::new(std::env::current_exe()?);
                c.args(["relay-floor", &port.to_string()]);
                c
            }
            Kind::SocketIo => {
                let mut c = Command::new("node");
                c.arg(peers.join("socketio-server.mjs"))
                    .arg(port.to_string());
                c
            }
        };
        if pinned {
            let program = command.get_program().to_owned();
            let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
            let envs: Vec<_> = command
                .get_envs()
                .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
                .collect();
            let mut pinned = Command::new("taskset");
            pinned.args(["--cpu-list", "0"]).arg(program).args(args);
            for (k, v) in envs {
                match v {
                    Some(v) => pinned.env(k, v),
                    None => pinned.env_remove(k),
                };
            }
            command = pinned;
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", kind.name()))?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line)?;
        }
        if !line.contains("listening") {
            bail!("{} did not start: {line:?}", kind.name());
        }
        Ok(Self { child, port })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Move this process (every thread) off core 0, which the servers get to themselves; true
/// when done (Linux, `taskset` there, two cores or more).
pub fn pin_client() -> bool {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if !cfg!(target_os = "linux") || cores < 2 || !sys::which("taskset") {
        return false;
    }
    Command::new("taskset")
        .args(["--all-tasks", "--cpu-list", "--pid"])
        .arg(format!("1-{}", cores - 1))
        .arg(std::process::id().to_string())
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A token from `shotline-relay token`.
pub fn mint(relay_bin: &Path, role: &str) -> anyhow::Result<String> {
    let out = Command::new(relay_bin)
        .args([
            "token",
            "--role",
            role,
            "--channels",
            "bench",
            "--ttl",
            "2h",
        ])
        .env("SHOTLINE_RELAY_SECRET", SECRET)
        .output()?;
    if !out.status.success() {
        bail!(
            "shotline-relay token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

/// Subscriber and publisher tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub subscriber: String,
    pub publisher: String,
}
