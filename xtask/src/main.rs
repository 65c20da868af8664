//! `cargo xtask`: project automation.
//!
//! - `setup`: install the system packages the workspace needs (apt on Debian/Ubuntu, brew on
//!   macOS), idempotently.
//! - `run`: set up, then run Shotline on its defaults: the tray app where there is a display,
//!   else (or with `--headless`, or with arguments, which go to `shotline run`) the engine.
//! - `test`: set up, then run every test in the workspace.
//! - `ui`: build the web UI (bindings, npm packages, TypeScript, dashboard assets).
//! - `camera-sim`: build libgphoto2 with its virtual camera (the camera tests and bench use it).
//! - `bundle`: the desktop app's installers (.deb and .rpm here).
//! - `bench <name>`: benchmarks against peer tools, side by side (module `bench`).
//! - `windows`: the engine cross-built for Windows, its tests run under Wine (module
//!   `windows`; also a step of `test` on Linux).

mod bench;
mod bench_answers;
mod bench_burst;
mod bench_camera;
mod bench_camera_stages;
mod bench_desktop;
mod bench_downloads;
mod bench_gallery;
mod bench_gallery_live;
mod bench_hostile;
mod bench_http;
mod bench_liveview;
mod bench_liveview_relay;
mod bench_relay;
mod bench_relay_floor;
mod bench_relay_servers;
mod bench_relay_wire;
mod bench_seal;
mod bench_upload;
mod bundle;
mod camera_sim;
mod desktop;
mod lazy_webkit;
mod sys;
mod ui;
#[cfg(target_os = "linux")]
mod windows;
#[cfg(target_os = "linux")]
mod windows_scenario;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    let result = match command.as_str() {
        "setup" => sys::setup(),
        "run" => sys::setup_build().and_then(|()| run(&rest)),
        "test" => {
            let clock = Steps::start();
            clock
                .step("setup (system packages)", sys::setup)
                .and_then(|()| test(&clock, &rest))
        }
        "ui" => sys::setup().and_then(|()| ui::build()),
        "camera-sim" => camera_sim::camera_sim(),
        #[cfg(target_os = "linux")]
        "windows" => windows::test().and_then(|(passed, failed)| {
            println!("windows: {passed} passed, {failed} failed");
            if failed > 0 {
                anyhow::bail!("{failed} tests failed under Wine");
            }
            Ok(())
        }),
        "bundle" => sys::setup().and_then(|()| bundle::bundle().map(drop)),
        "lazy-webkit" => lazy_webkit::lazy_webkit(),
        // The bench relay's floor server (started by `bench relay`, not by hand).
        "relay-floor" => bench_relay_floor::serve(rest.first().map_or("0", String::as_str)),
        "bench" => sys::setup().and_then(|()| bench::bench(&rest)),
        _ => {
            eprintln!(
                "usage: cargo xtask <setup | run [--headless | ARGS] | test [ARGS] | ui | camera-sim | windows | bundle | lazy-webkit | bench <backup | burst | seal | relay | upload | camera | liveview | desktop>>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Shotline's main job on its defaults: the headless engine (the desktop app joins here when
/// it exists and a display is there).
fn run(rest: &[String]) -> anyhow::Result<()> {
    // The tray app where there is a desktop to show it on; the headless engine otherwise
    // (a server, an SSH session, CI) or when asked for with --headless.
    let headless = rest.iter().any(|a| a == "--headless");
    let display = cfg!(any(target_os = "macos", windows))
        || std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if display && !headless && rest.is_empty() {
        return sys::cargo(&["run", "--package", "shotline-desktop"]);
    }
    let mut args = vec![
        "run",
        "--package",
        "shotline-engine",
        "--bin",
        "shotline",
        "--",
        "run",
    ];
    args.extend(
        rest.iter()
            .map(String::as_str)
            .filter(|a| *a != "--headless"),
    );
    sys::cargo(&args)
}

/// Every test of the workspace, then the checks CI holds every change to: formatting,
/// clippy with warnings as errors, and docs without warnings.
fn test(clock: &Steps, rest: &[String]) -> anyhow::Result<()> {
    clock.step("web UI build", ui::build)?;
    // The camera tests run against libgphoto2's virtual camera.
    clock.step("virtual camera", camera_sim::ensure)?;
    ui::check_outputs_committed()?;
    let mut args = vec!["test", "--workspace"];
    args.extend(rest.iter().map(String::as_str));
    // The tests that mount a tmpfs are ignored by plain `cargo test`; as root they run
    // here, and CI without root fails rather than passing them by skipping.
    let root = sys::is_root();
    if !root && std::env::var("CI").is_ok_and(|v| v == "true") {
        anyhow::bail!(
            "CI=true but not root: the tests that mount a tmpfs (full disks, mount points) need root"
        );
    }
    if root && !rest.iter().any(|a| a == "--") {
        args.extend(["--", "--include-ignored"]);
    }
    let (mut passed, mut failed, skipped) = clock.step("cargo test", || sys::cargo_tests(&args))?;
    let (e2e_passed, e2e_failed) = clock.step("web UI end to end", ui::e2e)?;
    passed += e2e_passed;
    failed += e2e_failed;
    let (desktop_passed, desktop_failed) = clock.step("desktop end to end", desktop::e2e)?;
    passed += desktop_passed;
    failed += desktop_failed;
    #[cfg(target_os = "linux")]
    {
        let (win_passed, win_failed) = clock.step("Windows engine under Wine", windows::test)?;
        passed += win_passed;
        failed += win_failed;
    }
    if cfg!(target_os = "linux") {
        let (deb_passed, deb_failed) =
            clock.step(".deb installs and starts", desktop::deb_installs_and_starts)?;
        passed += deb_passed;
        failed += deb_failed;
    }
    clock.step("fmt", || sys::cargo(&["fmt", "--all", "--", "--check"]))?;
    clock.step("clippy", || {
        sys::cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
    })?;
    clock.step("doc", || {
        sys::cargo_env(
            &["doc", "--workspace", "--no-deps"],
            &[("RUSTDOCFLAGS", "-D warnings")],
        )
    })?;
    // One total over every test binary, as the last line.
    println!("tests: {passed} passed, {failed} failed, {skipped} skipped");
    Ok(())
}

/// Wall time of each step of `test`, told on stderr as it ends, so a slow CI run's log
/// says where its minutes went.
struct Steps(std::time::Instant);

impl Steps {
    fn start() -> Self {
        Self(std::time::Instant::now())
    }

    fn step<T>(&self, name: &str, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
        let start = std::time::Instant::now();
        let out = f();
        let (took, total) = (start.elapsed().as_secs(), self.0.elapsed().as_secs());
        eprintln!(
            "xtask test: {name}: {}m{:02}s (total {}m{:02}s){}",
            took / 60,
            took % 60,
            total / 60,
            total % 60,
            if out.is_err() { ", failed" } else { "" }
        );
        out
    }
}
