//! A share's two logs, paged for who may read them: its guests' answers
//! (`GET /v1/shares/{id}/answers?after=N&limit=M`, any token of the share's channel) and
//! its activity (`GET /v1/shares/{id}/activity?after=N`, the studio's token only: who was
//! let in, wrong PINs, downloads; see `gallery::door`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use shotline_protocol::relay::ErrorCode;

use super::{answers, door, publisher};
use crate::http::{error_response, unavailable};

/// Query of `GET /v1/shares/{id}/answers`.
#[derive(Debug, Deserialize)]
pub struct AnswersQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    token: Option<String>,
}

/// `GET /v1/shares/{id}/answers`.
pub async fn answers(
    State(state): State<Arc<crate::State>>,
    Path(id): Path<String>,
    Query(q): Query<AnswersQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(known) = state.access.share(&id).await else {
        return error_response(ErrorCode::NotFound, format!("no share {id}"));
    };
    if let Err(response) =
        crate::http::authorize(&state, &headers, q.token.as_deref(), &known.channel)
    {
        return response;
    }
    match state
        .answers
        .since(&known.channel, q.after, q.limit.unwrap_or(answers::PAGE))
        .await
    {
        Ok((list, total, next)) => {
            Json(json!({"answers": list, "total": total, "next": next})).into_response()
        }
        Err(e) => unavailable(&e),
    }
}

/// `GET /v1/shares/{id}/activity` (the studio's token): who opened the share, wrong
/// PINs, downloads — `{"activity":[{"seq","id","ts","event"}],"total","next"}`.
pub async fn activity(
    State(state): State<Arc<crate::State>>,
    Path(id): Path<String>,
    Query(q): Query<AnswersQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(known) = state.access.share(&id).await else {
        return error_response(ErrorCode::NotFound, format!("no share {id}"));
    };
    if let Err(response) = publisher(&state, &headers, q.token.as_deref(), &known.channel) {
        return response;
    }
    let log = door::activity_log(&known.channel);
    match state
        .answers
        .since(&log, q.after, q.limit.unwrap_or(answers::PAGE))
        .await
    {
        Ok((list, total, next)) => {
            Json(json!({"activity": list, "total": total, "next": next})).into_response()
        }
        Err(e) => unavailable(&e),
    }
}
