//! `shotline preview` (hidden): the gallery's previews of files, made exactly as the
//! engine's preview task makes them, into a folder — for `cargo xtask bench gallery`, and
//! for checking what a RAW file gives.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use shotline_engine::preview::watermark::{self, Position, Watermark};
use shotline_engine::preview::{self, PREVIEW_EDGE, THUMB_EDGE};

/// Previews of `files` into `out`, one file after another as the engine does (with
/// `watermark` burned into both, as a share's are); prints one line per file (or why it
/// has none) and the total time.
pub fn previews(
    out: &Path,
    watermark: Option<&str>,
    files: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(out)?;
    let mark = watermark.map(|text| Watermark {
        text: Some(text.to_string()),
        logo: None,
        position: Position::BottomRight,
        size: 25,
        opacity: 50,
    });
    let start = Instant::now();
    let mut failed = 0;
    for file in files {
        let stem = file
            .file_stem()
            .map_or_else(|| "frame".into(), |s| s.to_string_lossy().into_owned());
        match preview::make(file) {
            Ok(mut made) => {
                if let Some(mark) = &mark {
                    made.preview = watermark::burn(&made.preview, mark, None)?;
                    made.thumbnail = watermark::burn(&made.thumbnail, mark, None)?;
                }
                std::fs::write(
                    out.join(format!("{stem}-{PREVIEW_EDGE}.jpg")),
                    &made.preview,
                )?;
                std::fs::write(
                    out.join(format!("{stem}-{THUMB_EDGE}.jpg")),
                    &made.thumbnail,
                )?;
                println!("{}: {}x{}", file.display(), made.width, made.height);
            }
            Err(e) => {
                failed += 1;
                println!("{}: no preview: {e}", file.display());
            }
        }
    }
    eprintln!(
        "{} files in {:.3} s",
        files.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
