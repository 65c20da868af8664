//! `cargo xtask bench gallery`, part 2: `shotline run` with its embedded relay, a share,
//! and 200 guests on the share's link over WebSocket; frames dropped into the hot folder
//! at a shooting pace. Per frame and guest: stored (the frame's `time`) → its first
//! `gallery_frame` received, → its thumbnail's bytes fetched from the relay, and → the
//! `gallery_frame` that brings its 2048 px preview (the engine sends the thumbnail first);
//! p50/p99 and anything missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use tokio::sync::{Mutex, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use crate::bench_http::{Running, Ws, fetch, join, now_ms, percentiles};

const GUESTS: usize = 200;

const LIVE_FRAMES: usize = 20;

/// Between two frames in the live part: a photographer's steady pace.
const PACE: Duration = Duration::from_millis(1500);

pub fn print_live(live: &Live) -> anyhow::Result<()> {
    println!();
    println!(
        "gallery live: {GUESTS} guests over WebSocket, {LIVE_FRAMES} frames of 24 MP, one every {} ms",
        PACE.as_millis()
    );
    let (a50, a99) = percentiles(&live.event_ms);
    let (b50, b99) = percentiles(&live.thumb_ms);
    println!("  stored -> gallery_frame at every guest   p50 {a50:>7.1} ms   p99 {a99:>7.1} ms");
    println!("  stored -> thumbnail bytes at every guest p50 {b50:>7.1} ms   p99 {b99:>7.1} ms");
    let (c50, c99) = percentiles(&live.preview_ms);
    println!("  stored -> 2048 px preview at every guest p50 {c50:>7.1} ms   p99 {c99:>7.1} ms");
    let share = |v: &[f64], over: f64| {
        v.iter().filter(|t| **t > over).count() as f64 * 100.0 / v.len().max(1) as f64
    };
    println!(
        "  thumbnails over 500 ms: {:.1} %, over 1 s: {:.1} %",
        share(&live.thumb_ms, 500.0),
        share(&live.thumb_ms, 1000.0)
    );
    // A frame late for every guest is 5 % of the samples: say which.
    let slow: Vec<String> = live
        .thumb_by_frame
        .iter()
        .enumerate()
        .filter_map(|(n, t)| {
            let (p50, _) = percentiles(t);
            (p50 > 2.0 * b50).then(|| format!("frame {} ({p50:.0} ms)", n + 1))
        })
        .collect();
    if !slow.is_empty() {
        println!(
            "  thumbnail late for every guest (p50 over 2x): {}",
            slow.join(", ")
        );
    }
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

/// What the live part measured.
#[derive(Debug, Default)]
pub struct Live {
    event_ms: Vec<f64>,
    thumb_ms: Vec<f64>,
    preview_ms: Vec<f64>,
    /// Per frame, in the order shot: stored → thumbnail at each guest.
    thumb_by_frame: Vec<Vec<f64>>,
    missing_events: usize,
    missing_thumbs: usize,
}

pub fn live(bin: &Path, root: &Path, jpegs: &[PathBuf]) -> anyhow::Result<Live> {
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

/// One guest's record: per frame (stored → first event ms, stored → thumbnail ms,
/// stored → the event with the 2048 px preview ms).
type Seen = Vec<(f64, Option<f64>, Option<f64>)>;

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
        for (n, (event, thumb, preview)) in seen.iter().enumerate() {
            if live.thumb_by_frame.len() <= n {
                live.thumb_by_frame.resize(n + 1, Vec::new());
            }
            if let Some(t) = thumb {
                live.thumb_by_frame[n].push(*t);
            }
            live.event_ms.push(*event);
            if let Some(p) = preview {
                live.preview_ms.push(*p);
            }
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

/// Until every one of `LIVE_FRAMES` frames came with its preview: each frame's first
/// `gallery_frame`'s delay, its thumbnail's, and the delay of the one that brings its
/// preview, into `records[slot]`.
async fn guest(mut ws: Ws, host: &str, token: &str, records: &Mutex<Vec<Seen>>, slot: usize) {
    // Frame id → its place in this guest's record.
    let mut frames = std::collections::HashMap::new();
    let mut previews = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(LIVE_FRAMES as u64 * 4 + 60);
    while previews < LIVE_FRAMES {
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
        let payload = &event["payload"];
        let time = payload["time"].as_f64().unwrap_or(received);
        let id = payload["frame"].as_i64().unwrap_or_default();
        let has_preview = payload["preview"].is_string();
        let at = match frames.get(&id) {
            Some(at) => *at,
            None => {
                let thumb = match payload["thumbnail"].as_str() {
                    Some(path) => fetch(host, path, token).await.ok().map(|_| now_ms() - time),
                    None => None,
                };
                let mut all = records.lock().await;
                all[slot].push((received - time, thumb, None));
                frames.insert(id, all[slot].len() - 1);
                all[slot].len() - 1
            }
        };
        if has_preview {
            let mut all = records.lock().await;
            if all[slot][at].2.is_none() {
                all[slot][at].2 = Some(received - time);
                previews += 1;
            }
        }
    }
}
