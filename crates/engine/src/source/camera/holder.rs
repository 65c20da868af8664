//! Who holds a camera: on Linux, the process with the camera's USB device node open
//! (usually the desktop's gvfs volume monitor), and how to free it.

use std::path::PathBuf;
use std::process::Command;

/// The device node of a libgphoto2 USB port: `usb:001,005` → `/dev/bus/usb/001/005`.
pub fn device_node(port: &str) -> Option<PathBuf> {
    let rest = port.strip_prefix("usb:")?;
    let (bus, dev) = rest.split_once(',')?;
    if bus.len() != 3
        || dev.len() != 3
        || !bus.chars().chain(dev.chars()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    Some(PathBuf::from(format!("/dev/bus/usb/{bus}/{dev}")))
}

/// The processes (pid, name) that have the port's device node open; empty where this
/// cannot be seen (other systems, other users' processes).
pub fn holders(port: &str) -> Vec<(u32, String)> {
    let Some(node) = device_node(port) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in procs.filter_map(|e| e.ok()) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        if fds
            .filter_map(|e| e.ok())
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == node))
        {
            let name = std::fs::read_to_string(entry.path().join("comm"))
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            out.push((pid, name));
        }
    }
    out
}

/// What to tell the photographer when the camera on `port` is claimed by another program.
pub fn busy_message(port: &str, holders: &[(u32, String)]) -> String {
    let who = if holders.is_empty() {
        "another program (on Linux usually the desktop's gvfs volume monitor, which mounts cameras as drives)".to_string()
    } else {
        holders
            .iter()
            .map(|(pid, name)| format!("{name} (pid {pid})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let gvfs = holders.is_empty() || holders.iter().any(|(_, n)| n.starts_with("gvfs"));
    let fix = if gvfs {
        "unmount the camera in the file manager, or run `gio mount -s gphoto2`; or set [camera] unmount_gvfs = true to let Shotline do it"
    } else {
        "quit that program (or close its camera window)"
    };
    format!(
        "The camera on {port} is held by {who}: {fix}. Shotline connects as soon as it is free."
    )
}

/// Unmount every gphoto2 volume of gvfs (`gio mount -s gphoto2`); true when it ran.
pub fn unmount_gvfs() -> bool {
    Command::new("gio")
        .args(["mount", "-s", "gphoto2"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usb_ports_map_to_device_nodes_and_others_do_not() {
        assert_eq!(
            device_node("usb:001,005"),
            Some(PathBuf::from("/dev/bus/usb/001/005"))
        );
        assert_eq!(device_node("usb:"), None);
        assert_eq!(device_node("usb:1,5"), None);
        assert_eq!(device_node("usb:../,x"), None);
        assert_eq!(device_node("ptpip:192.168.1.2"), None);
    }

    #[test]
    fn the_busy_message_names_the_holder_and_the_fix() {
        let m = busy_message("usb:001,005", &[(42, "gvfs-gphoto2-vo".into())]);
        assert!(
            m.contains("gvfs-gphoto2-vo (pid 42)") && m.contains("gio mount -s gphoto2"),
            "{m}"
        );
        let m = busy_message("usb:001,005", &[(7, "darktable".into())]);
        assert!(
            m.contains("darktable (pid 7)") && m.contains("quit that program"),
            "{m}"
        );
        assert!(busy_message("usb:001,005", &[]).contains("gvfs"));
    }
}
