//! The limits that keep a leaked link from taking the relay, together, with how often
//! each bit (for `/stats` and `/metrics`).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use super::{AccessConfig, flood, gate};

/// The limits against a leaked link, and how often each bit.
#[derive(Debug)]
pub struct Limits {
    /// Every connection's door.
    pub gate: Arc<gate::Gate>,
    /// New guests per link and address.
    pub joins: flood::Joins,
    /// Socket.IO sessions not yet past the door.
    pub preauth: gate::Preauth,
    /// Answer bytes per share and address.
    pub answers: flood::Answers,
    /// Subscribes refused: the connection follows `max_subscriptions` channels.
    pub subscriptions_refused: AtomicU64,
    /// Answers refused: the guest's or the share's log is full.
    pub quota_refused: AtomicU64,
    /// Answers not kept again: their id was in the log already.
    pub duplicates: AtomicU64,
    /// Connections cut off because their token or share expired.
    pub expired: AtomicU64,
}

impl Limits {
    /// The limits `config` sets.
    pub fn new(config: &AccessConfig) -> Self {
        Self {
            gate: gate::Gate::new(config.gate),
            joins: flood::Joins::new(config.guest_joins),
            preauth: gate::Preauth::new(
                usize::try_from(config.gate.max).unwrap_or(usize::MAX),
                crate::socketio::CONNECT_TIMEOUT + std::time::Duration::from_secs(1),
            ),
            answers: flood::Answers::new(
                config.address_answers.0,
                config.address_answers.1,
                config.address_hold,
            ),
            subscriptions_refused: Default::default(),
            quota_refused: Default::default(),
            duplicates: Default::default(),
            expired: Default::default(),
        }
    }
}
