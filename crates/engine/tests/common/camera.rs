//! libgphoto2's virtual camera for the tests: where `cargo xtask camera-sim` installed
//! it, and the environment that points a studio's engine at it.

use std::path::{Path, PathBuf};

/// libgphoto2 with the virtual camera, as `cargo xtask camera-sim` installs it.
pub fn sim() -> PathBuf {
    let prefix = std::env::var_os("SHOTLINE_CAMERA_SIM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/shotline/libgphoto2")
        });
    assert!(
        prefix.join("iolibs/vusb.so").is_file(),
        "the virtual camera is not built at {}: run `cargo xtask camera-sim` (cargo xtask test does)",
        prefix.display()
    );
    prefix
}

/// Point `studio`'s engine at a virtual camera whose folder is `vcam`, cameras on.
pub fn use_camera(studio: &mut super::Studio, vcam: &Path) {
    let prefix = sim();
    for (key, value) in [
        ("IOLIBS", prefix.join("iolibs")),
        ("CAMLIBS", prefix.join("lib/libgphoto2/2.5.31")),
        ("LD_LIBRARY_PATH", prefix.join("lib")),
        ("VCAMERADIR", vcam.to_path_buf()),
    ] {
        studio
            .env
            .push((key.into(), value.to_string_lossy().into_owned()));
    }
    studio
        .env
        .push(("SHOTLINE_CAMERA_ENABLED".into(), "true".into()));
}
