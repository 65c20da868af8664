//! `cargo xtask bundle`: the desktop app's installers for this system through the Tauri CLI
//! (`@tauri-apps/cli` from the UI's npm packages): .deb and .rpm on Linux (AppImage needs a
//! download and is left to the release workflow), .dmg on macOS, MSI and NSIS on Windows.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;

use crate::sys;

/// Build the installers; the files made.
pub fn bundle() -> anyhow::Result<Vec<PathBuf>> {
    crate::ui::build()?;
    let root = sys::workspace_root();
    let cli = root
        .join("ui")
        .join("node_modules")
        .join(".bin")
        .join("tauri");
    let bundles = if cfg!(target_os = "linux") {
        "deb,rpm"
    } else if cfg!(target_os = "macos") {
        "dmg"
    } else {
        "msi,nsis"
    };
    sys::status(
        Command::new(&cli)
            .args(["build", "--bundles", bundles, "--ci"])
            .current_dir(&root),
    )?;
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
