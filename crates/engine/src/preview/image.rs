//! Pixels: a JPEG decoded at reduced scale (the decoder's DCT scaling: 1/2, 1/4, 1/8 of the
//! work for a frame much larger than its preview), EXIF orientation applied, resized with
//! a Lanczos filter (SIMD, `fast_image_resize`) and encoded (`jpeg-encoder`, SIMD).

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::PreviewError;

/// An RGB picture.
#[derive(Debug, Clone)]
pub struct Rgb {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes.
    pub pixels: Vec<u8>,
}

/// Decode `jpeg` at the smallest DCT scale that still gives a long edge of `long_edge`.
pub fn decode(jpeg: &[u8], long_edge: u32) -> Result<Rgb, PreviewError> {
    let mut decoder = jpeg_decoder::Decoder::new(std::io::Cursor::new(jpeg));
    decoder
        .read_info()
        .map_err(|e| PreviewError::Decode(e.to_string()))?;
    let info = decoder
        .info()
        .ok_or_else(|| PreviewError::Decode("no frame header".into()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let long = w.max(h).max(1);
    if long > long_edge {
        let scale =
            |side: u32| ((u64::from(side) * u64::from(long_edge)).div_ceil(u64::from(long))) as u16;
        decoder
            .scale(scale(w), scale(h))
            .map_err(|e| PreviewError::Decode(e.to_string()))?;
    }
    let data = decoder
        .decode()
        .map_err(|e| PreviewError::Decode(e.to_string()))?;
    let info = decoder
        .info()
        .ok_or_else(|| PreviewError::Decode("no frame header".into()))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let pixels = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => data,
        jpeg_decoder::PixelFormat::L8 => data.iter().flat_map(|&l| [l, l, l]).collect(),
        jpeg_decoder::PixelFormat::L16 => data.chunks(2).flat_map(|l| [l[0], l[0], l[0]]).collect(),
        jpeg_decoder::PixelFormat::CMYK32 => data
            .chunks(4)
            .flat_map(|p| {
                // Adobe's inverted CMYK, as JPEGs store it.
                let k = u16::from(p[3]);
                [p[0], p[1], p[2]].map(|c| ((u16::from(c) * k) / 255) as u8)
            })
            .collect(),
    };
    Ok(Rgb {
        width,
        height,
        pixels,
    })
}

/// `rgb` turned as EXIF orientation `orientation` (1–8) says, so it shows upright.
pub fn orient(rgb: Rgb, orientation: u16) -> Rgb {
    if !(2..=8).contains(&orientation) {
        return rgb;
    }
    let (w, h) = (rgb.width as usize, rgb.height as usize);
    let swap = orientation >= 5;
    let (ow, oh) = if swap { (h, w) } else { (w, h) };
    let mut out = vec![0u8; rgb.pixels.len()];
    for y in 0..h {
        for x in 0..w {
            let (nx, ny) = match orientation {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (h - 1 - y, x),
                7 => (h - 1 - y, w - 1 - x),
                _ => (y, w - 1 - x),
            };
            let from = (y * w + x) * 3;
            let to = (ny * ow + nx) * 3;
            out[to..to + 3].copy_from_slice(&rgb.pixels[from..from + 3]);
        }
    }
    Rgb {
        width: ow as u32,
        height: oh as u32,
        pixels: out,
    }
}

/// `rgb` with its long edge at most `long_edge` (never enlarged).
pub fn fit(rgb: &Rgb, long_edge: u32) -> Result<Rgb, PreviewError> {
    let long = rgb.width.max(rgb.height);
    if long <= long_edge {
        return Ok(rgb.clone());
    }
    let side = |s: u32| {
        ((u64::from(s) * u64::from(long_edge) + u64::from(long) / 2) / u64::from(long)).max(1)
            as u32
    };
    let (width, height) = (side(rgb.width), side(rgb.height));
    let src = ImageRef::new(rgb.width, rgb.height, &rgb.pixels, PixelType::U8x3)
        .map_err(|e| PreviewError::Decode(e.to_string()))?;
    let mut dst = Image::new(width, height, PixelType::U8x3);
    Resizer::new()
        .resize(
            &src,
            &mut dst,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)),
        )
        .map_err(|e| PreviewError::Decode(e.to_string()))?;
    Ok(Rgb {
        width,
        height,
        pixels: dst.into_vec(),
    })
}

/// `rgb` as a baseline JPEG at `quality`.
pub fn encode(rgb: &Rgb, quality: u8) -> Result<Vec<u8>, PreviewError> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(
            &rgb.pixels,
            rgb.width as u16,
            rgb.height as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|e| PreviewError::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_turns_the_picture_upright() {
        // 2×1: red, green.
        let rgb = Rgb {
            width: 2,
            height: 1,
            pixels: vec![255, 0, 0, 0, 255, 0],
        };
        let turned = orient(rgb.clone(), 6);
        assert_eq!((turned.width, turned.height), (1, 2));
        assert_eq!(
            turned.pixels,
            vec![255, 0, 0, 0, 255, 0],
            "90° clockwise: red on top"
        );
        let flipped = orient(rgb, 2);
        assert_eq!(flipped.pixels, vec![0, 255, 0, 255, 0, 0]);
    }

    #[test]
    fn a_large_jpeg_is_decoded_small_and_fitted() {
        let big = Rgb {
            width: 4000,
            height: 3000,
            pixels: vec![90u8; 4000 * 3000 * 3],
        };
        let jpeg = encode(&big, 80).expect("encode");
        let small = decode(&jpeg, 900).expect("decode");
        assert_eq!(
            (small.width, small.height),
            (1000, 750),
            "1/4 scale: ≥ 900 on the long edge"
        );
        let fitted = fit(&small, 400).expect("fit");
        assert_eq!((fitted.width, fitted.height), (400, 300));
    }
}
