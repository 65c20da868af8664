//! New gallery comments as the studio's notifications: "3 new comments from Ana", muted
//! like the others (category [`COMMENTS`]). The first comment after a quiet spell is told
//! at once; later ones wait and are told together, at most one notification per
//! [`BATCH_WINDOW`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use shotline_protocol::{Level, Notification};

use crate::journal::Answer;

/// The category of the "new comments" notification.
pub const COMMENTS: &str = "gallery_comment";

/// At most one "new comments" notification per this long; what comes meanwhile waits.
pub const BATCH_WINDOW: Duration = Duration::from_secs(10);

/// Comments waiting to be told: the first after a quiet spell goes out at once, the
/// rest wait until [`BATCH_WINDOW`] has passed since the last notification, and go out
/// together.
#[derive(Debug, Default)]
pub struct Batch {
    pending: Vec<Answer>,
    last_sent: Option<Instant>,
}

impl Batch {
    /// Hold `comments`.
    pub fn add(&mut self, comments: Vec<Answer>) {
        self.pending.extend(comments);
    }

    /// The comments to tell now, if any are due at `now`.
    pub fn due(&mut self, now: Instant) -> Option<Vec<Answer>> {
        if self.pending.is_empty() {
            return None;
        }
        if self
            .last_sent
            .is_some_and(|sent| now.duration_since(sent) < BATCH_WINDOW)
        {
            return None;
        }
        self.last_sent = Some(now);
        Some(std::mem::take(&mut self.pending))
    }
}

/// "3 new comments from Ana", "a new comment from Ana", "4 new comments from Ana and Ben".
pub fn comments_title(new: &[Answer]) -> String {
    let names: BTreeSet<&str> = new
        .iter()
        .map(|a| a.name.as_deref().unwrap_or("a guest"))
        .collect();
    let names: Vec<&str> = names.into_iter().collect();
    let who = match names.as_slice() {
        [] => "guests".to_string(),
        [one] => (*one).to_string(),
        [a, b] => format!("{a} and {b}"),
        [a, rest @ ..] => format!("{a} and {} others", rest.len()),
    };
    match new.len() {
        1 => format!("A new comment from {who}"),
        n => format!("{n} new comments from {who}"),
    }
}

/// The notification for `comments` (not empty): who, how many, the last one quoted.
pub fn notification(comments: &[Answer]) -> Notification {
    let mut by_frame: BTreeMap<i64, usize> = BTreeMap::new();
    for c in comments {
        *by_frame.entry(c.shot_id).or_default() += 1;
    }
    let last = &comments[comments.len() - 1];
    let quote: String = last.value.chars().take(120).collect();
    let message = format!(
        "{}: \u{201c}{quote}\u{201d}{}",
        last.name.as_deref().unwrap_or("A guest"),
        if by_frame.len() > 1 {
            format!(" (on {} frames)", by_frame.len())
        } else {
            String::new()
        }
    );
    Notification {
        level: Level::Info,
        category: COMMENTS.into(),
        title: comments_title(comments),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(name: &str) -> Answer {
        Answer {
            share: "s".into(),
            id: name.into(),
            seq: 1,
            ts_ms: 0,
            sub: name.into(),
            name: Some(name.into()),
            shot_id: 1,
            frame_name: String::new(),
            kind: "comment".into(),
            value: "hi".into(),
        }
    }

    #[test]
    fn comment_titles_read_well() {
        let c = comment;
        assert_eq!(comments_title(&[c("Ana")]), "A new comment from Ana");
        assert_eq!(
            comments_title(&[c("Ana"), c("Ana"), c("Ana")]),
            "3 new comments from Ana"
        );
        assert_eq!(
            comments_title(&[c("Ana"), c("Ben")]),
            "2 new comments from Ana and Ben"
        );
    }

    #[test]
    fn the_first_comment_is_told_at_once_and_the_rest_once_a_window() {
        let t0 = Instant::now();
        let mut batch = Batch::default();
        assert!(batch.due(t0).is_none(), "nothing to tell");
        batch.add(vec![comment("Ana")]);
        let first = batch.due(t0).expect("the first comment at once");
        assert_eq!(comments_title(&first), "A new comment from Ana");
        // Three more within the window wait and are told together once it has passed.
        batch.add(vec![comment("Ana"), comment("Ana")]);
        assert!(batch.due(t0 + Duration::from_secs(1)).is_none());
        batch.add(vec![comment("Ben")]);
        assert!(
            batch
                .due(t0 + BATCH_WINDOW - Duration::from_millis(1))
                .is_none()
        );
        let rest = batch.due(t0 + BATCH_WINDOW).expect("the batch");
        assert_eq!(comments_title(&rest), "3 new comments from Ana and Ben");
        assert!(
            batch.due(t0 + BATCH_WINDOW * 3).is_none(),
            "nothing told twice"
        );
        // After a quiet spell, the next one is told at once again.
        batch.add(vec![comment("Cy")]);
        assert_eq!(batch.due(t0 + BATCH_WINDOW * 3).map(|c| c.len()), Some(1));
    }
}
