//! The desktop app's end-to-end tests (`tests/desktop.test.mjs`): the built app on a
//! virtual X display (Xvfb) inside a private D-Bus session, driven by `tauri-driver`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

use crate::sys;

/// The debug build of the app.
pub fn binary() -> PathBuf {
    crate::bench::target_dir()
        .join("debug")
        .join("shotline-desktop")
}

/// `tauri-driver`, installed by `cargo xtask setup` into cargo's bin folder.
pub fn driver() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        });
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
            .find(|n| {
                !PathBuf::from(format!("/tmp/.X11-unix/X{n}")).exists()
                    && !PathBuf::from(format!("/tmp/.X{n}-lock")).exists()
            })
            .context("no free X display number")?;
        let name = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([
                name.as_str(),
                "-screen",
                "0",
                "1280x900x24",
                "-nolisten",
                "tcp",
            ])
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
    // The report goes to a file: D-Bus services the session starts (the accessibility
    // bus) can outlive it and would hold a pipe open.
    let report = tempfile::NamedTempFile::new()?;
    let mut command = Command::new("dbus-run-session");
    group_leader(&mut command);
    let mut child = command
        .args([
            "--",
            "node",
            "--test",
            "--test-reporter=tap",
            "tests/desktop.test.mjs",
        ])
        .env("DISPLAY", &display.name)
        .env("SHOTLINE_DESKTOP_BIN", binary())
        .env("TAURI_DRIVER", driver())
        .env("SHOTLINE_SCREENSHOTS", root.join("docs"))
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(report.reopen()?)
        .stderr(Stdio::null())
        .spawn()
        .context("starting the desktop tests")?;
    let status = child.wait()?;
    // Whatever the session left running (an orphaned app) is in the group we started.
    kill_group(child.id());
    let text = std::fs::read_to_string(report.path())?;
    print!("{text}");
    let (passed, failed) = crate::ui::tap_counts(&text);
    if !status.success() || failed > 0 || passed == 0 {
        bail!("desktop end-to-end tests failed ({passed} passed, {failed} failed)");
    }
    Ok((passed, failed))
}

/// Build the .deb, install it with `dpkg -i`, start the installed app on a virtual display
/// and check it runs its engine; then remove the package. One test: (passed, failed).
pub fn deb_installs_and_starts() -> anyhow::Result<(u64, u64)> {
    let made = crate::bundle::bundle()?;
    let deb = made
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .context("the bundle made no .deb")?;
    let sudo = !sys::is_root();
    let deb_str = deb.to_string_lossy().into_owned();
    sys::privileged(sudo, &["dpkg", "-i", &deb_str])?;
    let result = start_installed();
    let _ = sys::privileged(sudo, &["dpkg", "-r", "shotline"]);
    match result {
        Ok(()) => {
            println!(
                "ok - the .deb installs with dpkg -i, the installed app starts tray only without WebKit and loads it when its window opens"
            );
            Ok((1, 0))
        }
        Err(e) => {
            println!("not ok - the installed app: {e:#}");
            Ok((0, 1))
        }
    }
}

fn start_installed() -> anyhow::Result<()> {
    let installed = PathBuf::from("/usr/bin/shotline-desktop");
    anyhow::ensure!(
        installed.is_file(),
        "{} is not installed",
        installed.display()
    );
    let listed = Command::new("dpkg").args(["-L", "shotline"]).output()?;
    let files = String::from_utf8_lossy(&listed.stdout);
    anyhow::ensure!(
        files.contains(".desktop") && files.contains("/icons/"),
        "the package lacks its menu entry or icons:\n{files}"
    );
    let work = tempfile::tempdir()?;
    let root = work.path();
    let config = root.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[hot_folder]]\npath = {:?}\n[library]\npath = {:?}\n[[backup]]\nname = \"b\"\npath = {:?}\n[camera]\nenabled = false\n[relay]\nlisten = \"127.0.0.1:0\"\n",
            root.join("hot"),
            root.join("library"),
            root.join("backup")
        ),
    )?;
    std::fs::create_dir_all(root.join("hot"))?;
    let display = Display::start()?;
    let log = root.join("app.log");
    let mut command = Command::new("dbus-run-session");
    group_leader(&mut command);
    let mut app = command
        .args(["--"])
        .arg(&installed)
        .arg("--minimized")
        .env("DISPLAY", &display.name)
        .env("HOME", root)
        .env("SHOTLINE_CONFIG", &config)
        .env("SHOTLINE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .spawn()?;
    // The installed app takes a frame: it runs its engine, not just a window.
    std::fs::write(root.join("hot").join("A.JPG"), b"a frame")?;
    let start = std::time::Instant::now();
    let stored = root.join("library");
    let found = loop {
        let any = walk(&stored)
            .iter()
            .any(|p| p.file_name().is_some_and(|n| n == "A.JPG"));
        if any || start.elapsed() > std::time::Duration::from_secs(60) {
            break any;
        }
        if let Some(status) = app.try_wait()? {
            bail!(
                "it exited with {status}:\n{}",
                std::fs::read_to_string(&log)?
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    let lazy = if found {
        webkit_when_the_window_opens(app.id(), &installed, &display.name, root, &config)
    } else {
        Ok(())
    };
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(app.id().to_string())
        .status();
    let _ = app.wait();
    kill_group(app.id());
    anyhow::ensure!(
        found,
        "no frame stored within 60 s:\n{}",
        std::fs::read_to_string(&log)?
    );
    lazy.with_context(|| {
        format!(
            "log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    })
}

/// The installed app, started tray only, has not loaded WebKit; a second start (as from
/// the menu entry) has the first open its window, which loads WebKit and starts its web
/// process.
fn webkit_when_the_window_opens(
    session: u32,
    installed: &std::path::Path,
    display: &str,
    home: &std::path::Path,
    config: &std::path::Path,
) -> anyhow::Result<()> {
    let app = descendants(session)
        .into_iter()
        .find(|(_, name)| name == "shotline-deskto")
        .map(|(pid, _)| pid)
        .context("no shotline-desktop process under the session")?;
    let maps = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    anyhow::ensure!(
        !maps(app).contains("libwebkit2gtk"),
        "the tray-only app loaded WebKit at start (the bundle's `cargo xtask lazy-webkit` did not drop it)"
    );
    let environ = std::fs::read(format!("/proc/{app}/environ"))?;
    let bus = environ
        .split(|b| *b == 0)
        .filter_map(|v| std::str::from_utf8(v).ok())
        .find_map(|v| v.strip_prefix("DBUS_SESSION_BUS_ADDRESS="))
        .context("the app has no session bus address")?
        .to_string();
    let status = Command::new(installed)
        .env("DISPLAY", display)
        .env("HOME", home)
        .env("SHOTLINE_CONFIG", config)
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "the second start exited with {status}");
    let start = std::time::Instant::now();
    loop {
        let loaded = maps(app).contains("libwebkit2gtk");
        let web = descendants(app)
            .iter()
            .any(|(_, name)| name.starts_with("WebKitWebProces"));
        if loaded && web {
            return Ok(());
        }
        anyhow::ensure!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "30 s after a second start: WebKit loaded {loaded}, its web process running {web}"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// Every process below `pid`, with its name (as the kernel keeps it, 15 bytes at most).
fn descendants(pid: u32) -> Vec<(u32, String)> {
    let all = processes();
    let mut found = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for (child, (parent, name)) in &all {
            if *parent == p {
                found.push((*child, name.clone()));
                frontier.push(*child);
            }
        }
    }
    found
}

/// Every process: pid → (parent, name).
pub fn processes() -> std::collections::HashMap<u32, (u32, String)> {
    let mut out = std::collections::HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.filter_map(|e| e.ok()) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(stat) = std::fs::read_to_string(entry.path().join("stat"))
            && let Some((name, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") "))
        {
            let parent = rest
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            out.insert(pid, (parent, name.to_string()));
        }
    }
    out
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Start the command as the leader of a new process group, so everything it starts can be
/// stopped by that group's id (not by a name that might match another user's process).
fn group_leader(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
}

/// Stop every process left in the group `leader` led.
fn kill_group(leader: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{leader}")])
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_and_its_child_are_descendants_by_name() -> anyhow::Result<()> {
        let mut shell = Command::new("sh").args(["-c", "sleep 30 & wait"]).spawn()?;
        let start = std::time::Instant::now();
        let found = loop {
            let found = descendants(std::process::id());
            if found.iter().any(|(_, n)| n == "sleep") || start.elapsed().as_secs() > 10 {
                break found;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let _ = Command::new("pkill")
            .args(["-P", &shell.id().to_string()])
            .status();
        let _ = shell.kill();
        let _ = shell.wait();
        assert!(
            found.iter().any(|(pid, n)| *pid == shell.id() && n == "sh"),
            "{found:?}"
        );
        assert!(found.iter().any(|(_, n)| n == "sleep"), "{found:?}");
        Ok(())
    }
}
