//! `bench liveview`'s relay part, and the MJPEG viewer both parts read with: a publisher
//! sends 30 pictures a second (48 KB) to a release relay; 1, 10 and 50 MJPEG viewers on
//! loopback; picture-to-viewer latency p50/p99 over every viewer's pictures, and each
//! viewer's pictures per second (the slowest and the median).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::bench_liveview::{ROUNDS, SECONDS, at, now_ms, sorted, spread};

/// An MJPEG viewer over HTTP/1.1 (chunked; each chunk one part).
pub struct Viewer {
    body: BufReader<TcpStream>,
}

impl Viewer {
    pub fn open(addr: &str, path: &str, token: &str) -> anyhow::Result<Self> {
        let mut tcp = TcpStream::connect(addr)?;
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(Duration::from_secs(20)))?;
        write!(
            tcp,
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
        )?;
        let mut body = BufReader::new(tcp);
        let mut line = String::new();
        body.read_line(&mut line)?;
        if !line.contains(" 200 ") {
            bail!("the stream answered {}", line.trim());
        }
        loop {
            line.clear();
            body.read_line(&mut line)?;
            if line.trim_end().is_empty() {
                break;
            }
        }
        Ok(Self { body })
    }

    /// The next picture: (when it was taken, ms since the epoch; its size).
    pub fn next(&mut self) -> anyhow::Result<(i64, usize)> {
        let mut line = String::new();
        self.body.read_line(&mut line)?;
        let size = usize::from_str_radix(line.trim(), 16).context("chunk size")?;
        let mut chunk = vec![0; size + 2];
        self.body.read_exact(&mut chunk)?;
        let text = String::from_utf8_lossy(&chunk[..size.min(400)]);
        let taken = text
            .lines()
            .find_map(|l| l.strip_prefix("X-Taken-Ms: "))
            .and_then(|v| v.trim().parse().ok())
            .context("X-Taken-Ms")?;
        Ok((taken, size))
    }
}

/// The relay's fan-out: 1, 10 and 50 viewers of a publisher at 30 pictures a second.
pub fn relay(relay_bin: &Path) -> anyhow::Result<()> {
    use crate::bench_relay::Kind;
    use crate::bench_relay_servers::{Server, mint};
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers");
    println!();
    println!(
        "liveview: through a release relay on loopback, 30 pictures/s of 48 KB, {ROUNDS} rounds of {SECONDS} s"
    );
    println!(
        "  {:>7} {:>22} {:>22} {:>16} {:>16}",
        "viewers", "p50 ms", "p99 ms", "slowest pics/s", "median pics/s"
    );
    let publisher_token = mint(relay_bin, "publisher")?;
    let viewer_token = mint(relay_bin, "subscriber")?;
    for n in [1usize, 10, 50] {
        let (mut p50, mut p99, mut slowest, mut median) = (vec![], vec![], vec![], vec![]);
        for _ in 0..ROUNDS {
            let server = Server::start(Kind::Relay, relay_bin, &peers, false)?;
            let addr = format!("127.0.0.1:{}", server.port);
            let (lat, rates) = fan_out(&addr, &publisher_token, &viewer_token, n)?;
            let lat = sorted(lat);
            let rates = sorted(rates);
            p50.push(at(&lat, 0.5));
            p99.push(at(&lat, 0.99));
            slowest.push(rates[0]);
            median.push(at(&rates, 0.5));
            drop(server);
        }
        println!(
            "  {:>7} {:>22} {:>22} {:>16} {:>16}",
            n,
            spread(&p50),
            spread(&p99),
            spread(&slowest),
            spread(&median)
        );
    }
    println!("  goal: p99 at most 150 ms with 50 viewers; every viewer near the publisher's 30/s");
    Ok(())
}

/// One round: `n` viewers for [`SECONDS`]; every picture's latency, each viewer's rate.
fn fan_out(
    addr: &str,
    publisher_token: &str,
    viewer_token: &str,
    n: usize,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let url = format!("ws://{addr}/v1/live/bench/publish");
    let token = publisher_token.to_string();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let publishing = stop.clone();
    let publisher = std::thread::spawn(move || -> anyhow::Result<()> {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        runtime.block_on(async move {
            let mut request = url.into_client_request()?;
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
            let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
            let mut picture = vec![0xff, 0xd8];
            picture.resize(48 * 1024 - 2, 0x55);
            picture.extend([0xff, 0xd9]);
            let mut tick = tokio::time::interval(Duration::from_millis(33));
            while !publishing.load(std::sync::atomic::Ordering::Relaxed) {
                tick.tick().await;
                let stamp = serde_json::json!({ "taken_ms": now_ms() }).to_string();
                ws.send(Message::text(stamp)).await?;
                ws.send(Message::binary(picture.clone())).await?;
            }
            let _ = ws.close(None).await;
            Ok(())
        })
    });
    let mut viewers = Vec::new();
    for _ in 0..n {
        let addr = addr.to_string();
        let token = viewer_token.to_string();
        viewers.push(std::thread::spawn(
            move || -> anyhow::Result<(Vec<f64>, f64)> {
                let mut viewer = Viewer::open(&addr, "/v1/live/bench", &token)?;
                viewer.next()?;
                let start = Instant::now();
                let mut ms = Vec::new();
                while start.elapsed() < Duration::from_secs(SECONDS) {
                    let (taken, _) = viewer.next()?;
                    ms.push((now_ms() - taken) as f64);
                }
                let rate = ms.len() as f64 / start.elapsed().as_secs_f64();
                Ok((ms, rate))
            },
        ));
    }
    let (mut lat, mut rates) = (Vec::new(), Vec::new());
    for v in viewers {
        let (ms, rate) = v
            .join()
            .map_err(|_| anyhow::anyhow!("a viewer panicked"))??;
        lat.extend(ms);
        rates.push(rate);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    publisher
        .join()
        .map_err(|_| anyhow::anyhow!("the publisher panicked"))??;
    Ok((lat, rates))
}
