//! `[gallery]`: how guests' answers land in the studio's files — the sidecar's name, and
//! what a frame a guest picked gets in it.

use serde::{Deserialize, Serialize};

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
}

impl Default for Gallery {
    fn default() -> Self {
        Self {
            sidecar: "name.xmp".into(),
            pick_keyword: "Client pick".into(),
            pick_label: String::new(),
        }
    }
}

impl Gallery {
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
        problems
    }
}
