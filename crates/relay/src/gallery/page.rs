//! The gallery's pages: the live gallery itself (built from `ui/` and embedded, one page
//! for every share: it reads the share from its path and the guest token from its
//! fragment), the page of a gallery that has closed (410), and of one that never was (404).

use axum::http::StatusCode;
use axum::response::Response;

use crate::dashboard::with_status;

/// The gallery page.
pub const INDEX: &str = include_str!("../../../../ui/dist/gallery/index.html");

const HTML: &str = "text/html; charset=utf-8";

const CLOSED: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>This gallery has closed</title>
  <link rel="stylesheet" href="/assets/gallery/gallery.css">
</head>
<body class="notice">
  <main>
    <h1>This gallery has closed</h1>
    <p>The studio has closed this gallery, or its time is up. Ask the studio for a new link.</p>
  </main>
</body>
</html>
"#;

const MISSING: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>No such gallery</title>
  <link rel="stylesheet" href="/assets/gallery/gallery.css">
</head>
<body class="notice">
  <main>
    <h1>No such gallery</h1>
    <p>This link does not lead to a gallery. Check that it was copied whole, or ask the studio for it again.</p>
  </main>
</body>
</html>
"#;

/// The live gallery (200).
pub fn gallery() -> Response {
    with_status(StatusCode::OK, HTML, INDEX)
}

/// A closed or expired gallery (410).
pub fn closed() -> Response {
    with_status(StatusCode::GONE, HTML, CLOSED)
}

/// A gallery the relay never heard of (404).
pub fn missing() -> Response {
    with_status(StatusCode::NOT_FOUND, HTML, MISSING)
}
