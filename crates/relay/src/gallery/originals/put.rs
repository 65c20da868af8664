//! `PUT /v1/shares/{id}/original/{frame}`: what the studio's engine sends for a guest's
//! wait — the file (with its `Content-Length`), or a presigned address of its cloud copy.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use shotline_protocol::gallery::Downloads;
use shotline_protocol::relay::ErrorCode;

use super::file_name;
use super::store::PutError;
use crate::http::{error_response, unavailable};

/// A presigned address's JSON, at most.
const MAX_URL_BODY: usize = 8 << 10;

/// `?token=` and the original's `name`.
#[derive(Debug, Deserialize)]
pub struct PutQuery {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// A presigned address.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Presigned {
    url: String,
    expires_in: u64,
}

/// `PUT /v1/shares/{id}/original/{frame}`.
pub async fn put(
    State(state): State<Arc<crate::State>>,
    Path((id, frame)): Path<(String, i64)>,
    Query(q): Query<PutQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(share) = state.access.share(&id).await else {
        return error_response(ErrorCode::NotFound, format!("no share {id}"));
    };
    if let Err(response) =
        crate::gallery::publisher(&state, &headers, q.token.as_deref(), &share.channel)
    {
        return response;
    }
    if share.state(crate::auth::now_secs()) != crate::access::shares::ShareState::Open
        || share.downloads != Downloads::Originals
    {
        return error_response(
            ErrorCode::Forbidden,
            "this share is closed or does not allow originals",
        );
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        let bytes = match axum::body::to_bytes(body, MAX_URL_BODY).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return error_response(
                    ErrorCode::FrameTooLarge,
                    format!("a presigned address is {MAX_URL_BODY} bytes at most"),
                );
            }
        };
        let presigned: Presigned = match serde_json::from_slice(&bytes) {
            Ok(p) => p,
            Err(e) => {
                return error_response(
                    ErrorCode::BadJson,
                    format!(r#"expected {{"url": "https://…", "expires_in": <seconds>}}: {e}"#),
                );
            }
        };
        let http = presigned.url.starts_with("https://") || presigned.url.starts_with("http://");
        if !http || HeaderValue::from_str(&presigned.url).is_err() {
            return error_response(ErrorCode::BadFrame, "url is an http(s) address");
        }
        return match state
            .originals
            .put_url(
                &id,
                frame,
                &presigned.url,
                Duration::from_secs(presigned.expires_in),
            )
            .await
        {
            Ok(()) => Json(json!({"kept": true})).into_response(),
            Err(e) => unavailable(&e),
        };
    }
    let Some(size) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return error_response(
            ErrorCode::BadFrame,
            "an original is sent with its Content-Length",
        );
    };
    let name = file_name(q.name.as_deref().unwrap_or_default(), frame);
    let stream = Box::pin(body.into_data_stream());
    match state
        .originals
        .put_file(&id, frame, &name, size, stream)
        .await
    {
        Ok(()) => Json(json!({"kept": true, "size": size})).into_response(),
        Err(PutError::TooLarge(why)) => error_response(ErrorCode::FrameTooLarge, why),
        Err(PutError::Full(why)) => error_response(ErrorCode::Overloaded, why),
        Err(PutError::Body(why)) => error_response(ErrorCode::BadFrame, why),
        Err(PutError::Unavailable(why)) => {
            error_response(ErrorCode::Unavailable, format!("{why}; retry with backoff"))
        }
    }
}
