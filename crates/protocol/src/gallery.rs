//! The live gallery's events, on a share's channel `<studio>:gallery:<share id>`: the
//! engine publishes each frame; guests answer it. The relay stamps every guest event's
//! `sub` and `name` from the guest's token (whatever the guest wrote there).

use serde::{Deserialize, Serialize};

/// Payload of `gallery_frame`: one frame of the shared session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct GalleryFrame {
    /// The share.
    pub share: String,
    /// The frame's id (the engine's shot id).
    pub frame: i64,
    /// Its file name.
    pub name: String,
    /// Upright width in pixels (0 when unknown).
    pub width: u32,
    /// Upright height in pixels (0 when unknown).
    pub height: u32,
    /// When it was taken into the library, ms since the Unix epoch.
    pub time: u64,
    /// The preview's address on the relay (long edge 2048); `None`: a placeholder.
    pub preview: Option<String>,
    /// The thumbnail's address on the relay (long edge 400); `None`: a placeholder.
    pub thumbnail: Option<String>,
}

/// The label colours Lightroom and Capture One use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Red.
    Red,
    /// Yellow.
    Yellow,
    /// Green.
    Green,
    /// Blue.
    Blue,
    /// Purple.
    Purple,
    /// No label.
    None,
}

/// Payload of `gallery_rating`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct GalleryRating {
    /// The frame.
    pub frame: i64,
    /// 0 to 5.
    pub stars: u8,
    /// The guest (stamped by the relay).
    #[serde(default)]
    pub sub: Option<String>,
    /// The guest's name (stamped by the relay).
    #[serde(default)]
    pub name: Option<String>,
}

/// Payload of `gallery_label`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct GalleryLabel {
    /// The frame.
    pub frame: i64,
    /// The colour, or none.
    pub label: Label,
    /// The guest (stamped by the relay).
    #[serde(default)]
    pub sub: Option<String>,
    /// The guest's name (stamped by the relay).
    #[serde(default)]
    pub name: Option<String>,
}

/// Payload of `gallery_like`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct GalleryLike {
    /// The frame.
    pub frame: i64,
    /// Liked or not.
    pub liked: bool,
    /// The guest (stamped by the relay).
    #[serde(default)]
    pub sub: Option<String>,
    /// The guest's name (stamped by the relay).
    #[serde(default)]
    pub name: Option<String>,
}

/// Payload of `gallery_comment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct GalleryComment {
    /// The frame.
    pub frame: i64,
    /// Plain text, at most 2,000 characters.
    pub text: String,
    /// The guest (stamped by the relay).
    #[serde(default)]
    pub sub: Option<String>,
    /// The guest's name (stamped by the relay).
    #[serde(default)]
    pub name: Option<String>,
}

/// The event types a guest may publish.
pub const GUEST_TYPES: [&str; 4] = [
    "gallery_rating",
    "gallery_label",
    "gallery_like",
    "gallery_comment",
];

/// A comment's length, at most (characters).
pub const MAX_COMMENT: usize = 2000;
