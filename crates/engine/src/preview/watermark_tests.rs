//! The watermark's tests: where a text lands, tiling, a logo's transparency.

use super::*;

fn grey(width: u32, height: u32) -> Rgb {
    Rgb {
        width,
        height,
        pixels: vec![128; (width * height * 3) as usize],
    }
}

fn changed(a: &Rgb, b: &Rgb, x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
    let mut n = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let p = ((y * a.width + x) * 3) as usize;
            if a.pixels[p..p + 3] != b.pixels[p..p + 3] {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn text_lands_in_its_corner_only_and_tiled_covers_the_picture() {
    let clean = grey(800, 600);
    let mut marked = clean.clone();
    let wm = Watermark {
        text: Some("© Studio".into()),
        logo: None,
        position: Position::BottomRight,
        size: 30,
        opacity: 80,
    };
    assert!(wm.check().is_ok());
    assert!(apply(&mut marked, &wm, None));
    assert!(
        changed(&clean, &marked, 400, 450, 800, 600) > 500,
        "the corner"
    );
    assert_eq!(changed(&clean, &marked, 0, 0, 400, 300), 0, "nowhere else");
    let mut tiled = clean.clone();
    apply(
        &mut tiled,
        &Watermark {
            position: Position::Tiled,
            ..wm.clone()
        },
        None,
    );
    for (x, y) in [(0, 0), (400, 0), (0, 300), (400, 300)] {
        assert!(
            changed(&clean, &tiled, x, y, x + 400, y + 300) > 100,
            "quarter at {x},{y}"
        );
    }
    assert!(
        Watermark {
            size: 95,
            ..wm.clone()
        }
        .check()
        .is_err()
    );
    assert!(Watermark { text: None, ..wm }.check().is_err());
    assert_eq!(Position::parse("top-left"), Some(Position::TopLeft));
    assert_eq!(Position::parse("middle"), None);
}

#[test]
fn a_logo_keeps_its_transparency() {
    let clean = grey(400, 300);
    // A 20 × 10 logo: its left half opaque red, its right half transparent.
    let logo = Rgba {
        width: 20,
        height: 10,
        pixels: (0..200)
            .flat_map(|i| {
                if i % 20 < 10 {
                    [255, 0, 0, 255]
                } else {
                    [0, 0, 0, 0]
                }
            })
            .collect(),
    };
    let wm = Watermark {
        text: None,
        logo: Some("logo.png".into()),
        position: Position::TopLeft,
        size: 50,
        opacity: 100,
    };
    let mut marked = clean.clone();
    apply(&mut marked, &wm, Some(&logo));
    let at = |x: u32, y: u32| {
        let p = ((y * 400 + x) * 3) as usize;
        [marked.pixels[p], marked.pixels[p + 1], marked.pixels[p + 2]]
    };
    assert_eq!(at(20, 20), [255, 0, 0], "the opaque half");
    assert_eq!(at(180, 20), [128, 128, 128], "the transparent half");
}

#[test]
fn odd_sizes_and_extremes_stay_inside_the_picture_and_nothing_to_draw_is_said() {
    let wm = Watermark {
        text: Some("©".into()),
        logo: None,
        position: Position::Center,
        size: 90,
        opacity: 100,
    };
    for (w, h) in [(1, 1), (3, 2000), (2000, 3), (640, 480)] {
        let mut picture = grey(w, h);
        apply(&mut picture, &wm, None);
    }
    // A logo 1 × 4096, as wide as 90 % of the picture: fitted to its height instead.
    let tall = Rgba {
        width: 1,
        height: 4096,
        pixels: vec![255; 4096 * 4],
    };
    let logo = Watermark {
        text: None,
        logo: Some("tall.png".into()),
        ..wm.clone()
    };
    let mut picture = grey(2048, 1365);
    assert!(apply(&mut picture, &logo, Some(&tall)));
    assert!(!apply(&mut grey(64, 64), &logo, None), "no logo to draw");
}
