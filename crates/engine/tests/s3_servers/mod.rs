//! The two independent S3-compatible servers the upload tests run against, each a real
//! server process on a free port of 127.0.0.1 with its request log in a file:
//!
//! - `moto_server` (Python, the AWS SDKs' own test double), from the pinned venv that
//!   `cargo xtask setup` makes in `~/.cache/shotline/venv`; it keeps everything in memory
//!   and checks no signature;
//! - `s3s-fs` (Rust, the `s3s` crate's server on a folder), pinned and installed by
//!   `cargo xtask setup` into `~/.cache/shotline/bin`; it verifies every SigV4 signature,
//!   presigned ones included, against its one access key.
//!
//! What arrived is checked through boto3, an S3 client independent of the engine's.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The access key and secret both servers know.
pub const ACCESS_KEY: &str = "test";
/// See [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "test";

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Moto,
    S3sFs,
}

/// A running server; killed when dropped.
pub struct S3Server {
    kind: Kind,
    child: Child,
    pub port: u16,
    log: PathBuf,
    /// s3s-fs's data folder.
    root: PathBuf,
}

fn home_path(rel: &str) -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(rel)
}

fn venv_bin(name: &str) -> PathBuf {
    home_path(".cache/shotline/venv/bin").join(name)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default()
}

impl S3Server {
    /// `kind` on a free port, its files under `dir`.
    pub fn start(kind: Kind, dir: &Path) -> Self {
        Self::start_with(kind, dir, None)
    }

    /// On `port` (a free one when `None`), empty. Ready once this server has bound the
    /// port (its log says so) and answers an S3 request: a free port can be taken by
    /// another test's server between the probe and the bind, and then the server exits
    /// while that other one answers a connect. That start is tried again: on another free
    /// port, or on `port` a little later.
    pub fn start_with(kind: Kind, dir: &Path, port: Option<u16>) -> Self {
        for _attempt in 0..5 {
            let chosen = port.unwrap_or_else(free_port);
            let tag = std::process::id() ^ u32::from(chosen) ^ rand_suffix();
            let log = dir.join(format!("{kind:?}-{tag}.log"));
            let root = dir.join(format!("{kind:?}-{tag}.data"));
            let child = spawn(kind, chosen, &root, &log);
            let mut server = Self {
                kind,
                child,
                port: chosen,
                log,
                root,
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(status)) = server.child.try_wait() {
                    let log = fs::read_to_string(&server.log).unwrap_or_default();
                    eprintln!("{kind:?} on port {chosen} exited ({status}): {log}");
                    break;
                }
                if server.bound() && answers_as_s3(chosen) {
                    return server;
                }
                assert!(Instant::now() < deadline, "{kind:?} did not start");
                std::thread::sleep(Duration::from_millis(100));
            }
            if port.is_some() {
                // Another test's server may hold our port for a moment: wait, then again.
                std::thread::sleep(Duration::from_secs(2));
            }
        }
        panic!("{kind:?} did not start in five tries (port {port:?})");
    }

    /// Whether this process's own log says it holds the port.
    fn bound(&self) -> bool {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        match self.kind {
            // Werkzeug says so once it has bound the port.
            Kind::Moto => log.contains(&format!("Running on http://127.0.0.1:{}", self.port)),
            Kind::S3sFs => log.contains(&format!(
                "server is running at http://127.0.0.1:{}",
                self.port
            )),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Run Python with boto3 against this server (as `s3`); its standard output.
    pub fn boto(&self, script: &str) -> String {
        let out = Command::new(venv_bin("python"))
            .arg("-c")
            .arg(format!(
                "import boto3, json, sys\ns3 = boto3.client('s3', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='{ACCESS_KEY}', aws_secret_access_key='{SECRET_KEY}')\n{script}",
                self.endpoint()
            ))
            .output()
            .expect("python");
        assert!(
            out.status.success(),
            "boto3 against {:?}: {}",
            self.kind,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn create_bucket(&self, bucket: &str) {
        self.boto(&format!("s3.create_bucket(Bucket='{bucket}')"));
    }

    /// Create `bucket` unless it is there already: s3s-fs makes a bucket's folder on the
    /// first `PUT` into it, so a client retrying against a restarted s3s-fs may have
    /// brought it back first.
    pub fn ensure_bucket(&self, bucket: &str) {
        self.boto(&format!(
            "try:\n    s3.create_bucket(Bucket='{bucket}')\nexcept (s3.exceptions.BucketAlreadyExists, s3.exceptions.BucketAlreadyOwnedByYou):\n    pass"
        ));
    }

    /// Requests with HTTP `method` this server has taken so far.
    pub fn requests(&self, method: &str) -> usize {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let needle = match self.kind {
            // Werkzeug's access log: `"PUT /shots/... HTTP/1.1" 200 -`.
            Kind::Moto => format!("\"{method} "),
            // s3s's debug line for each request it takes.
            Kind::S3sFs => format!("req: Request {{ method: {method}, "),
        };
        log.lines().filter(|l| l.contains(&needle)).count()
    }

    /// Parts stored for multipart uploads not yet complete, in every bucket.
    pub fn parts_in_progress(&self, bucket: &str) -> usize {
        match self.kind {
            Kind::Moto => self
                .boto(&format!(
                    "ups = s3.list_multipart_uploads(Bucket='{bucket}').get('Uploads', [])\nprint(sum(len(s3.list_parts(Bucket='{bucket}', Key=u['Key'], UploadId=u['UploadId']).get('Parts', [])) for u in ups))"
                ))
                .trim()
                .parse()
                .unwrap_or(0),
            // s3s-fs has no ListMultipartUploads; it keeps each finished part as a file
            // `.upload_id-<id>.part-<n>` (written aside and renamed, so whole) in its folder.
            Kind::S3sFs => self.data_files(".upload_id-", ".part-"),
        }
    }

    /// Multipart uploads started and neither completed nor aborted.
    pub fn unfinished_uploads(&self, bucket: &str) -> usize {
        match self.kind {
            Kind::Moto => self
                .boto(&format!(
                    "print(len(s3.list_multipart_uploads(Bucket='{bucket}').get('Uploads', [])))"
                ))
                .trim()
                .parse()
                .expect("count"),
            // One `.upload-<id>.json` per upload, removed when it is completed or aborted.
            Kind::S3sFs => self.data_files(".upload-", ".json"),
        }
    }

    fn data_files(&self, prefix: &str, contains: &str) -> usize {
        fs::read_dir(&self.root)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        name.starts_with(prefix) && name[prefix.len()..].contains(contains)
                    })
                    .count()
            })
            .unwrap_or(0)
    }
}

/// `bin`, which `cargo xtask setup` installs.
fn installed(bin: PathBuf) -> PathBuf {
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo xtask setup`",
        bin.display()
    );
    bin
}

fn spawn(kind: Kind, port: u16, root: &Path, log: &Path) -> Child {
    let log = fs::File::create(log).expect("log");
    let mut command = match kind {
        Kind::Moto => {
            let mut c = Command::new(installed(venv_bin("moto_server")));
            c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            c
        }
        Kind::S3sFs => {
            fs::create_dir_all(root).expect("s3s-fs folder");
            let mut c = Command::new(installed(home_path(".cache/shotline/bin/s3s-fs")));
            c.args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                .arg(root)
                // Its request lines (`debug`), without colour, one field a line.
                .env("RUST_LOG", "info,s3s::service=debug");
            c
        }
    };
    command
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {kind:?}: {e}"))
}

/// Whether an S3 server answers on `port`: an anonymous `GET /` gets S3's XML (a bucket
/// listing from moto, an access error from s3s-fs, which wants a signature).
fn answers_as_s3(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.contains("ListAllMyBucketsResult") || reply.contains("<Error>")
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
