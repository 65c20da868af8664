//! `lazy-webkit`: the Tauri CLI's step before it bundles (`beforeBundleCommand`). On Linux,
//! it drops WebKitGTK, JavaScriptCore and libsoup from the release binary's needed
//! libraries, so the tray app starts without them and the app loads them when its window
//! is first made (`src-tauri/webkit.rs`). Elsewhere it does nothing.
//!
//! That is only safe when every use of those libraries in the binary is a lazily bound
//! call: a binary linked with `-z now`, or one that takes the address of one of their
//! symbols (bound when the program starts), would stop at start with an unresolved
//! symbol. Such a binary is left as it is, with the reason on stderr: it loads WebKit at
//! start, as every build did before, and works.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The libraries deferred until the window, as the app's loader names them.
const DEFERRED: &[&str] = &[
    "libwebkit2gtk-4.1.so.0",
    "libjavascriptcoregtk-4.1.so.0",
    "libsoup-3.0.so.0",
];

pub fn lazy_webkit() -> anyhow::Result<()> {
    if !cfg!(target_os = "linux") {
        return Ok(());
    }
    let bin = binary();
    match plan(&bin)? {
        Plan::Drop(libs) => {
            let mut patch = Command::new("patchelf");
            for lib in &libs {
                patch.arg("--remove-needed").arg(lib);
            }
            crate::sys::status(patch.arg(&bin))?;
            eprintln!(
                "lazy-webkit: {} starts without {} (loaded when the window opens)",
                bin.display(),
                libs.join(", ")
            );
        }
        Plan::Keep(why) => eprintln!("lazy-webkit: {} left as it is: {why}", bin.display()),
    }
    Ok(())
}

/// The binary the Tauri CLI just built: its target and profile come in its hook's
/// environment.
fn binary() -> PathBuf {
    let mut dir = crate::bench::target_dir();
    if let Ok(triple) = std::env::var("TAURI_ENV_TARGET_TRIPLE")
        && dir.join(&triple).is_dir()
    {
        dir = dir.join(triple);
    }
    let profile = if std::env::var("TAURI_ENV_DEBUG").is_ok_and(|d| d == "true") {
        "debug"
    } else {
        "release"
    };
    dir.join(profile).join("shotline-desktop")
}

#[derive(Debug, PartialEq)]
enum Plan {
    /// Remove these from the needed libraries.
    Drop(Vec<String>),
    /// Leave the binary as it is, for this reason.
    Keep(String),
}

fn plan(bin: &Path) -> anyhow::Result<Plan> {
    let dynamic = readelf(&["-dW"], bin)?;
    let needed: Vec<String> = dynamic
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split_once('[')?.1.trim_end_matches(']').to_string()))
        .collect();
    let libs: Vec<String> = DEFERRED
        .iter()
        .filter(|lib| needed.iter().any(|n| n == *lib))
        .map(|lib| lib.to_string())
        .collect();
    if libs.is_empty() {
        return Ok(Plan::Keep(
            "it does not list WebKit as needed (dropped already, or never linked), so it starts without it".into(),
        ));
    }
    if let Some(why) = binds_at_start(&dynamic) {
        return Ok(Plan::Keep(why));
    }
    let installed = loader_listing();
    let mut theirs = HashSet::new();
    for lib in &libs {
        theirs.extend(exported(&locate(&installed, lib)?)?);
    }
    let relocations = readelf(&["-rW"], bin)?;
    if let Some(eager) = eager_uses(&relocations, &theirs) {
        return Ok(Plan::Keep(format!(
            "it takes the address of {eager}, which is bound at start (a function pointer, not a call), so it loads WebKit at start"
        )));
    }
    Ok(Plan::Drop(libs))
}

/// Why every symbol is bound when the program starts, if it is.
fn binds_at_start(dynamic: &str) -> Option<String> {
    dynamic
        .lines()
        .filter(|l| l.contains("(FLAGS)") || l.contains("(FLAGS_1)"))
        .any(|l| l.contains("BIND_NOW") || l.split_whitespace().any(|w| w == "NOW"))
        .then(|| {
            "it binds every symbol at start (full RELRO), so it loads WebKit at start; build it with RUSTFLAGS=\"-C relro-level=partial\" to defer WebKit"
                .to_string()
        })
}

/// The first symbol of `theirs` that a relocation other than a lazy call slot refers to.
fn eager_uses(relocations: &str, theirs: &HashSet<String>) -> Option<String> {
    relocations.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let kind = *fields.get(2)?;
        if !kind.starts_with("R_") || kind.ends_with("JUMP_SLOT") {
            return None;
        }
        let symbol = fields.get(4)?.split('@').next()?;
        theirs.contains(symbol).then(|| symbol.to_string())
    })
}

/// The symbols a shared library defines.
fn exported(lib: &Path) -> anyhow::Result<HashSet<String>> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(lib)
        .output()
        .context("running nm (binutils)")?;
    if !out.status.success() {
        bail!("nm -D {} failed", lib.display());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(|s| s.split('@').next().unwrap_or(s).to_string())
        .collect())
}

/// The libraries the system's loader knows (`ldconfig -p`), read once.
fn loader_listing() -> String {
    Command::new("ldconfig")
        .arg("-p")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Where the system's loader finds `lib`, from its `listing`.
fn locate(listing: &str, lib: &str) -> anyhow::Result<PathBuf> {
    listing
        .lines()
        .filter(|l| l.trim_start().starts_with(lib))
        .find_map(|l| l.split_once("=> ").map(|(_, p)| PathBuf::from(p.trim())))
        .with_context(|| format!("{lib} is not installed (ldconfig -p does not list it)"))
}

fn readelf(args: &[&str], bin: &Path) -> anyhow::Result<String> {
    let out = Command::new("readelf")
        .args(args)
        .arg(bin)
        .output()
        .context("running readelf (binutils)")?;
    if !out.status.success() {
        bail!(
            "readelf {} {} failed: {}",
            args.join(" "),
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_bound_at_start_is_kept() {
        let now = " 0x000000000000001e (FLAGS)              BIND_NOW\n 0x000000006ffffffb (FLAGS_1)            Flags: NOW PIE\n";
        assert!(binds_at_start(now).is_some());
        let lazy = " 0x000000006ffffffb (FLAGS_1)            Flags: PIE\n";
        assert_eq!(binds_at_start(lazy), None);
    }

    #[test]
    fn only_a_lazy_call_slot_may_refer_to_a_deferred_symbol() {
        let theirs: HashSet<String> = ["webkit_web_view_new".to_string()].into();
        let calls = "000001f0a018  000400000007 R_X86_64_JUMP_SLOT     0000000000000000 webkit_web_view_new + 0\n\
                     000001f0a020  000500000006 R_X86_64_GLOB_DAT      0000000000000000 g_free@GLIBC + 0\n";
        assert_eq!(eager_uses(calls, &theirs), None);
        let pointer = "000001f0a028  000400000006 R_X86_64_GLOB_DAT      0000000000000000 webkit_web_view_new + 0\n";
        assert_eq!(
            eager_uses(pointer, &theirs),
            Some("webkit_web_view_new".to_string())
        );
    }
}
