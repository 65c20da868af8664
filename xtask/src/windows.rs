//! The Windows lane: the engine cross-built for `x86_64-pc-windows-gnu` on this Linux
//! machine and its tests run under Wine (`cargo xtask windows`, and a step of `cargo xtask
//! test`).
//!
//! - Rust: the rustup `nightly` toolchain builds std from source (`-Zbuild-std`); the
//!   source is Debian's `rust-src` package from the unstable suite ([`RUST_SRC`]), fetched
//!   with `apt-get download` under an apt configuration of its own (its own sources list,
//!   lists and cache in `~/.cache/shotline/apt-unstable`: the machine's sources are not
//!   touched), unpacked with `dpkg -x` and linked into the toolchain.
//! - C: mingw-w64 compiles the bundled SQLite and links; Debian's Wine runs the result.
//! - Two gaps of Wine 8, filled by stand-in DLLs built here from `xtask/wine/`:
//!   `bcryptprimitives.dll` (Rust's std imports its `ProcessPrng`, which Wine 8 lacks; the
//!   stand-in calls `RtlGenRandom`) and `pdh.dll` (Wine's aborts in `PdhEnumObjectsW`, which
//!   `sysinfo` calls; the stand-in fails every call, as a machine without performance
//!   counters does). They sit beside the test programs, where Windows looks first.
//!
//! Wine is not Windows: what it cannot show (uncached reads, write-through) is covered by
//! the platform layer's unit tests here and by the Windows runners of the CI workflow.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::sys;

/// The target triple.
pub const TARGET: &str = "x86_64-pc-windows-gnu";
/// Debian unstable's `rust-src` the nightly toolchain builds std from; to move it, see the
/// README's "Pinned test tools".
pub const RUST_SRC: &str = "1.97.1+dfsg1-1";
/// Debian packages: the mingw-w64 compiler and binutils, and Wine.
const APT: &[&str] = &[
    "gcc-mingw-w64-x86-64",
    "binutils-mingw-w64-x86-64",
    "wine",
    "wine64",
];
/// Tests that check what Wine does not do, each with the reason: skipped under Wine (and
/// said so in the output), run by the Windows CI runners.
const WINE_GAPS: &[(&str, &str)] = &[(
    "system::sampler::tests::the_sampler_reads_this_computer",
    "Wine 8 shows sysinfo no volumes, so no disk is found",
)];
/// The stand-in DLLs, each from `xtask/wine/NAME.c` and `NAME.def`.
const SHIMS: &[(&str, &[&str])] = &[("bcryptprimitives", &["-ladvapi32"]), ("pdh", &[])];

/// Everything the lane needs; nothing when it is all there.
pub fn setup() -> anyhow::Result<()> {
    sys::apt_packages(APT)?;
    let sysroot = nightly_sysroot()?;
    let library = sysroot.join("lib/rustlib/src/rust/library");
    if !library.join("Cargo.lock").is_file() {
        let source = rust_src()?;
        let link_dir = sysroot.join("lib/rustlib/src/rust");
        std::fs::create_dir_all(&link_dir)?;
        let _ = std::fs::remove_file(&library);
        std::os::unix::fs::symlink(&source, &library)
            .with_context(|| format!("linking {} into the nightly toolchain", source.display()))?;
    }
    for (name, libs) in SHIMS {
        shim(name, libs)?;
    }
    Ok(())
}

/// The nightly toolchain's sysroot; the machine's rustup must have `nightly`.
fn nightly_sysroot() -> anyhow::Result<PathBuf> {
    let out = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--print", "sysroot"])
        .output()
        .context("rustc +nightly")?;
    if !out.status.success() {
        bail!(
            "the Windows lane needs rustup's nightly toolchain (`rustup toolchain install nightly`): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    // std's sources must match the compiler's release: RUST_SRC's major.minor.
    let version = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let release: String = RUST_SRC.split('.').take(2).collect::<Vec<_>>().join(".");
    if !version.starts_with(&format!("rustc {release}.")) {
        bail!(
            "the Windows lane builds std {RUST_SRC} with the nightly toolchain, which is `{}`: move RUST_SRC in xtask/src/windows.rs to Debian's rust-src for that release",
            version.trim()
        );
    }
    Ok(sysroot)
}

/// Debian unstable's `rust-src` at [`RUST_SRC`], unpacked once; its `library` folder.
fn rust_src() -> anyhow::Result<PathBuf> {
    let root = sys::cache_dir().join("apt-unstable");
    let unpacked = root.join(format!("rust-src-{RUST_SRC}"));
    let version = RUST_SRC.split('+').next().unwrap_or(RUST_SRC);
    let library = unpacked.join(format!("usr/src/rustc-{version}/library"));
    if library.join("Cargo.lock").is_file() {
        return Ok(library);
    }
    for dir in ["lists/partial", "cache/archives/partial", "download"] {
        std::fs::create_dir_all(root.join(dir))?;
    }
    let sources = root.join("sources.list");
    std::fs::write(
        &sources,
        format!(
            "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {} unstable main\n",
            crate::camera_sim::debian_mirror()?
        ),
    )?;
    let options = [
        format!("Dir::Etc::SourceList={}", sources.display()),
        "Dir::Etc::SourceParts=/dev/null".to_string(),
        format!("Dir::State::Lists={}", root.join("lists").display()),
        format!("Dir::Cache={}", root.join("cache").display()),
        // Unprivileged: apt's sandbox user cannot write into this folder.
        "APT::Sandbox::User=root".to_string(),
    ];
    let apt = |args: &[&str], dir: &Path| {
        let mut command = Command::new("apt-get");
        for option in &options {
            command.arg("-o").arg(option);
        }
        sys::status(command.args(args).current_dir(dir))
    };
    apt(&["update", "-q"], &root)?;
    let download = root.join("download");
    apt(
        &["download", "-q", &format!("rust-src={RUST_SRC}")],
        &download,
    )
    .with_context(|| {
        format!("Debian unstable no longer serves rust-src {RUST_SRC}: move RUST_SRC in xtask/src/windows.rs to a version that builds with the nightly toolchain")
    })?;
    // apt-get names the file with the version's `:` and `+` as they are (no epoch here).
    let deb = download.join(format!("rust-src_{RUST_SRC}_all.deb"));
    if !deb.is_file() {
        bail!("apt-get download left no {}", deb.display());
    }
    sys::status(Command::new("dpkg").arg("-x").arg(&deb).arg(&unpacked))?;
    if !library.join("Cargo.lock").is_file() {
        bail!("{} has no std sources", deb.display());
    }
    Ok(library)
}

/// Where the stand-in DLLs are built.
fn shim_dir() -> PathBuf {
    sys::cache_dir().join("wine-shims")
}

/// Build `xtask/wine/NAME.c` into `NAME.dll` unless the DLL is newer than its source.
fn shim(name: &str, libs: &[&str]) -> anyhow::Result<()> {
    let source = sys::workspace_root().join("xtask/wine");
    let (c, def) = (
        source.join(format!("{name}.c")),
        source.join(format!("{name}.def")),
    );
    let dll = shim_dir().join(format!("{name}.dll"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&dll).is_some_and(|d| Some(d) > modified(&c) && Some(d) > modified(&def)) {
        return Ok(());
    }
    std::fs::create_dir_all(shim_dir())?;
    sys::status(
        Command::new("x86_64-w64-mingw32-gcc")
            .args(["-shared", "-O2", "-o"])
            .arg(&dll)
            .arg(&c)
            .arg(&def)
            .args(libs),
    )
}

/// The environment of every cross build: std from source, mingw to link.
pub fn cargo_nightly() -> Command {
    // Through rustup, whatever `cargo` the PATH of a `cargo xtask` run finds first.
    let mut command = Command::new("rustup");
    command
        .args(["run", "nightly", "cargo"])
        .current_dir(sys::workspace_root())
        .env_remove("RUSTC")
        .env_remove("CARGO")
        .env_remove("RUSTDOC")
        .env(
            "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER",
            "x86_64-w64-mingw32-gcc",
        );
    command
}

/// Build the engine's unit tests for Windows and run them under Wine, then the end-to-end
/// scenario (`windows_scenario`): (passed, failed).
pub fn test() -> anyhow::Result<(u64, u64)> {
    setup()?;
    let out = cargo_nightly()
        .args(["test", "--no-run", "--message-format=json"])
        .args(["-Zbuild-std=std,panic_abort", "--target", TARGET])
        .args(["-p", "shotline-engine", "--lib"])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cargo +nightly test --no-run")?;
    if !out.status.success() {
        bail!("the Windows build of the engine's tests failed");
    }
    let programs = test_programs(&String::from_utf8_lossy(&out.stdout));
    if programs.is_empty() {
        bail!("the Windows build made no test program");
    }
    let (mut passed, mut failed) = (0, 0);
    for program in programs {
        let (p, f) = run_under_wine(&program)?;
        passed += p;
        failed += f;
    }
    let (p, f) = crate::windows_scenario::run()?;
    Ok((passed + p, failed + f))
}

/// The test executables cargo's JSON messages name.
fn test_programs(messages: &str) -> Vec<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["profile"]["test"] == true)
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .collect()
}

/// `wine64`, in the lane's own prefix, quiet, with the `pdh` stand-in preferred.
pub fn wine() -> Command {
    let mut command = Command::new("/usr/lib/wine/wine64");
    command
        .env("WINEPREFIX", sys::cache_dir().join("wineprefix"))
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "pdh=n;mscoree,mshtml=");
    command
}

/// Copy the stand-in DLLs beside `program`, where Windows looks for DLLs first.
pub fn shims_beside(program: &Path) -> anyhow::Result<()> {
    let dir = program.parent().context("a program's folder")?;
    for (name, _) in SHIMS {
        let dll = format!("{name}.dll");
        std::fs::copy(shim_dir().join(&dll), dir.join(&dll))?;
    }
    Ok(())
}

/// Run one test program under Wine, the stand-in DLLs beside it: (passed, failed).
fn run_under_wine(program: &Path) -> anyhow::Result<(u64, u64)> {
    shims_beside(program)?;
    eprintln!("xtask windows: {} under Wine", program.display());
    let mut command = wine();
    command.arg(program).arg("--test-threads=2");
    for (test, why) in WINE_GAPS {
        eprintln!("xtask windows: skipped under Wine: {test}: {why}");
        command.args(["--skip", test]);
    }
    let out = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("starting wine64")?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    let (passed, failed, _) = text
        .lines()
        .filter_map(|l| l.strip_prefix("test result: "))
        .map(sys::tally)
        .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    if passed + failed == 0 {
        bail!(
            "{} ran no test under Wine ({})",
            program.display(),
            out.status
        );
    }
    Ok((passed, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_programs_are_read_from_cargo_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","profile":{"test":false},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","profile":{"test":true},"executable":"/t/deps/shotline_engine-1.exe"}"#,
            "\nnot json\n",
        );
        assert_eq!(
            test_programs(messages),
            vec![PathBuf::from("/t/deps/shotline_engine-1.exe")]
        );
    }
}
