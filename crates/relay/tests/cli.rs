//! `shotline-relay` as an operator runs it: `token` mints what `serve` accepts; a missing
//! secret is named with the fix; `serve` prints its address and answers `/health`.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use shotline_relay::auth::{Role, now_secs, verify};

const BIN: &str = env!("CARGO_BIN_EXE_shotline-relay");
const SECRET: &str = "ulSrk3aq9UuVyR3pOgJF6d6f1bHUJ2frh21EQ9byhJ4=";

#[test]
fn token_mints_a_verifiable_token_and_a_missing_secret_is_named() {
    let out = Command::new(BIN)
        .env("SHOTLINE_RELAY_SECRET", SECRET)
        .args([
            "token",
            "--role",
            "publisher",
            "--channels",
            "north:*,admin",
            "--ttl",
            "2h",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let claims = verify(&token, SECRET.as_bytes()).expect("valid token");
    assert_eq!(claims.role, Role::Publisher);
    assert_eq!(claims.channels, ["north:*", "admin"]);
    assert!(claims.exp > now_secs() + 7000 && claims.exp <= now_secs() + 7200);

    let out = Command::new(BIN)
        .env_remove("SHOTLINE_RELAY_SECRET")
        .args(["token", "--role", "subscriber", "--channels", "x"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SHOTLINE_RELAY_SECRET") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn serve_prints_its_address_and_is_healthy() {
    let mut child = Command::new(BIN)
        .env("SHOTLINE_RELAY_SECRET", SECRET)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("address line");
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .expect("address")
        .to_string();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        response.starts_with("HTTP/1.1 200") && response.ends_with(r#"{"status":"ok"}"#),
        "{response}"
    );
}
