//! Places for long requests (a ZIP being written, a wait for an original): so many at
//! once on the node, so many for one address, given back when the request ends.

use std::collections::HashMap;
use std::net::IpAddr;

use tokio::sync::Semaphore;

/// Places for long requests (a ZIP being written, a wait for an original): so many on the
/// node, so many for one address.
pub struct Slots {
    total: Semaphore,
    per_address: usize,
    by_address: std::sync::Mutex<HashMap<Option<IpAddr>, usize>>,
}

/// One place taken, given back when dropped.
pub struct Slot {
    slots: &'static Slots,
    address: Option<IpAddr>,
    _permit: tokio::sync::SemaphorePermit<'static>,
}

impl Slots {
    /// `total` places, `per_address` of them for one address.
    pub fn new(total: usize, per_address: usize) -> Self {
        Self {
            total: Semaphore::new(total),
            per_address,
            by_address: Default::default(),
        }
    }

    /// A place for `address`, if there is one.
    pub fn take(&'static self, address: Option<IpAddr>) -> Option<Slot> {
        let mut by = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        if by.get(&address).is_some_and(|n| *n >= self.per_address) {
            return None;
        }
        // The node's place first: an address is only counted once it has one.
        let permit = self.total.try_acquire().ok()?;
        *by.entry(address).or_default() += 1;
        Some(Slot {
            slots: self,
            address,
            _permit: permit,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut by = self
            .slots
            .by_address
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = by.get_mut(&self.address) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                by.remove(&self.address);
            }
        }
    }
}
