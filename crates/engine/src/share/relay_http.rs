//! The engine's HTTP calls to its relay for the gallery (blocking, with the publisher
//! token): mint a share's link token (`POST /v1/tokens`), tell the relay about a share
//! (`PUT /v1/shares/{id}`) or that it closed (`DELETE`), and keep previews in its blob
//! store (`PUT /v1/blobs/{channel}/{name}`); read its guests' answers
//! (`GET /v1/shares/{id}/answers`).

use std::time::Duration;

use serde_json::{Value, json};

/// A relay call that did not work.
#[derive(Debug, Clone, thiserror::Error)]
#[error("relay {what}: {why}")]
pub struct RelayError {
    what: String,
    why: String,
    status: Option<u16>,
}

impl RelayError {
    /// The HTTP status the relay answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }
}

/// The relay, over HTTP.
#[derive(Debug, Clone)]
pub struct RelayHttp {
    base: String,
    token: String,
    agent: ureq::Agent,
}

/// `http(s)://host:port` of a relay's WebSocket URL (`ws(s)://host:port/v1/ws`).
pub fn http_base(ws_url: &str) -> String {
    let base = ws_url
        .strip_suffix("/v1/ws")
        .unwrap_or(ws_url)
        .trim_end_matches('/');
    if let Some(rest) = base.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = base.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        base.to_string()
    }
}

impl RelayHttp {
    /// The relay whose WebSocket is `ws_url`, as the holder of publisher `token`.
    pub fn new(ws_url: &str, token: &str) -> Self {
        Self {
            base: http_base(ws_url),
            token: token.to_string(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into(),
        }
    }

    /// The relay's `http(s)://host:port`.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn answer(
        &self,
        what: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, RelayError> {
        let error = |why: String, status| RelayError {
            what: what.to_string(),
            why,
            status,
        };
        let mut response = response.map_err(|e| error(e.to_string(), None))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
            .unwrap_or_default();
        if (200..300).contains(&status) {
            Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
        } else {
            Err(error(format!("HTTP {status} {body}"), Some(status)))
        }
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// A guest link token for `channel`, lasting `ttl_secs`, for the share `id`: its
    /// guests may publish their answers.
    pub fn mint_link(
        &self,
        id: &str,
        channel: &str,
        until_ms: i64,
    ) -> Result<(String, i64), RelayError> {
        // No `ttl`: the link lasts as long as the engine's own token, so the studio can
        // extend the share later; the relay ends the share itself at its expiry.
        let body = json!({
            "channels": [channel],
            "role": "guest",
            "sub": format!("share:{id}"),
            "publish": shotline_protocol::gallery::GUEST_TYPES,
        });
        let response = self
            .agent
            .post(&format!("{}/v1/tokens", self.base))
            .header("authorization", &self.auth())
            .header("content-type", "application/json")
            .send(body.to_string().as_bytes());
        let answer = self.answer("minting a share token", response)?;
        let token = answer["token"].as_str().map(str::to_string);
        let exp_ms = answer["exp"].as_i64().map(|s| s * 1000);
        match (token, exp_ms) {
            (Some(token), Some(exp_ms)) if exp_ms >= until_ms => Ok((token, exp_ms)),
            (Some(_), Some(exp_ms)) => Err(RelayError {
                what: "minting a share token".into(),
                why: format!(
                    "the relay token ends {} s before the share would: shorten the share, or give the engine a longer-lived token",
                    (until_ms - exp_ms) / 1000
                ),
                status: Some(403),
            }),
            _ => Err(RelayError {
                what: "minting a share token".into(),
                why: format!("no token and expiry in {answer}"),
                status: None,
            }),
        }
    }

    /// The share shows `channel` until its expiry, with its title and proofing settings
    /// (its PIN as its hash only).
    pub fn put_share(
        &self,
        share: &crate::journal::Share,
        channel: &str,
    ) -> Result<(), RelayError> {
        let id = &share.id;
        let body = json!({
            "channel": channel,
            "exp": share.expires_ms / 1000,
            "title": share.title,
            "pin_hash": share.pin_hash,
            "downloads": share.downloads,
            "choose": share.choose,
            "live": share.live,
        });
        let response = self
            .agent
            .put(&format!("{}/v1/shares/{id}", self.base))
            .header("authorization", &self.auth())
            .header("content-type", "application/json")
            .send(body.to_string().as_bytes());
        self.answer("registering a share", response).map(drop)
    }

    /// The share `id` is closed: its pages are cut off, its link answers 410.
    pub fn close_share(&self, id: &str) -> Result<(), RelayError> {
        let response = self
            .agent
            .delete(&format!("{}/v1/shares/{id}", self.base))
            .header("authorization", &self.auth())
            .call();
        self.answer("closing a share", response).map(drop)
    }

    /// Up to a page of share `id`'s answers after the `after`th (the relay's answer log):
    /// the entries, the log's length, and where the next page starts.
    pub fn answers(&self, id: &str, after: u64) -> Result<(Vec<Value>, u64, u64), RelayError> {
        self.log(id, "answers", after)
    }

    /// As [`RelayHttp::answers`], for the share's activity the relay records (who opened
    /// it, wrong PINs, downloads).
    pub fn activity(&self, id: &str, after: u64) -> Result<(Vec<Value>, u64, u64), RelayError> {
        self.log(id, "activity", after)
    }

    fn log(&self, id: &str, which: &str, after: u64) -> Result<(Vec<Value>, u64, u64), RelayError> {
        let response = self
            .agent
            .get(&format!(
                "{}/v1/shares/{id}/{which}?after={after}&limit=200",
                self.base
            ))
            .header("authorization", &self.auth())
            .call();
        let what = format!("reading {which}");
        let mut answer = self.answer(&what, response)?;
        let total = answer["total"].as_u64().unwrap_or(0);
        let next = answer["next"].as_u64().unwrap_or(after);
        match answer[which].take() {
            Value::Array(list) => Ok((list, total, next)),
            other => Err(RelayError {
                what,
                why: format!("no {which} in {other}"),
                status: None,
            }),
        }
    }

    /// The originals guests wait for on the studio's shares: (share, frame) pairs.
    pub fn originals_wanted(&self) -> Result<Vec<(String, i64)>, RelayError> {
        let response = self
            .agent
            .get(&format!("{}/v1/originals/wanted", self.base))
            .header("authorization", &self.auth())
            .call();
        let answer = self.answer("reading the originals guests want", response)?;
        Ok(answer["wanted"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|w| Some((w["share"].as_str()?.to_string(), w["frame"].as_i64()?)))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `frame` of `share`'s original is at the presigned `url` for `expires_in` seconds.
    pub fn put_original_url(
        &self,
        share: &str,
        frame: i64,
        url: &str,
        expires_in: u64,
    ) -> Result<(), RelayError> {
        let response = self
            .agent
            .put(&format!("{}/v1/shares/{share}/original/{frame}", self.base))
            .header("authorization", &self.auth())
            .header("content-type", "application/json")
            .send(
                json!({"url": url, "expires_in": expires_in})
                    .to_string()
                    .as_bytes(),
            );
        self.answer("sending an original's address", response)
            .map(drop)
    }

    /// Send `file` (`size` bytes, named `name`) as `frame` of `share`'s original; the
    /// transfer may take up to `within`.
    pub fn put_original_file(
        &self,
        share: &str,
        frame: i64,
        name: &str,
        file: std::fs::File,
        size: u64,
        within: Duration,
    ) -> Result<(), RelayError> {
        let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        let response = self
            .agent
            .put(&format!(
                "{}/v1/shares/{share}/original/{frame}?name={encoded}",
                self.base
            ))
            .config()
            .timeout_global(Some(within))
            .build()
            .header("authorization", &self.auth())
            .header("content-type", "application/octet-stream")
            .header("content-length", &size.to_string())
            .send(ureq::SendBody::from_owned_reader(file));
        self.answer("sending an original", response).map(drop)
    }

    /// Keep `bytes` as `name` of `channel`; its address (path) on the relay.
    pub fn put_blob(
        &self,
        channel: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<String, RelayError> {
        let path = format!("/v1/blobs/{channel}/{name}");
        let response = self
            .agent
            .put(&format!("{}{path}", self.base))
            .header("authorization", &self.auth())
            .header("content-type", content_type)
            .send(bytes);
        self.answer("keeping a preview", response)?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::http_base;

    #[test]
    fn the_http_base_of_a_websocket_url() {
        assert_eq!(
            http_base("ws://127.0.0.1:7878/v1/ws"),
            "http://127.0.0.1:7878"
        );
        assert_eq!(
            http_base("wss://relay.example.com/v1/ws"),
            "https://relay.example.com"
        );
    }
}
