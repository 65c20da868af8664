//! `cargo xtask bench downloads`: a share's downloads through a release `shotline-relay`
//! (data folder, default settings): "Download my picks" as one streamed ZIP of 60
//! web-size pictures (600 KB each, as 2048 px previews are), against the same pictures
//! downloaded one after another as plain files (`/download/{frame}`, a connection each, as
//! a browser saving them one by one would). Rounds alternate; MB/s each, the spread, and
//! the ratio ZIP / plain.

use std::time::Instant;

use anyhow::bail;
use serde_json::json;

use crate::bench::{release_relay, target_dir};
use crate::bench_http::{mint_token, request, serve_relay};

const SECRET: &str = "dL9w3Qm2Yk7bXcR4nT8wJzL5aDfE1oKqHiUyMu6V1pG0=";
const SHARE: &str = "bench";
const CHANNEL: &str = "studio:gallery:bench";
const FRAMES: usize = 60;
const SIZE: usize = 600_000;
const ROUNDS: usize = 5;

pub fn bench() -> anyhow::Result<()> {
    let relay_bin = release_relay()?;
    std::fs::create_dir_all(target_dir())?;
    let work = tempfile::Builder::new()
        .prefix("bench-downloads-")
        .tempdir_in(target_dir())?;
    let (relay, host) = serve_relay(&relay_bin, &work.path().join("relay"), SECRET)?;
    let publisher = mint_token(
        &relay_bin,
        SECRET,
        &[
            "--role",
            "publisher",
            "--channels",
            "studio:*",
            "--ttl",
            "2h",
        ],
    )?;
    let guest = mint_token(
        &relay_bin,
        SECRET,
        &[
            "--role",
            "guest",
            "--channels",
            CHANNEL,
            "--ttl",
            "2h",
            "--sub",
            "guest-bench",
        ],
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (zip, plain) = runtime.block_on(async {
        let exp = crate::bench_http::now_ms() as u64 / 1000 + 3600;
        let share = json!({"channel": CHANNEL, "exp": exp, "downloads": "web"});
        let (status, body) = request(&host, "PUT", &format!("/v1/shares/{SHARE}"), &publisher, Some(&share.to_string())).await?;
        if !status.contains(" 200") {
            bail!("PUT share: {status} {}", String::from_utf8_lossy(&body));
        }
        let mut frames = Vec::new();
        for i in 1..=FRAMES {
            // Pseudo-random bytes: pictures do not compress, and a stored ZIP does not try.
            let picture: String = (0..SIZE)
                .map(|n| char::from(b'a' + ((n * 7919 + i * 104_729) % 26) as u8))
                .collect();
            let name = format!("{i}-2048.jpg");
            let (status, _) = request(&host, "PUT", &format!("/v1/blobs/{CHANNEL}/{name}"), &publisher, Some(&picture)).await?;
            if !status.contains(" 200") {
                bail!("PUT {name}: {status}");
            }
            frames.push(json!({"frame": i, "name": format!("IMG_{i:04}.JPG"), "preview": format!("/v1/blobs/{CHANNEL}/{name}")}));
        }
        let state = json!({"frames": frames});
        request(&host, "PUT", &format!("/v1/blobs/{CHANNEL}/state.json"), &publisher, Some(&state.to_string())).await?;
        let all: Vec<String> = (1..=FRAMES).map(|i| i.to_string()).collect();
        let mut zip = Vec::new();
        let mut plain = Vec::new();
        for _ in 0..ROUNDS {
            let start = Instant::now();
            let path = format!("/v1/shares/{SHARE}/download.zip?frames={}", all.join(","));
            let (status, body) = request(&host, "GET", &path, &guest, None).await?;
            if !status.contains(" 200") || body.len() < FRAMES * SIZE {
                bail!("ZIP: {status}, {} bytes", body.len());
            }
            zip.push(body.len() as f64 / start.elapsed().as_secs_f64() / 1e6);
            let start = Instant::now();
            let mut bytes = 0;
            for i in 1..=FRAMES {
                let (status, body) = request(&host, "GET", &format!("/v1/shares/{SHARE}/download/{i}"), &guest, None).await?;
                if !status.contains(" 200") {
                    bail!("download {i}: {status}");
                }
                bytes += body.len();
            }
            plain.push(bytes as f64 / start.elapsed().as_secs_f64() / 1e6);
        }
        Ok((zip, plain))
    })?;
    drop(relay);
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let spread = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        (lo, hi)
    };
    println!();
    println!(
        "downloads: {FRAMES} pictures of {} KB, {ROUNDS} rounds, relay {}",
        SIZE / 1000,
        relay_bin.display()
    );
    for (name, v) in [
        ("ZIP of all (streamed)", &zip),
        ("one by one (plain)", &plain),
    ] {
        let (lo, hi) = spread(v);
        println!(
            "  {name:<24} {:>8.1} MB/s  spread {lo:.1}-{hi:.1}",
            median(v)
        );
    }
    println!("  ratio ZIP / plain {:.2}x", median(&zip) / median(&plain));
    Ok(())
}
