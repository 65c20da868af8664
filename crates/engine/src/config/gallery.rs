//! `[gallery]`: how guests' answers land in the studio's files — the sidecar's name, and
//! what a frame a guest picked gets in it — and what a new share asks for unless the
//! studio says otherwise (downloads, "choose N", a watermark).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shotline_protocol::gallery::{Choose, Downloads};

use crate::preview::watermark::{Position, Watermark};

/// `[gallery]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Gallery {
    /// How a frame's XMP sidecar (its guests' rating and label) is named: `name.xmp`
    /// (`IMG_0001.xmp`) or `name.ext.xmp` (`IMG_0001.NEF.xmp`).
    pub sidecar: String,
    /// The keyword (`dc:subject`) a frame a guest picked gets in its sidecar when their
    /// selection is sent; empty: none.
    pub pick_keyword: String,
    /// A colour label (`red` … `purple`) such a frame gets too; empty: none.
    pub pick_label: String,
    /// What a new share's guests may download: `off`, `web` or `originals`.
    pub downloads: Downloads,
    /// A new share asks each guest to pick: `"20"`, `"10-20"`; empty: no.
    pub choose: String,
    /// Text burned into a new share's guest pictures, e.g. "© Studio"; empty: none.
    pub watermark: String,
    /// Or a PNG logo.
    pub watermark_logo: Option<PathBuf>,
    /// Where: bottom-right, bottom-left, top-right, top-left, center or tiled.
    pub watermark_position: String,
    /// Its width, in percent of the picture's width (5 to 90).
    pub watermark_size: u8,
    /// Its opacity, in percent (5 to 100).
    pub watermark_opacity: u8,
}

impl Default for Gallery {
    fn default() -> Self {
        Self {
            sidecar: "name.xmp".into(),
            pick_keyword: "Client pick".into(),
            pick_label: String::new(),
            downloads: Downloads::Off,
            choose: String::new(),
            watermark: String::new(),
            watermark_logo: None,
            watermark_position: "bottom-right".into(),
            watermark_size: 25,
            watermark_opacity: 50,
        }
    }
}

impl Gallery {
    /// A new share's "choose N", if it asks for one.
    pub fn default_choose(&self) -> Result<Option<Choose>, String> {
        let text = self.choose.trim();
        if text.is_empty() {
            return Ok(None);
        }
        Choose::parse(text).map(Some)
    }

    /// A new share's watermark, if it has one, with `logo` for the logo's path (the
    /// share's own copy of it).
    pub fn default_watermark(&self, logo: Option<String>) -> Result<Option<Watermark>, String> {
        let text = Some(self.watermark.trim())
            .filter(|t| !t.is_empty())
            .map(String::from);
        if text.is_none() && self.watermark_logo.is_none() {
            return Ok(None);
        }
        let position = Position::parse(&self.watermark_position).ok_or_else(|| {
            format!(
                "`{}` is not a place: write bottom-right, bottom-left, top-right, top-left, center or tiled",
                self.watermark_position
            )
        })?;
        let mark = Watermark {
            text,
            logo: logo.or_else(|| {
                self.watermark_logo
                    .as_ref()
                    .map(|p| p.to_string_lossy().into_owned())
            }),
            position,
            size: self.watermark_size,
            opacity: self.watermark_opacity,
        };
        mark.check()?;
        Ok(Some(mark))
    }

    /// A new share's settings from these defaults (the logo copied under `library`).
    pub fn share_defaults(&self, library: &Path) -> Result<crate::share::Settings, String> {
        let logo = match &self.watermark_logo {
            Some(path) => Some(crate::share::keep_logo(library, "share", path)?),
            None => None,
        };
        Ok(crate::share::Settings {
            pin_hash: None,
            downloads: self.downloads,
            choose: self.default_choose()?,
            watermark: self.default_watermark(logo)?,
            live: false,
            live_overlay: None,
        })
    }

    /// What is wrong with it, if anything: (key, problem, fix), for `config check`.
    pub fn problems(&self) -> Vec<(&'static str, String, &'static str)> {
        let mut problems = Vec::new();
        if crate::sidecar::Naming::parse(&self.sidecar).is_none() {
            problems.push((
                "gallery.sidecar",
                format!("`{}` is not a sidecar naming", self.sidecar),
                "write sidecar = \"name.xmp\" (IMG_0001.xmp, as Lightroom and Capture One) or \"name.ext.xmp\" (IMG_0001.NEF.xmp, as darktable)",
            ));
        }
        if !self.pick_label.is_empty()
            && crate::share::answers::xmp_label(&self.pick_label).is_none()
        {
            problems.push((
                "gallery.pick_label",
                format!("`{}` is not a label colour", self.pick_label),
                "write red, yellow, green, blue or purple, or leave it empty",
            ));
        }
        if self.pick_keyword.chars().count() > 64 || self.pick_keyword.chars().any(char::is_control)
        {
            problems.push((
                "gallery.pick_keyword",
                "a keyword is one line of at most 64 characters".to_string(),
                "shorten it, or leave it empty for no keyword",
            ));
        }
        if let Err(e) = self.default_choose() {
            problems.push((
                "gallery.choose",
                e,
                "write e.g. choose = \"20\" or \"10-20\", or leave it empty",
            ));
        }
        if let Err(e) = self.default_watermark(None) {
            problems.push((
                "gallery.watermark",
                e,
                "fix the watermark's text, position, size (5-90) or opacity (5-100)",
            ));
        }
        if let Some(logo) = &self.watermark_logo
            && let Err(e) = crate::preview::watermark::read_logo(logo)
        {
            problems.push(("gallery.watermark_logo", e, "give the path of a PNG logo"));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_shares_defaults_are_read_and_checked() {
        let gallery: Gallery = toml::from_str(
            "downloads = \"web\"\nchoose = \"10-20\"\nwatermark = \"© Nord\"\nwatermark_position = \"tiled\"\n",
        )
        .expect("toml");
        let settings = gallery
            .share_defaults(Path::new("/nonexistent"))
            .expect("defaults");
        assert_eq!(settings.downloads, Downloads::Web);
        assert_eq!(settings.choose, Choose::parse("10-20").ok());
        let mark = settings.watermark.expect("a watermark");
        assert_eq!(
            (mark.text.as_deref(), mark.position),
            (Some("© Nord"), Position::Tiled)
        );
        assert!(
            Gallery::default()
                .share_defaults(Path::new("/x"))
                .expect("none")
                .watermark
                .is_none()
        );
        let wrong = Gallery {
            choose: "twenty".into(),
            watermark: "x".into(),
            watermark_size: 200,
            ..Gallery::default()
        };
        let keys: Vec<&str> = wrong.problems().iter().map(|p| p.0).collect();
        assert_eq!(keys, ["gallery.choose", "gallery.watermark"]);
        assert!(toml::from_str::<Gallery>("downloads = \"all\"").is_err());
    }
}
