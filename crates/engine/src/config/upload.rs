//! `[upload]`: the studio's S3-compatible bucket.

use serde::{Deserialize, Serialize};

use super::parse_size;

/// `[upload]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// S3-compatible endpoint URL.
    pub endpoint: String,
    /// Region (`auto` for R2).
    #[serde(default = "default_region")]
    pub region: String,
    /// Bucket name.
    pub bucket: String,
    /// Object key template.
    #[serde(default = "default_key")]
    pub key: String,
    /// Path-style URLs (`endpoint/bucket/key`); default: on, except for AWS endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_style: Option<bool>,
    /// Upload a frame only once it is verified on this many backup targets (0: at once).
    #[serde(default)]
    pub after_backups: u32,
    /// Frames uploaded at the same time.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Part size of multipart uploads, also the size from which they are used (`32MB`;
    /// at least 5 MiB, as S3 requires).
    #[serde(default = "default_part_size")]
    pub part_size: String,
    /// Upload bandwidth limit over all uploads, e.g. `"20MB/s"`; absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth: Option<String>,
    /// Public base URL of the bucket, for links in `upload_complete` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// A gallery guest's original comes from the bucket by a presigned address (the
    /// engine sends the file itself otherwise); default: when the endpoint is not on this
    /// computer or the studio's own network, which guests elsewhere cannot reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presign_for_guests: Option<bool>,
}

impl Default for Upload {
    /// Empty endpoint and bucket (not valid until filled in); the documented defaults.
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            region: default_region(),
            bucket: String::new(),
            key: default_key(),
            path_style: None,
            after_backups: 0,
            concurrency: default_concurrency(),
            part_size: default_part_size(),
            bandwidth: None,
            public_url: None,
            presign_for_guests: None,
        }
    }
}

impl Upload {
    /// Whether to use path-style URLs.
    pub fn path_style(&self) -> bool {
        self.path_style
            .unwrap_or_else(|| !self.endpoint.contains("amazonaws.com"))
    }

    /// [`Upload::bandwidth`] in bytes per second (validated by `config check`).
    pub fn bandwidth_bytes(&self) -> Option<u64> {
        let text = self.bandwidth.as_deref()?;
        parse_size(text.trim().trim_end_matches("/s")).filter(|b| *b > 0)
    }

    /// Whether guests get originals from the bucket ([`Upload::presign_for_guests`]).
    pub fn presign_for_guests(&self) -> bool {
        self.presign_for_guests.unwrap_or_else(|| {
            let host = url::Url::parse(&self.endpoint)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
            !host.is_some_and(|h| local_host(&h))
        })
    }

    /// [`Upload::part_size`] in bytes (validated by `config check`; 8 MiB if unreadable).
    pub fn part_size_bytes(&self) -> u64 {
        parse_size(&self.part_size).unwrap_or(32 << 20)
    }
}

fn default_concurrency() -> usize {
    4
}

fn default_part_size() -> String {
    "32MB".into()
}

fn default_region() -> String {
    "auto".into()
}

fn default_key() -> String {
    "{studio}/{session}/{name}".into()
}

/// A host on this computer or a private network (`localhost`, a `.local` or single-label
/// name, loopback, RFC 1918, link-local, unique-local IPv6).
fn local_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
        }
        Err(_) => bare == "localhost" || bare.ends_with(".local") || !bare.contains('.'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guests_get_presigned_addresses_only_of_a_bucket_they_can_reach() {
        let at = |endpoint: &str| Upload {
            endpoint: endpoint.into(),
            ..Upload::default()
        };
        assert!(at("https://s3.eu-central-1.amazonaws.com").presign_for_guests());
        assert!(at("https://account.r2.cloudflarestorage.com").presign_for_guests());
        for local in [
            "http://127.0.0.1:9000",
            "http://192.168.1.20:9000",
            "http://nas.local:9000",
            "http://minio:9000",
            "http://[::1]:9000",
        ] {
            assert!(!at(local).presign_for_guests(), "{local}");
        }
        let told = Upload {
            presign_for_guests: Some(true),
            ..at("http://127.0.0.1:9000")
        };
        assert!(told.presign_for_guests());
    }
}
