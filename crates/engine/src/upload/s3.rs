//! A small blocking S3 client: requests signed by `rusty-s3` (SigV4, presigned URLs, the
//! metadata header signed with them), sent with `ureq` (rustls). Every body carries a
//! `Content-MD5` that S3 checks on receipt; the frame's XXH3-128 travels as object
//! metadata (`x-amz-meta-xxh3`). Answers are sorted into permanent errors (credentials,
//! bucket, access: retrying cannot help), a vanished multipart upload, and transient ones.

use std::time::Duration;

use base64::Engine as _;
use md5::{Digest, Md5};
use rusty_s3::actions::{
    AbortMultipartUpload, CompleteMultipartUpload, CreateMultipartUpload, GetObject, HeadBucket,
    HeadObject, PutObject, UploadPart,
};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

/// How long a signed URL stays valid.
const SIGNED_FOR: Duration = Duration::from_secs(3600);
/// Metadata key holding the frame's hash.
pub const HASH_META: &str = "x-amz-meta-xxh3";

/// What went wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3Error {
    /// Wrong credentials, missing bucket, access denied: retrying will not help until the
    /// settings change.
    #[error("{0}")]
    Permanent(String),
    /// The multipart upload is gone on the server (aborted or expired).
    #[error("the multipart upload is gone on the server")]
    NoSuchUpload,
    /// The bucket does not exist: permanent, unless uploads to it worked before (a
    /// server that restarted empty, while its admin recreates the bucket).
    #[error("{0}")]
    NoSuchBucket(String),
    /// Network trouble, a timeout, a 5xx, throttling: try again later.
    #[error("{0}")]
    Transient(String),
}

impl S3Error {
    /// True when retrying cannot help until the settings change.
    pub fn is_permanent(&self) -> bool {
        matches!(self, S3Error::Permanent(_) | S3Error::NoSuchBucket(_))
    }

    /// True when the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        !self.is_permanent()
    }
}

/// Where to and as whom.
#[derive(Debug, Clone)]
pub struct Client {
    bucket: Bucket,
    credentials: Credentials,
    agent: ureq::Agent,
}

fn md5_base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(data))
}

/// The `<Code>` of an S3 XML error body.
fn error_code(body: &str) -> Option<&str> {
    let start = body.find("<Code>")? + "<Code>".len();
    let end = body[start..].find("</Code>")? + start;
    Some(&body[start..end])
}

fn classify(status: u16, body: &str, what: &str) -> S3Error {
    let code = error_code(body).unwrap_or("");
    let detail = if code.is_empty() {
        format!("{what}: HTTP {status}")
    } else {
        format!("{what}: HTTP {status} {code}")
    };
    match (status, code) {
        (404, "NoSuchUpload") => S3Error::NoSuchUpload,
        (404, "NoSuchBucket") => S3Error::NoSuchBucket(format!(
            "{detail}: the bucket does not exist; create it or fix upload.bucket"
        )),
        (
            400 | 401 | 403,
            "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "AccessDenied"
            | "InvalidToken"
            | "ExpiredToken"
            | "AuthorizationHeaderMalformed"
            | "",
        ) if status != 400 || !code.is_empty() => S3Error::Permanent(format!(
            "{detail}: check the access key and secret (SHOTLINE_UPLOAD_ACCESS_KEY_ID, SHOTLINE_UPLOAD_SECRET_ACCESS_KEY) and the bucket's permissions"
        )),
        (301 | 307, _) | (400, "PermanentRedirect" | "AuthorizationHeaderMalformed") => {
            S3Error::Permanent(format!(
                "{detail}: the bucket is in another region; fix upload.region"
            ))
        }
        (400, "BadDigest" | "InvalidDigest") => {
            S3Error::Transient(format!("{detail}: the data changed on the way; sent again"))
        }
        (408 | 429 | 500..=599, _) | (400, "RequestTimeout") => S3Error::Transient(detail),
        _ => S3Error::Permanent(detail),
    }
}

impl Client {
    /// A client for `bucket` at `endpoint`.
    pub fn new(
        endpoint: &str,
        region: &str,
        bucket: &str,
        path_style: bool,
        access_key: &str,
        secret_key: &str,
    ) -> Result<Self, S3Error> {
        let url = url::Url::parse(endpoint)
            .map_err(|e| S3Error::Permanent(format!("upload.endpoint: {e}")))?;
        let style = if path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(url, style, bucket.to_string(), region.to_string())
            .map_err(|e| S3Error::Permanent(format!("upload.bucket: {e}")))?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        Ok(Self {
            bucket,
            credentials: Credentials::new(access_key, secret_key),
            agent,
        })
    }

    /// A presigned `GET` of `key`, good for `ttl`, that downloads as `name` (for a guest
    /// of a gallery: the relay never holds the studio's credentials).
    pub fn presigned_get(&self, key: &str, name: &str, ttl: Duration) -> url::Url {
        let mut action = GetObject::new(&self.bucket, Some(&self.credentials), key);
        let ascii: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() && c != '"' && c != '\\' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        action.query_mut().insert(
            "response-content-disposition",
            format!("attachment; filename=\"{ascii}\""),
        );
        action.sign(ttl)
    }

    /// `NoSuchBucket` when the server answers the bucket's `HEAD` with 404, `Transient`
    /// when it does not answer. Anything else (200; 403 from a key that may `PUT` but not
    /// list, as uploaders' keys often are; a region's redirect) is `Ok`: the first upload's
    /// own answer decides.
    pub fn check_bucket(&self) -> Result<(), S3Error> {
        let url = HeadBucket::new(&self.bucket, Some(&self.credentials)).sign(SIGNED_FOR);
        match self.head(&url, "HEAD bucket")?.status().as_u16() {
            // A HEAD has no body: the status alone tells.
            404 => Err(classify(404, "<Code>NoSuchBucket</Code>", "HEAD bucket")),
            _ => Ok(()),
        }
    }

    /// The object's XXH3 metadata, `Some("")` when it exists without one, `None` when
    /// there is no object.
    pub fn head_hash(&self, key: &str) -> Result<Option<String>, S3Error> {
        let url = HeadObject::new(&self.bucket, Some(&self.credentials), key).sign(SIGNED_FOR);
        let response = self.head(&url, &format!("HEAD {key}"))?;
        match response.status().as_u16() {
            200 => Ok(Some(
                response
                    .headers()
                    .get(HASH_META)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string(),
            )),
            404 => Ok(None),
            // A HEAD has no body: the status alone tells.
            403 => Err(classify(
                403,
                "<Code>AccessDenied</Code>",
                &format!("HEAD {key}"),
            )),
            status => Err(classify(status, "", &format!("HEAD {key}"))),
        }
    }

    /// One `PUT` of the whole object.
    pub fn put(&self, key: &str, data: &[u8], hash: &str) -> Result<(), S3Error> {
        let mut action = PutObject::new(&self.bucket, Some(&self.credentials), key);
        action.headers_mut().insert(HASH_META, hash.to_string());
        let url = action.sign(SIGNED_FOR);
        self.send(
            self.agent
                .put(url.as_str())
                .header(HASH_META, hash)
                .header("Content-MD5", md5_base64(data)),
            data,
            &format!("PUT {key}"),
        )
        .map(|_| ())
    }

    /// Start a multipart upload; its id.
    pub fn create_multipart(&self, key: &str, hash: &str) -> Result<String, S3Error> {
        let url = self.create_multipart_url(key, hash, &jiff::Timestamp::now());
        let (_, body) = self.send(
            self.agent.post(url.as_str()).header(HASH_META, hash),
            &[],
            &format!("create multipart {key}"),
        )?;
        CreateMultipartUpload::parse_response(&body)
            .map(|r| r.upload_id().to_string())
            .map_err(|e| S3Error::Transient(format!("create multipart {key}: {e}")))
    }

    /// The presigned `POST /{key}?uploads=` that starts a multipart upload, with the hash
    /// header signed. The sub-resource goes with an empty value, as AWS's canonical form
    /// and its SDKs have it. rusty-s3's own action sends `uploads=1`, which moto 5.2.6 answers with
    /// a 500 (it matches the sub-resource with its value); so this one request is signed
    /// here with rusty-s3's public signer, as its docs offer for such cases.
    fn create_multipart_url(&self, key: &str, hash: &str, time: &jiff::Timestamp) -> url::Url {
        rusty_s3::signing::sign(
            time,
            rusty_s3::Method::Post,
            self.bucket.object_url(key),
            self.credentials.key(),
            self.credentials.secret(),
            self.credentials.token(),
            self.bucket.region(),
            SIGNED_FOR.as_secs(),
            std::iter::once(("uploads", "")),
            std::iter::once((HASH_META, hash)),
        )
    }

    /// Send one part; its ETag.
    pub fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        data: &[u8],
    ) -> Result<String, S3Error> {
        let url = UploadPart::new(
            &self.bucket,
            Some(&self.credentials),
            key,
            number,
            upload_id,
        )
        .sign(SIGNED_FOR);
        let (etag, _) = self.send(
            self.agent
                .put(url.as_str())
                .header("Content-MD5", md5_base64(data)),
            data,
            &format!("part {number} of {key}"),
        )?;
        etag.ok_or_else(|| S3Error::Transient(format!("part {number} of {key}: no ETag")))
    }

    /// Finish a multipart upload from its parts' ETags, in part order.
    pub fn complete(&self, key: &str, upload_id: &str, etags: &[String]) -> Result<(), S3Error> {
        let action = CompleteMultipartUpload::new(
            &self.bucket,
            Some(&self.credentials),
            key,
            upload_id,
            etags.iter().map(String::as_str),
        );
        let url = action.sign(SIGNED_FOR);
        let body = action.body();
        let (_, reply) = self.send(
            self.agent.post(url.as_str()),
            body.as_bytes(),
            &format!("complete {key}"),
        )?;
        // S3 may answer 200 with an error inside the body.
        if reply.contains("<Error>") {
            return Err(classify(500, &reply, &format!("complete {key}")));
        }
        Ok(())
    }

    /// Abort a multipart upload (its parts are deleted on the server).
    pub fn abort(&self, key: &str, upload_id: &str) -> Result<(), S3Error> {
        let url = AbortMultipartUpload::new(&self.bucket, Some(&self.credentials), key, upload_id)
            .sign(SIGNED_FOR);
        let response = self
            .agent
            .delete(url.as_str())
            .call()
            .map_err(|e| S3Error::Transient(format!("abort {key}: {e}")))?;
        match response.status().as_u16() {
            200..=299 | 404 => Ok(()),
            status => Err(classify(status, "", &format!("abort {key}"))),
        }
    }

    /// A `HEAD` of `url`; a network failure is transient.
    fn head(
        &self,
        url: &url::Url,
        what: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, S3Error> {
        self.agent
            .head(url.as_str())
            .call()
            .map_err(|e| S3Error::Transient(format!("{what}: {e}")))
    }

    /// Send `data`; the ETag header and the body of a 2xx answer.
    fn send(
        &self,
        request: ureq::RequestBuilder<ureq::typestate::WithBody>,
        data: &[u8],
        what: &str,
    ) -> Result<(Option<String>, String), S3Error> {
        let mut response = request
            .send(data)
            .map_err(|e| S3Error::Transient(format!("{what}: {e}")))?;
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        if (200..300).contains(&status) {
            Ok((etag, body))
        } else {
            Err(classify(status, &body, what))
        }
    }
}

#[cfg(test)]
#[path = "s3_tests.rs"]
mod tests;
