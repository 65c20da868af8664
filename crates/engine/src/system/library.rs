//! The library's disk against `[library] warn_below` and `critical_below`: its state (with
//! a margin going back up), the room left for frames, and the alerts as it moves.

use shotline_protocol::{Level, LibrarySpace, SpaceState};

use crate::Config;

/// The alerts' category; `library_space_ok` is the all-clear.
pub const CATEGORY: &str = "library_low";
/// The all-clear's category.
pub const CATEGORY_OK: &str = "library_space_ok";

/// The state of the library's disk with `free` bytes free, coming from `previous`. Going
/// back up a level takes a margin above its threshold (1 % of the disk, at least 256 MiB),
/// so files coming and going near a threshold do not raise an alert each time.
pub fn space_state(
    previous: SpaceState,
    free: Option<u64>,
    total: u64,
    warn: u64,
    critical: u64,
) -> SpaceState {
    let Some(free) = free else {
        return SpaceState::Unknown;
    };
    let margin = (total / 100).max(256 << 20);
    let rank = |s: SpaceState| match s {
        SpaceState::Ok | SpaceState::Unknown => 0,
        SpaceState::Low => 1,
        SpaceState::Critical => 2,
    };
    let plain = if free < critical {
        SpaceState::Critical
    } else if free < warn {
        SpaceState::Low
    } else {
        SpaceState::Ok
    };
    if rank(plain) >= rank(previous) {
        return plain;
    }
    // Better than before: only past the margin.
    let kept_by = |threshold: u64| free < threshold.saturating_add(margin);
    match previous {
        SpaceState::Critical if kept_by(critical) => SpaceState::Critical,
        SpaceState::Critical | SpaceState::Low if kept_by(warn) => SpaceState::Low,
        _ => plain,
    }
}

/// How many frames of `average` bytes fit in `free`.
pub fn frames_room(free: u64, average: Option<u64>) -> Option<u64> {
    average.filter(|a| *a > 0).map(|a| free / a)
}

/// The library's disk as the event carries it; `average` is the session's average frame
/// size, `previous` the last state read (for the margin going back up).
pub fn library_space(config: &Config, average: Option<u64>, previous: SpaceState) -> LibrarySpace {
    let (warn, critical) = (
        config.library.warn_below_bytes(),
        config.library.critical_below_bytes(),
    );
    let space = crate::platform::space(&config.library.path).ok();
    let (free, total) = space.unwrap_or((0, 0));
    LibrarySpace {
        path: config.library.path.display().to_string(),
        free_bytes: free,
        total_bytes: total,
        average_frame_bytes: average,
        frames_room: space.and_then(|(f, _)| frames_room(f, average)),
        state: space_state(previous, space.map(|s| s.0), total, warn, critical),
        warn_below_bytes: warn,
        critical_below_bytes: critical,
    }
}

/// What the watcher remembers between looks: the last state it could read (alerts and
/// the margin go from it, so a disk unreadable for a while does not lose the all-clear
/// or raise its alert again) and the last state it published.
#[derive(Debug)]
pub struct Watch {
    known: SpaceState,
    published: Option<SpaceState>,
}

impl Default for Watch {
    fn default() -> Self {
        Self::new()
    }
}

impl Watch {
    /// Nothing read yet.
    pub fn new() -> Self {
        Self {
            known: SpaceState::Unknown,
            published: None,
        }
    }

    /// The last state read.
    pub fn known(&self) -> SpaceState {
        self.known
    }

    /// Fold one look in: the alert to raise, if any, and whether the state shown moved.
    pub fn look(&mut self, library: &LibrarySpace) -> (Option<Alert>, bool) {
        let told = if library.state == SpaceState::Unknown {
            None
        } else {
            let told = alert(self.known, library);
            self.known = library.state;
            told
        };
        let moved = self.published != Some(library.state);
        self.published = Some(library.state);
        (told, moved)
    }
}

/// An alert to raise: level, category, title, message.
pub type Alert = (Level, &'static str, String, String);

/// The alert for a move from `from` to `space.state`, if it is one to tell.
pub fn alert(
    from: SpaceState,
    space: &LibrarySpace,
) -> Option<(Level, &'static str, String, String)> {
    let room = match space.frames_room {
        Some(n) => format!(", room for about {n} frames at this session's average size"),
        None => String::new(),
    };
    let free = crate::backup::target::human_bytes(space.free_bytes);
    match (from, space.state) {
        (a, b) if a == b => None,
        (_, SpaceState::Unknown) | (SpaceState::Unknown, SpaceState::Ok) => None,
        (_, SpaceState::Critical) => Some((
            Level::Critical,
            CATEGORY,
            "Library disk almost full".into(),
            format!(
                "{free} free for {}{room}. Free space on it or move the library to a bigger disk now, before frames cannot be taken in.",
                space.path
            ),
        )),
        (_, SpaceState::Low) => Some((
            Level::Warning,
            CATEGORY,
            "Library disk getting full".into(),
            format!(
                "{free} free for {}{room}. Plan for a bigger disk before it runs out.",
                space.path
            ),
        )),
        (_, SpaceState::Ok) => Some((
            Level::Info,
            CATEGORY_OK,
            "Library disk has room again".into(),
            format!("{free} free for {}{room}.", space.path),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1 << 30;

    #[test]
    fn the_library_state_goes_down_at_once_and_back_up_past_a_margin() {
        let (total, warn, critical) = (100 * GB, 20 * GB, 5 * GB);
        let at = |previous, free| space_state(previous, Some(free), total, warn, critical);
        assert_eq!(at(SpaceState::Unknown, 50 * GB), SpaceState::Ok);
        assert_eq!(at(SpaceState::Ok, 19 * GB), SpaceState::Low);
        assert_eq!(at(SpaceState::Ok, 4 * GB), SpaceState::Critical);
        assert_eq!(at(SpaceState::Low, 4 * GB), SpaceState::Critical);
        // Just above a threshold is not enough to go back up (the margin is 1 GB here).
        assert_eq!(
            at(SpaceState::Critical, 5 * GB + GB / 2),
            SpaceState::Critical
        );
        assert_eq!(at(SpaceState::Critical, 7 * GB), SpaceState::Low);
        assert_eq!(at(SpaceState::Low, 20 * GB + GB / 2), SpaceState::Low);
        assert_eq!(at(SpaceState::Low, 22 * GB), SpaceState::Ok);
        assert_eq!(at(SpaceState::Critical, 30 * GB), SpaceState::Ok);
        assert_eq!(
            space_state(SpaceState::Ok, None, total, warn, critical),
            SpaceState::Unknown
        );
    }

    #[test]
    fn room_is_free_space_over_the_average_frame() {
        assert_eq!(frames_room(1000, Some(30)), Some(33));
        assert_eq!(frames_room(1000, None), None);
        assert_eq!(frames_room(1000, Some(0)), None);
    }

    fn space(state: SpaceState) -> LibrarySpace {
        LibrarySpace {
            path: "/lib".into(),
            free_bytes: 3 * GB,
            total_bytes: 100 * GB,
            average_frame_bytes: Some(GB / 40),
            frames_room: Some(120),
            state,
            warn_below_bytes: 20 * GB,
            critical_below_bytes: 5 * GB,
        }
    }

    #[test]
    fn each_move_between_states_is_told_once_with_the_room_left() {
        assert!(alert(SpaceState::Ok, &space(SpaceState::Ok)).is_none());
        assert!(alert(SpaceState::Unknown, &space(SpaceState::Ok)).is_none());
        assert!(alert(SpaceState::Ok, &space(SpaceState::Unknown)).is_none());
        let (level, category, _, message) =
            alert(SpaceState::Ok, &space(SpaceState::Low)).expect("an alert");
        assert_eq!((level, category), (Level::Warning, CATEGORY));
        assert!(message.contains("room for about 120 frames"), "{message}");
        let (level, ..) = alert(SpaceState::Low, &space(SpaceState::Critical)).expect("an alert");
        assert_eq!(level, Level::Critical);
        // A disk found low at start is told too.
        let (level, ..) =
            alert(SpaceState::Unknown, &space(SpaceState::Critical)).expect("an alert");
        assert_eq!(level, Level::Critical);
        let (level, category, ..) =
            alert(SpaceState::Low, &space(SpaceState::Ok)).expect("an alert");
        assert_eq!((level, category), (Level::Info, CATEGORY_OK));
    }

    #[test]
    fn an_unreadable_disk_neither_loses_the_all_clear_nor_repeats_an_alert() {
        let mut watch = Watch::new();
        let (told, moved) = watch.look(&space(SpaceState::Critical));
        assert_eq!(told.map(|a| a.0), Some(Level::Critical));
        assert!(moved);
        // Unplugged: shown, not told; the last state read is kept.
        let (told, moved) = watch.look(&space(SpaceState::Unknown));
        assert!(told.is_none() && moved);
        assert_eq!(watch.known(), SpaceState::Critical);
        // Back and still critical: not told again.
        let (told, moved) = watch.look(&space(SpaceState::Critical));
        assert!(told.is_none() && moved);
        let (told, moved) = watch.look(&space(SpaceState::Unknown));
        assert!(told.is_none() && moved);
        // Back with room: the all-clear comes.
        let (told, _) = watch.look(&space(SpaceState::Ok));
        assert_eq!(told.map(|a| a.1), Some(CATEGORY_OK));
        let (told, moved) = watch.look(&space(SpaceState::Ok));
        assert!(told.is_none() && !moved);
    }
}
