//! `cargo xtask bench upload`: ~500 MB of frames (20 × 25 MB) from the library to a loopback
//! `moto_server`, by Shotline's upload stage (release build; the clock runs from start to
//! `status` saying every frame is uploaded) and, in the same run against the same server,
//! by `rclone copy` (Debian's rclone, its defaults: 4 transfers). Rounds alternate; each
//! goes to a fresh bucket. Prints MB/s and the ratio.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::bench::{FILE_BYTES, frame};
use crate::sys;

const FILES: usize = 20;
const SESSION: &str = "bench";
const ROUNDS: usize = 3;

struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> anyhow::Result<Moto> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(sys::venv().join("bin").join("moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting moto_server (cargo xtask setup installs it)")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("moto_server did not start");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    })
}

fn create_bucket(moto: &Moto, bucket: &str) -> anyhow::Result<()> {
    sys::status(
        Command::new(sys::venv().join("bin").join("python")).arg("-c").arg(format!(
            "import boto3\nboto3.client('s3', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test').create_bucket(Bucket='{bucket}')",
            moto.endpoint
        )),
    )
}

/// `shotline status --json` of `config`.
pub fn status(bin: &Path, config: &Path) -> anyhow::Result<serde_json::Value> {
    let out = Command::new(bin)
        .arg("--config")
        .arg(config)
        .args(["status", "--json"])
        .output()?;
    Ok(serde_json::from_slice(&out.stdout).unwrap_or_default())
}

/// Run `shotline run --session SESSION` on `config` until `done` holds for its status
/// (polled every 50 ms), then stop it with SIGTERM; the time from start to done.
pub fn run_until(
    bin: &Path,
    config: &Path,
    session: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(config)
        .args(["run", "--session", session])
        .env("SHOTLINE_UPLOAD_ACCESS_KEY_ID", "test")
        .env("SHOTLINE_UPLOAD_SECRET_ACCESS_KEY", "test")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting shotline")?;
    let took = loop {
        let now = status(bin, config)?;
        if done(&now) {
            break start.elapsed();
        }
        if start.elapsed() > Duration::from_secs(900) {
            let _ = child.kill();
            bail!("shotline did not finish in 15 minutes: {now}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()?;
    child.wait()?;
    Ok(took)
}

pub fn bench() -> anyhow::Result<()> {
    if !sys::which("rclone") {
        bail!("rclone is missing: run `cargo xtask setup`");
    }
    let bin = crate::bench::release_shotline()?;
    let target = crate::bench::target_dir();
    std::fs::create_dir_all(&target)?;
    let work = tempfile::Builder::new()
        .prefix("bench-upload-")
        .tempdir_in(&target)?;
    let root = work.path();
    let hot = root.join("frames");
    std::fs::create_dir_all(&hot)?;
    eprintln!(
        "bench upload: writing {FILES} frames of {} MB",
        FILE_BYTES / 1_000_000
    );
    for i in 0..FILES {
        std::fs::write(hot.join(format!("DSC_{i:04}.NEF")), frame(i as u64))?;
    }
    let config = root.join("shotline.toml");
    let moto = moto()?;
    let mut times: [Vec<f64>; 2] = Default::default();
    for round in 0..ROUNDS {
        // Shotline: a fresh library (ingested first, not timed) and a fresh bucket.
        let library = root.join(format!("library-{round}"));
        let base = format!(
            "backup = []\n[[hot_folder]]\npath = {hot:?}\n[library]\npath = {library:?}\nnaming = \"{{session}}/{{original}}\"\n[camera]\nenabled = false\n[relay]\nlisten = \"127.0.0.1:0\"\n"
        );
        std::fs::write(&config, &base)?;
        run_until(&bin, &config, SESSION, |s| {
            s["shots"] == FILES as u64 && s["queue_depth"] == 0
        })?;
        let bucket = format!("shotline-{round}");
        create_bucket(&moto, &bucket)?;
        std::fs::write(
            &config,
            format!(
                "{base}[upload]\nendpoint = \"{}\"\nregion = \"us-east-1\"\nbucket = \"{bucket}\"\nkey = \"{{studio}}/{{session}}/{{name}}\"\n",
                moto.endpoint
            ),
        )?;
        let ours = run_until(&bin, &config, SESSION, |s| {
            s["uploads"]["done"] == FILES as u64
        })?;
        let bucket = format!("rclone-{round}");
        create_bucket(&moto, &bucket)?;
        let start = Instant::now();
        sys::status(
            Command::new("rclone")
                // A machine-wide AWS_CA_BUNDLE breaks rclone's plain-HTTP S3 transport.
                .env_remove("AWS_CA_BUNDLE")
                .args([
                    "copy",
                    "--s3-provider",
                    "Other",
                    "--s3-force-path-style=true",
                ])
                .args(["--s3-endpoint", &moto.endpoint, "--s3-region", "us-east-1"])
                .args([
                    "--s3-access-key-id",
                    "test",
                    "--s3-secret-access-key",
                    "test",
                ])
                .arg(library.join(SESSION))
                .arg(format!(":s3:{bucket}/studio/{SESSION}"))
                .stdout(Stdio::null()),
        )?;
        let theirs = start.elapsed();
        eprintln!(
            "bench upload: round {} of {ROUNDS}: shotline {:.2}s, rclone {:.2}s",
            round + 1,
            ours.as_secs_f64(),
            theirs.as_secs_f64()
        );
        times[0].push(ours.as_secs_f64());
        times[1].push(theirs.as_secs_f64());
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let [ours, theirs] = times.map(median);
    let mb = (FILES * FILE_BYTES) as f64 / 1e6;
    println!(
        "upload bench: {FILES} × {} MB = {mb:.0} MB to moto_server on loopback, median of {ROUNDS} rounds",
        FILE_BYTES / 1_000_000
    );
    println!(
        "  shotline upload stage   {:>8.1} MB/s  {ours:.2}s (from start, status polled)",
        mb / ours
    );
    println!(
        "  rclone copy             {:>8.1} MB/s  {theirs:.2}s",
        mb / theirs
    );
    println!("  ratio shotline / rclone {:>8.2}x", theirs / ours);
    Ok(())
}
