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
//! 2. Live: `shotline run` with its embedded relay, a share, and 200 guests on the share's
//!    link over WebSocket; frames dropped into the hot folder at a shooting pace. Per frame
//!    and guest: stored (the frame's `time`) → `gallery_frame` received, and → its thumbnail's
//!    bytes fetched from the relay; p50/p99 and anything missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Mutex, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use crate::bench::{release_shotline, target_dir};
use crate::sys;

/// Distinct pictures made; each is used for several files.
const PICTURES: usize = 4;
/// Frames per kind and contender per round.
const FRAMES: usize = 12;
const ROUNDS: usize = 3;
const GUESTS: usize = 200;
const LIVE_FRAMES: usize = 20;
/// Between two frames in the live part: a photographer's steady pace.
const PACE: Duration = Duration::from_millis(1500);

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
    for round in 0..rounds {
        for (k, (ours, theirs)) in [(&set.jpegs, &set.jpegs), (&set.raws, &set.embedded)]
            .into_iter()
            .enumerate()
        {
            let out = root.join(format!("out-{round}-{k}"));
            times[k][0].push(shotline(&bin, ours, &out.join("shotline"))?);
            times[k][1].push(vips(theirs, &out.join("vips"))?);
            times[k][2].push(magick(theirs, &out.join("magick"))?);
            check_outputs(&out)?;
            std::fs::remove_dir_all(&out)?;
        }
    }

    let live = if part == "previews" {
        None
    } else {
        Some(live(&bin, root, &set.jpegs)?)
    };

    println!();
    if previews {
        print_previews(&times, rounds);
    }
    if let Some(live) = live {
        print_live(&live)?;
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

fn print_live(live: &Live) -> anyhow::Result<()> {
    println!();
    println!(
        "gallery live: {GUESTS} guests over WebSocket, {LIVE_FRAMES} frames of 24 MP, one every {} ms",
        PACE.as_millis()
    );
    let (a50, a99) = percentiles(&live.event_ms);
    let (b50, b99) = percentiles(&live.thumb_ms);
    println!("  stored -> gallery_frame at every guest   p50 {a50:>7.1} ms   p99 {a99:>7.1} ms");
    println!("  stored -> thumbnail bytes at every guest p50 {b50:>7.1} ms   p99 {b99:>7.1} ms");
    println!(
        "  missing: {} gallery_frame, {} thumbnails (of {})",
        live.missing_events,
        live.missing_thumbs,
        GUESTS * LIVE_FRAMES
    );
    if live.event_ms.is_empty() {
        bail!("no guest saw any frame: the live part measured nothing");
    }
    Ok(())
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

pub fn percentiles(samples: &[f64]) -> (f64, f64) {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let at = |p: f64| {
        v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    (at(0.50), at(0.99))
}

/// What the live part measured.
#[derive(Debug, Default)]
struct Live {
    event_ms: Vec<f64>,
    thumb_ms: Vec<f64>,
    missing_events: usize,
    missing_thumbs: usize,
}

pub fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// A child process (`shotline run`, a relay) stopped when dropped: SIGTERM, then SIGKILL
/// after 20 s.
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn live(bin: &Path, root: &Path, jpegs: &[PathBuf]) -> anyhow::Result<Live> {
    let base = root.join("live");
    let (hot, library, staging) = (base.join("hot"), base.join("library"), base.join("staging"));
    for dir in [&hot, &library, &staging] {
        std::fs::create_dir_all(dir)?;
    }
    let config = base.join("shotline.toml");
    std::fs::write(
        &config,
        format!(
            "[[hot_folder]]\npath = {hot:?}\n[library]\npath = {library:?}\n[camera]\nenabled = false\n[relay]\nlisten = \"127.0.0.1:0\"\n"
        ),
    )?;
    let ready = base.join("ready.json");
    let log = base.join("shotline.log");
    let _run = Running(
        Command::new(bin)
            .arg("--config")
            .arg(&config)
            .args(["run", "--session", "gallery-bench", "--ready-file"])
            .arg(&ready)
            .env("SHOTLINE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting shotline run")?,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready.exists() {
        if Instant::now() > deadline {
            bail!(
                "shotline run did not get ready: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let facts: serde_json::Value = serde_json::from_slice(&std::fs::read(&ready)?)?;
    let studio = facts["studio"].as_str().unwrap_or("studio").to_string();
    let out = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .args(["share", "create", "--title", "Bench", "--ttl", "2h"])
        .output()?;
    if !out.status.success() {
        bail!(
            "shotline share create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8(out.stdout)?;
    let link = stdout.lines().last().context("no link")?.trim().to_string();
    let (page, token) = link.split_once('#').context("the link has no token")?;
    let share = page.rsplit('/').next().unwrap_or_default().to_string();
    let host = page
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .replace("0.0.0.0", "127.0.0.1");
    let channel = format!("{studio}:gallery:{share}");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(guests(&host, token, &channel, &staging, &hot, jpegs))
}

/// One guest's record: per frame (stored → event ms, stored → thumbnail ms).
type Seen = Vec<(f64, Option<f64>)>;

async fn guests(
    host: &str,
    token: &str,
    channel: &str,
    staging: &Path,
    hot: &Path,
    jpegs: &[PathBuf],
) -> anyhow::Result<Live> {
    let gate = Arc::new(Semaphore::new(50));
    let records: Arc<Mutex<Vec<Seen>>> = Arc::new(Mutex::new(Vec::new()));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<bool>(GUESTS);
    let mut tasks = Vec::new();
    for _ in 0..GUESTS {
        let (gate, records, ready) = (gate.clone(), records.clone(), ready_tx.clone());
        let (host, token, channel) = (host.to_string(), token.to_string(), channel.to_string());
        tasks.push(tokio::spawn(async move {
            let ws = {
                let _permit = gate.acquire().await;
                join(&host, &token, &channel).await
            };
            let _ = ready.send(ws.is_ok()).await;
            if let Ok(ws) = ws {
                let slot = {
                    let mut all = records.lock().await;
                    all.push(Vec::new());
                    all.len() - 1
                };
                guest(ws, &host, &token, &records, slot).await;
            }
        }));
    }
    drop(ready_tx);
    // One word from each guest (each task keeps its sender, so count, not wait for close).
    let mut joined = 0;
    for _ in 0..GUESTS {
        match ready_rx.recv().await {
            Some(ok) => joined += usize::from(ok),
            None => break,
        }
    }
    if joined < GUESTS {
        eprintln!("bench gallery: only {joined} of {GUESTS} guests could join");
    }
    for n in 0..LIVE_FRAMES {
        let name = format!("LIVE_{n:04}.JPG");
        let staged = staging.join(&name);
        // Each a frame of its own (the same bytes twice would be a duplicate, not shown
        // again): a few bytes after the JPEG's end, which decoders ignore.
        let mut bytes = tokio::fs::read(&jpegs[n % jpegs.len()]).await?;
        bytes.extend_from_slice(format!("live frame {n}").as_bytes());
        tokio::fs::write(&staged, bytes).await?;
        tokio::fs::rename(&staged, hot.join(&name)).await?;
        tokio::time::sleep(PACE).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for task in tasks {
        if tokio::time::timeout_at(deadline, task).await.is_err() {
            break;
        }
    }
    let records = records.lock().await;
    let mut live = Live::default();
    for seen in records.iter() {
        live.missing_events += LIVE_FRAMES.saturating_sub(seen.len());
        for (event, thumb) in seen {
            live.event_ms.push(*event);
            match thumb {
                Some(t) => live.thumb_ms.push(*t),
                None => live.missing_thumbs += 1,
            }
        }
        live.missing_thumbs += LIVE_FRAMES.saturating_sub(seen.len());
    }
    live.missing_events += (GUESTS - records.len()) * LIVE_FRAMES;
    live.missing_thumbs += (GUESTS - records.len()) * LIVE_FRAMES;
    Ok(live)
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A guest on the share's channel, as the gallery page joins it.
pub async fn join(host: &str, token: &str, channel: &str) -> anyhow::Result<Ws> {
    let url = format!("ws://{host}/v1/ws?token={token}");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    let subscribe = serde_json::json!({"type": "subscribe", "channel": channel});
    ws.send(Message::Text(subscribe.to_string().into())).await?;
    while let Some(m) = ws.next().await {
        if let Message::Text(t) = m? {
            if t.contains("\"subscribed\"") {
                return Ok(ws);
            }
            if t.contains("\"error\"") {
                bail!("subscribe refused: {t}");
            }
        }
    }
    bail!("closed before subscribed")
}

/// Until `LIVE_FRAMES` frames came: each `gallery_frame`'s delay, then its thumbnail's,
/// into `records[slot]` as they come.
async fn guest(mut ws: Ws, host: &str, token: &str, records: &Mutex<Vec<Seen>>, slot: usize) {
    let mut seen = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(LIVE_FRAMES as u64 * 4 + 60);
    while seen < LIVE_FRAMES {
        let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, ws.next()).await else {
            break;
        };
        let Message::Text(text) = message else {
            continue;
        };
        let received = now_ms();
        let Ok(frame) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let event = &frame["event"];
        if frame["type"] != "event" || event["type"] != "gallery_frame" {
            continue;
        }
        let time = event["payload"]["time"].as_f64().unwrap_or(received);
        let thumb = match event["payload"]["thumbnail"].as_str() {
            Some(path) => fetch(host, path, token).await.ok().map(|_| now_ms() - time),
            None => None,
        };
        records.lock().await[slot].push((received - time, thumb));
        seen += 1;
    }
}

/// One HTTP/1.1 request to the relay with the token: the status line and the body.
async fn request(
    host: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> anyhow::Result<(String, Vec<u8>)> {
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    let body = body.unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no HTTP head")?;
    let status = String::from_utf8_lossy(&response[..head_end])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    Ok((status, response[head_end + 4..].to_vec()))
}

/// GET `path` as JSON.
pub async fn get_json(host: &str, path: &str, token: &str) -> anyhow::Result<serde_json::Value> {
    let (status, body) = request(host, "GET", path, token, None).await?;
    if !status.starts_with("HTTP/1.1 200") {
        bail!("GET {path}: {status}");
    }
    Ok(serde_json::from_slice(&body)?)
}

/// POST `body` to `path`; the JSON answer.
pub async fn post_json(
    host: &str,
    path: &str,
    token: &str,
    body: &serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let (status, answer) = request(host, "POST", path, token, Some(&body.to_string())).await?;
    if !status.starts_with("HTTP/1.1 200") {
        bail!("POST {path}: {status} {}", String::from_utf8_lossy(&answer));
    }
    Ok(serde_json::from_slice(&answer)?)
}

/// GET `path` from the relay with the token; the body's length.
async fn fetch(host: &str, path: &str, token: &str) -> anyhow::Result<usize> {
    let (status, bytes) = request(host, "GET", path, token, None).await?;
    if !status.starts_with("HTTP/1.1 200") {
        bail!("GET {path}: {status}");
    }
    let body = bytes.len();
    if body < 100 {
        bail!("GET {path}: only {body} bytes");
    }
    Ok(body)
}
