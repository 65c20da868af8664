//! Every path component Shotline writes is made safe here: names from cameras and hot
//! folders are untrusted input.

use std::path::PathBuf;

/// Split `name` at its last dot into stem and extension (without the dot). A leading dot
/// is part of the stem.
pub fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(0) | None => (name, ""),
        Some(i) => (&name[..i], &name[i + 1..]),
    }
}

const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];
pub(crate) const MAX_COMPONENT_BYTES: usize = 200;

/// Make one path component safe: no separators, control characters or characters Windows
/// forbids, no `..`, no reserved device names, no trailing dot or space, no leading dot
/// (a hidden file would be skipped by every other tool), bounded length.
pub fn sanitize_component(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    while out.ends_with(['.', ' ']) {
        out.pop();
    }
    let trimmed = out.trim_start_matches(['.', ' ']);
    if trimmed.len() != out.len() {
        out = format!("_{trimmed}");
    }
    let stem = out.split('.').next().unwrap_or_default().trim_end();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        out.insert(0, '_');
    }
    if out.is_empty() {
        out.push('_');
    }
    if out.len() > MAX_COMPONENT_BYTES {
        let (stem, ext) = split_ext(&out);
        let keep = MAX_COMPONENT_BYTES.saturating_sub(ext.len() + 1);
        let mut cut = keep.min(stem.len());
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        out = if ext.is_empty() || ext.len() > 16 {
            stem[..cut].to_string()
        } else {
            format!("{}.{ext}", &stem[..cut])
        };
    }
    out
}

/// The `n`th alternative for a taken name: `DSC_0001.NEF` → `DSC_0001-n.NEF`.
pub fn with_suffix(path: &std::path::Path, n: u32) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = split_ext(&name);
    let new = if ext.is_empty() {
        format!("{stem}-{n}")
    } else {
        format!("{stem}-{n}.{ext}")
    };
    path.with_file_name(new)
}
