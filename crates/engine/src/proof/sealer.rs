//! The running engine's sealer: every `seal_every` while frames arrive, and once more at
//! session end, a generation on each root with copies verified since its last one. A root
//! whose history cannot be trusted raises one critical alert and is left alone.

use std::collections::HashSet;
use std::sync::Arc;

use shotline_protocol::Level;
use tokio::sync::watch;

use super::seal::{Outcome, seal_all};
use crate::journal::Journal;
use crate::{Bus, Config};

/// Seal one round (blocking work on a blocking thread) and tell what failed, once a root.
pub async fn round(config: &Config, journal: &Arc<Journal>, bus: &Bus, told: &mut HashSet<String>) {
    let (config, journal2) = (config.clone(), journal.clone());
    let outcome = tokio::task::spawn_blocking(move || seal_all(&config, &journal2))
        .await
        .unwrap_or_default();
    tell(&outcome, bus, told);
}

fn tell(outcome: &Outcome, bus: &Bus, told: &mut HashSet<String>) {
    for (root, e) in &outcome.failed {
        if told.insert(root.clone()) {
            bus.notify(
                Level::Critical,
                "proof_failed",
                format!("Proof of backup stopped for {root}"),
                e.to_string(),
            );
        }
    }
    for sealed in &outcome.sealed {
        told.remove(&sealed.root);
    }
}

/// Seal every `config.seal_every()` until shutdown (a round only when something is new).
pub async fn run(
    config: Config,
    journal: Arc<Journal>,
    bus: Bus,
    mut shutdown: watch::Receiver<bool>,
) {
    let every = config.seal_every();
    let mut told = HashSet::new();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            _ = tick.tick() => round(&config, &journal, &bus, &mut told).await,
            _ = shutdown.changed() => return,
        }
    }
}
