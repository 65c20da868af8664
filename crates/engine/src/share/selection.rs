//! A guest's selection ("choose 20"), once they send it: the frames they had picked then
//! are kept in the journal, each gets the studio's pick keyword (and colour label, if
//! set) merged into its XMP sidecar, the selection is exported beside the reports —
//! `<library>/.shotline/selections/<share>/<time>-<guest>.txt` (the file names in one
//! line, comma-separated, for Lightroom's and Capture One's filename filter) and `.csv` —
//! and the studio is told at once (a notification: the window's, the dashboard's). A
//! frame the guest picked in an earlier selection and not in this one loses the keyword,
//! unless another guest's latest selection still has it. A crash anywhere in between
//! does the rest again on the next round.

use std::path::{Path, PathBuf};

use shotline_protocol::Event;
use shotline_protocol::event::{Level, Notification};

use crate::bus::Bus;
use crate::journal::{Journal, Selection};
use crate::sidecar::{self, Naming};

/// The notification category of a selection sent.
pub const CATEGORY: &str = "gallery_selection";

/// What a picked frame gets in its sidecar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PickMarks {
    /// A keyword (`dc:subject`).
    pub keyword: Option<String>,
    /// A colour label (`Red` … `Purple`).
    pub label: Option<&'static str>,
    /// Mail the studio too (`[notify.email]` is set).
    pub mail: bool,
}

impl PickMarks {
    /// From `[gallery] pick_keyword` and `pick_label`; `mail` when `[notify.email]` is set.
    pub fn from_config(gallery: &crate::config::Gallery, mail: bool) -> Self {
        Self {
            mail,
            keyword: Some(gallery.pick_keyword.trim().to_string()).filter(|k| !k.is_empty()),
            label: super::answers::xmp_label(gallery.pick_label.trim()),
        }
    }
}

/// Keep every selection sent that is not kept yet (from the journal's answers, so one
/// read before a crash is never lost), with the frames picked before it — at most as
/// many as the share asks for, the first picked first.
pub fn record(journal: &Journal) -> crate::Result<()> {
    for submit in journal.submits_unrecorded()? {
        let mut frames = journal.picks_before(&submit.share, &submit.sub, submit.seq)?;
        if let Some(choose) = journal.share(&submit.share)?.and_then(|s| s.choose) {
            frames.truncate(choose.max as usize);
        }
        journal.record_selection(&Selection {
            share: submit.share.clone(),
            submit_id: submit.id.clone(),
            sub: submit.sub.clone(),
            name: submit.name.clone(),
            submitted_ms: submit.ts_ms,
            frames,
            export: None,
        })?;
    }
    Ok(())
}

/// The library file of each frame of `selection` (frames no longer in the library left
/// out).
fn files(journal: &Journal, selection: &Selection) -> crate::Result<Vec<(i64, String)>> {
    let mut files = Vec::new();
    for shot in &selection.frames {
        if let Some(rel) = journal.shot(*shot)?.and_then(|s| s.rel_path) {
            files.push((*shot, rel));
        }
    }
    Ok(files)
}

/// The file names as one line for a filename filter: each name without its extension
/// (so a RAW and its JPEG both match), comma-separated.
pub fn filter_line(files: &[(i64, String)]) -> String {
    let mut stems: Vec<String> = files
        .iter()
        .filter_map(|(_, rel)| {
            Path::new(rel)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .collect();
    stems.dedup();
    stems.join(", ")
}

/// A name fit for a file: letters, digits, `-` and `_`, at most 40.
fn file_safe(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if safe.trim_matches('_').is_empty() {
        "guest".into()
    } else {
        safe
    }
}

/// Write `bytes` to `path` whole or not at all (a partial file renamed into place).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let partial = crate::copy::partial_path(path);
    {
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(bytes)?;
        crate::platform::sync_file(&file)?;
    }
    std::fs::rename(&partial, path)
}

/// Write `selection`'s export (`.txt` and `.csv`); the `.txt`'s path.
fn export(
    library: &Path,
    selection: &Selection,
    files: &[(i64, String)],
) -> std::io::Result<PathBuf> {
    let dir = library
        .join(".shotline")
        .join("selections")
        .join(&selection.share);
    std::fs::create_dir_all(&dir)?;
    let when = chrono::DateTime::from_timestamp_millis(selection.submitted_ms)
        .map(|t| t.format("%Y%m%d-%H%M%S").to_string())
        .unwrap_or_default();
    let stem = format!(
        "{when}-{}",
        file_safe(selection.name.as_deref().unwrap_or(&selection.sub))
    );
    let txt = dir.join(format!("{stem}.txt"));
    write_atomic(&txt, format!("{}\n", filter_line(files)).as_bytes())?;
    let mut csv = String::from("guest,name,frame,file\n");
    for (shot, rel) in files {
        let cells = [
            selection.sub.as_str(),
            selection.name.as_deref().unwrap_or(""),
            &shot.to_string(),
            rel.as_str(),
        ];
        let row: Vec<String> = cells
            .iter()
            .map(|c| crate::proof::report::csv_cell(c))
            .collect();
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    write_atomic(&dir.join(format!("{stem}.csv")), csv.as_bytes())?;
    Ok(txt)
}

/// Finish every selection not done yet: sidecars, export, notification. How many.
pub fn finish(
    journal: &Journal,
    library: &Path,
    naming: Naming,
    marks: &PickMarks,
    bus: &Bus,
) -> crate::Result<usize> {
    let pending = journal.selections_pending()?;
    for selection in &pending {
        // One that cannot be finished (a library not writable) waits; the others go on.
        if let Err(e) = finish_one(journal, library, naming, marks, bus, selection) {
            tracing::warn!(
                "selection {} of share {}: {e}",
                selection.submit_id,
                selection.share
            );
        }
    }
    Ok(pending.len())
}

fn finish_one(
    journal: &Journal,
    library: &Path,
    naming: Naming,
    marks: &PickMarks,
    bus: &Bus,
    selection: &Selection,
) -> crate::Result<()> {
    {
        let files = files(journal, selection)?;
        if marks.keyword.is_some() || marks.label.is_some() {
            for (_, rel) in &files {
                let path = naming.path(&library.join(rel));
                if let Err(e) = mark(&path, marks) {
                    // The selection is still kept and exported; the sidecar is left as it is.
                    tracing::warn!("sidecar {}: {e}", path.display());
                }
            }
        }
        if let Some(keyword) = &marks.keyword {
            for shot in dropped(journal, selection)? {
                let Some(rel) = journal.shot(shot)?.and_then(|s| s.rel_path) else {
                    continue;
                };
                let path = naming.path(&library.join(rel));
                if let Err(e) = unmark(&path, keyword) {
                    tracing::warn!("sidecar {}: {e}", path.display());
                }
            }
        }
        let txt = export(library, selection, &files)
            .map_err(|e| crate::Error::io(library.join(".shotline").join("selections"), e))?;
        let who = selection.name.as_deref().unwrap_or("A guest");
        let title = journal.share(&selection.share)?.and_then(|s| s.title);
        let share_name = title
            .clone()
            .unwrap_or_else(|| format!("share {}", selection.share));
        bus.publish(Event::Notification(Notification {
            level: Level::Info,
            category: CATEGORY.into(),
            title: format!(
                "{who} sent a selection: {} frame{}",
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            ),
            message: format!(
                "{}: the file names are in {}",
                title.unwrap_or_else(|| format!("share {}", selection.share)),
                txt.display()
            ),
        }));
        if marks.mail {
            let body = format!(
                "{who} sent a selection of {} frame{} in {}.\n\nFor Lightroom's or Capture One's filename filter:\n{}\n\nThe files:\n{}\n\nSaved as {} (and .csv).\n",
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                share_name,
                filter_line(&files),
                files
                    .iter()
                    .map(|(_, f)| format!("  {f}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                txt.display()
            );
            journal.queue_mail(
                &format!("selection:{}:{}", selection.share, selection.submit_id),
                &format!(
                    "{who} sent a selection: {} frame{} ({share_name})",
                    files.len(),
                    if files.len() == 1 { "" } else { "s" }
                ),
                &body,
            )?;
        }
        journal.selection_done(
            &selection.share,
            &selection.submit_id,
            &txt.to_string_lossy(),
        )?;
    }
    Ok(())
}

/// The frames `selection`'s guest picked in their previous selection of the share and not
/// in this one, that no other guest's latest selection (of any share) has.
fn dropped(journal: &Journal, selection: &Selection) -> crate::Result<Vec<i64>> {
    let ours = journal.selections(&selection.share)?;
    let Some(previous) = ours
        .iter()
        .filter(|s| s.sub == selection.sub && s.submitted_ms < selection.submitted_ms)
        .max_by_key(|s| s.submitted_ms)
    else {
        return Ok(Vec::new());
    };
    let mut gone: Vec<i64> = previous
        .frames
        .iter()
        .filter(|f| !selection.frames.contains(f))
        .copied()
        .collect();
    if gone.is_empty() {
        return Ok(gone);
    }
    for share in journal.shares()? {
        let mut latest: std::collections::HashMap<String, &Selection> = Default::default();
        let all = journal.selections(&share.id)?;
        for s in &all {
            latest.insert(s.sub.clone(), s);
        }
        for (sub, s) in latest {
            if share.id == selection.share && sub == selection.sub {
                continue;
            }
            gone.retain(|f| !s.frames.contains(f));
        }
    }
    Ok(gone)
}

/// Take the pick `keyword` out of the sidecar at `path` (when there is one).
fn unmark(path: &Path, keyword: &str) -> Result<(), sidecar::SidecarError> {
    if !path.exists() {
        return Ok(());
    }
    sidecar::write_fields(
        path,
        &[sidecar::fields::Field {
            ns: sidecar::fields::DC,
            name: "subject",
            value: sidecar::fields::Value::BagWithout(vec![keyword.to_string()]),
        }],
    )
}

/// Give the sidecar at `path` the pick keyword and label.
fn mark(path: &Path, marks: &PickMarks) -> Result<(), sidecar::SidecarError> {
    if let Some(keyword) = &marks.keyword {
        sidecar::write_fields(
            path,
            &[sidecar::fields::Field {
                ns: sidecar::fields::DC,
                name: "subject",
                value: sidecar::fields::Value::Bag(vec![keyword.clone()]),
            }],
        )?;
    }
    if let Some(label) = marks.label {
        sidecar::write(
            path,
            sidecar::Marks {
                rating: None,
                label: Some(Some(label)),
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_line_names_each_frame_once_without_its_extension() {
        let files = vec![
            (1, "2026/s/IMG_0001.NEF".to_string()),
            (2, "2026/s/IMG_0001.JPG".to_string()),
            (3, "2026/s/IMG_0007.NEF".to_string()),
        ];
        assert_eq!(filter_line(&files), "IMG_0001, IMG_0007");
        assert_eq!(file_safe("Ana / Ben"), "Ana___Ben");
        assert_eq!(file_safe("../"), "guest");
    }
}
