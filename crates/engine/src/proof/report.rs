//! The transfer report of a session: every frame with its size and hash, each copy (the
//! library, every target, the bucket) with when it was verified or what failed, the
//! repairs made, the sealed ASC MHL generations, the shot list (items complete, missing
//! views, extra and unsorted frames), and the totals. As CSV (one row a copy), and as a
//! PDF a producer can file (laid out by the `pdf` module).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Local};

use super::ProofError;
use crate::Config;
use crate::journal::{Journal, Repair, ReportFrame, Seal};

/// Everything the report says.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// The studio id.
    pub studio: String,
    /// The session.
    pub session: String,
    /// When the report was made.
    pub made: DateTime<Local>,
    /// The library folder.
    pub library: PathBuf,
    /// The configured targets, in order.
    pub targets: Vec<String>,
    /// The frames, in the order they were shot.
    pub frames: Vec<ReportFrame>,
    /// Repairs of this session's frames.
    pub repairs: Vec<Repair>,
    /// Sealed generations (every root).
    pub seals: Vec<Seal>,
    /// The session's shot list as shot, if it has one.
    pub shotlist: Option<crate::shotlist::Status>,
}

/// A format the report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A PDF to file with the job.
    Pdf,
    /// One row a copy, for spreadsheets and scripts.
    Csv,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Csv => "csv",
        }
    }
}

/// `ms` as local time, `YYYY-MM-DD HH:MM:SS`.
pub fn when(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|d| {
            d.with_timezone(&Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

impl Transfer {
    /// Read the report of `session` from the journal.
    pub fn read(config: &Config, journal: &Journal, session: &str) -> Result<Self, ProofError> {
        let frames = journal.session_frames(session)?;
        let ids: std::collections::HashSet<i64> = frames.iter().map(|f| f.shot_id).collect();
        Ok(Self {
            studio: config.studio.id.clone(),
            session: session.to_string(),
            made: Local::now(),
            library: config.library.path.clone(),
            targets: config.backup.iter().map(|b| b.name.clone()).collect(),
            repairs: journal
                .repairs()?
                .into_iter()
                .filter(|r| ids.contains(&r.shot_id))
                .collect(),
            seals: journal.seals()?,
            shotlist: journal.shotlist_status(session)?,
            frames,
        })
    }

    /// Totals: (frames, bytes, copies verified, copies failed).
    pub fn totals(&self) -> (usize, u64, usize, usize) {
        let bytes = self
            .frames
            .iter()
            .filter(|f| f.state == "stored")
            .filter_map(|f| f.size)
            .sum();
        let verified = self
            .frames
            .iter()
            .flat_map(|f| &f.copies)
            .filter(|c| c.1 == "verified")
            .count();
        let failed = self
            .frames
            .iter()
            .flat_map(|f| &f.copies)
            .filter(|c| c.1 == "failed")
            .count()
            + self.frames.iter().filter(|f| f.state == "failed").count();
        (self.frames.len(), bytes, verified, failed)
    }

    /// The CSV: a header, then one row per copy of every frame.
    pub fn csv(&self) -> String {
        let mut out =
            String::from("frame,library_path,size,xxh128,copy,state,verified_at,detail\n");
        for f in &self.frames {
            let base = [
                f.original.clone(),
                f.rel_path.clone().unwrap_or_default(),
                f.size.map(|s| s.to_string()).unwrap_or_default(),
                f.hash.clone().unwrap_or_default(),
            ];
            let mut row = |copy: &str, state: &str, at: Option<i64>, detail: &str| {
                let cells: Vec<String> = base
                    .iter()
                    .cloned()
                    .chain([
                        copy.to_string(),
                        state.to_string(),
                        at.map(when).unwrap_or_default(),
                        detail.to_string(),
                    ])
                    .collect();
                let _ = writeln!(
                    out,
                    "{}",
                    cells
                        .iter()
                        .map(|c| csv_cell(c))
                        .collect::<Vec<_>>()
                        .join(",")
                );
            };
            row(
                "library",
                &f.state,
                f.stored_ms,
                f.error.as_deref().unwrap_or(""),
            );
            for (target, state, at, error) in &f.copies {
                row(target, state, *at, error.as_deref().unwrap_or(""));
            }
            if let Some((state, at, error)) = &f.upload {
                row("upload", state, *at, error.as_deref().unwrap_or(""));
            }
        }
        out
    }
}

/// A CSV cell, quoted when it must be (RFC 4180); a leading `=`, `+`, `-` or `@` is
/// prefixed with `'` so a spreadsheet does not run it as a formula.
pub fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Where the report goes by default: `<library>/.shotline/reports/<session>-<time>.<ext>`.
pub fn default_path(library: &Path, session: &str, format: Format) -> PathBuf {
    let safe = crate::naming::sanitize_component(session);
    library.join(".shotline").join("reports").join(format!(
        "{safe}-{}.{}",
        Local::now().format("%Y%m%d-%H%M%S"),
        format.extension()
    ))
}

/// Write the report of `session` as `format` to `output` (default: [`default_path`]);
/// the file's path.
pub fn write(
    config: &Config,
    journal: &Journal,
    session: &str,
    format: Format,
    output: Option<&Path>,
) -> Result<PathBuf, ProofError> {
    let transfer = Transfer::read(config, journal, session)?;
    let path = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_path(&config.library.path, session, format));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| ProofError::io(dir, e))?;
    }
    let bytes = match format {
        Format::Csv => transfer.csv().into_bytes(),
        Format::Pdf => super::pdf::render(&transfer),
    };
    std::fs::write(&path, bytes).map_err(|e| ProofError::io(&path, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("a.jpg"), "a.jpg");
        assert_eq!(csv_cell("a,b \"c\""), "\"a,b \"\"c\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
