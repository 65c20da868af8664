//! The live dashboard page at `/`: static assets built from `ui/` by `cargo xtask ui` and
//! embedded in the binary, served with a strict Content-Security-Policy. The page itself
//! takes its subscriber token from `?token=` and talks to the relay's public endpoints.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Only this origin's scripts, styles and connections (WebSocket included).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX: &str = include_str!("../../../ui/dist/dashboard/index.html");

/// (name, content type, content) of every asset under `/assets/`.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "main.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../ui/dist/dashboard/main.js"),
    ),
    (
        "connection.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../ui/dist/dashboard/connection.js"),
    ),
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_str!("../../../ui/dist/dashboard/dashboard.css"),
    ),
];

fn page(content_type: &str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`.
pub async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
}

/// `GET /assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => page(content_type, body),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_page_loads_is_embedded() {
        for (name, _, body) in ASSETS {
            assert!(!body.is_empty(), "{name} is empty");
        }
        for reference in ["/assets/main.js", "/assets/dashboard.css"] {
            assert!(INDEX.contains(reference), "index.html lost {reference}");
        }
        let main = ASSETS.iter().find(|a| a.0 == "main.js").map(|a| a.2);
        assert!(
            main.is_some_and(|m| m.contains("./connection.js")),
            "main.js imports connection.js, which must be served"
        );
    }
}
