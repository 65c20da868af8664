//! The terminal view of a run: live bars on a terminal, one line per event otherwise
//! (logs, pipes, tests), and a summary at the end.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use shotline_engine::Config;
use shotline_engine::backup::target::human_bytes;
use shotline_engine::journal::Journal;
use shotline_protocol::{Event, Level, TargetState};
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

/// What this run did, for the summary.
#[derive(Debug, Default)]
struct Tally {
    stored: u64,
    bytes: u64,
    duplicates: u64,
    verified: HashMap<String, u64>,
    critical: u64,
}

pub struct View {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Tally>,
    journal: Arc<Journal>,
    targets: Vec<String>,
}

struct Bars {
    multi: MultiProgress,
    ingest: ProgressBar,
    targets: HashMap<String, ProgressBar>,
    states: HashMap<String, String>,
}

impl View {
    pub fn start(
        mut rx: broadcast::Receiver<Event>,
        journal: Arc<Journal>,
        config: &Config,
    ) -> Self {
        let targets: Vec<String> = config.backup.iter().map(|b| b.name.clone()).collect();
        let mut bars = std::io::stderr().is_terminal().then(|| Bars::new(&targets));
        let (stop, mut stopped) = oneshot::channel();
        let (j, names) = (journal.clone(), targets.clone());
        let task = tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            loop {
                tokio::select! {
                    event = rx.recv() => match event {
                        Ok(event) => show(&event, &mut tally, bars.as_mut()),
                        Err(broadcast::error::RecvError::Lagged(n)) => tracing::debug!("view missed {n} events"),
                        Err(broadcast::error::RecvError::Closed) => break,
                    },
                    _ = tick.tick() => if let Some(bars) = bars.as_mut() { bars.refresh(&j, &names) },
                    _ = &mut stopped => break,
                }
            }
            while let Ok(event) = rx.try_recv() {
                show(&event, &mut tally, bars.as_mut());
            }
            if let Some(bars) = bars {
                bars.multi.clear().ok();
            }
            tally
        });
        Self {
            stop,
            task,
            journal,
            targets,
        }
    }

    pub async fn finish(self, elapsed: Duration) {
        let _ = self.stop.send(());
        let tally = self.task.await.unwrap_or_default();
        let secs = elapsed.as_secs_f64().max(0.001);
        println!(
            "This run: {} frames stored ({}), {} duplicates skipped, in {} ({}/s)",
            tally.stored,
            human_bytes(tally.bytes),
            tally.duplicates,
            humantime::format_duration(Duration::from_secs(elapsed.as_secs())),
            human_bytes((tally.bytes as f64 / secs) as u64)
        );
        for name in &self.targets {
            println!(
                "  {name}: {} copies verified this run",
                tally.verified.get(name).copied().unwrap_or(0)
            );
        }
        if tally.critical > 0 {
            println!(
                "  {} critical alerts were raised: see above",
                tally.critical
            );
        }
        match self.journal.report(&self.targets) {
            Ok(report) if report.queue_depth() == 0 => {
                println!("Everything in the library is verified on every target.")
            }
            Ok(report) => println!(
                "{} copies still waiting; they are made on the next run.",
                report.queue_depth()
            ),
            Err(e) => println!("could not read the journal: {e}"),
        }
    }
}

fn show(event: &Event, tally: &mut Tally, bars: Option<&mut Bars>) {
    let line = match event {
        Event::ShotStored(s) if s.duplicate_of.is_some() => {
            tally.duplicates += 1;
            Some(format!(
                "duplicate  shot {} is already in the library as {}",
                s.shot_id, s.path
            ))
        }
        Event::ShotStored(s) => {
            tally.stored += 1;
            tally.bytes += s.size;
            Some(format!("stored     {} ({})", s.path, human_bytes(s.size)))
        }
        Event::BackupVerified(v) => {
            *tally.verified.entry(v.target.clone()).or_default() += 1;
            Some(format!("verified   {} on {}", v.path, v.target))
        }
        Event::TargetStatus(t) => {
            let free = t
                .free_bytes
                .map(|f| format!(", {} free", human_bytes(f)))
                .unwrap_or_default();
            let why = t
                .message
                .as_ref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            Some(format!(
                "target     {} {}{free}{why}",
                t.target,
                t.state.as_str()
            ))
        }
        Event::Notification(n) => {
            if n.level == Level::Critical {
                tally.critical += 1;
            }
            let level = match n.level {
                Level::Critical => "CRITICAL",
                Level::Warning => "WARNING",
                Level::Info => "info",
            };
            Some(format!("[{level}] {}: {}", n.title, n.message))
        }
        Event::CameraStatus(c) => Some(format!(
            "camera     {} on {}: {:?}{}",
            c.model,
            c.port,
            c.state,
            c.message
                .as_ref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        )),
        Event::UploadComplete(u) => Some(format!("uploaded   {}", u.key)),
        Event::GalleryFrame(f) => Some(format!("shared     {} in gallery {}", f.name, f.share)),
        Event::FramePreview(_) => None,
        Event::GalleryComment(c) => Some(format!(
            "comment    on frame {} by {}: {}",
            c.frame,
            c.name.as_deref().unwrap_or("a guest"),
            c.text
        )),
        Event::ShotCaptured(_)
        | Event::GalleryRating(_)
        | Event::GalleryLabel(_)
        | Event::GalleryLike(_)
        | Event::BackupProgress(_)
        | Event::UploadProgress(_)
        | Event::QueueStatus(_)
        | Event::SystemStatus(_) => None,
    };
    match (bars, line) {
        (Some(bars), line) => bars.event(event, line),
        (None, Some(line)) => println!("{line}"),
        (None, None) => {}
    }
}

impl Bars {
    fn new(targets: &[String]) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix:>12} {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let ingest = multi.add(ProgressBar::new_spinner().with_prefix("library"));
        ingest.set_style(
            ProgressStyle::with_template("{prefix:>12} {spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let targets = targets
            .iter()
            .map(|name| {
                let bar = multi.add(ProgressBar::new(0).with_prefix(name.clone()));
                bar.set_style(style.clone());
                (name.clone(), bar)
            })
            .collect();
        Self {
            multi,
            ingest,
            targets,
            states: HashMap::new(),
        }
    }

    fn event(&mut self, event: &Event, line: Option<String>) {
        match event {
            Event::TargetStatus(t) => {
                let free = t
                    .free_bytes
                    .map(|f| format!(" · {} free", human_bytes(f)))
                    .unwrap_or_default();
                let state = if t.state == TargetState::Online {
                    String::from("online")
                } else {
                    t.state.as_str().to_uppercase()
                };
                self.states
                    .insert(t.target.clone(), format!("{state}{free}"));
            }
            Event::BackupProgress(p) => {
                if let Some(bar) = self.targets.get(&p.target) {
                    let state = self.states.get(&p.target).cloned().unwrap_or_default();
                    bar.set_message(format!(
                        "{state} · copying {}/{}",
                        human_bytes(p.bytes_done),
                        human_bytes(p.bytes_total)
                    ));
                }
            }
            Event::Notification(_) => {
                if let Some(line) = line {
                    let _ = self.multi.println(line);
                }
            }
            _ => {}
        }
        self.ingest.tick();
    }

    fn refresh(&mut self, journal: &Journal, names: &[String]) {
        let Ok(report) = journal.report(names) else {
            return;
        };
        self.ingest.set_message(format!(
            "{} stored · {} duplicates · {} arriving",
            report.stored, report.duplicates, report.ingesting
        ));
        for t in &report.targets {
            if let Some(bar) = self.targets.get(&t.name) {
                bar.set_length(t.verified + t.pending + t.failed);
                bar.set_position(t.verified);
                let state = self.states.get(&t.name).cloned().unwrap_or_default();
                if t.pending == 0 {
                    bar.set_message(state);
                }
            }
        }
    }
}
