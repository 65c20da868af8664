//! The desktop app's end-to-end tests (`tests/desktop.test.mjs`): the built app on a
//! virtual X display (Xvfb) inside a private D-Bus session, driven by `tauri-driver`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

use crate::sys;

/// The debug build of the app.
pub fn binary() -> PathBuf {
    crate::bench::target_dir().join("debug").join("shotline-desktop")
}

/// `tauri-driver`, installed by `cargo xtask setup` into cargo's bin folder.
pub fn driver() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    cargo_home.join("bin").join("tauri-driver")
}

/// A virtual X display, stopped on drop.
pub struct Display {
    child: Child,
    /// `:N`.
    pub name: String,
}

impl Display {
    /// Start Xvfb on the first free display number from 90.
    pub fn start() -> anyhow::Result<Self> {
        let n = (90..200)
            .find(|n| !PathBuf::from(format!("/tmp/.X11-unix/X{n}")).exists() && !PathBuf::from(format!("/tmp/.X{n}-lock")).exists())
            .context("no free X display number")?;
        let name = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([name.as_str(), "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting Xvfb")?;
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        for _ in 0..100 {
            if socket.exists() {
                return Ok(Self { child, name });
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        bail!("Xvfb did not come up on {name}")
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Build the app and run its end-to-end tests; (passed, failed).
pub fn e2e() -> anyhow::Result<(u64, u64)> {
    sys::cargo(&["build", "--package", "shotline-desktop"])?;
    let display = Display::start()?;
    let root = sys::workspace_root();
    let output = Command::new("dbus-run-session")
        .args(["--", "node", "--test", "--test-reporter=tap", "tests/desktop.test.mjs"])
        .env("DISPLAY", &display.name)
        .env("SHOTLINE_DESKTOP_BIN", binary())
        .env("TAURI_DRIVER", driver())
        .env("SHOTLINE_SCREENSHOTS", root.join("docs"))
        .current_dir(&root)
        .stderr(Stdio::inherit())
        .output()
        .context("starting the desktop tests")?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    let (passed, failed) = crate::ui::tap_counts(&text);
    if !output.status.success() || failed > 0 || passed == 0 {
        bail!("desktop end-to-end tests failed ({passed} passed, {failed} failed)");
    }
    Ok((passed, failed))
}
