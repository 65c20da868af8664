//! Running commands and installing system packages.

use std::process::Command;

use anyhow::{Context, bail};

/// Debian/Ubuntu packages that building and running Shotline needs: a C toolchain for the
/// bundled SQLite, libgphoto2's development files for tethered cameras, libclang for the
/// bindings the `gphoto2` crate generates, and what Tauri builds the desktop app on
/// (WebKitGTK, GTK, the app indicator, librsvg, libxdo, OpenSSL), and patchelf, which
/// lets the bundled binary start without WebKit (`lazy_webkit`).
const APT_BUILD: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libgphoto2-dev",
    "libclang-dev",
    "libwebkit2gtk-4.1-dev",
    "libgtk-3-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    "libssl-dev",
    "patchelf",
];
/// What the tests and benchmarks need besides: the peer tools the benchmarks compare
/// against (rsync, xxhsum, rclone, the gphoto2 CLI, vipsthumbnail and ImageMagick, which
/// also make the gallery tests' pictures), the Redis the relay's scale-out tests run
/// against, Chromium for the web UI's browser tests, and the checkers (xmllint,
/// pdftotext, exiftool). Node.js and npm come with the machine.
const APT_TEST: &[&str] = &[
    "rsync",
    "xxhash",
    "redis-server",
    "chromium",
    "rclone",
    "gphoto2",
    "webkit2gtk-driver",
    "xvfb",
    "xauth",
    "dbus",
    "dbus-x11",
    "trayer",
    "dunst",
    "gnome-keyring",
    "libxml2-utils",
    "poppler-utils",
    "imagemagick",
    // The gallery tests' labelled JPEGs are drawn in DejaVu Sans.
    "fonts-dejavu-core",
    "libvips-tools",
    "libimage-exiftool-perl",
];
/// The same on macOS.
const BREW_BUILD: &[&str] = &["pkg-config", "libgphoto2"];
/// See [`APT_TEST`].
const BREW_TEST: &[&str] = &["rsync", "xxhash", "redis", "node", "rclone", "gphoto2"];

/// Everything for building and running Shotline; nothing when it is all there.
pub fn setup_build() -> anyhow::Result<()> {
    system_packages(APT_BUILD, BREW_BUILD)
}

/// Everything for the tests and benchmarks as well; nothing when it is all there.
pub fn setup() -> anyhow::Result<()> {
    if !which("node") || !which("npm") {
        bail!(
            "Node.js (20 or later) and npm are needed to build the web UI; install them and run again"
        );
    }
    system_packages(
        &[APT_BUILD, APT_TEST].concat(),
        &[BREW_BUILD, BREW_TEST].concat(),
    )?;
    python_tools()?;
    for tool in CARGO_TOOLS {
        cargo_tool(tool)?;
    }
    Ok(())
}

/// A test tool built from crates.io with `cargo install --locked`, at one version.
pub struct CargoTool {
    /// The crate.
    pub name: &'static str,
    /// The exact version the suite last passed with.
    pub version: &'static str,
    /// Extra `cargo install` arguments (features).
    pub args: &'static [&'static str],
    /// Into cargo's own bin folder (where `tauri-driver` is looked for), else into
    /// [`cache_dir`]`/bin`.
    pub cargo_home: bool,
}

/// Every test tool built from crates.io. To move a pin: change the version here, run
/// `cargo xtask test`, and commit the two together once it passes.
pub const CARGO_TOOLS: &[CargoTool] = &[
    // The WebDriver server for the desktop end-to-end tests.
    CargoTool {
        name: "tauri-driver",
        version: "2.1.0",
        args: &[],
        cargo_home: true,
    },
    // The second, independent S3 server the upload tests run against (beside moto).
    // 0.14.1 is the newest that builds with Rust 1.95.
    CargoTool {
        name: "s3s-fs",
        version: "0.14.1",
        args: &["--features", "binary"],
        cargo_home: false,
    },
];

/// Where [`CargoTool`]s that are not in cargo's bin folder go (`bin/` under it).
pub fn tools_root() -> std::path::PathBuf {
    cache_dir()
}

/// Install `tool` at its version unless that version is already there.
fn cargo_tool(tool: &CargoTool) -> anyhow::Result<()> {
    let mut list = Command::new("cargo");
    list.args(["install", "--list"]);
    let mut install = Command::new("cargo");
    install.args(["install", "--locked", "--version", tool.version, tool.name]);
    install.args(tool.args);
    if !tool.cargo_home {
        list.arg("--root").arg(tools_root());
        install.arg("--root").arg(tools_root());
    }
    let installed = list.output().is_ok_and(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| l.starts_with(&format!("{} v{}:", tool.name, tool.version)))
    });
    if installed {
        return Ok(());
    }
    eprintln!("xtask setup: installing {} {}", tool.name, tool.version);
    status(&mut install)
}

/// The Python virtual environment holding `moto_server` (an S3-compatible server for the
/// upload tests), boto3 (an independent S3 client for checking what arrived) and the ASC MHL
/// reference tool `ascmhl` (which checks the proof-of-backup histories).
pub fn venv() -> std::path::PathBuf {
    cache_dir().join("venv")
}

/// `~/.cache/shotline`: tools built or installed for the tests, kept between runs.
pub fn cache_dir() -> std::path::PathBuf {
    let home = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    home.join(".cache").join("shotline")
}

/// The venv's packages, every one at an exact version (`xtask/requirements.txt`, the
/// output of `pip freeze` in a venv the suite passed with). To move a pin: edit the file
/// (or `pip install -U NAME` in the venv and `pip freeze` into it), run `cargo xtask test`,
/// and commit the file once it passes.
const REQUIREMENTS: &str = include_str!("../requirements.txt");

/// The venv with exactly [`REQUIREMENTS`]: made once, and made anew whenever the file
/// changes (the copy kept in the venv says what it holds).
fn python_tools() -> anyhow::Result<()> {
    let venv = venv();
    let bin = venv.join("bin");
    let stamp = venv.join("shotline-requirements.txt");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == REQUIREMENTS)
        && bin.join("moto_server").is_file()
        && bin.join("ascmhl").is_file()
        && bin.join("aiosmtpd").is_file()
    {
        return Ok(());
    }
    eprintln!(
        "xtask setup: installing the pinned moto[server], boto3, ascmhl and aiosmtpd into {}",
        venv.display()
    );
    let python = if which("python3") {
        "python3"
    } else {
        "python"
    };
    // Made anew, so nothing but the pins is in it (a package an older pin pulled in too).
    if venv.exists() {
        std::fs::remove_dir_all(&venv)?;
    }
    status(Command::new(python).arg("-m").arg("venv").arg(&venv))?;
    let pinned = venv.join("requirements.txt");
    std::fs::write(&pinned, REQUIREMENTS)?;
    status(
        Command::new(bin.join("pip"))
            .args(["install", "-q", "--disable-pip-version-check", "-r"])
            .arg(&pinned),
    )?;
    std::fs::write(&stamp, REQUIREMENTS)?;
    Ok(())
}

/// These Debian/Ubuntu packages (only there); nothing when they are all installed.
pub fn apt_packages(apt: &[&str]) -> anyhow::Result<()> {
    if !(cfg!(target_os = "linux") && which("dpkg-query")) {
        bail!("install by hand: {}", apt.join(" "));
    }
    system_packages(apt, &[])
}

fn system_packages(apt: &[&str], brew: &[&str]) -> anyhow::Result<()> {
    if cfg!(target_os = "linux") && which("dpkg-query") {
        let missing: Vec<&str> = apt.iter().copied().filter(|p| !dpkg_installed(p)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        eprintln!("xtask setup: installing {}", missing.join(" "));
        let sudo = !is_root();
        privileged(sudo, &["apt-get", "update", "-q"])?;
        let mut install = vec!["apt-get", "install", "-y", "-q", "--no-install-recommends"];
        install.extend(&missing);
        privileged(sudo, &install)
    } else if cfg!(target_os = "macos") && which("brew") {
        for package in brew {
            if !Command::new("brew")
                .args(["list", package])
                .output()
                .is_ok_and(|o| o.status.success())
            {
                status(Command::new("brew").args(["install", package]))?;
            }
        }
        Ok(())
    } else {
        eprintln!("xtask setup: install by hand: {}", apt.join(" "));
        Ok(())
    }
}

fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// True when running as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Run `args` as root (through `sudo` when `sudo`).
pub fn privileged(sudo: bool, args: &[&str]) -> anyhow::Result<()> {
    let mut command = if sudo {
        Command::new("sudo")
    } else {
        Command::new(args[0])
    };
    if sudo {
        command.args(args);
    } else {
        command.args(&args[1..]);
    }
    command.env("DEBIAN_FRONTEND", "noninteractive");
    status(&mut command)
}

/// True when `program` is on the PATH.
pub fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Run cargo (the same one running xtask) in the workspace root.
pub fn cargo(args: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    status(Command::new(cargo).args(args).current_dir(workspace_root()))
}

/// Run `cargo test ...`, passing its output through, and total the `test result:` lines:
/// (passed, failed, ignored). Fails if cargo fails.
pub fn cargo_tests(args: &[&str]) -> anyhow::Result<(u64, u64, u64)> {
    use std::io::{BufRead, BufReader};
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(cargo)
        .args(args)
        .current_dir(workspace_root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting cargo test")?;
    let (mut passed, mut failed, mut ignored) = (0, 0, 0);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                let (p, f, i) = tally(rest);
                (passed, failed, ignored) = (passed + p, failed + f, ignored + i);
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!(
            "cargo {} failed ({passed} passed, {failed} failed): {status}",
            args.join(" ")
        );
    }
    Ok((passed, failed, ignored))
}

/// (passed, failed, ignored) of a libtest summary after its `test result: `.
pub fn tally(summary: &str) -> (u64, u64, u64) {
    (
        count(summary, " passed"),
        count(summary, " failed"),
        count(summary, " ignored"),
    )
}

/// The number before `label` in `ok. 3 passed; 0 failed; ...`.
fn count(text: &str, label: &str) -> u64 {
    text.split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(label.trim_start())
                .map(str::trim)
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Run cargo with extra environment variables.
pub fn cargo_env(args: &[&str], vars: &[(&str, &str)]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    status(
        Command::new(cargo)
            .args(args)
            .envs(vars.iter().copied())
            .current_dir(workspace_root()),
    )
}

/// The workspace root (xtask's parent folder).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Into::into)
        .unwrap_or_default()
}

/// Run a command, failing unless it succeeds.
pub fn status(command: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed: {status}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_are_read_from_cargo_summaries() {
        let line =
            "ok. 42 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.85s";
        assert_eq!((count(line, " passed"), count(line, " failed")), (42, 1));
        assert_eq!(count("FAILED. 3 passed; 2 failed; 0 ignored", " failed"), 2);
    }
}
