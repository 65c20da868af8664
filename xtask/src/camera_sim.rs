//! `cargo xtask camera-sim`: libgphoto2 2.5.31 with its virtual USB camera (a PTP "Nikon
//! D750" on `usb:001,001` that captures by copying JPEGs from `VCAMERADIR`), built from
//! Debian's trixie source package into `~/.cache/shotline/libgphoto2`, once.
//!
//! It adds a `deb-src` entry for trixie (the same mirror as the system's own Debian
//! entry), installs the build dependencies, then `configure --enable-vusb
//! --with-camlibs=ptp2`, `make`, `make install`. It prints the environment a process
//! needs to see the virtual camera: `IOLIBS` (a folder with only `vusb.so`), `CAMLIBS`,
//! `LD_LIBRARY_PATH` and `PKG_CONFIG_PATH` (for building the `gphoto2` crate against it).
//!
//! The patches in `xtask/patches` (`libgphoto2-*.patch`, in name order) are applied to the
//! source before it is built: live view and focus for the virtual camera. A build made
//! with other patches (a stamp in the prefix names them) is built again.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::sys;

const VERSION: &str = "2.5.31";
const PORT_VERSION: &str = "0.12.2";
const BUILD_DEPS: &[&str] = &[
    "build-essential",
    "patch",
    "pkg-config",
    "libltdl-dev",
    "libexif-dev",
    "libjpeg-dev",
    "libusb-1.0-0-dev",
    "libclang-dev",
];
const SOURCES: &str = "/etc/apt/sources.list.d/shotline-trixie-src.sources";

/// Where the build is installed.
pub fn prefix() -> PathBuf {
    sys::cache_dir().join("libgphoto2")
}

/// The variables that point libgphoto2 (and a build of the `gphoto2` crate) at the virtual
/// camera; `VCAMERADIR` is the caller's.
pub fn env() -> Vec<(&'static str, PathBuf)> {
    let prefix = prefix();
    vec![
        ("IOLIBS", prefix.join("iolibs")),
        (
            "CAMLIBS",
            prefix.join("lib").join("libgphoto2").join(VERSION),
        ),
        ("LD_LIBRARY_PATH", prefix.join("lib")),
        ("PKG_CONFIG_PATH", prefix.join("lib").join("pkgconfig")),
    ]
}

/// Build it unless it is there.
pub fn ensure() -> anyhow::Result<()> {
    if !cfg!(target_os = "linux") || !sys::which("apt-get") {
        bail!("the virtual camera is built from Debian's source package: Debian or Ubuntu only");
    }
    let prefix = prefix();
    let vusb = prefix.join("iolibs").join("vusb.so");
    let stamp = prefix.join("shotline-patches");
    let wanted = patches_stamp()?;
    if !vusb.is_file() || std::fs::read_to_string(&stamp).ok().as_deref() != Some(&wanted) {
        build(&prefix)?;
        std::fs::write(&stamp, wanted)?;
    }
    Ok(())
}

/// The patches applied to libgphoto2's source, in order.
fn patches() -> anyhow::Result<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("patches");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("libgphoto2-") && n.ends_with(".patch")
            })
        })
        .collect();
    found.sort();
    Ok(found)
}

/// Names and a digest (FNV-1a, 64 bits) of the patches: what a build was made with.
fn patches_stamp() -> anyhow::Result<String> {
    let mut stamp = String::new();
    for patch in patches()? {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in std::fs::read(&patch)? {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        let name = patch.file_name().unwrap_or_default().to_string_lossy();
        stamp.push_str(&format!("{name} {hash:016x}\n"));
    }
    Ok(stamp)
}

/// Build it unless it is there; print the environment.
pub fn camera_sim() -> anyhow::Result<()> {
    ensure()?;
    for (key, value) in env() {
        println!("export {key}={}", value.display());
    }
    println!("export VCAMERADIR=<a folder of JPEGs the camera \"shoots\">");
    Ok(())
}

/// The mirror of the system's Debian entry, so no host name is written here.
pub fn debian_mirror() -> anyhow::Result<String> {
    let mut texts = Vec::new();
    for file in [
        "/etc/apt/sources.list.d/debian.sources",
        "/etc/apt/sources.list",
    ] {
        if let Ok(text) = std::fs::read_to_string(file) {
            texts.push(text);
        }
    }
    for text in &texts {
        for line in text.lines() {
            let line = line.trim();
            if let Some(uri) = line.strip_prefix("URIs:") {
                if let Some(uri) = uri.split_whitespace().next()
                    && !uri.contains("security")
                {
                    return Ok(uri.to_string());
                }
            } else if let Some(rest) = line.strip_prefix("deb ")
                && let Some(uri) = rest.split_whitespace().find(|w| w.starts_with("http"))
                && !uri.contains("security")
            {
                return Ok(uri.to_string());
            }
        }
    }
    bail!("no Debian mirror found in the apt sources")
}

fn build(prefix: &Path) -> anyhow::Result<()> {
    let sudo = !sys::is_root();
    if !Path::new(SOURCES).exists() {
        let entry = format!(
            "Types: deb-src\nURIs: {}\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
            debian_mirror()?
        );
        let staged = std::env::temp_dir().join("shotline-trixie-src.sources");
        std::fs::write(&staged, entry)?;
        sys::privileged(sudo, &["cp", &staged.to_string_lossy(), SOURCES])?;
        sys::privileged(sudo, &["apt-get", "update", "-q"])?;
    }
    let mut install = vec!["apt-get", "install", "-y", "-q", "--no-install-recommends"];
    install.extend(BUILD_DEPS);
    sys::privileged(sudo, &install)?;

    let work = sys::cache_dir().join("libgphoto2-src");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    sys::status(
        Command::new("apt-get")
            .args(["source", "-q", "--download-only", "libgphoto2/trixie"])
            .current_dir(&work),
    )?;
    let tarball = std::fs::read_dir(&work)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy() == format!("libgphoto2_{VERSION}.orig.tar.xz"))
        })
        .with_context(|| format!("apt-get source did not fetch libgphoto2 {VERSION}"))?;
    sys::status(
        Command::new("tar")
            .arg("-xf")
            .arg(&tarball)
            .current_dir(&work),
    )?;
    let source = work.join(format!("libgphoto2-{VERSION}"));
    for patch in patches()? {
        eprintln!("xtask camera-sim: applying {}", patch.display());
        sys::status(
            Command::new("patch")
                .args(["-p1", "--forward", "--batch", "-i"])
                .arg(&patch)
                .current_dir(&source),
        )?;
    }
    eprintln!("xtask camera-sim: building libgphoto2 {VERSION} with the virtual camera");
    sys::status(
        Command::new("./configure")
            .args(["--enable-vusb", "--with-camlibs=ptp2", "--disable-static"])
            .arg(format!("--prefix={}", prefix.display()))
            .current_dir(&source),
    )?;
    sys::status(Command::new("make").args(["-j2"]).current_dir(&source))?;
    sys::status(Command::new("make").arg("install").current_dir(&source))?;
    let iolibs = prefix.join("iolibs");
    std::fs::create_dir_all(&iolibs)?;
    std::fs::copy(
        prefix
            .join("lib")
            .join("libgphoto2_port")
            .join(PORT_VERSION)
            .join("vusb.so"),
        iolibs.join("vusb.so"),
    )
    .context("vusb.so was not built")?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
