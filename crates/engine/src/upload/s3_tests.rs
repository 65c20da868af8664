//! The S3 client's answers sorted, its signed addresses, its checksums.

use super::*;

#[test]
fn errors_are_sorted_by_what_can_help() {
    let body = |code: &str| format!("<Error><Code>{code}</Code></Error>");
    assert!(matches!(
        classify(403, &body("InvalidAccessKeyId"), "PUT k"),
        S3Error::Permanent(m) if m.contains("SHOTLINE_UPLOAD_ACCESS_KEY_ID")
    ));
    assert!(matches!(
        classify(404, &body("NoSuchBucket"), "PUT k"),
        S3Error::NoSuchBucket(m) if m.contains("upload.bucket")
    ));
    assert_eq!(
        classify(404, &body("NoSuchUpload"), "part"),
        S3Error::NoSuchUpload
    );
    assert!(matches!(
        classify(503, &body("SlowDown"), "PUT k"),
        S3Error::Transient(_)
    ));
    assert!(matches!(classify(500, "", "PUT k"), S3Error::Transient(_)));
    assert!(matches!(
        classify(400, &body("BadDigest"), "PUT k"),
        S3Error::Transient(_)
    ));
}

#[test]
fn a_multipart_upload_starts_with_a_bare_uploads_sub_resource() {
    let client = Client::new(
        "http://127.0.0.1:9000",
        "us-east-1",
        "shots",
        true,
        "AKIAEXAMPLE",
        "secret",
    )
    .expect("client");
    let time: jiff::Timestamp = "2026-12-07T10:00:00Z".parse().expect("time");
    let url = client.create_multipart_url("studio/shoot/big.cr3", "abc", &time);
    assert_eq!(url.path(), "/shots/studio/shoot/big.cr3");
    let query = url.query().expect("query");
    let params: Vec<&str> = query.split('&').collect();
    assert!(params.contains(&"uploads="), "{query}");
    assert!(!query.contains("uploads=1"), "{query}");
    assert!(
        params.contains(&"X-Amz-SignedHeaders=host%3Bx-amz-meta-xxh3"),
        "the hash header is signed: {query}"
    );
    assert!(params.iter().any(|p| p.starts_with("X-Amz-Signature=")));
}

#[test]
fn content_md5_is_base64_of_the_digest() {
    assert_eq!(md5_base64(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
}
