//! What the live benches share: a child process stopped when dropped, the wall clock in
//! ms, percentiles, a guest joining a channel over the relay's WebSocket, and plain
//! HTTP/1.1 requests to the relay with a token; and what the relay's locks over all channels
//! cost (its `/stats`).

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

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

/// A token from `shotline-relay token ARGS`, signed with `secret`.
pub fn mint_token(
    relay_bin: &std::path::Path,
    secret: &str,
    args: &[&str],
) -> anyhow::Result<String> {
    let out = std::process::Command::new(relay_bin)
        .arg("token")
        .args(args)
        .env("SHOTLINE_RELAY_SECRET", secret)
        .output()?;
    if !out.status.success() {
        bail!(
            "shotline-relay token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?
        .lines()
        .last()
        .context("no token")?
        .to_string())
}

/// `shotline-relay serve` on a free loopback port with its data in `data`, signing with
/// `secret`, once it listens; and its `host:port`.
pub fn serve_relay(
    relay_bin: &std::path::Path,
    data: &std::path::Path,
    secret: &str,
) -> anyhow::Result<(Running, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let host = format!("127.0.0.1:{port}");
    let relay = Running(
        std::process::Command::new(relay_bin)
            .args(["serve", "--listen", &host, "--data"])
            .arg(data)
            .env("SHOTLINE_RELAY_SECRET", secret)
            .env("SHOTLINE_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting shotline-relay")?,
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(&host).is_err() {
        if std::time::Instant::now() > deadline {
            bail!("shotline-relay did not start");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Ok((relay, host))
}

/// One HTTP/1.1 request to the relay with the token: the status line and the body.
pub async fn request(
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

/// POST `body` to `path`; the status code and the JSON answer (`null` when it is not JSON).
pub async fn post_status(
    host: &str,
    path: &str,
    token: &str,
    body: &serde_json::Value,
) -> anyhow::Result<(u16, serde_json::Value)> {
    let (status, answer) = request(host, "POST", path, token, Some(&body.to_string())).await?;
    let code = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((code, serde_json::from_slice(&answer).unwrap_or_default()))
}

/// GET `path` from the relay with the token; the body's length.
pub async fn fetch(host: &str, path: &str, token: &str) -> anyhow::Result<usize> {
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

/// What one of the relay's locks over all channels cost (`/stats`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LockCost {
    pub taken: u64,
    pub waited: u64,
    pub wait_us: u64,
}

/// The hub's lock, and the in-memory backend's, under which each event is appended and
/// handed to the hub.
#[derive(Debug, Clone, Copy, Default)]
pub struct Locks {
    pub hub: LockCost,
    pub backend: LockCost,
}

impl Locks {
    /// The relay's figures now.
    pub async fn read(host: &str) -> anyhow::Result<Self> {
        let stats = get_json(host, "/stats", "").await?;
        let n = |k: String| {
            stats[&k]
                .as_u64()
                .with_context(|| format!("/stats has no {k}"))
        };
        let cost = |lock: &str| -> anyhow::Result<LockCost> {
            Ok(LockCost {
                taken: n(format!("{lock}_lock_taken"))?,
                waited: n(format!("{lock}_lock_waited"))?,
                wait_us: n(format!("{lock}_lock_wait_us"))?,
            })
        };
        Ok(Self {
            hub: cost("hub")?,
            backend: cost("backend")?,
        })
    }

    /// What was spent since `before`.
    pub fn since(&self, before: &Self) -> Self {
        let d = |a: LockCost, b: LockCost| LockCost {
            taken: a.taken - b.taken,
            waited: a.waited - b.waited,
            wait_us: a.wait_us - b.wait_us,
        };
        Self {
            hub: d(self.hub, before.hub),
            backend: d(self.backend, before.backend),
        }
    }
}
