//! `cargo xtask bench answers`: a live client review at event scale. A release
//! `shotline-relay` (with its data folder) and a release `shotline run` publishing a share
//! of 50 frames to it; 200 guests, each with a token of their own (exchanged from the link,
//! as the page does), each on a WebSocket subscribed to the share, each answering all 50
//! frames (ratings, labels, likes, comments) within 60 s. Prints answer → seen by every
//! page p50/p99 and anything missing, the relay's CPU (share of one core over the run)
//! and peak RSS, and how fast the engine's journal took every answer in (answers recorded
//! per second, from the first answer sent to the last one in `share export`), and what
//! the relay's locks over all channels cost (the hub's, and the in-memory backend's under
//! which each event is appended): how often each was waited for, and how long.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

use crate::bench::{cpu_seconds, release_relay, release_shotline, rss_bytes, target_dir};
use crate::bench_http::{Locks, Running, get_json, join, now_ms, percentiles, post_json};
use crate::sys;

const GUESTS: usize = 200;
const FRAMES: usize = 50;
/// Over which the answers are spread.
const SPAN: Duration = Duration::from_secs(60);
const SECRET: &str = "cKeEdilNKe4X7FM1m673ixxB/whZ+I2ZqiKfmORlod0=";

pub fn bench() -> anyhow::Result<()> {
    if !sys::which("convert") {
        bail!("convert is missing: run `cargo xtask setup` (imagemagick)");
    }
    let relay_bin = release_relay()?;
    let bin = release_shotline()?;
    std::fs::create_dir_all(target_dir())?;
    let work = tempfile::Builder::new()
        .prefix("bench-answers-")
        .tempdir_in(target_dir())?;
    let root = work.path();
    let (hot, library, data) = (root.join("hot"), root.join("library"), root.join("relay"));
    for dir in [&hot, &library, &data] {
        std::fs::create_dir_all(dir)?;
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let settings = root.join("relay.toml");
    // 200 guests on one address answering flat out: the address's answer budget is
    // raised out of the way (`bench hostile` measures it).
    std::fs::write(
        &settings,
        "max_connections = 100000\nguest_rate = 600\naddress_answers = \"64MB\"\naddress_answers_rate = \"64MB\"\n",
    )?;
    let relay = Running(
        Command::new(&relay_bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(&data)
            .arg("--config")
            .arg(&settings)
            .env("SHOTLINE_RELAY_SECRET", SECRET)
            .env("SHOTLINE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting shotline-relay")?,
    );
    let host = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&host).is_err() {
        if Instant::now() > deadline {
            bail!("shotline-relay did not start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = Command::new(&relay_bin)
        .args([
            "token",
            "--role",
            "publisher",
            "--channels",
            "studio:*",
            "--ttl",
            "2h",
        ])
        .env("SHOTLINE_RELAY_SECRET", SECRET)
        .output()?;
    let publisher = String::from_utf8(out.stdout)?
        .lines()
        .last()
        .context("no token")?
        .to_string();

    let config = root.join("shotline.toml");
    std::fs::write(
        &config,
        format!(
            "[[hot_folder]]\npath = {hot:?}\n[library]\npath = {library:?}\n[camera]\nenabled = false\n[relay]\nurl = \"ws://{host}/v1/ws\"\n"
        ),
    )?;
    let engine = Running(
        Command::new(&bin)
            .arg("--config")
            .arg(&config)
            .args(["run", "--session", "answers"])
            .env("SHOTLINE_RELAY_TOKEN", &publisher)
            .env("SHOTLINE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting shotline run")?,
    );
    let picture = root.join("frame.jpg");
    sys::status(
        Command::new("convert")
            .args(["-size", "600x400", "plasma:", "-quality", "85"])
            .arg(&picture),
    )?;
    let bytes = std::fs::read(&picture)?;
    for n in 0..FRAMES {
        let staged = root.join(format!(".F_{n:04}.JPG"));
        let mut frame = bytes.clone();
        frame.extend_from_slice(format!("frame {n}").as_bytes());
        std::fs::write(&staged, frame)?;
        std::fs::rename(&staged, hot.join(format!("F_{n:04}.JPG")))?;
    }
    // `share create` needs the engine running; it retries until then.
    let link = {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = Command::new(&bin)
                .arg("--config")
                .arg(&config)
                .args(["share", "create", "--ttl", "1h", "--title", "Bench"])
                .output()?;
            if out.status.success() {
                break String::from_utf8(out.stdout)?
                    .lines()
                    .last()
                    .context("no link")?
                    .to_string();
            }
            if Instant::now() > deadline {
                bail!(
                    "shotline share create: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    let (page, link_token) = link.split_once('#').context("no token in the link")?;
    let share = page.rsplit('/').next().unwrap_or_default().to_string();
    let channel = format!("studio:gallery:{share}");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let frames = runtime.block_on(wait_for_frames(&host, &channel, link_token))?;
    let relay_pid = relay.0.id();
    let result = runtime.block_on(review(&host, &channel, link_token, &frames, relay_pid))?;
    // The engine's journal: until every answer is in `share export`.
    let export = || -> anyhow::Result<usize> {
        let out = Command::new(&bin)
            .arg("--config")
            .arg(&config)
            .args(["share", "export", &share])
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .count()
            .saturating_sub(1))
    };
    let want = GUESTS * FRAMES;
    let deadline = Instant::now() + Duration::from_secs(180);
    let recorded = loop {
        let n = export()?;
        if n >= want || Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let journal_s = result.first_sent.elapsed().as_secs_f64();
    drop(engine);
    drop(relay);

    let (p50, p99) = percentiles(&result.latency_ms);
    println!();
    println!(
        "gallery answers: {GUESTS} guests × {FRAMES} frames answered within {} s, every page subscribed",
        SPAN.as_secs()
    );
    println!("  answer -> seen by every page      p50 {p50:>7.1} ms   p99 {p99:>7.1} ms");
    println!(
        "  deliveries {} of {} ({} missing); answers refused {}",
        result.latency_ms.len(),
        want * GUESTS,
        (want * GUESTS).saturating_sub(result.latency_ms.len()),
        result.refused
    );
    println!(
        "  relay CPU {:.0} % of a core over the run, peak RSS {:.0} MB",
        100.0 * result.relay_cpu_s / result.wall_s.max(1e-6),
        result.relay_rss_mb
    );
    for (name, lock) in [("hub", result.locks.hub), ("backend", result.locks.backend)] {
        println!(
            "  {name} lock (one for all channels): taken {}, waited for {} times ({:.2} %), {:.1} ms waiting in all over the {:.0} s run ({:.1} µs per wait)",
            lock.taken,
            lock.waited,
            100.0 * lock.waited as f64 / (lock.taken.max(1)) as f64,
            lock.wait_us as f64 / 1000.0,
            result.wall_s,
            lock.wait_us as f64 / lock.waited.max(1) as f64
        );
    }
    println!(
        "  engine journal: {recorded} of {want} answers recorded, {:.0} answers/s (first sent to last recorded, {journal_s:.1} s)",
        recorded as f64 / journal_s.max(1e-6)
    );
    if result.latency_ms.is_empty() {
        bail!("no answer reached any page: nothing was measured");
    }
    Ok(())
}

async fn wait_for_frames(host: &str, channel: &str, token: &str) -> anyhow::Result<Vec<i64>> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(state) = get_json(host, &format!("/v1/blobs/{channel}/state.json"), token).await {
            let frames: Vec<i64> = state["frames"]
                .as_array()
                .map(|f| f.iter().filter_map(|f| f["frame"].as_i64()).collect())
                .unwrap_or_default();
            if frames.len() >= FRAMES {
                return Ok(frames);
            }
        }
        if Instant::now() > deadline {
            bail!("the share never showed {FRAMES} frames");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

struct Review {
    latency_ms: Vec<f64>,
    refused: u64,
    relay_cpu_s: f64,
    relay_rss_mb: f64,
    wall_s: f64,
    first_sent: Instant,
    locks: Locks,
}

/// The answer id's send time, from `"id":"g:<sub>:a<guest>x<n>x<ms>"` (the relay keeps a
/// guest's id under its subject; a byte search, so the client's parsing weighs little
/// beside the relay).
pub fn sent_ms(text: &str) -> Option<f64> {
    let at = text.find("\"id\":\"")? + 6;
    let id = &text[at..];
    let id = &id[..id.find('"')?];
    id.rsplit('x').next()?.parse().ok()
}

async fn review(
    host: &str,
    channel: &str,
    link_token: &str,
    frames: &[i64],
    relay_pid: u32,
) -> anyhow::Result<Review> {
    // Each guest's own token, as the page gets it.
    let mut tokens = Vec::with_capacity(GUESTS);
    for g in 0..GUESTS {
        let body = serde_json::json!({"channels": [channel], "name": format!("Guest {g}")});
        let answer = post_json(host, "/v1/tokens", link_token, &body).await?;
        tokens.push(
            answer["token"]
                .as_str()
                .with_context(|| format!("token exchange: {answer}"))?
                .to_string(),
        );
    }
    let mut sockets = Vec::with_capacity(GUESTS);
    for token in &tokens {
        sockets.push(join(host, token, channel).await?);
    }
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(GUESTS * GUESTS * FRAMES)));
    let refused = Arc::new(AtomicU64::new(0));
    let delivered = Arc::new(AtomicU64::new(0));
    let want = (GUESTS * GUESTS * FRAMES) as u64;
    let sampling = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(Mutex::new(0.0f64));
    let sampler = {
        let (sampling, peak) = (sampling.clone(), peak.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                let rss = rss_bytes(relay_pid) as f64 / (1024.0 * 1024.0);
                let mut p = peak.lock().await;
                *p = p.max(rss);
                drop(p);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let lock_before = Locks::read(host).await?;
    let cpu_before = cpu_seconds(relay_pid);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (g, ws) in sockets.into_iter().enumerate() {
        let (mut sink, mut stream) = ws.split();
        let (latencies, refused, delivered) =
            (latencies.clone(), refused.clone(), delivered.clone());
        let channel = channel.to_string();
        let frames = frames.to_vec();
        let reader = tokio::spawn(async move {
            let mut mine = Vec::with_capacity(GUESTS * FRAMES);
            let deadline = tokio::time::Instant::now() + SPAN + Duration::from_secs(60);
            while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, stream.next()).await
            {
                let Message::Text(text) = message else {
                    continue;
                };
                if text.starts_with(r#"{"type":"event""#) {
                    if let Some(sent) = sent_ms(&text) {
                        mine.push(now_ms() - sent);
                        if delivered.fetch_add(1, Ordering::Relaxed) + 1 >= want {
                            break;
                        }
                    }
                } else if text.starts_with(r#"{"type":"error""#) {
                    refused.fetch_add(1, Ordering::Relaxed);
                }
                if mine.len() >= GUESTS * FRAMES {
                    break;
                }
            }
            latencies.lock().await.extend(mine);
        });
        let writer = tokio::spawn(async move {
            let step = SPAN.as_millis() as u64 / FRAMES as u64;
            let phase = (g as u64 * 997) % step;
            for (n, frame) in frames.iter().take(FRAMES).enumerate() {
                let at = Duration::from_millis(phase + n as u64 * step);
                tokio::time::sleep_until(tokio::time::Instant::from_std(start + at)).await;
                let event = match n % 4 {
                    0 => {
                        serde_json::json!({"type": "gallery_rating", "payload": {"frame": frame, "stars": (n + g) % 6}})
                    }
                    1 => {
                        serde_json::json!({"type": "gallery_label", "payload": {"frame": frame, "label": "red"}})
                    }
                    2 => {
                        serde_json::json!({"type": "gallery_like", "payload": {"frame": frame, "liked": true}})
                    }
                    _ => {
                        serde_json::json!({"type": "gallery_comment", "payload": {"frame": frame, "text": format!("guest {g} on frame {frame}: keep this one")}})
                    }
                };
                let id = format!("a{g}x{n}x{}", now_ms() as u64);
                let publish = serde_json::json!({"type": "publish", "channel": channel, "id": id, "event": event});
                if sink
                    .send(Message::Text(publish.to_string().into()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            // Keep the socket open for the reader.
            tokio::time::sleep(Duration::from_secs(70)).await;
            let _ = sink.close().await;
        });
        tasks.push((reader, writer));
    }
    for (reader, writer) in tasks {
        let _ = reader.await;
        writer.abort();
    }
    let wall_s = start.elapsed().as_secs_f64();
    let relay_cpu_s = cpu_seconds(relay_pid) - cpu_before;
    let lock = Locks::read(host).await?.since(&lock_before);
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let latency_ms = std::mem::take(&mut *latencies.lock().await);
    let relay_rss_mb = *peak.lock().await;
    Ok(Review {
        latency_ms,
        refused: refused.load(Ordering::Relaxed),
        relay_cpu_s,
        relay_rss_mb,
        wall_s,
        first_sent: start,
        locks: lock,
    })
}
