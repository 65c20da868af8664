//! The transfer report as a PDF a producer can file: A4, the base-14 Helvetica fonts
//! (nothing embedded; `pdftotext` reads it back), Shotline's name, the studio and the
//! session on every page, pages numbered "Page N of M". Laid out as lines, paginated.

use pdf_writer::{Content, Date, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::report::{Transfer, when};

const WIDTH: f32 = 595.276;
const HEIGHT: f32 = 841.89;
const MARGIN: f32 = 50.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// One line of the report.
struct Line {
    bold: bool,
    size: f32,
    indent: f32,
    text: String,
    /// Text flush right on the same line.
    right: Option<String>,
    /// Space before it.
    gap: f32,
}

impl Line {
    fn new(text: impl Into<String>, size: f32) -> Self {
        Self {
            bold: false,
            size,
            indent: 0.0,
            text: text.into(),
            right: None,
            gap: 0.0,
        }
    }

    fn bold_if(self, bold: bool) -> Self {
        if bold { self.bold() } else { self }
    }

    fn bold(mut self) -> Self {
        self.bold = true;
        self
    }

    fn indent(mut self, by: f32) -> Self {
        self.indent = by;
        self
    }

    fn right(mut self, text: impl Into<String>) -> Self {
        self.right = Some(text.into());
        self
    }

    fn gap(mut self, by: f32) -> Self {
        self.gap = by;
        self
    }

    fn height(&self) -> f32 {
        self.gap + self.size * 1.35
    }
}

/// WinAnsi (Windows-1252) bytes of `text`; what it cannot show becomes `?`.
fn winansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c as u32 {
            0x20..=0x7E | 0xA0..=0xFF => c as u32 as u8,
            _ => match c {
                '€' => 0x80,
                '…' => 0x85,
                '‘' => 0x91,
                '’' => 0x92,
                '“' => 0x93,
                '”' => 0x94,
                '•' => 0x95,
                '–' => 0x96,
                '—' => 0x97,
                '™' => 0x99,
                _ => b'?',
            },
        })
        .collect()
}

/// About how wide `text` is in Helvetica at `size` (average glyph widths).
fn width(text: &str, size: f32, bold: bool) -> f32 {
    let per = if bold { 0.58 } else { 0.53 };
    text.chars().count() as f32 * size * per
}

/// `text` cut to `room` points, with `…`.
fn fit(text: &str, size: f32, bold: bool, room: f32) -> String {
    if width(text, size, bold) <= room {
        return text.to_string();
    }
    let keep = ((room / (size * if bold { 0.58 } else { 0.53 })) as usize).saturating_sub(1);
    let mut cut: String = text.chars().take(keep).collect();
    cut.push('…');
    cut
}

/// `text` in lines of at most `room` points.
fn wrap(text: &str, size: f32, room: f32) -> Vec<String> {
    let per_line = ((room / (size * 0.53)) as usize).max(20);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > per_line {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn human(bytes: u64) -> String {
    crate::backup::target::human_bytes(bytes)
}

/// The report's lines.
fn lines(t: &Transfer) -> Vec<Line> {
    let room = WIDTH - 2.0 * MARGIN;
    let (frames, bytes, verified, failed) = t.totals();
    let mut out = vec![
        Line::new("Shotline transfer report", 18.0).bold(),
        Line::new(format!("Studio {}    Session {}", t.studio, t.session), 11.0).gap(4.0),
        Line::new(
            format!("Made {}    Library {}", t.made.format("%Y-%m-%d %H:%M:%S %:z"), t.library.display()),
            9.0,
        ),
        Line::new(
            format!(
                "{frames} frames, {}; {verified} copies verified on {} backup target(s) ({}); {failed} failed",
                human(bytes),
                t.targets.len(),
                t.targets.join(", ")
            ),
            10.0,
        )
        .bold()
        .gap(6.0),
        Line::new("Frame, size and XXH3-128 (xxh128); then each copy: when it was verified, or what failed", 8.0)
            .gap(10.0),
    ];
    for f in &t.frames {
        let size = f.size.map(human).unwrap_or_default();
        let hash = f.hash.clone().unwrap_or_else(|| "(no hash)".into());
        out.push(
            Line::new(fit(&f.original, 9.5, true, room - 260.0), 9.5)
                .bold()
                .right(format!("{size}   {hash}"))
                .gap(5.0),
        );
        let mut copies = vec![match (f.state.as_str(), f.stored_ms) {
            ("stored", Some(at)) => format!("library: stored {}", when(at)),
            ("duplicate", _) => format!(
                "library: duplicate of {}",
                f.rel_path.as_deref().unwrap_or("an earlier frame")
            ),
            (state, _) => format!("library: {state}"),
        }];
        let mut failures = Vec::new();
        for (target, state, at, error) in &f.copies {
            match (state.as_str(), at) {
                ("verified", Some(at)) => copies.push(format!("{target}: verified {}", when(*at))),
                ("failed", _) => {
                    copies.push(format!("{target}: FAILED"));
                    failures.push(format!(
                        "{target} failed: {}",
                        error.as_deref().unwrap_or("no reason recorded")
                    ));
                }
                (state, _) => copies.push(format!("{target}: {state}")),
            }
        }
        if let Some((state, at, error)) = &f.upload {
            copies.push(match at {
                Some(at) if state == "done" => format!("bucket: uploaded {}", when(*at)),
                _ => format!("bucket: {state}"),
            });
            if state == "failed" {
                failures.push(format!(
                    "upload failed: {}",
                    error.as_deref().unwrap_or("no reason recorded")
                ));
            }
        }
        if f.state == "failed" {
            failures.push(format!(
                "not stored: {}",
                f.error.as_deref().unwrap_or("no reason recorded")
            ));
        }
        for chunk in wrap(&copies.join("  ·  ").replace('·', "•"), 8.0, room - 12.0) {
            out.push(Line::new(chunk, 8.0).indent(12.0));
        }
        for failure in failures {
            for chunk in wrap(&failure, 8.0, room - 12.0) {
                out.push(Line::new(chunk, 8.0).indent(12.0).bold());
            }
        }
    }
    if let Some(list) = &t.shotlist {
        let (complete, incomplete) = list.counts();
        out.push(
            Line::new(
                format!(
                    "Shot list: {complete} complete, {incomplete} incomplete, {} unsorted frame(s)",
                    list.unsorted
                ),
                12.0,
            )
            .bold()
            .gap(14.0),
        );
        for p in &list.items {
            let line = if p.complete() {
                format!(
                    "{}  {}  complete: {}",
                    p.item.code,
                    p.item.name,
                    p.shot.join(", ")
                )
            } else {
                format!(
                    "{}  {}  MISSING {}{}",
                    p.item.code,
                    p.item.name,
                    p.missing.join(", "),
                    if p.shot.is_empty() {
                        String::new()
                    } else {
                        format!(" (shot: {})", p.shot.join(", "))
                    }
                )
            };
            let line = if p.extra > 0 {
                format!("{line}  +{} extra", p.extra)
            } else {
                line
            };
            for chunk in wrap(&line, 8.0, room) {
                out.push(Line::new(chunk, 8.0).bold_if(!p.complete()));
            }
        }
    }
    if !t.repairs.is_empty() {
        out.push(Line::new("Repairs", 12.0).bold().gap(14.0));
        for r in &t.repairs {
            let line = format!("{}  {}  {}: {}", when(r.ts_ms), r.place, r.action, r.detail);
            for chunk in wrap(&line, 8.0, room) {
                out.push(Line::new(chunk, 8.0));
            }
        }
    }
    if !t.seals.is_empty() {
        out.push(
            Line::new(
                "ASC MHL generations (ascmhl/ at the root of each copy)",
                12.0,
            )
            .bold()
            .gap(14.0),
        );
        for s in &t.seals {
            let root = if s.root.is_empty() {
                "library"
            } else {
                s.root.as_str()
            };
            out.push(Line::new(
                format!(
                    "{}  {root}  generation {}  {} frame(s)  ascmhl/{}",
                    when(s.sealed_ms),
                    s.generation,
                    s.frames,
                    s.file
                ),
                8.0,
            ));
        }
    }
    out
}

/// Lines into pages.
fn paginate(lines: Vec<Line>) -> Vec<Vec<Line>> {
    let room = HEIGHT - 2.0 * MARGIN - 30.0;
    let mut pages = vec![Vec::new()];
    let mut used = 0.0;
    for line in lines {
        if used + line.height() > room && pages.last().is_some_and(|p| !p.is_empty()) {
            pages.push(Vec::new());
            used = 0.0;
        }
        used += line.height();
        if let Some(page) = pages.last_mut() {
            page.push(line);
        }
    }
    pages
}

fn show(c: &mut Content, bold: bool, size: f32, x: f32, y: f32, text: &str) {
    let bytes = winansi(text);
    c.begin_text();
    c.set_font(if bold { BOLD } else { REGULAR }, size);
    c.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y]);
    c.show(Str(&bytes));
    c.end_text();
}

/// The report as PDF bytes.
pub fn render(t: &Transfer) -> Vec<u8> {
    let pages = paginate(lines(t));
    let mut pdf = Pdf::new();
    let mut ids = Ref::new(1);
    let (catalog, tree, regular, bold, info) =
        (ids.bump(), ids.bump(), ids.bump(), ids.bump(), ids.bump());
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (ids.bump(), ids.bump())).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(page_ids.len() as i32);
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let total = pages.len();
    for (n, (page, (page_id, content_id))) in pages.iter().zip(&page_ids).enumerate() {
        let mut p = pdf.page(*page_id);
        p.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        p.parent(tree);
        p.contents(*content_id);
        p.resources()
            .fonts()
            .pair(REGULAR, regular)
            .pair(BOLD, bold);
        p.finish();
        let mut c = Content::new();
        let mut y = HEIGHT - MARGIN;
        for line in page {
            y -= line.height();
            show(
                &mut c,
                line.bold,
                line.size,
                MARGIN + line.indent,
                y,
                &line.text,
            );
            if let Some(right) = &line.right {
                let x = WIDTH - MARGIN - width(right, line.size - 1.0, false);
                show(&mut c, false, line.size - 1.0, x, y, right);
            }
        }
        let footer = format!("Shotline  •  studio {}  •  session {}", t.studio, t.session);
        show(&mut c, false, 8.0, MARGIN, 30.0, &footer);
        let number = format!("Page {} of {total}", n + 1);
        show(
            &mut c,
            false,
            8.0,
            WIDTH - MARGIN - width(&number, 8.0, false),
            30.0,
            &number,
        );
        pdf.stream(*content_id, &c.finish());
    }
    let made = &t.made;
    use chrono::{Datelike, Timelike};
    pdf.document_info(info)
        .title(TextStr(&format!(
            "Shotline transfer report: {} / {}",
            t.studio, t.session
        )))
        .creator(TextStr("Shotline"))
        .producer(TextStr(concat!("Shotline ", env!("CARGO_PKG_VERSION"))))
        .creation_date(
            Date::new(made.year() as u16)
                .month(made.month() as u8)
                .day(made.day() as u8)
                .hour(made.hour() as u8)
                .minute(made.minute() as u8)
                .second(made.second() as u8),
        );
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_winansi_and_long_text_is_cut_or_wrapped() {
        assert_eq!(winansi("é—✓"), vec![0xE9, 0x97, b'?']);
        assert!(fit(&"x".repeat(500), 9.0, false, 100.0).ends_with('…'));
        let lines = wrap(&"word ".repeat(100), 8.0, 200.0);
        assert!(lines.len() > 3 && lines.iter().all(|l| l.len() < 60));
    }
}
