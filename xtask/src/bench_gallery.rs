//! `cargo xtask bench gallery`: the live gallery, in one run.
//!
//! 1. Previews: the gallery's preview (long edge 2048) and thumbnail (400) of 24-megapixel
//!    frames — camera-like JPEGs, and NEF-like RAW files (a TIFF header, a small thumbnail,
//!    24 MB of sensor data, a full-size embedded JPEG) — by `shotline preview` (the engine's
//!    own code, one frame after another as its preview task works), against `vipsthumbnail`
//!    (libvips, shrink-on-load; one process for all files per size) and ImageMagick
//!    (`convert` with a `jpeg:size` hint, both sizes from one decode). Neither peer reads a
//!    RAW's embedded JPEG, so for RAWs they are handed the embedded JPEG already extracted
//!    (untimed; it flatters them). Rounds interleave; frames per second, spread, ratios.
//!    The same JPEGs with a share's watermark burned into both pictures, beside them:
//!    what watermarking costs against making the previews.
//! 2. Live ([`bench_gallery_live`](crate::bench_gallery_live)): `shotline run` with its
//!    embedded relay, a share, and 200 guests on the share's link over WebSocket.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};

use crate::bench::{release_shotline, target_dir};
use crate::sys;

/// Distinct pictures made; each is used for several files.
const PICTURES: usize = 4;

/// Frames per kind and contender per round.
const FRAMES: usize = 12;

const ROUNDS: usize = 3;

pub fn bench() -> anyhow::Result<()> {
    for tool in ["vipsthumbnail", "convert"] {
        if !sys::which(tool) {
            bail!("{tool} is missing: run `cargo xtask setup` (libvips-tools, imagemagick)");
        }
    }
    let bin = release_shotline()?;
    std::fs::create_dir_all(target_dir())?;
    let work = tempfile::Builder::new()
        .prefix("bench-gallery-")
        .tempdir_in(target_dir())?;
    let root = work.path();
    let set = make_frames(root)?;
    let rounds: usize = std::env::var("SHOTLINE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);

    // `SHOTLINE_BENCH_PART=previews` or `live` runs one part only.
    let part = std::env::var("SHOTLINE_BENCH_PART").unwrap_or_default();
    let previews = part != "live";
    let rounds = if previews { rounds } else { 0 };
    // [kind][contender] → seconds per round.
    let mut times = [[vec![], vec![], vec![]], [vec![], vec![], vec![]]];
    // JPEG previews with a share's watermark, seconds per round.
    let mut marked = Vec::new();
    for round in 0..rounds {
        for (k, (ours, theirs)) in [(&set.jpegs, &set.jpegs), (&set.raws, &set.embedded)]
            .into_iter()
            .enumerate()
        {
            let out = root.join(format!("out-{round}-{k}"));
            times[k][0].push(shotline(&bin, ours, &out.join("shotline"))?);
            times[k][1].push(vips(theirs, &out.join("vips"))?);
            times[k][2].push(magick(theirs, &out.join("magick"))?);
            if k == 0 {
                marked.push(shotline_marked(&bin, ours, &out.join("marked"))?);
            }
            check_outputs(&out)?;
            std::fs::remove_dir_all(&out)?;
        }
    }

    let live = if part == "previews" {
        None
    } else {
        Some(crate::bench_gallery_live::live(&bin, root, &set.jpegs)?)
    };

    println!();
    if previews {
        print_previews(&times, rounds);
        print_watermark(&times[0][0], &marked);
    }
    if let Some(live) = live {
        crate::bench_gallery_live::print_live(&live)?;
    }
    Ok(())
}

fn print_previews(times: &[[Vec<f64>; 3]; 2], rounds: usize) {
    println!(
        "gallery previews: {FRAMES} frames of 6000x4000 per kind, preview 2048 + thumbnail 400, {rounds} rounds"
    );
    println!(
        "  {:<6} {:<28} {:>10} {:>16}",
        "kind", "contender", "frames/s", "spread (min-max)"
    );
    let names = [
        "shotline preview",
        "vipsthumbnail (2 runs)",
        "imagemagick convert",
    ];
    for (k, kind) in ["JPEG", "RAW"].into_iter().enumerate() {
        let fps: Vec<Vec<f64>> = times[k]
            .iter()
            .map(|t| t.iter().map(|s| FRAMES as f64 / s).collect())
            .collect();
        for (c, name) in names.iter().enumerate() {
            let (lo, hi) = spread(&fps[c]);
            println!(
                "  {kind:<6} {name:<28} {:>10.2} {:>7.2}-{:<7.2}",
                median(&fps[c]),
                lo,
                hi
            );
        }
        println!(
            "  {kind:<6} ratio shotline / vipsthumbnail {:.2}x, shotline / imagemagick {:.2}x",
            median(&fps[0]) / median(&fps[1]),
            median(&fps[0]) / median(&fps[2])
        );
    }
}

/// What burning a share's watermark into both pictures costs, against making them.
fn print_watermark(plain: &[f64], marked: &[f64]) {
    let per_frame = |t: &[f64]| median(t) / FRAMES as f64 * 1000.0;
    let (plain_ms, marked_ms) = (per_frame(plain), per_frame(marked));
    let (lo, hi) = spread(marked);
    println!(
        "gallery watermark (text, bottom right, into the 2048 preview and the 400 thumbnail): {marked_ms:.1} ms a frame with it, {plain_ms:.1} ms without (round spread {:.1}-{:.1} ms): {:.1} ms more, {:.0} % of making the previews",
        lo / FRAMES as f64 * 1000.0,
        hi / FRAMES as f64 * 1000.0,
        marked_ms - plain_ms,
        (marked_ms - plain_ms) / plain_ms * 100.0
    );
}

/// The files each contender works on.
struct Set {
    jpegs: Vec<PathBuf>,
    raws: Vec<PathBuf>,
    /// Each RAW's embedded JPEG, as a file (for the peers).
    embedded: Vec<PathBuf>,
}

/// `PICTURES` camera-like 24 MP JPEGs (ImageMagick: a seeded plasma, enlarged, with sensor
/// noise), `FRAMES` files of each kind.
fn make_frames(root: &Path) -> anyhow::Result<Set> {
    let src = root.join("src");
    std::fs::create_dir_all(&src)?;
    let mut bases = Vec::new();
    for i in 0..PICTURES {
        eprintln!("bench gallery: making picture {} of {PICTURES}", i + 1);
        let full = src.join(format!("base{i}.jpg"));
        let embedded = src.join(format!("base{i}-embedded.jpg"));
        let thumb = src.join(format!("base{i}-thumb.jpg"));
        sys::status(
            Command::new("convert")
                .args(["-seed", &(i + 1).to_string(), "-size", "1500x1000"])
                .arg("plasma:fractal")
                .args(["-resize", "6000x4000!", "-attenuate", "0.25"])
                .args(["+noise", "Gaussian", "-quality", "92"])
                .arg(&full),
        )?;
        // Cameras embed a full-size preview at a lower quality, and a 160x120 thumbnail.
        sys::status(
            Command::new("convert")
                .arg(&full)
                .args(["-quality", "80"])
                .arg(&embedded),
        )?;
        sys::status(
            Command::new("convert")
                .arg(&full)
                .args(["-resize", "160x120", "-quality", "80"])
                .arg(&thumb),
        )?;
        bases.push((full, embedded, thumb));
    }
    let (jpeg_dir, raw_dir) = (root.join("jpeg"), root.join("raw"));
    std::fs::create_dir_all(&jpeg_dir)?;
    std::fs::create_dir_all(&raw_dir)?;
    let mut set = Set {
        jpegs: vec![],
        raws: vec![],
        embedded: vec![],
    };
    for n in 0..FRAMES {
        let (full, embedded, thumb) = &bases[n % PICTURES];
        let jpeg = jpeg_dir.join(format!("DSC_{n:04}.JPG"));
        std::fs::copy(full, &jpeg)?;
        set.jpegs.push(jpeg);
        let raw = raw_dir.join(format!("DSC_{n:04}.NEF"));
        let preview = std::fs::read(embedded)?;
        std::fs::write(&raw, nef(&std::fs::read(thumb)?, &preview, n as u64))?;
        set.raws.push(raw);
        let extracted = raw_dir.join(format!("DSC_{n:04}-embedded.jpg"));
        std::fs::write(&extracted, &preview)?;
        set.embedded.push(extracted);
    }
    Ok(set)
}

/// A NEF-like TIFF: header, IFD0 (a 160x120 thumbnail, orientation), the full-size JPEG
/// preview, then 24 MB of sensor data (noise, as compressed raw data looks).
fn nef(thumb: &[u8], preview: &[u8], seed: u64) -> Vec<u8> {
    const SENSOR: usize = 24_000_000;
    let entries: [(u16, u16, u32, u32); 6] = [
        (0x0100, 3, 1, 160),
        (0x0101, 3, 1, 120),
        (0x0112, 3, 1, 1),
        (0x0201, 4, 1, 0), // JPEGInterchangeFormat: filled in below
        (0x0202, 4, 1, thumb.len() as u32),
        (0x0111, 4, 1, 0), // StripOffsets of the preview: filled in below
    ];
    let ifd_len = 2 + entries.len() * 12 + 4;
    let thumb_at = 8 + ifd_len;
    let preview_at = thumb_at + thumb.len();
    let mut out = Vec::with_capacity(preview_at + preview.len() + SENSOR);
    out.extend_from_slice(b"II*\0");
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, count, value) in entries {
        let value = match tag {
            0x0201 => thumb_at as u32,
            0x0111 => preview_at as u32,
            _ => value,
        };
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(thumb);
    out.extend_from_slice(preview);
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while out.len() < preview_at + preview.len() + SENSOR {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

fn timed(command: &mut Command) -> anyhow::Result<f64> {
    let start = Instant::now();
    let out = command
        .stdout(Stdio::null())
        .output()
        .with_context(|| format!("{command:?}"))?;
    if !out.status.success() {
        bail!("{command:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(start.elapsed().as_secs_f64())
}

fn shotline(bin: &Path, files: &[PathBuf], out: &Path) -> anyhow::Result<f64> {
    timed(
        Command::new(bin)
            .arg("preview")
            .arg("--out")
            .arg(out)
            .args(files),
    )
}

/// As [`shotline`], with a share's watermark burned into both pictures.
fn shotline_marked(bin: &Path, files: &[PathBuf], out: &Path) -> anyhow::Result<f64> {
    timed(
        Command::new(bin)
            .arg("preview")
            .arg("--out")
            .arg(out)
            .args(["--watermark", "© Studio Nord 2026"])
            .args(files),
    )
}

/// `vipsthumbnail` once per size, over every file (its usual use: a folder at a time).
fn vips(files: &[PathBuf], out: &Path) -> anyhow::Result<f64> {
    std::fs::create_dir_all(out)?;
    let mut total = 0.0;
    for (edge, quality) in [(2048, 82), (400, 78)] {
        let pattern = out.join(format!("%s-{edge}.jpg[Q={quality}]"));
        total += timed(
            Command::new("vipsthumbnail")
                .args(["-s", &edge.to_string(), "-o"])
                .arg(&pattern)
                .args(files),
        )?;
    }
    Ok(total)
}

/// ImageMagick: one `convert` per file, both sizes from one scaled decode.
fn magick(files: &[PathBuf], out: &Path) -> anyhow::Result<f64> {
    std::fs::create_dir_all(out)?;
    let mut total = 0.0;
    for file in files {
        let stem = file.file_stem().unwrap_or_default().to_string_lossy();
        total += timed(
            Command::new("convert")
                .args(["-define", "jpeg:size=2048x2048"])
                .arg(file)
                .args(["-auto-orient", "-thumbnail", "2048x2048", "-quality", "82"])
                .arg("-write")
                .arg(out.join(format!("{stem}-2048.jpg")))
                .args(["-thumbnail", "400x400", "-quality", "78"])
                .arg(out.join(format!("{stem}-400.jpg"))),
        )?;
    }
    Ok(total)
}

/// Every contender made a 2048 and a 400 of every frame.
fn check_outputs(out: &Path) -> anyhow::Result<()> {
    for contender in ["shotline", "vips", "magick"] {
        let dir = out.join(contender);
        let mut made = [0usize; 2];
        for entry in std::fs::read_dir(&dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.ends_with("-2048.jpg") {
                made[0] += 1;
            } else if name.ends_with("-400.jpg") {
                made[1] += 1;
            }
        }
        if made != [FRAMES, FRAMES] {
            bail!(
                "{contender} made {made:?} previews and thumbnails in {}, not {FRAMES} each",
                dir.display()
            );
        }
    }
    Ok(())
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn spread(values: &[f64]) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}
