//! `shotline config init | check`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use shotline_engine::config::{self, Config, DEFAULT_TOML};
use shotline_engine::paths;

pub fn init(file: Option<&Path>, force: bool) -> anyhow::Result<ExitCode> {
    let path = file.map(PathBuf::from).unwrap_or_else(paths::config_file);
    if path.exists() {
        if !force {
            eprintln!(
                "{} already exists; nothing changed (use --force to replace it, keeping a .bak)",
                path.display()
            );
            return Ok(ExitCode::from(1));
        }
        let backup = path.with_extension("toml.bak");
        std::fs::copy(&path, &backup).with_context(|| format!("keeping {}", backup.display()))?;
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, DEFAULT_TOML).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

pub fn check(file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let loaded = match Config::load(file) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let errors = config::check_folders(&loaded.config);
    let origin = if loaded.file_exists {
        loaded.file.display().to_string()
    } else {
        format!(
            "built-in defaults ({} does not exist)",
            loaded.file.display()
        )
    };
    println!("# from {origin}, with SHOTLINE_* overrides");
    print!("{}", loaded.config.to_toml());
    if errors.is_empty() {
        println!("# config OK");
        Ok(ExitCode::SUCCESS)
    } else {
        for e in &errors {
            eprintln!("{e}");
        }
        Ok(ExitCode::from(1))
    }
}
