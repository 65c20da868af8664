//! This computer, for the dashboards: CPU, memory and each disk, every minute, as a
//! `system_status` event ([`sampler`]); and the library's free space against
//! `[library] warn_below` and `critical_below`, looked at every few seconds ([`library`]), so
//! that a warning and then a critical alert come before the disk is full, and an all-clear
//! when it has room again.

pub mod library;
pub mod sampler;

use std::sync::Arc;
use std::time::Duration;

use shotline_protocol::{Event, SpaceState, SystemStatus};
use tokio::sync::watch;

pub use library::{
    Alert, CATEGORY, CATEGORY_OK, Watch, alert, frames_room, library_space, space_state,
};
pub use sampler::Sampler;

use crate::journal::Journal;
use crate::session::Session;
use crate::{Bus, Config};

/// How often the whole report goes out (the dashboards Shotline came from polled every two
/// minutes).
pub const REPORT_EVERY: Duration = Duration::from_secs(60);
/// How often the library's free space is looked at between reports.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Report every [`REPORT_EVERY`] and watch the library every [`CHECK_EVERY`] until
/// shutdown. The blocking reads (statfs, `/proc`, the journal) run on a blocking thread,
/// and shutdown does not wait for them (a hung network mount must not hold it up). The
/// session's average frame size is read from the journal with each report only.
pub async fn run(
    config: Config,
    journal: Arc<Journal>,
    bus: Bus,
    session: Session,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut sampler = Some(Sampler::new());
    let mut watch = Watch::new();
    let mut average: Option<u64> = None;
    // The first report a second in, so that its CPU figure covers a real span.
    let start = tokio::time::Instant::now();
    let mut report = tokio::time::interval_at(start + Duration::from_secs(1), REPORT_EVERY);
    let mut check = tokio::time::interval_at(start + CHECK_EVERY, CHECK_EVERY);
    report.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let full = tokio::select! {
            _ = report.tick() => true,
            _ = check.tick() => false,
            _ = shutdown.changed() => return,
        };
        let (config2, journal2, name, known) = (
            config.clone(),
            journal.clone(),
            session.current(),
            watch.known(),
        );
        let cached = average;
        let look = tokio::task::spawn_blocking(move || {
            let average = if full {
                journal2.session_average_size(&name).ok().flatten()
            } else {
                cached
            };
            library_space(&config2, average, known)
        });
        let library = tokio::select! {
            library = look => match library {
                Ok(library) => library,
                Err(_) => continue,
            },
            _ = shutdown.changed() => return,
        };
        let mut library = library;
        if !full && library.state != SpaceState::Unknown && library.state != watch.known() {
            // A threshold crossed between reports: the alert tells the room left, so the
            // session's average is read now.
            let (journal2, name) = (journal.clone(), session.current());
            let read = tokio::task::spawn_blocking(move || {
                journal2.session_average_size(&name).ok().flatten()
            });
            tokio::select! {
                read = read => if let Ok(read) = read {
                    library.average_frame_bytes = read;
                    library.frames_room = frames_room(library.free_bytes, read);
                },
                _ = shutdown.changed() => return,
            }
        }
        average = library.average_frame_bytes;
        let (told, moved) = watch.look(&library);
        if let Some((level, category, title, message)) = told {
            bus.notify(level, category, title, message);
        }
        if !full && !moved {
            continue;
        }
        // A reader lost to a panic is made again (its first CPU figure is then short).
        let mut reader = sampler.take().unwrap_or_default();
        let read = tokio::task::spawn_blocking(move || {
            let sample = reader.sample();
            (reader, sample)
        });
        let (reader, (cpu, total, available, disks)) = tokio::select! {
            read = read => match read {
                Ok(read) => read,
                Err(_) => continue,
            },
            _ = shutdown.changed() => return,
        };
        sampler = Some(reader);
        bus.publish(Event::SystemStatus(SystemStatus {
            cpu_percent: (cpu * 10.0).round() / 10.0,
            memory_total_bytes: total,
            memory_available_bytes: available,
            disks,
            library,
        }));
    }
}
