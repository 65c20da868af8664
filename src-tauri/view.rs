//! The window's view model: what the engine's snapshot and the tray's health become for
//! the window (the types in [`crate::dto`]).

use shotline_engine::engine::Snapshot as EngineSnapshot;

use crate::dto::{FrameView, Snapshot, TargetView, Totals, UploadView};
use crate::health::Health;

/// The window's snapshot with nothing running: the health's problem and state only.
pub fn idle(health: &Health, session: &str) -> Snapshot {
    Snapshot {
        problem: health.problem(),
        state: health.state(),
        summary: health.summary(),
        paused: false,
        session: session.to_string(),
        library: String::new(),
        library_space: None,
        totals: Totals::default(),
        targets: Vec::new(),
        uploads: None,
        cameras: Vec::new(),
        relay: "offline".into(),
        dashboard: None,
        frames: Vec::new(),
    }
}

/// The window's snapshot of a running engine.
pub fn running(
    health: &Health,
    session: &str,
    engine: EngineSnapshot,
    relay: &str,
    dashboard: Option<String>,
) -> Snapshot {
    let status = engine.status;
    Snapshot {
        paused: engine.paused,
        library: status.library.display().to_string(),
        library_space: health.library_space(),
        totals: Totals {
            stored: status.shots,
            duplicates: status.duplicates,
            failed: status.failed,
            queue: status.queue_depth,
        },
        targets: status
            .targets
            .iter()
            .map(|t| TargetView {
                name: t.name.clone(),
                path: t.path.display().to_string(),
                state: t.state.as_str().to_string(),
                free_bytes: t.free_bytes,
                verified: t.verified,
                pending: t.pending,
                failed: t.failed,
            })
            .collect(),
        uploads: status.uploads.map(|u| UploadView {
            done: u.done,
            pending: u.pending,
            failed: u.failed,
        }),
        cameras: status.cameras,
        relay: relay.to_string(),
        dashboard,
        frames: engine
            .recent
            .into_iter()
            .map(|s| FrameView {
                id: s.id,
                name: s.original,
                path: s.rel_path,
                state: s.state,
                size: s.size,
                targets: s.targets,
                upload: s.upload,
                feedback: s.feedback.map(|f| f.summary()),
            })
            .collect(),
        ..idle(health, session)
    }
}
