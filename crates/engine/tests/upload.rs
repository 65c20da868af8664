//! Uploads to two real, independent S3-compatible servers, `moto_server` and `s3s-fs`
//! (see `s3_servers`), every test on both: every object's content and hash metadata, checked
//! through boto3; multipart for a frame over the part size; a restart skips what is already
//! in the bucket; `kill -9` in the middle of a multipart upload resumes without sending
//! finished parts again; the server going away mid-upload; a missing bucket and wrong
//! credentials stop uploads with one clear error and no retry storm.

mod common;
mod s3_servers;

use std::fs;
use std::time::{Duration, Instant};

use common::{SESSION, Studio, bytes};
use s3_servers::{Kind, S3Server};
use serde_json::Value;

/// Each named test, once against each server: `moto::NAME` and `s3s_fs::NAME`.
macro_rules! on_both_servers {
    ($($name:ident),* $(,)?) => {
        mod moto {
            $(#[test]
            fn $name() {
                super::$name(super::Kind::Moto)
            })*
        }
        mod s3s_fs {
            $(#[test]
            fn $name() {
                super::$name(super::Kind::S3sFs)
            })*
        }
    };
}

on_both_servers!(
    a_session_lands_in_the_bucket_with_content_and_hash_metadata,
    kill_9_mid_multipart_resumes_without_sending_finished_parts_again,
    a_missing_bucket_is_one_clear_error_and_no_retry_storm,
    the_server_going_away_mid_upload_is_resumed_when_it_is_back,
);

fn studio(server: &S3Server, bucket: &str) -> Studio {
    let mut s = Studio::with_backup("b");
    let mut text = fs::read_to_string(&s.config).expect("config");
    text.push_str(&format!(
        "\n[upload]\nendpoint = \"{}\"\nregion = \"us-east-1\"\nbucket = \"{bucket}\"\nkey = \"{{studio}}/{{session}}/{{name}}\"\npart_size = \"5MB\"\n",
        server.endpoint()
    ));
    fs::write(&s.config, text).expect("config");
    s.env.push((
        "SHOTLINE_UPLOAD_ACCESS_KEY_ID".into(),
        s3_servers::ACCESS_KEY.into(),
    ));
    s.env.push((
        "SHOTLINE_UPLOAD_SECRET_ACCESS_KEY".into(),
        s3_servers::SECRET_KEY.into(),
    ));
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

fn a_session_lands_in_the_bucket_with_content_and_hash_metadata(kind: Kind) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = S3Server::start(kind, dir.path());
    server.create_bucket("shots");
    let mut s = studio(&server, "shots");
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
    let listing = server.boto(&format!(
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
    let puts = server.requests("PUT");
    let done = uploaded(&s.status());
    s.start();
    // Uploads go oldest first: once a new frame is up, the old ones were looked at.
    fs::write(s.hot.join("after-restart.jpg"), bytes(999, 10_000)).expect("write");
    s.wait_for("the new frame's upload", Duration::from_secs(60), |st| {
        uploaded(st) == done + 1
    });
    assert_eq!(
        server.requests("PUT"),
        puts + 1,
        "frames already in the bucket sent again"
    );
    s.stop();
}

fn kill_9_mid_multipart_resumes_without_sending_finished_parts_again(kind: Kind) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = S3Server::start(kind, dir.path());
    server.create_bucket("shots");
    let mut s = studio(&server, "shots");
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
        let parts = server.parts_in_progress("shots");
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
    let part_puts_before = server.requests("PUT");
    s.start();
    s.wait_for("the upload to finish", Duration::from_secs(120), |st| {
        uploaded(st) == 1
    });
    let part_puts_after = server.requests("PUT") - part_puts_before;
    eprintln!("parts before the kill: {parts_before}; parts sent after: {part_puts_after}");
    assert!(
        part_puts_after <= 10 - parts_before + 1,
        "{part_puts_after} parts sent after the restart, {parts_before} were already there"
    );
    let etag =
        server.boto("print(s3.head_object(Bucket='shots', Key='studio/shoot/huge.cr3')['ETag'])");
    assert!(etag.trim().ends_with("-10\""), "{etag}");
    assert_eq!(
        server.unfinished_uploads("shots"),
        0,
        "an unfinished multipart upload was left behind"
    );
    s.stop();
}

fn a_missing_bucket_is_one_clear_error_and_no_retry_storm(kind: Kind) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = S3Server::start(kind, dir.path());
    let mut s = studio(&server, "no-such-bucket");
    let log = stops_once(&mut s, || server.requests("PUT") + server.requests("HEAD"));
    assert!(
        log.contains("does not exist") && log.contains("upload.bucket"),
        "{log}"
    );
    s.stop();
}

/// Against s3s-fs only: moto checks no signature of a presigned request (its auth mode
/// needs an `Authorization` header), while s3s-fs verifies every one against its key.
/// A wrong key, then the right key with a wrong secret.
#[test]
fn wrong_credentials_are_one_clear_error_and_no_retry_storm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = S3Server::start(Kind::S3sFs, dir.path());
    server.create_bucket("shots");
    for (key, secret) in [
        ("AKIAWRONGWRONG", "not-the-secret"),
        (s3_servers::ACCESS_KEY, "not-the-secret"),
    ] {
        let mut s = studio(&server, "shots");
        s.env
            .retain(|(name, _)| !name.starts_with("SHOTLINE_UPLOAD_"));
        s.env
            .push(("SHOTLINE_UPLOAD_ACCESS_KEY_ID".into(), key.into()));
        s.env
            .push(("SHOTLINE_UPLOAD_SECRET_ACCESS_KEY".into(), secret.into()));
        let before = server.requests("PUT") + server.requests("HEAD");
        let log = stops_once(&mut s, || {
            server.requests("PUT") + server.requests("HEAD") - before
        });
        assert!(
            log.contains("SHOTLINE_UPLOAD_ACCESS_KEY_ID"),
            "{key}: {log}"
        );
        assert!(!log.contains("not-the-secret"), "the secret was logged");
        s.stop();
    }
    let objects = server.boto("print(len(s3.list_objects_v2(Bucket='shots').get('Contents', [])))");
    assert_eq!(
        objects.trim(),
        "0",
        "a request with a wrong signature was taken"
    );
}

fn the_server_going_away_mid_upload_is_resumed_when_it_is_back(kind: Kind) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = S3Server::start(kind, dir.path());
    let port = server.port;
    server.create_bucket("shots");
    let mut s = studio(&server, "shots");
    s.start();
    fs::write(s.hot.join("big.cr3"), bytes(5, 30 * 1024 * 1024)).expect("write");
    for i in 0..30u64 {
        fs::write(s.hot.join(format!("f{i:02}.jpg")), bytes(i, 200_000)).expect("write");
    }
    s.wait_for("some uploads", Duration::from_secs(60), |st| {
        uploaded(st) >= 3
    });
    // The server goes away (a dropped network); it comes back empty (moto keeps nothing;
    // s3s-fs starts on a new folder), and the studio's admin recreates the bucket.
    drop(server);
    std::thread::sleep(Duration::from_secs(3));
    let server = S3Server::start_with(kind, dir.path(), Some(port));
    server.ensure_bucket("shots");
    // What was uploaded before is gone with the old server; the rest must arrive.
    s.wait_for("every upload", Duration::from_secs(180), |st| {
        uploaded(st) == 31
    });
    let keys = server.boto("print(len(s3.list_objects_v2(Bucket='shots').get('Contents', [])))");
    let after: usize = keys.trim().parse().expect("count");
    assert!(after >= 1, "nothing arrived after the server came back");
    let big = server.boto(
        "r = s3.list_objects_v2(Bucket='shots', Prefix='studio/shoot/big')\nprint(len(r.get('Contents', [])))",
    );
    assert_eq!(
        big.trim(),
        "1",
        "the multipart frame was not finished after the outage"
    );
    s.stop();
}
