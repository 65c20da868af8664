//! A share's watermark, burned into the previews and thumbnails its guests see (the
//! studio's own window and dashboard keep the clean ones): the studio's text (set in
//! DejaVu Sans Bold, white with a dark edge so it reads on any picture) or its PNG logo
//! (with its transparency), in a corner, the centre, or tiled over the whole frame; its
//! size a share of the picture's width, at an opacity.

use std::path::Path;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use serde::{Deserialize, Serialize};

use super::PreviewError;
use super::image::{Rgb, decode, encode};

/// Where the mark goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    /// Bottom right (the default).
    #[default]
    BottomRight,
    /// Bottom left.
    BottomLeft,
    /// Top right.
    TopRight,
    /// Top left.
    TopLeft,
    /// The centre.
    Center,
    /// Repeated over the whole picture.
    Tiled,
}

impl Position {
    /// From its name (`bottom-right`, …, `center`, `tiled`).
    pub fn parse(name: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(name.trim().to_string())).ok()
    }

    /// Its name, as [`Position::parse`] reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Position::BottomRight => "bottom-right",
            Position::BottomLeft => "bottom-left",
            Position::TopRight => "top-right",
            Position::TopLeft => "top-left",
            Position::Center => "center",
            Position::Tiled => "tiled",
        }
    }
}

/// A share's watermark, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Watermark {
    /// Text, e.g. "© Studio Nord".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A PNG logo (the share's own copy, under the library's `.shotline/watermarks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// Where it goes.
    #[serde(default)]
    pub position: Position,
    /// Its width, in percent of the picture's width (5 to 90).
    pub size: u8,
    /// Its opacity, in percent (5 to 100).
    pub opacity: u8,
}

impl Watermark {
    /// Is it something to burn in, with sensible bounds? Why not, otherwise.
    pub fn check(&self) -> Result<(), String> {
        if self.text.as_deref().is_none_or(|t| t.trim().is_empty()) && self.logo.is_none() {
            return Err("a watermark is a text or a PNG logo".into());
        }
        if self
            .text
            .as_deref()
            .is_some_and(|t| t.chars().count() > 100)
        {
            return Err("a watermark's text is at most 100 characters".into());
        }
        if !(5..=90).contains(&self.size) {
            return Err("a watermark's size is 5 to 90 (percent of the picture's width)".into());
        }
        if !(5..=100).contains(&self.opacity) {
            return Err("a watermark's opacity is 5 to 100 (percent)".into());
        }
        Ok(())
    }
}

/// Straight (not premultiplied) RGBA.
#[derive(Debug, Clone)]
pub struct Rgba {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

/// A logo, decoded; its problem in words otherwise.
pub fn read_logo(path: &Path) -> Result<Rgba, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("{} is not a PNG: {e}", path.display()))?;
    let (width, height) = (reader.info().width, reader.info().height);
    if u64::from(width) * u64::from(height) > 4096 * 4096 {
        return Err(format!("{}: a logo is at most 4096 × 4096", path.display()));
    }
    let mut buffer = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader
        .next_frame(&mut buffer)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let data = &buffer[..info.buffer_size()];
    let pixels = match info.color_type {
        png::ColorType::Rgba => data.to_vec(),
        png::ColorType::Rgb => data
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => data
            .chunks(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Grayscale => data.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::Indexed => {
            return Err(format!(
                "{}: an indexed PNG the decoder did not expand",
                path.display()
            ));
        }
    };
    Ok(Rgba {
        width,
        height,
        pixels,
    })
}

/// The mark at `width` pixels wide and `max_height` high at most: the logo scaled, or the
/// text set.
fn mark(watermark: &Watermark, logo: Option<&Rgba>, width: u32, max_height: u32) -> Option<Rgba> {
    let (width, max_height) = (width.max(8), max_height.max(8));
    if let Some(logo) = logo {
        // As wide as asked, unless that makes it taller than the picture allows.
        let tall = u64::from(logo.height) * u64::from(width) / u64::from(logo.width.max(1));
        let width = if tall > u64::from(max_height) {
            (u64::from(logo.width) * u64::from(max_height) / u64::from(logo.height.max(1))).max(1)
                as u32
        } else {
            width
        };
        return Some(scale(logo, width));
    }
    let text = watermark.text.as_deref()?.trim();
    let font = FontRef::try_from_slice(dejavu::sans::bold()).ok()?;
    // Lay out at a nominal size, then scale so the line is `width` wide.
    let nominal = PxScale::from(100.0);
    let advance: f32 = {
        let scaled = font.as_scaled(nominal);
        text.chars()
            .map(|c| scaled.h_advance(font.glyph_id(c)))
            .sum()
    };
    if advance <= 0.0 {
        return None;
    }
    let line = {
        let scaled = font.as_scaled(nominal);
        (scaled.ascent() - scaled.descent()).max(1.0)
    };
    // As wide as asked, unless the line would be taller than the picture allows.
    let px = (100.0 * width as f32 / advance)
        .min(100.0 * max_height as f32 / line)
        .clamp(6.0, 2000.0);
    let scale_px = PxScale::from(px);
    let scaled = font.as_scaled(scale_px);
    let edge = (px / 14.0).ceil().clamp(1.0, 24.0) as i32;
    let height = (scaled.ascent() - scaled.descent()).ceil() as u32 + 2 * edge as u32;
    let out_width = ((advance * px / 100.0).ceil() as u32).min(width) + 2 * edge as u32;
    let mut coverage = vec![0f32; (out_width * height) as usize];
    let mut x = edge as f32;
    for c in text.chars() {
        let id = font.glyph_id(c);
        let glyph = id.with_scale_and_position(scale_px, point(x, edge as f32 + scaled.ascent()));
        x += scaled.h_advance(id);
        if let Some(outlined) = font.outline_glyph(glyph) {
            let bounds = outlined.px_bounds();
            outlined.draw(|gx, gy, v| {
                let px = bounds.min.x as i32 + gx as i32;
                let py = bounds.min.y as i32 + gy as i32;
                if px >= 0 && py >= 0 && (px as u32) < out_width && (py as u32) < height {
                    let i = (py as u32 * out_width + px as u32) as usize;
                    coverage[i] = coverage[i].max(v);
                }
            });
        }
    }
    // A dark edge around the white letters: the coverage spread by `edge` pixels (a box
    // maximum, one direction after the other).
    let (w, h) = (out_width as usize, height as usize);
    let reach = edge as usize;
    let mut across = vec![0f32; coverage.len()];
    for y in 0..h {
        for x in 0..w {
            let (from, to) = (x.saturating_sub(reach), (x + reach).min(w - 1));
            across[y * w + x] = coverage[y * w + from..=y * w + to]
                .iter()
                .copied()
                .fold(0.0, f32::max);
        }
    }
    let mut shadow = vec![0f32; coverage.len()];
    for y in 0..h {
        let (from, to) = (y.saturating_sub(reach), (y + reach).min(h - 1));
        for x in 0..w {
            shadow[y * w + x] = (from..=to).map(|yy| across[yy * w + x]).fold(0.0, f32::max);
        }
    }
    let mut pixels = Vec::with_capacity(coverage.len() * 4);
    for (c, s) in coverage.iter().zip(&shadow) {
        // White over a half-dark edge.
        let alpha = c.max(s * 0.55);
        let value = if alpha > 0.0 {
            (255.0 * c / alpha).min(255.0)
        } else {
            0.0
        };
        let v = value as u8;
        pixels.extend_from_slice(&[v, v, v, (alpha * 255.0) as u8]);
    }
    Some(Rgba {
        width: out_width,
        height,
        pixels,
    })
}

/// `image` scaled to `width` (bilinear; the height follows).
fn scale(image: &Rgba, width: u32) -> Rgba {
    let height = ((u64::from(image.height) * u64::from(width)) / u64::from(image.width.max(1)))
        .max(1) as u32;
    let mut pixels = vec![0u8; width as usize * height as usize * 4];
    let fx = image.width as f32 / width as f32;
    let fy = image.height as f32 / height as f32;
    for y in 0..height {
        let sy = ((y as f32 + 0.5) * fy - 0.5).clamp(0.0, (image.height - 1) as f32);
        let (y0, ty) = (sy.floor() as u32, sy.fract());
        let y1 = (y0 + 1).min(image.height - 1);
        for x in 0..width {
            let sx = ((x as f32 + 0.5) * fx - 0.5).clamp(0.0, (image.width - 1) as f32);
            let (x0, tx) = (sx.floor() as u32, sx.fract());
            let x1 = (x0 + 1).min(image.width - 1);
            for ch in 0..4 {
                let at = |xx: u32, yy: u32| {
                    f32::from(image.pixels[((yy * image.width + xx) * 4 + ch) as usize])
                };
                let top = at(x0, y0) * (1.0 - tx) + at(x1, y0) * tx;
                let bottom = at(x0, y1) * (1.0 - tx) + at(x1, y1) * tx;
                pixels[((y * width + x) * 4 + ch) as usize] =
                    (top * (1.0 - ty) + bottom * ty).round() as u8;
            }
        }
    }
    Rgba {
        width,
        height,
        pixels,
    }
}

/// Lay `mark` over `rgb` at (`left`, `top`) at `opacity`.
fn blend(rgb: &mut Rgb, mark: &Rgba, left: i64, top: i64, opacity: f32) {
    for my in 0..mark.height {
        let y = top + i64::from(my);
        if y < 0 || y >= i64::from(rgb.height) {
            continue;
        }
        for mx in 0..mark.width {
            let x = left + i64::from(mx);
            if x < 0 || x >= i64::from(rgb.width) {
                continue;
            }
            let m = ((my * mark.width + mx) * 4) as usize;
            let a = f32::from(mark.pixels[m + 3]) / 255.0 * opacity;
            if a <= 0.0 {
                continue;
            }
            let p = ((y as u64 * u64::from(rgb.width) + x as u64) * 3) as usize;
            for ch in 0..3 {
                let under = f32::from(rgb.pixels[p + ch]);
                let over = f32::from(mark.pixels[m + ch]);
                rgb.pixels[p + ch] = (under * (1.0 - a) + over * a).round() as u8;
            }
        }
    }
}

/// Burn `watermark` (with its `logo`, decoded) into `rgb`; false when there was nothing
/// to draw (a logo-only watermark whose logo could not be read).
pub fn apply(rgb: &mut Rgb, watermark: &Watermark, logo: Option<&Rgba>) -> bool {
    let width = (rgb.width as f32 * f32::from(watermark.size) / 100.0).round() as u32;
    let max_height = match watermark.position {
        Position::Center | Position::Tiled => rgb.height / 2,
        _ => rgb.height / 4,
    };
    let Some(mark) = mark(watermark, logo, width, max_height) else {
        return false;
    };
    let opacity = f32::from(watermark.opacity) / 100.0;
    let (w, h) = (i64::from(rgb.width), i64::from(rgb.height));
    let (mw, mh) = (i64::from(mark.width), i64::from(mark.height));
    let margin = (w.min(h) / 40).max(2);
    let spots: Vec<(i64, i64)> = match watermark.position {
        Position::BottomRight => vec![(w - mw - margin, h - mh - margin)],
        Position::BottomLeft => vec![(margin, h - mh - margin)],
        Position::TopRight => vec![(w - mw - margin, margin)],
        Position::TopLeft => vec![(margin, margin)],
        Position::Center => vec![((w - mw) / 2, (h - mh) / 2)],
        Position::Tiled => {
            let (step_x, step_y) = (mw + mw / 2 + 1, mh * 3 + 1);
            let mut spots = Vec::new();
            let mut row = 0;
            let mut y = -mh / 2;
            while y < h {
                let shift = if row % 2 == 1 { step_x / 2 } else { 0 };
                let mut x = -shift;
                while x < w {
                    spots.push((x, y));
                    x += step_x;
                }
                y += step_y;
                row += 1;
            }
            spots
        }
    };
    for (left, top) in spots {
        blend(rgb, &mark, left, top, opacity);
    }
    true
}

/// A preview JPEG with `watermark` burned in, encoded again; an error (never the clean
/// picture) when there is nothing to burn in.
pub fn burn(
    jpeg: &[u8],
    watermark: &Watermark,
    logo: Option<&Rgba>,
) -> Result<Vec<u8>, PreviewError> {
    let mut rgb = decode(jpeg, u32::MAX)?;
    if !apply(&mut rgb, watermark, logo) {
        return Err(PreviewError::Encode(
            "the watermark has nothing to draw (its logo cannot be read)".into(),
        ));
    }
    encode(&rgb, 82)
}

#[cfg(test)]
#[path = "watermark_tests.rs"]
mod tests;
