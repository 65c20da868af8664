//! A shot list: what an e-commerce or catalogue session must shoot, item by item (a SKU
//! and its views: front, back, detail). Loaded from a CSV (`code, name, views`, views
//! separated by `|` or `;`); the operator scans an item's barcode (`shotline shot next
//! CODE`, or the window's field) and the frames that follow are that item's, each taking
//! the next view not yet shot, then `extra`; a frame shot with no item chosen is
//! `unsorted`, never lost. The naming template's `{code}`, `{item}`, `{view}` and `{n}`
//! name them; [`Status`] says which items are complete, which miss views, and which
//! frames are extra or unsorted.

use serde::Serialize;

/// The `{code}` and `{item}` of a frame shot with no item chosen.
pub const UNSORTED: &str = "unsorted";
/// The `{view}` of a frame past its item's views.
pub const EXTRA: &str = "extra";

/// One item to shoot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Its code (the barcode).
    pub code: String,
    /// Its name.
    pub name: String,
    /// The views to shoot, in order.
    pub views: Vec<String>,
}

/// A shot list that cannot be used: which line, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ListError {
    /// The line (1 is the header).
    pub line: u64,
    /// What is wrong, and how to fix it.
    pub problem: String,
}

/// Parse a shot list CSV: a header naming `code`, `name` and `views` (in any order, other
/// columns ignored), then one item a line. Refused with the line number: a missing
/// column, an empty or duplicate code, an item without views, a malformed line.
pub fn parse(text: &str) -> Result<Vec<Item>, ListError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let error = |line: u64, problem: String| ListError { line, problem };
    let headers = reader
        .headers()
        .map_err(|e| error(1, format!("not CSV: {e}")))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                error(
                    1,
                    format!("no `{name}` column; the header must name code, name and views"),
                )
            })
    };
    let (code, name, views) = (column("code")?, column("name")?, column("views")?);
    let mut items: Vec<Item> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            error(
                e.position().map_or(0, |p| p.line()),
                format!("not CSV: {e}"),
            )
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cell = |i: usize, what: &str| {
            record.get(i).map(str::to_string).ok_or_else(|| {
                error(
                    line,
                    format!("no {what} (the line has {} cells)", record.len()),
                )
            })
        };
        let item = Item {
            code: cell(code, "code")?,
            name: cell(name, "name")?,
            views: cell(views, "views")?
                .split(['|', ';'])
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect(),
        };
        if item.code.is_empty() {
            return Err(error(line, "an item without a code".into()));
        }
        if item.code.chars().any(char::is_control) || item.code.chars().count() > 64 {
            return Err(error(
                line,
                format!(
                    "{:?} is not a code (at most 64 characters, no control characters)",
                    item.code
                ),
            ));
        }
        if item.code == UNSORTED {
            return Err(error(
                line,
                format!("{UNSORTED:?} is kept for frames of no item"),
            ));
        }
        if let Some(v) = item
            .views
            .iter()
            .enumerate()
            .find(|(i, v)| item.views[..*i].contains(v) || v.as_str() == EXTRA)
            .map(|(_, v)| v)
        {
            return Err(error(
                line,
                format!(
                    "item {}: view {v:?} twice, or the name kept for frames past the views",
                    item.code
                ),
            ));
        }
        if item.views.is_empty() {
            return Err(error(
                line,
                format!(
                    "item {} has no views (write e.g. front|back|detail)",
                    item.code
                ),
            ));
        }
        if let Some(first) = items.iter().position(|i| i.code == item.code) {
            return Err(error(
                line,
                format!(
                    "code {} is there already (item {} of the list)",
                    item.code,
                    first + 1
                ),
            ));
        }
        items.push(item);
    }
    if items.is_empty() {
        return Err(error(1, "no items under the header".into()));
    }
    Ok(items)
}

/// Where a frame goes in the shot list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Slot {
    /// `{code}`: the item's code, or [`UNSORTED`].
    pub code: String,
    /// `{item}`: its name, or [`UNSORTED`].
    pub item: String,
    /// `{view}`: the next view not yet shot, [`EXTRA`] past them, empty when unsorted.
    pub view: String,
    /// `{n}`: the frame's number within its item (or among the unsorted), from 1.
    pub n: u64,
}

impl Slot {
    /// The slot of a frame with no item chosen, the `n`th such.
    pub fn unsorted(n: u64) -> Self {
        Self {
            code: UNSORTED.into(),
            item: UNSORTED.into(),
            view: String::new(),
            n,
        }
    }

    /// The slot of the next frame of `item`, which has `shot` views shot already (in any
    /// order) and `frames` frames.
    pub fn next(item: &Item, shot: &[String], frames: u64) -> Self {
        let view = item
            .views
            .iter()
            .find(|v| !shot.contains(v))
            .cloned()
            .unwrap_or_else(|| EXTRA.into());
        Self {
            code: item.code.clone(),
            item: item.name.clone(),
            view,
            n: frames + 1,
        }
    }
}

/// One item's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// The item.
    #[serde(flatten)]
    pub item: Item,
    /// Views shot.
    pub shot: Vec<String>,
    /// Views still to shoot.
    pub missing: Vec<String>,
    /// Frames past its views.
    pub extra: u64,
}

impl Progress {
    /// True when every view is shot.
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// A session's shot list as shot so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Every item, in the list's order.
    pub items: Vec<Progress>,
    /// Frames shot with no item chosen.
    pub unsorted: u64,
    /// The item being shot now.
    pub current: Option<String>,
}

impl Status {
    /// Items complete, incomplete.
    pub fn counts(&self) -> (usize, usize) {
        let complete = self.items.iter().filter(|p| p.complete()).count();
        (complete, self.items.len() - complete)
    }

    /// As CSV: `code,name,state,shot,missing,extra`, then a line for the unsorted frames.
    pub fn csv(&self) -> String {
        let cell = crate::proof::report::csv_cell;
        let mut out = String::from("code,name,state,shot,missing,extra\n");
        for p in &self.items {
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                cell(&p.item.code),
                cell(&p.item.name),
                if p.complete() {
                    "complete"
                } else {
                    "incomplete"
                },
                cell(&p.shot.join("|")),
                cell(&p.missing.join("|")),
                p.extra
            ));
        }
        out.push_str(&format!("{UNSORTED},,unsorted,,,{}\n", self.unsorted));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_read_and_bad_lines_are_named() {
        let items = parse("\u{feff}Code,Name,Views,Notes\nSKU-1, Red hat ,front|back|detail,x\n\nSKU-2,Blue hat,front; side\n")
            .expect("a list");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].name, "Red hat");
        assert_eq!(items[1].views, ["front", "side"]);
        let line = |text: &str| parse(text).expect_err(text).line;
        assert_eq!(line("code,name\nA,a\n"), 1, "no views column");
        assert_eq!(
            line("code,name,views\nA,a,front\nB,b,front\nA,c,back\n"),
            4,
            "a duplicate"
        );
        assert_eq!(line("code,name,views\nA,a,front\n,b,back\n"), 3, "no code");
        assert_eq!(line("code,name,views\nA,a,\n"), 2, "no views");
        assert_eq!(
            line("code,name,views\nA,a,front|front\n"),
            2,
            "a view twice"
        );
        assert_eq!(
            line("code,name,views\nA,a,front|extra\n"),
            2,
            "the kept name"
        );
        assert_eq!(line("code,name,views\nA\n"), 2, "too few cells");
        assert_eq!(line("code,name,views\n"), 1, "nothing in it");
    }

    #[test]
    fn each_frame_takes_the_next_view_then_extra() {
        let item = Item {
            code: "SKU-1".into(),
            name: "Red hat".into(),
            views: vec!["front".into(), "back".into()],
        };
        assert_eq!(Slot::next(&item, &[], 0).view, "front");
        let second = Slot::next(&item, &["front".into()], 1);
        assert_eq!((second.view.as_str(), second.n), ("back", 2));
        assert_eq!(
            Slot::next(&item, &["back".into(), "front".into()], 2).view,
            EXTRA
        );
        assert_eq!(Slot::unsorted(3).code, UNSORTED);
    }
}
