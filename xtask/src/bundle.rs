//! `cargo xtask bundle`: the desktop app's installers for this system through the Tauri CLI
//! (`@tauri-apps/cli`, installed into `~/.cache/shotline/tauri-cli`): .deb and .rpm on
//! Linux (AppImage needs a download and is left to the release workflow), .dmg on macOS,
//! MSI and NSIS on Windows.
//!
//! The CLI is not in the UI's lock file: its per-platform binaries are optional packages,
//! and a registry mirror that serves only this platform's leaves the lock unusable for
//! `npm ci`. `npm install` of the pinned version tolerates that.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;

use crate::sys;

/// Build the installers; the files made.
pub fn bundle() -> anyhow::Result<Vec<PathBuf>> {
    crate::ui::build()?;
    let root = sys::workspace_root();
    let cli = tauri_cli()?;
    let bundles = if cfg!(target_os = "linux") {
        "deb,rpm"
    } else if cfg!(target_os = "macos") {
        "dmg"
    } else {
        "msi,nsis"
    };
    let mut build = Command::new(&cli);
    build
        .args(["build", "--bundles", bundles, "--ci"])
        .current_dir(&root);
    if cfg!(target_os = "linux") {
        // Calls bound on first use, so that the binary can start without WebKit (see
        // `lazy_webkit`, which the Tauri CLI runs before it bundles).
        let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
        flags.push_str(" -C relro-level=partial");
        build.env("RUSTFLAGS", flags.trim());
    }
    sys::status(&mut build)?;
    let dir = crate::bench::target_dir().join("release").join("bundle");
    let mut made = Vec::new();
    for kind in
        std::fs::read_dir(&dir).with_context(|| format!("no bundles in {}", dir.display()))?
    {
        let kind = kind?.path();
        if kind.is_dir() {
            for file in std::fs::read_dir(&kind)? {
                let file = file?.path();
                if file.is_file() {
                    made.push(file);
                }
            }
        }
    }
    for file in &made {
        println!("{}", file.display());
    }
    Ok(made)
}

/// The Tauri CLI version, the same in the release workflow.
pub const TAURI_CLI: &str = "2.12.5";

/// The Tauri CLI, installed once.
fn tauri_cli() -> anyhow::Result<PathBuf> {
    let dir = sys::cache_dir().join("tauri-cli");
    let bin = dir.join("node_modules").join(".bin").join("tauri");
    let version = std::fs::read_to_string(dir.join("node_modules/@tauri-apps/cli/package.json"))
        .unwrap_or_default();
    if !bin.exists() || !version.contains(&format!("\"version\": \"{TAURI_CLI}\"")) {
        std::fs::create_dir_all(&dir)?;
        sys::status(
            Command::new("npm")
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--no-save",
                    "--no-package-lock",
                ])
                .arg(format!("@tauri-apps/cli@{TAURI_CLI}"))
                .current_dir(&dir),
        )?;
    }
    Ok(bin)
}
