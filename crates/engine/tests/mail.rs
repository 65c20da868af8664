//! Mail to the studio, end to end with the real `shotline` binary, a real relay and a
//! real SMTP server (`aiosmtpd` from the pinned venv) on loopback that takes mail only
//! after STARTTLS, with a certificate signed by a studio's own CA the config trusts
//! (`ca_file`): a guest's
//! selection arrives as a message with the file names, and so does the warning for a share
//! about to end; each once, across an engine restart. A server that cannot STARTTLS gets
//! nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::gallery::{Relay, call, free_port, parse_link, studio_on};
use common::{Studio, bytes};
use serde_json::json;

/// `aiosmtpd` on `port`, keeping what it takes in the maildir `dir`; with `tls`, only
/// after STARTTLS.
struct Smtp {
    child: Child,
    maildir: PathBuf,
}

impl Smtp {
    fn start(port: u16, dir: &Path, tls: Option<(&Path, &Path)>) -> Self {
        let bin = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(".cache/shotline/venv/bin/aiosmtpd");
        assert!(
            bin.is_file(),
            "{} is missing: run `cargo xtask setup`",
            bin.display()
        );
        let maildir = dir.join("maildir");
        let mut command = Command::new(bin);
        command
            .args(["-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"]);
        if let Some((cert, key)) = tls {
            command.arg("--tlscert").arg(cert).arg("--tlskey").arg(key);
        }
        let child = command
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, maildir }
    }

    /// Every message taken so far.
    fn messages(&self) -> Vec<String> {
        let mut all = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                for e in entries.flatten() {
                    all.push(std::fs::read_to_string(e.path()).unwrap_or_default());
                }
            }
        }
        all
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A studio's own CA and a server certificate for 127.0.0.1 it signed (openssl): (CA
/// certificate, server certificate, server key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let path = |name: &str| dir.join(name);
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success(), "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Studio CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        path("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("ext");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "cert.pem",
    ]);
    (path("ca.pem"), path("cert.pem"), path("key.pem"))
}

fn with_mail(studio: &Studio, port: u16, ca: Option<&Path>) {
    let mut toml = std::fs::read_to_string(&studio.config).expect("config");
    toml.push_str(&format!(
        "\n[notify.email]\nserver = \"127.0.0.1\"\nport = {port}\ntls = \"starttls\"\n{}from = \"Shotline <shotline@studio.test>\"\nto = [\"Studio <studio@studio.test>\"]\ndigest_at = \"\"\nexpiry_warning = \"1h\"\n",
        ca.map(|c| format!("ca_file = {:?}\n", c.display().to_string()))
            .unwrap_or_default()
    ));
    std::fs::write(&studio.config, toml).expect("config");
}

fn wait_for(what: &str, smtp: &Smtp, studio: &Studio, done: impl Fn(&[String]) -> bool) {
    let start = Instant::now();
    while !done(&smtp.messages()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no {what}: {:?}\n{}",
            smtp.messages(),
            studio.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_selection_and_an_ending_share_reach_the_studio_by_mail_over_starttls() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (ca, cert, key) = certificates(tmp.path());
    let smtp_port = free_port();
    let smtp = Smtp::start(smtp_port, tmp.path(), Some((&cert, &key)));
    let port = free_port();
    let data = tempfile::tempdir().expect("relay data");
    let _relay = Relay::start(port, data.path());
    let mut studio = studio_on(port);
    with_mail(&studio, smtp_port, Some(&ca));
    for (i, name) in ["A_0001.JPG", "B_0002.JPG"].iter().enumerate() {
        std::fs::write(studio.hot.join(name), bytes(i as u64 + 1, 30_000)).expect("frame");
    }
    studio.start();
    studio.ready();
    studio.wait_for("two frames", Duration::from_secs(60), |s| s["shots"] == 2);
    let out = studio.shotline(&[
        "share", "create", "--title", "Proofs", "--ttl", "30m", "--choose", "1-2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let (base, id, link) = parse_link(stdout.lines().last().expect("link"));
    let channel = format!("studio:gallery:{id}");

    // The share ends within the warning's hour: the studio is told.
    wait_for("expiry warning", &smtp, &studio, |m| {
        m.iter()
            .any(|m| m.contains("Subject: The gallery") && m.contains("Proofs"))
    });

    let (status, body) = call(
        "POST",
        &format!("{base}/v1/tokens"),
        &link,
        Some(json!({"channels": [channel], "name": "Ana"})),
    );
    assert_eq!(status, 200, "{body}");
    let ana = body["token"].as_str().expect("token").to_string();
    let start = Instant::now();
    let frames = loop {
        let (status, state) = call(
            "GET",
            &format!("{base}/v1/blobs/{channel}/state.json"),
            &ana,
            None,
        );
        if status == 200 && state["frames"].as_array().is_some_and(|f| f.len() == 2) {
            break state["frames"].as_array().cloned().expect("frames");
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no state");
        std::thread::sleep(Duration::from_millis(100));
    };
    let a = frames
        .iter()
        .find(|f| f["name"] == "A_0001.JPG")
        .and_then(|f| f["frame"].as_i64())
        .expect("frame");
    for (n, kind, payload) in [
        ("1", "gallery_pick", json!({"frame": a, "picked": true})),
        ("2", "gallery_submit", json!({"picked": 1})),
    ] {
        let (status, body) = call(
            "POST",
            &format!("{base}/v1/channels/{channel}/events"),
            &ana,
            Some(json!({"id": n, "event": {"type": kind, "payload": payload}})),
        );
        assert_eq!(status, 200, "{body}");
    }
    wait_for("selection mail", &smtp, &studio, |m| {
        m.iter()
            .any(|m| m.contains("Subject: Ana sent a selection: 1 frame (Proofs)"))
    });
    let selection = smtp
        .messages()
        .into_iter()
        .find(|m| m.contains("Ana sent a selection"))
        .expect("mail");
    assert!(selection.contains("A_0001"), "{selection}");
    assert!(
        selection.contains("To: Studio <studio@studio.test>"),
        "{selection}"
    );

    // Once each, across a restart.
    studio.kill9();
    studio.start();
    studio.ready();
    std::thread::sleep(Duration::from_secs(4));
    let all = smtp.messages();
    assert_eq!(all.len(), 2, "{all:#?}");
}

#[test]
fn a_server_that_cannot_starttls_gets_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let smtp_port = free_port();
    let smtp = Smtp::start(smtp_port, tmp.path(), None);
    let port = free_port();
    let data = tempfile::tempdir().expect("relay data");
    let _relay = Relay::start(port, data.path());
    let mut studio = studio_on(port);
    with_mail(&studio, smtp_port, None);
    std::fs::write(studio.hot.join("A_0001.JPG"), bytes(1, 30_000)).expect("frame");
    studio.start();
    studio.ready();
    let out = studio.shotline(&["share", "create", "--ttl", "30m"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    studio.wait_for_log("mail: the SMTP server", Duration::from_secs(60));
    assert!(smtp.messages().is_empty(), "nothing in the clear");
}
