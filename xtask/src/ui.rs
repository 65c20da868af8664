//! `cargo xtask ui`: the web UI's build. TypeScript bindings generated from the protocol
//! crate (ts-rs) into `ui/src/generated`, the UI's npm packages, the TypeScript compile,
//! and the assets of the relay's dashboard and live gallery (`ui/dist/dashboard`,
//! `ui/dist/gallery`, embedded by the relay binary) and of the desktop window
//! (`ui/dist/desktop`, embedded by the desktop app).
//! Also runs the dashboard's end-to-end tests in a real Chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::sys::{cargo_env, status, workspace_root};

/// Build everything the dashboard needs; idempotent.
pub fn build() -> anyhow::Result<()> {
    let ui = workspace_root().join("ui");
    let generated = ui.join("src").join("generated");
    match std::fs::remove_dir_all(&generated) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).context("clearing ui/src/generated");
        }
        _ => {}
    }
    std::fs::create_dir_all(&generated)?;
    let generated_str = generated.to_string_lossy().into_owned();
    cargo_env(
        &[
            "test",
            "--quiet",
            "--package",
            "shotline-protocol",
            "--features",
            "ts",
            "--lib",
            "export_bindings",
        ],
        &[
            ("TS_RS_EXPORT_DIR", generated_str.as_str()),
            ("TS_RS_LARGE_INT", "number"),
        ],
    )?;
    // The desktop window's types (they use the protocol's; exported beside them).
    cargo_env(
        &[
            "test",
            "--quiet",
            "--package",
            "shotline-desktop",
            "--lib",
            "export_bindings",
        ],
        &[
            ("TS_RS_EXPORT_DIR", generated_str.as_str()),
            ("TS_RS_LARGE_INT", "number"),
        ],
    )?;
    npm_install(&ui)?;
    status(
        Command::new(ui.join("node_modules").join(".bin").join("tsc"))
            .args(["-p", "tsconfig.json"])
            .current_dir(&ui),
    )?;
    // The relay's dashboard and the desktop window: static files plus compiled scripts.
    for (page, statics) in [
        ("dashboard", &["index.html", "dashboard.css"]),
        ("desktop", &["index.html", "desktop.css"]),
        ("gallery", &["index.html", "gallery.css"]),
    ] {
        let dist = ui.join("dist").join(page);
        let _ = std::fs::remove_dir_all(&dist);
        std::fs::create_dir_all(&dist)?;
        for file in statics {
            std::fs::copy(ui.join(page).join(file), dist.join(file))
                .with_context(|| format!("copying ui/{page}/{file}"))?;
        }
        for entry in std::fs::read_dir(ui.join("build").join(page))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "js")
                && let Some(name) = path.file_name()
            {
                std::fs::copy(&path, dist.join(name))?;
            }
        }
    }
    Ok(())
}

/// `npm ci` when the lock file is there and `node_modules` is missing or older than it.
pub fn npm_install(dir: &Path) -> anyhow::Result<()> {
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules").join(".package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if lock.exists() && modified(&installed) >= modified(&lock) && modified(&installed).is_some() {
        return Ok(());
    }
    let verb = if lock.exists() { "ci" } else { "install" };
    status(
        Command::new("npm")
            .args([verb, "--no-audit", "--no-fund"])
            .current_dir(dir),
    )
}

/// The debug binaries `cargo test` built.
fn bin_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("debug")
}

/// The committed build outputs (`ui/dist`, `ui/src/generated`) must be what the sources
/// build: after [`build`], any difference fails, so a stale copy cannot ship. Outside a
/// git checkout (a source tarball) there is nothing to compare with.
pub fn check_outputs_committed() -> anyhow::Result<()> {
    let root = workspace_root();
    let out = Command::new("git")
        .args(["status", "--porcelain", "--", "ui/dist", "ui/src/generated"])
        .current_dir(&root)
        .output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        eprintln!("xtask: not a git checkout; the committed UI build is not compared");
        return Ok(());
    };
    let changed = String::from_utf8_lossy(&out.stdout);
    if !changed.trim().is_empty() {
        anyhow::bail!(
            "ui/dist or ui/src/generated differ from what the sources build; run `cargo xtask ui` and commit them:\n{changed}"
        );
    }
    Ok(())
}

/// The dashboard's end-to-end tests; (passed, failed).
pub fn e2e() -> anyhow::Result<(u64, u64)> {
    let ui = workspace_root().join("ui");
    let output = Command::new("node")
        .args(["--test", "--test-reporter=tap", "tests/"])
        .env("SHOTLINE_BIN_DIR", bin_dir())
        .current_dir(&ui)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("starting node --test")?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    let (passed, failed) = tap_counts(&text);
    if !output.status.success() || failed > 0 || passed == 0 {
        anyhow::bail!("dashboard end-to-end tests failed ({passed} passed, {failed} failed)");
    }
    Ok((passed, failed))
}

/// The `# pass N` and `# fail N` counts of node's TAP report.
pub fn tap_counts(text: &str) -> (u64, u64) {
    let count = |label: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(label))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    (count("# pass "), count("# fail "))
}
