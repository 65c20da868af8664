//! `cargo xtask bench hostile`: what a one-minute flood from one address costs the relay,
//! and whether the honest guests beside it notice. A release `shotline-relay` on its
//! default settings with a data folder, a share of 50 frames, and 200 honest guests from
//! one address (each with a token of its own, as the page gets one), each answering every
//! 3 s over HTTP as the page does, for a minute, while 10 of them watch the share over a
//! WebSocket. Two runs, each on a fresh relay: `quiet` (the guests alone) and `flood`
//! (beside them, 8 workers with the same link mint new guests and post 1.5 KB comments
//! flat out from the same address). Prints, per run: the honest answers taken and refused
//! and answer → seen at the watching pages p50/p99; the flood's answers taken and refused
//! and new guests refused; the share's answer log on disk; the relay's CPU and peak RSS.
//! `SHOTLINE_BENCH_RELAY=PATH` runs another relay binary (e.g. one built from an earlier
//! commit) for a before/after comparison.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

use crate::bench::{cpu_seconds, release_relay, rss_bytes, target_dir};
use crate::bench_http::{join, now_ms, percentiles, post_status};

const GUESTS: usize = 200;
const WATCHERS: usize = 10;
const FRAMES: i64 = 50;
const SPAN: Duration = Duration::from_secs(60);
const EVERY: Duration = Duration::from_secs(3);
const FLOOD_WORKERS: usize = 8;
const SECRET: &str = "u6V1pG0h9s3Qm2Yk7bXcR4nT8wJzL5aDfE1oKqHiUyM=";
const CHANNEL: &str = "studio:gallery:bench";

#[derive(Default)]
struct Outcome {
    honest_taken: u64,
    honest_refused: u64,
    latency_ms: Vec<f64>,
    flood_taken: u64,
    flood_refused: u64,
    joins_refused: u64,
    log_bytes: u64,
    cpu_s: f64,
    peak_rss_mb: f64,
}

pub fn bench() -> anyhow::Result<()> {
    let relay_bin = match std::env::var_os("SHOTLINE_BENCH_RELAY") {
        Some(path) => std::path::PathBuf::from(path),
        None => release_relay()?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut outcomes = Vec::new();
    for flood in [false, true] {
        outcomes.push((flood, run(&runtime, &relay_bin, flood)?));
    }
    println!();
    println!(
        "hostile: {GUESTS} honest guests on one address answering every {} s for {} s, {WATCHERS} watching; relay {}",
        EVERY.as_secs(),
        SPAN.as_secs(),
        relay_bin.display()
    );
    for (flood, o) in &outcomes {
        let (p50, p99) = percentiles(&o.latency_ms);
        println!(
            "  {:<6} honest answers {} taken, {} refused; answer -> seen p50 {p50:.1} ms p99 {p99:.1} ms",
            if *flood { "flood" } else { "quiet" },
            o.honest_taken,
            o.honest_refused
        );
        println!(
            "         flood answers {} taken, {} refused; new guests refused {}; answer log {:.2} MB; relay CPU {:.1} s, peak RSS {:.0} MB",
            o.flood_taken,
            o.flood_refused,
            o.joins_refused,
            o.log_bytes as f64 / 1e6,
            o.cpu_s,
            o.peak_rss_mb
        );
    }
    let p99 = |o: &Outcome| percentiles(&o.latency_ms).1;
    println!(
        "  honest p99 with the flood / without: {:.2}×",
        p99(&outcomes[1].1) / p99(&outcomes[0].1).max(1e-6)
    );
    if outcomes.iter().any(|(_, o)| o.latency_ms.is_empty()) {
        bail!("no honest answer reached a watching page: nothing was measured");
    }
    Ok(())
}

fn mint(relay_bin: &std::path::Path, args: &[&str]) -> anyhow::Result<String> {
    crate::bench_http::mint_token(relay_bin, SECRET, args)
}

fn run(
    runtime: &tokio::runtime::Runtime,
    relay_bin: &std::path::Path,
    flood: bool,
) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(target_dir())?;
    let work = tempfile::Builder::new()
        .prefix("bench-hostile-")
        .tempdir_in(target_dir())?;
    let data = work.path().join("relay");
    let (relay, host) = crate::bench_http::serve_relay(relay_bin, &data, SECRET)?;
    let publisher = mint(
        relay_bin,
        &[
            "--role",
            "publisher",
            "--channels",
            "studio:*",
            "--ttl",
            "2h",
        ],
    )?;
    let link = mint(
        relay_bin,
        &[
            "--role",
            "guest",
            "--channels",
            CHANNEL,
            "--ttl",
            "2h",
            "--sub",
            "share:bench",
            "--publish",
            "gallery_rating,gallery_label,gallery_like,gallery_comment",
        ],
    )?;
    let pid = relay.0.id();
    let mut outcome = runtime.block_on(review(&host, &publisher, &link, flood, pid))?;
    outcome.log_bytes = std::fs::read_dir(data.join("answers"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    drop(relay);
    Ok(outcome)
}

async fn review(
    host: &str,
    publisher: &str,
    link: &str,
    flood: bool,
    pid: u32,
) -> anyhow::Result<Outcome> {
    let share = json!({"channel": CHANNEL, "exp": crate::bench_http::now_ms() as u64 / 1000 + 7200, "title": "Bench"});
    let (status, body) = post_put(host, "/v1/shares/bench", publisher, &share).await?;
    if status != 200 {
        bail!("PUT share: {status} {body}");
    }
    let frames: Vec<_> = (1..=FRAMES).map(|f| json!({"frame": f})).collect();
    let (status, body) = post_put(
        host,
        &format!("/v1/blobs/{CHANNEL}/state.json"),
        publisher,
        &json!({"frames": frames}),
    )
    .await?;
    if status != 200 {
        bail!("PUT state.json: {status} {body}");
    }
    let mut tokens = Vec::with_capacity(GUESTS);
    for g in 0..GUESTS {
        let body = json!({"channels": [CHANNEL], "name": format!("Guest {g}")});
        let (status, answer) = post_status(host, "/v1/tokens", link, &body).await?;
        if status != 200 {
            bail!("guest {g}'s token exchange: {status} {answer}");
        }
        tokens.push(answer["token"].as_str().context("no token")?.to_string());
    }
    let mut watchers = Vec::new();
    for token in tokens.iter().take(WATCHERS) {
        watchers.push(join(host, token, CHANNEL).await?);
    }
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let (honest_taken, honest_refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (flood_taken, flood_refused, joins_refused) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let running = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(Mutex::new(0.0f64));
    let sampler = {
        let (running, peak) = (running.clone(), peak.clone());
        tokio::spawn(async move {
            while running.load(Ordering::Relaxed) {
                let rss = rss_bytes(pid) as f64 / (1024.0 * 1024.0);
                let mut p = peak.lock().await;
                *p = p.max(rss);
                drop(p);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let cpu_before = cpu_seconds(pid);
    let start = Instant::now();
    let mut readers = Vec::new();
    for mut ws in watchers {
        let latencies = latencies.clone();
        readers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let deadline = tokio::time::Instant::from_std(start + SPAN + Duration::from_secs(5));
            while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, ws.next()).await {
                if let Message::Text(text) = message
                    && text.starts_with(r#"{"type":"event""#)
                    && let Some(sent) = honest_sent(&text)
                {
                    mine.push(now_ms() - sent);
                }
            }
            latencies.lock().await.extend(mine);
        }));
    }
    let mut writers = Vec::new();
    for (g, token) in tokens.into_iter().enumerate() {
        let (host, taken, refused) = (
            host.to_string(),
            honest_taken.clone(),
            honest_refused.clone(),
        );
        writers.push(tokio::spawn(async move {
            let phase = Duration::from_millis((g as u64 * 997) % EVERY.as_millis() as u64);
            let mut n = 0u64;
            loop {
                let at = phase + EVERY * n as u32;
                if at >= SPAN {
                    break;
                }
                tokio::time::sleep_until(tokio::time::Instant::from_std(start + at)).await;
                let frame = (g as i64 + n as i64) % FRAMES + 1;
                let event = if n.is_multiple_of(2) {
                    json!({"type": "gallery_like", "payload": {"frame": frame, "liked": true}})
                } else {
                    json!({"type": "gallery_rating", "payload": {"frame": frame, "stars": (n % 6)}})
                };
                let id = format!("h{g}x{n}x{}", now_ms() as u64);
                let body = json!({"id": id, "event": event});
                match post_status(
                    &host,
                    &format!("/v1/channels/{CHANNEL}/events"),
                    &token,
                    &body,
                )
                .await
                {
                    Ok((200, _)) => taken.fetch_add(1, Ordering::Relaxed),
                    _ => refused.fetch_add(1, Ordering::Relaxed),
                };
                n += 1;
            }
        }));
    }
    let mut floods = Vec::new();
    if flood {
        for w in 0..FLOOD_WORKERS {
            let (host, link) = (host.to_string(), link.to_string());
            let (taken, refused, no_join) = (
                flood_taken.clone(),
                flood_refused.clone(),
                joins_refused.clone(),
            );
            floods.push(tokio::spawn(async move {
                let text = "x".repeat(1500);
                let mut token = String::new();
                let mut n = 0u64;
                while start.elapsed() < SPAN {
                    // A new guest every 20 answers, while the link lets one in.
                    if n.is_multiple_of(20) {
                        let body = json!({"channels": [CHANNEL], "name": format!("bot {w}-{n}")});
                        match post_status(&host, "/v1/tokens", &link, &body).await {
                            Ok((200, answer)) => {
                                token = answer["token"].as_str().unwrap_or_default().to_string();
                            }
                            _ => {
                                no_join.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    n += 1;
                    if token.is_empty() {
                        continue;
                    }
                    let body = json!({"id": format!("junk{w}x{n}"), "event": {"type": "gallery_comment", "payload": {"frame": 1, "text": text}}});
                    match post_status(&host, &format!("/v1/channels/{CHANNEL}/events"), &token, &body).await {
                        Ok((200, _)) => taken.fetch_add(1, Ordering::Relaxed),
                        _ => refused.fetch_add(1, Ordering::Relaxed),
                    };
                }
            }));
        }
    }
    for w in writers.into_iter().chain(floods) {
        let _ = w.await;
    }
    for r in readers {
        let _ = r.await;
    }
    let cpu_s = cpu_seconds(pid) - cpu_before;
    running.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let latency_ms = std::mem::take(&mut *latencies.lock().await);
    let peak_rss_mb = *peak.lock().await;
    Ok(Outcome {
        honest_taken: honest_taken.load(Ordering::Relaxed),
        honest_refused: honest_refused.load(Ordering::Relaxed),
        latency_ms,
        flood_taken: flood_taken.load(Ordering::Relaxed),
        flood_refused: flood_refused.load(Ordering::Relaxed),
        joins_refused: joins_refused.load(Ordering::Relaxed),
        log_bytes: 0,
        cpu_s,
        peak_rss_mb,
    })
}

/// An honest answer's send time, from its id (`h<guest>x<n>x<ms>`, kept by the relay
/// as `g:<sub>:h…`); `None` for anything else.
fn honest_sent(text: &str) -> Option<f64> {
    let at = text.find("\"id\":\"")? + 6;
    let id = &text[at..];
    let id = &id[..id.find('"')?];
    let own = id.rsplit(':').next()?;
    own.strip_prefix('h')?.rsplit('x').next()?.parse().ok()
}

/// PUT `body` to `path` with the token: status and body text.
async fn post_put(
    host: &str,
    path: &str,
    token: &str,
    body: &serde_json::Value,
) -> anyhow::Result<(u16, String)> {
    let (status, answer) =
        crate::bench_http::request(host, "PUT", path, token, Some(&body.to_string())).await?;
    let code = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((code, String::from_utf8_lossy(&answer).into_owned()))
}
