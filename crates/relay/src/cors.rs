//! Cross-origin requests from the studio's own site: the `origins` allow-list (which also
//! gates WebSockets) answers CORS preflight and sets `Access-Control-Allow-Origin` on the
//! relay's `/v1/` API (publish, poll, SSE, tokens, admin) and on Socket.IO's polling, so a
//! dashboard served elsewhere works. Origins not on the list get no CORS headers (the browser refuses), and their
//! preflight gets 403.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shotline_protocol::relay::ErrorCode;

/// True when `origin` is on the allow-list (an empty list allows none for HTTP).
pub fn allowed(state: &crate::State, origin: &str) -> bool {
    state.config.origins.iter().any(|o| o == origin)
}

fn headers(response: &mut Response, origin: &HeaderValue) {
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("content-type"),
    );
}

/// The middleware over every route.
pub async fn layer(
    State(state): State<Arc<crate::State>>,
    request: Request,
    next: Next,
) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let path = request.uri().path();
    let api = path.starts_with("/v1/") || path.starts_with("/socket.io");
    let Some(origin) = origin.filter(|_| api) else {
        return next.run(request).await;
    };
    let ok = origin.to_str().is_ok_and(|o| allowed(&state, o));
    if request.method() == Method::OPTIONS {
        if !ok {
            return crate::http::error_response(
                ErrorCode::Forbidden,
                format!(
                    "origin {} is not in the relay's origins list; add it to `origins`",
                    origin.to_str().unwrap_or("?")
                ),
            );
        }
        let mut response = StatusCode::NO_CONTENT.into_response();
        headers(&mut response, &origin);
        let h = response.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, last-event-id"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return response;
    }
    let mut response = next.run(request).await;
    if ok {
        headers(&mut response, &origin);
    }
    response
}
