//! The live dashboard page at `/`, and every page's assets at `/assets/<page>/<name>`
//! (the dashboard's and the gallery's): static files built from `ui/` by `cargo xtask ui`
//! and embedded in the binary, served with a strict Content-Security-Policy. The
//! dashboard takes its subscriber token from `?token=` and talks to the relay's public
//! endpoints.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Only this origin's scripts, styles and connections (WebSocket included); images also
/// from `blob:` (the gallery's previews, fetched with the guest's token).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX: &str = include_str!("../../../ui/dist/dashboard/index.html");

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// (path under `/assets/`, content type, content) of every asset.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "dashboard/main.js",
        JS,
        include_str!("../../../ui/dist/dashboard/main.js"),
    ),
    (
        "dashboard/live.js",
        JS,
        include_str!("../../../ui/dist/dashboard/live.js"),
    ),
    (
        "dashboard/connection.js",
        JS,
        include_str!("../../../ui/dist/dashboard/connection.js"),
    ),
    (
        "dashboard/answers.js",
        JS,
        include_str!("../../../ui/dist/dashboard/answers.js"),
    ),
    (
        "dashboard/alerts.js",
        JS,
        include_str!("../../../ui/dist/dashboard/alerts.js"),
    ),
    (
        "dashboard/widgets.js",
        JS,
        include_str!("../../../ui/dist/dashboard/widgets.js"),
    ),
    (
        "dashboard/dashboard.css",
        CSS,
        include_str!("../../../ui/dist/dashboard/dashboard.css"),
    ),
    (
        "gallery/main.js",
        JS,
        include_str!("../../../ui/dist/gallery/main.js"),
    ),
    (
        "gallery/grid.js",
        JS,
        include_str!("../../../ui/dist/gallery/grid.js"),
    ),
    (
        "gallery/viewer.js",
        JS,
        include_str!("../../../ui/dist/gallery/viewer.js"),
    ),
    (
        "gallery/dom.js",
        JS,
        include_str!("../../../ui/dist/gallery/dom.js"),
    ),
    (
        "gallery/answers.js",
        JS,
        include_str!("../../../ui/dist/gallery/answers.js"),
    ),
    (
        "gallery/controls.js",
        JS,
        include_str!("../../../ui/dist/gallery/controls.js"),
    ),
    (
        "gallery/session.js",
        JS,
        include_str!("../../../ui/dist/gallery/session.js"),
    ),
    (
        "gallery/picks.js",
        JS,
        include_str!("../../../ui/dist/gallery/picks.js"),
    ),
    (
        "gallery/downloads.js",
        JS,
        include_str!("../../../ui/dist/gallery/downloads.js"),
    ),
    (
        "gallery/live.js",
        JS,
        include_str!("../../../ui/dist/gallery/live.js"),
    ),
    (
        "gallery/gallery.css",
        CSS,
        include_str!("../../../ui/dist/gallery/gallery.css"),
    ),
];

/// `body` with the strict headers every page and asset gets.
pub fn page(content_type: &str, body: &'static str) -> Response {
    with_status(StatusCode::OK, content_type, body)
}

/// [`page`] with another status.
pub fn with_status(status: StatusCode, content_type: &str, body: &'static str) -> Response {
    (
        status,
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

/// `GET /assets/{page}/{name}`.
pub async fn asset(Path((page_name, name)): Path<(String, String)>) -> Response {
    let path = format!("{page_name}/{name}");
    match ASSETS.iter().find(|(n, _, _)| *n == path) {
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
        for reference in [
            "/assets/dashboard/main.js",
            "/assets/dashboard/dashboard.css",
        ] {
            assert!(INDEX.contains(reference), "index.html lost {reference}");
        }
        for reference in ["/assets/gallery/main.js", "/assets/gallery/gallery.css"] {
            assert!(
                crate::gallery::page::INDEX.contains(reference),
                "the gallery's index.html lost {reference}"
            );
        }
        // Every module a served script imports is served at the path it resolves to.
        for (path, _, body) in ASSETS.iter().filter(|a| a.0.ends_with(".js")) {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            for import in body.lines().filter_map(|l| {
                let l = l.trim();
                // `import { a } from "./m.js";`, or the last line of one over several.
                (l.starts_with("import ") || l.starts_with("} from "))
                    .then(|| {
                        l.rsplit_once(" from \"")
                            .map(|(_, r)| r.trim_end_matches("\";"))
                    })
                    .flatten()
            }) {
                let resolved = match import.strip_prefix("../") {
                    Some(up) => up.to_string(),
                    None => format!("{dir}/{}", import.trim_start_matches("./")),
                };
                assert!(
                    ASSETS.iter().any(|a| a.0 == resolved),
                    "{path} imports {import}, which is not served at /assets/{resolved}"
                );
            }
        }
    }
}
