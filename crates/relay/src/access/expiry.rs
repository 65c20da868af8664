//! Expiry reaches open connections: every second, each node cuts off its own connections
//! whose token expired (past the clock leeway) and the pages of every share that has
//! ended (however this node learnt of it: a share moved into the past, or one a cluster's
//! reload brought in after its time).

use std::sync::Arc;
use std::time::Duration;

use super::Access;
use crate::auth::{Role, now_secs};
use crate::queue::KickReason;

impl Access {
    /// Cut off, on this node, every connection whose token expired (past the clock
    /// leeway) and every page of a share that has ended at `now`; says how many. Every
    /// node runs it for its own connections ([`Access::sweep`]).
    pub fn cut_expired(&self, now: u64) -> usize {
        let expired_before = now.saturating_sub(crate::auth::LEEWAY_SECS);
        self.registry.kick_where(KickReason::Expired, |record| {
            record.exp < expired_before
                || (record.connection.role < Role::Publisher
                    && !record.scope.is_empty()
                    && record.scope.iter().all(|c| self.shares.ended(c, now)))
        })
    }

    /// Every second, cut off what expired ([`Access::cut_expired`]). Runs until aborted.
    pub async fn sweep(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let cut = self.cut_expired(now_secs());
            if cut > 0 {
                self.limits
                    .expired
                    .fetch_add(cut as u64, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
}
