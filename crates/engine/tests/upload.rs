//! Uploads to a real S3-compatible server (`moto_server`, installed by `cargo xtask setup`
//! into `~/.cache/shotline/venv`), checked through boto3, an independent S3 client: every
//! object's content and hash metadata; multipart for a frame over the part size; `kill -9`
//! in the middle of a multipart upload resumes without sending finished parts again; a
//! missing bucket stops uploads with one clear error and no retry storm.

mod common;

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{SESSION, Studio, bytes};
use serde_json::Value;

fn venv_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/shotline/venv/bin").join(name)
}

/// `moto_server` on a free port, its request log in a file; killed when dropped.
struct Moto {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Moto {
    fn start(dir: &Path) -> Self {
        Self::start_with(dir, None, &[])
    }

    /// On `port` (a free one when `None`), with extra environment. Ready once this moto
    /// has bound the port (its log says so) and answers an S3 request: a free port can be
    /// taken by another test's server between the probe and moto's bind, and then moto
    /// exits while that server answers a connect. On a port of our choosing, that start is
    /// tried again on another.
    fn start_with(dir: &Path, port: Option<u16>, env: &[(&str, &str)]) -> Self {
        let bin = venv_bin("moto_server");
        assert!(
            bin.is_file(),
            "{} is missing: run `cargo xtask setup`",
            bin.display()
        );
        for _attempt in 0..5 {
            let chosen = port.unwrap_or_else(|| {
                TcpListener::bind("127.0.0.1:0")
                    .and_then(|l| l.local_addr())
                    .map(|a| a.port())
                    .expect("free port")
            });
            let log = dir.join(format!(
                "moto-{}.log",
                std::process::id() ^ u32::from(chosen) ^ rand_suffix()
            ));
            let child = Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &chosen.to_string()])
                .envs(env.iter().copied())
                .stdout(Stdio::null())
                .stderr(fs::File::create(&log).expect("log"))
                .spawn()
                .expect("start moto_server");
            let mut moto = Self {
                child,
                port: chosen,
                log,
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(status)) = moto.child.try_wait() {
                    let log = fs::read_to_string(&moto.log).unwrap_or_default();
                    eprintln!("moto_server on port {} exited ({status}): {log}", moto.port);
                    break;
                }
                // Werkzeug says so once it has bound the port: only then is the answer ours.
                let bound = fs::read_to_string(&moto.log)
                    .is_ok_and(|l| l.contains(&format!("Running on http://127.0.0.1:{chosen}")));
                if bound && answers_as_s3(chosen) {
                    return moto;
                }
                assert!(Instant::now() < deadline, "moto_server did not start");
                std::thread::sleep(Duration::from_millis(100));
            }
            assert!(port.is_none(), "moto_server could not take port {chosen}");
        }
        panic!("moto_server did not start on any of five free ports");
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Run Python with boto3 against this server; its standard output.
    fn boto(&self, script: &str) -> String {
        let out = Command::new(venv_bin("python"))
            .arg("-c")
            .arg(format!(
                "import boto3, json, sys\ns3 = boto3.client('s3', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')\n{script}",
                self.endpoint()
            ))
            .output()
            .expect("python");
        assert!(
            out.status.success(),
            "boto3: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Requests of `method` seen so far.
    fn requests(&self, method: &str) -> usize {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&format!("\"{method} ")))
            .count()
    }
}

/// Whether an S3 server answers on `port`: a bucket listing to an anonymous `GET /`.
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
    reply.contains("ListAllMyBucketsResult")
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default()
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn studio(moto: &Moto, bucket: &str) -> Studio {
    let mut s = Studio::with_backup("b");
    let mut text = fs::read_to_string(&s.config).expect("config");
    text.push_str(&format!(
        "\n[upload]\nendpoint = \"{}\"\nregion = \"us-east-1\"\nbucket = \"{bucket}\"\nkey = \"{{studio}}/{{session}}/{{name}}\"\npart_size = \"5MB\"\n",
        moto.endpoint()
    ));
    fs::write(&s.config, text).expect("config");
    s.env
        .push(("SHOTLINE_UPLOAD_ACCESS_KEY_ID".into(), "test".into()));
    s.env
        .push(("SHOTLINE_UPLOAD_SECRET_ACCESS_KEY".into(), "test".into()));
    s
}

/// Shoot 20 frames into a studio whose uploads cannot work: uploads stop with one critical
/// notification, a handful of requests at most (`requests` counts them), and the frames are
/// still stored. The run's log.
fn stops_once(s: &mut Studio, requests: impl Fn() -> usize) -> String {
    s.start();
    for i in 0..20u64 {
        fs::write(s.hot.join(format!("f{i}.jpg")), bytes(i, 10_000)).expect("write");
    }
    s.wait_for_log("Uploads stopped", Duration::from_secs(60));
    // Every frame stored and backed up: everything that could start an upload has
    // happened by then.
    s.wait_for("the frames stored", Duration::from_secs(60), |st| {
        st["shots"] == 20 && st["queue_depth"] == 0
    });
    let log = s.output();
    assert_eq!(
        log.matches("[CRITICAL] Uploads stopped").count(),
        1,
        "one notification, not one per frame: {log}"
    );
    let requests = requests();
    assert!(
        requests <= 8,
        "{requests} requests for uploads that cannot work"
    );
    assert_eq!(
        s.status()["shots"],
        20,
        "frames are still stored and backed up"
    );
    log
}

fn uploaded(status: &Value) -> u64 {
    status["uploads"]["done"].as_u64().unwrap_or_default()
}

#[test]
fn a_session_lands_in_the_bucket_with_content_and_hash_metadata() {
    let dir = tempfile::tempdir().expect("tempdir");
    let moto = Moto::start(dir.path());
    moto.boto("s3.create_bucket(Bucket='shots')");
    let mut s = studio(&moto, "shots");
    s.start();
    for i in 0..100u64 {
        fs::write(
            s.hot.join(format!("f{i:03}.jpg")),
            bytes(i, 30_000 + i as usize),
        )
        .expect("write");
    }
    // Over the 5 MB part size: three parts.
    fs::write(s.hot.join("big.cr3"), bytes(999, 12 * 1024 * 1024 + 17)).expect("write");
    s.wait_for("101 uploads", Duration::from_secs(180), |st| {
        uploaded(st) == 101
    });

    let download = dir.path().join("download");
    fs::create_dir(&download).expect("mkdir");
    let listing = moto.boto(&format!(
        "out = {{}}\nfor page in s3.get_paginator('list_objects_v2').paginate(Bucket='shots'):\n    for o in page.get('Contents', []):\n        k = o['Key']\n        h = s3.head_object(Bucket='shots', Key=k)\n        s3.download_file('shots', k, '{}/' + k.split('/')[-1])\n        out[k] = [o['Size'], h['Metadata'].get('xxh3', ''), h.get('ETag', '')]\nprint(json.dumps(out))",
        download.display()
    ));
    let listing: Value = serde_json::from_str(listing.trim()).expect("json");
    let objects = listing.as_object().expect("object");
    assert_eq!(objects.len(), 101, "{listing}");
    for (key, facts) in objects {
        let name = key.rsplit('/').next().expect("name");
        assert_eq!(key, &format!("studio/{SESSION}/{name}"));
        let library = s.library.join(SESSION).join(name);
        let (hash, size) = shotline_engine::hash::hash_file(&library, false).expect("hash");
        assert_eq!(facts[0].as_u64(), Some(size), "{key}");
        assert_eq!(
            facts[1].as_str(),
            Some(hash.as_str()),
            "{key}: hash metadata"
        );
        assert_eq!(
            fs::read(download.join(name)).expect("downloaded"),
            fs::read(&library).expect("library"),
            "{key}: content"
        );
    }
    let big_etag = objects["studio/shoot/big.cr3"][2]
        .as_str()
        .unwrap_or_default();
    assert!(
        big_etag.ends_with("-3\""),
        "multipart in 3 parts: {big_etag}"
    );

    // One batched notification for the burst, not one per frame.
    s.wait_for_log("photos uploaded", Duration::from_secs(30));
    let log = s.output();
    assert!(
        log.matches("photos uploaded").count() < 10,
        "uploads announced one by one: {log}"
    );
    // A restart uploads nothing again.
    s.stop();
    let puts = moto.requests("PUT");
    let done = uploaded(&s.status());
    s.start();
    // Uploads go oldest first: once a new frame is up, the old ones were looked at.
    fs::write(s.hot.join("after-restart.jpg"), bytes(999, 10_000)).expect("write");
    s.wait_for("the new frame's upload", Duration::from_secs(60), |st| {
        uploaded(st) == done + 1
    });
    assert_eq!(
        moto.requests("PUT"),
        puts + 1,
        "frames already in the bucket sent again"
    );
    s.stop();
}

#[test]
fn kill_9_mid_multipart_resumes_without_sending_finished_parts_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let moto = Moto::start(dir.path());
    moto.boto("s3.create_bucket(Bucket='shots')");
    let mut s = studio(&moto, "shots");
    // Ten parts of 5 MB at 5 MB/s: about one a second, so the kill lands mid-upload
    // however fast the machine is; killed once some parts are in.
    let mut text = fs::read_to_string(&s.config).expect("config");
    text = text.replace(
        "part_size = \"5MB\"\n",
        "part_size = \"5MB\"\nbandwidth = \"5MB/s\"\n",
    );
    fs::write(&s.config, text).expect("config");
    s.start();
    fs::write(s.hot.join("huge.cr3"), bytes(7, 50 * 1024 * 1024)).expect("write");
    let deadline = Instant::now() + Duration::from_secs(120);
    let parts_before = loop {
        let parts = moto.boto(
            "ups = s3.list_multipart_uploads(Bucket='shots').get('Uploads', [])\nprint(sum(len(s3.list_parts(Bucket='shots', Key=u['Key'], UploadId=u['UploadId']).get('Parts', [])) for u in ups))",
        );
        let parts: usize = parts.trim().parse().unwrap_or(0);
        if parts >= 2 {
            break parts;
        }
        assert!(
            uploaded(&s.status()) == 0,
            "the upload finished before the kill could land"
        );
        assert!(Instant::now() < deadline, "no parts went up");
        std::thread::sleep(Duration::from_millis(50));
    };
    s.kill9();
    let part_puts_before = moto.requests("PUT");
    s.start();
    s.wait_for("the upload to finish", Duration::from_secs(120), |st| {
        uploaded(st) == 1
    });
    let part_puts_after = moto.requests("PUT") - part_puts_before;
    eprintln!("parts before the kill: {parts_before}; parts sent after: {part_puts_after}");
    assert!(
        part_puts_after <= 10 - parts_before + 1,
        "{part_puts_after} parts sent after the restart, {parts_before} were already there"
    );
    let etag =
        moto.boto("print(s3.head_object(Bucket='shots', Key='studio/shoot/huge.cr3')['ETag'])");
    assert!(etag.trim().ends_with("-10\""), "{etag}");
    let left =
        moto.boto("print(len(s3.list_multipart_uploads(Bucket='shots').get('Uploads', [])))");
    assert_eq!(
        left.trim(),
        "0",
        "an unfinished multipart upload was left behind"
    );
    s.stop();
}

#[test]
fn a_missing_bucket_is_one_clear_error_and_no_retry_storm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let moto = Moto::start(dir.path());
    let mut s = studio(&moto, "no-such-bucket");
    let log = stops_once(&mut s, || moto.requests("PUT") + moto.requests("HEAD"));
    assert!(
        log.contains("does not exist") && log.contains("upload.bucket"),
        "{log}"
    );
    s.stop();
}

/// moto cannot check the credentials of presigned requests (its auth mode needs an
/// `Authorization` header and answers 500), so this one test faces a stand-in that answers
/// every request as S3 does for an unknown access key; it counts the requests.
fn refusing_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let head = line.starts_with("HEAD");
                    let mut length = 0usize;
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 {
                            return;
                        }
                        if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:")
                        {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if header == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    seen.fetch_add(1, Ordering::SeqCst);
                    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>";
                    let reply = if head {
                        "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_string()
                    } else {
                        format!(
                            "HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{xml}",
                            xml.len()
                        )
                    };
                    if reader.get_mut().write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, count)
}

#[test]
fn wrong_credentials_are_one_clear_error_and_no_retry_storm() {
    let (port, requests) = refusing_server();
    let mut s = Studio::with_backup("b");
    let mut text = fs::read_to_string(&s.config).expect("config");
    text.push_str(&format!(
        "\n[upload]\nendpoint = \"http://127.0.0.1:{port}\"\nregion = \"us-east-1\"\nbucket = \"shots\"\n"
    ));
    fs::write(&s.config, text).expect("config");
    s.env.push((
        "SHOTLINE_UPLOAD_ACCESS_KEY_ID".into(),
        "AKIAWRONGWRONG".into(),
    ));
    s.env.push((
        "SHOTLINE_UPLOAD_SECRET_ACCESS_KEY".into(),
        "not-the-secret".into(),
    ));
    let log = stops_once(&mut s, || {
        requests.load(std::sync::atomic::Ordering::SeqCst)
    });
    assert!(log.contains("SHOTLINE_UPLOAD_ACCESS_KEY_ID"), "{log}");
    assert!(!log.contains("not-the-secret"), "the secret was logged");
    s.stop();
}

#[test]
fn the_server_going_away_mid_upload_is_resumed_when_it_is_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let moto = Moto::start(dir.path());
    let port = moto.port;
    moto.boto("s3.create_bucket(Bucket='shots')");
    let mut s = studio(&moto, "shots");
    s.start();
    fs::write(s.hot.join("big.cr3"), bytes(5, 30 * 1024 * 1024)).expect("write");
    for i in 0..30u64 {
        fs::write(s.hot.join(format!("f{i:02}.jpg")), bytes(i, 200_000)).expect("write");
    }
    s.wait_for("some uploads", Duration::from_secs(60), |st| {
        uploaded(st) >= 3
    });
    // The server goes away (a dropped network); it comes back empty, as moto keeps
    // nothing, and the studio's admin recreates the bucket.
    drop(moto);
    std::thread::sleep(Duration::from_secs(3));
    let moto = Moto::start_with(dir.path(), Some(port), &[]);
    moto.boto("s3.create_bucket(Bucket='shots')");
    // What was uploaded before is gone with the old server; the rest must arrive.
    s.wait_for("every upload", Duration::from_secs(180), |st| {
        uploaded(st) == 31
    });
    let keys = moto.boto("print(len(s3.list_objects_v2(Bucket='shots').get('Contents', [])))");
    let after: usize = keys.trim().parse().expect("count");
    assert!(after >= 1, "nothing arrived after the server came back");
    let big = moto.boto(
        "r = s3.list_objects_v2(Bucket='shots', Prefix='studio/shoot/big')\nprint(len(r.get('Contents', [])))",
    );
    assert_eq!(
        big.trim(),
        "1",
        "the multipart frame was not finished after the outage"
    );
    s.stop();
}
