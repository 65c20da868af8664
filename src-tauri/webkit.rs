//! WebKit, loaded when the window is first made rather than when the app starts.
//!
//! On Linux the window is WebKitGTK, and the libraries it brings (WebKit, JavaScriptCore,
//! libsoup, GStreamer, the speech synthesiser, the codecs) held about 35 MB of a tray-only
//! app's resident memory, all day, for a window that may never open. The installed binary
//! therefore does not list them as needed at start: `cargo xtask bundle` builds it with
//! lazily bound calls (`RUSTFLAGS="-C relro-level=partial"` for the Tauri CLI's build) and
//! drops WebKit, JavaScriptCore and libsoup from its dynamic section (`cargo xtask
//! lazy-webkit`, run by the Tauri CLI before it bundles, keeps that list). [`load`] opens WebKit with `RTLD_GLOBAL` before the first WebView is made,
//! so each call into it binds on its first use.
//!
//! A build that still lists WebKit as needed (`cargo build`, the tests' debug app) has it
//! loaded already, and [`load`] only takes another reference to it. Elsewhere than Linux,
//! the WebView is the system's and there is nothing to load.

/// The library that brings the WebView (and, as its own dependencies, JavaScriptCore and
/// libsoup).
#[cfg(target_os = "linux")]
pub const LIBRARY: &str = "libwebkit2gtk-4.1.so.0";

/// Make sure WebKit is loaded, once: call it before making a WebView. The error names the
/// library and what the loader said (a WebKitGTK that is not installed, say).
#[cfg(target_os = "linux")]
pub fn load() -> Result<(), String> {
    use std::sync::OnceLock;

    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};

    static LOADED: OnceLock<Result<Library, String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            // SAFETY: WebKitGTK's initialisers only register its GObject types and read
            // its settings; they run on this, the main thread, before any WebView exists,
            // and the library stays loaded for the life of the process (the handle is kept
            // in a static, so it is never closed under a call into it).
            #[allow(unsafe_code)]
            let library = unsafe { Library::open(Some(LIBRARY), RTLD_NOW | RTLD_GLOBAL) };
            library.map_err(|e| format!("cannot load {LIBRARY}: {e}"))
        })
        .as_ref()
        .map(|_| ())
        .map_err(Clone::clone)
}

/// WebKit's version functions, answered by this binary. Tauri asks for the WebView's
/// version as it starts (whether a WebView runtime is installed), before any window: were
/// that call WebKit's, it would bind at start, and the binary could not start without
/// WebKit. The executable's own definitions come first in the lookup, so every caller gets
/// these: the loaded library's answer once WebKit is loaded, and until then the version
/// this binary was built against.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod version {
    use std::ffi::{c_int, c_uint};

    use libloading::os::unix::{Library, RTLD_NOW};

    /// `dlopen`'s "only if loaded already" flag: 4 in glibc and musl on every Linux
    /// architecture (libloading does not name it).
    const RTLD_NOLOAD: c_int = 0x4;

    pub(super) fn ask(symbol: &[u8], built: &str) -> c_uint {
        let built = built.parse().unwrap_or(0);
        // SAFETY: RTLD_NOLOAD only looks for a library that is loaded already (it runs no
        // initialiser), and the symbol looked up in that handle is WebKit's own, a
        // function of no arguments returning an unsigned int as declared here.
        unsafe {
            match Library::open(Some(super::LIBRARY), RTLD_NOW | RTLD_NOLOAD) {
                Ok(webkit) => webkit
                    .get::<unsafe extern "C" fn() -> c_uint>(symbol)
                    .map(|f| f())
                    .unwrap_or(built),
                Err(_) => built,
            }
        }
    }

    /// WebKit's major version.
    #[unsafe(no_mangle)]
    pub extern "C" fn webkit_get_major_version() -> c_uint {
        ask(b"webkit_get_major_version\0", env!("SHOTLINE_WEBKIT_MAJOR"))
    }

    /// WebKit's minor version.
    #[unsafe(no_mangle)]
    pub extern "C" fn webkit_get_minor_version() -> c_uint {
        ask(b"webkit_get_minor_version\0", env!("SHOTLINE_WEBKIT_MINOR"))
    }

    /// WebKit's micro version.
    #[unsafe(no_mangle)]
    pub extern "C" fn webkit_get_micro_version() -> c_uint {
        ask(b"webkit_get_micro_version\0", env!("SHOTLINE_WEBKIT_MICRO"))
    }
}

/// Nothing to load where the WebView is the operating system's.
#[cfg(not(target_os = "linux"))]
pub fn load() -> Result<(), String> {
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn webkit_loads_and_a_second_call_is_the_same_answer() {
        assert_eq!(load(), Ok(()));
        assert_eq!(load(), Ok(()));
        let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
        assert!(maps.contains(LIBRARY), "{LIBRARY} is not mapped");
    }

    #[test]
    fn the_version_is_the_loaded_webkits() {
        load().expect("webkit");
        let version = tauri::webview_version().expect("version");
        let installed = std::process::Command::new("pkg-config")
            .args(["--modversion", "webkit2gtk-4.1"])
            .output()
            .expect("pkg-config");
        assert_eq!(version, String::from_utf8_lossy(&installed.stdout).trim());
        assert!(version.starts_with("2."), "{version}");
    }

    #[test]
    fn a_version_webkit_does_not_tell_is_the_one_built_against() {
        load().expect("webkit");
        assert_eq!(super::version::ask(b"webkit_get_no_such_version\0", "7"), 7);
        assert_eq!(
            super::version::ask(b"webkit_get_major_version\0", "7"),
            2,
            "the loaded WebKit's own answer"
        );
    }
}
