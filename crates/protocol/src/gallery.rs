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

/// Payload of `gallery_pick`: a guest picks a frame for their selection ("choose 20"), or
/// takes it back; refused once their selection is sent, until the studio unlocks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct GalleryPick {
    /// The frame.
    pub frame: i64,
    /// Picked or not.
    pub picked: bool,
    /// The guest (stamped by the relay).
    #[serde(default)]
    pub sub: Option<String>,
    /// The guest's name (stamped by the relay).
    #[serde(default)]
    pub name: Option<String>,
}

/// Payload of `gallery_submit`: a guest sends their selection (their picks so far); it is
/// locked from then on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct GallerySubmit {
    /// How many frames the guest's page counted as picked.
    pub picked: u32,
    /// The guest (stamped by the relay).
    #[serde(default)]
    pub sub: Option<String>,
    /// The guest's name (stamped by the relay).
    #[serde(default)]
    pub name: Option<String>,
}

/// Payload of `gallery_unlock`, published by the studio: the guest `guest` may change
/// their selection again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct GalleryUnlock {
    /// The guest's `sub`.
    pub guest: String,
}

/// What guests of a share may download.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum Downloads {
    /// Nothing (the default).
    #[default]
    Off,
    /// The web-size preview (long edge 2048), as the share shows it.
    Web,
    /// The original files, when the studio allows them.
    Originals,
}

impl Downloads {
    /// The setting's name (`off`, `web`, `originals`).
    pub fn as_str(self) -> &'static str {
        match self {
            Downloads::Off => "off",
            Downloads::Web => "web",
            Downloads::Originals => "originals",
        }
    }

    /// From its name.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "off" => Some(Downloads::Off),
            "web" => Some(Downloads::Web),
            "originals" => Some(Downloads::Originals),
            _ => None,
        }
    }
}

/// "Choose N": each guest picks between `min` and `max` frames and sends the selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Choose {
    /// Fewest frames a selection may hold (1 at least).
    pub min: u32,
    /// Most frames a selection may hold.
    pub max: u32,
}

impl Choose {
    /// Parse `20` (exactly 20) or `10-20`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let number = |t: &str| {
            t.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_CHOOSE).contains(n))
                .ok_or_else(|| format!("{t:?} is not a number of frames from 1 to {MAX_CHOOSE}"))
        };
        let (min, max) = match text.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(text)?;
                (n, n)
            }
        };
        if min > max {
            return Err(format!("{min}-{max}: the fewest is more than the most"));
        }
        Ok(Self { min, max })
    }
}

/// A selection holds at most this many frames.
pub const MAX_CHOOSE: u32 = 10_000;

/// The share's options as its guests' page reads them (in its `state.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ShareOptions {
    /// What guests may download.
    #[serde(default)]
    pub downloads: Downloads,
    /// "Choose N", when the studio asks for a selection.
    #[serde(default)]
    pub choose: Option<Choose>,
    /// Whether the link asks for a PIN.
    #[serde(default)]
    pub pin: bool,
    /// Whether the page shows the studio's live view (`GET /v1/shares/{id}/live`); absent
    /// when not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<bool>"))]
    pub live: bool,
    /// The layout overlay over it: the address of a PNG blob of the share's channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub live_overlay: Option<String>,
}

/// The event types a guest may publish.
pub const GUEST_TYPES: [&str; 6] = [
    "gallery_rating",
    "gallery_label",
    "gallery_like",
    "gallery_comment",
    "gallery_pick",
    "gallery_submit",
];

/// What the relay itself records in a share's answer log, for the studio (never shown to
/// guests): a guest opened the share (`gallery_opened`), a wrong PIN was given
/// (`gallery_pin_failed`), a guest downloaded something (`gallery_download`). With the
/// studio's `gallery_unlock`, these are the share's activity.
pub const ACTIVITY_TYPES: [&str; 3] = ["gallery_opened", "gallery_pin_failed", "gallery_download"];

/// A comment's length, at most (characters).
pub const MAX_COMMENT: usize = 2000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choose_reads_a_number_or_a_range() {
        assert_eq!(Choose::parse("20"), Ok(Choose { min: 20, max: 20 }));
        assert_eq!(Choose::parse(" 10-20 "), Ok(Choose { min: 10, max: 20 }));
        assert!(Choose::parse("20-10").is_err());
        assert!(Choose::parse("0").is_err());
        assert!(Choose::parse("many").is_err());
        assert!(Choose::parse("1-99999").is_err());
        assert_eq!(Downloads::parse("web"), Some(Downloads::Web));
        assert_eq!(Downloads::parse("all"), None);
    }
}
