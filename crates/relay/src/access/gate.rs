//! The door every connection passes, whatever its transport (WebSocket, Socket.IO,
//! Server-Sent Events, long poll): one count for the node, with room kept for the
//! studio's publishers and admins, and for guests a cap per address and per subject, so
//! one link holder cannot take every connection. A connection holds its place until its
//! [`Admitted`] drops.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use shotline_protocol::relay::ErrorCode;

use crate::auth::{Claims, Role};

/// The door's settings.
#[derive(Debug, Clone, Copy)]
pub struct GateLimits {
    /// Connections at most on this node, every transport counted.
    pub max: u64,
    /// Of those, kept for publishers and admins: everyone else is refused past
    /// `max - reserve`.
    pub reserve: u64,
    /// Guest connections from one address at most.
    pub per_address: u64,
    /// Connections of one guest (its tabs) at most.
    pub per_guest: u64,
}

#[derive(Debug, Default)]
struct Counts {
    total: u64,
    by_address: HashMap<IpAddr, u64>,
    by_guest: HashMap<Arc<str>, u64>,
}

/// The node's connection count.
#[derive(Debug)]
pub struct Gate {
    limits: GateLimits,
    counts: Mutex<Counts>,
    /// Connections refused by any of the limits.
    pub refused: AtomicU64,
}

/// A place held by one connection; given back when dropped.
#[derive(Debug)]
pub struct Admitted {
    gate: Arc<Gate>,
    address: Option<IpAddr>,
    guest: Option<Arc<str>>,
}

/// The address part of `remote` (`ip:port`), if it is one, as the limits count it: an
/// IPv6 address by its /64 (one host may hold a whole /64), IPv4 as it is.
pub fn address(remote: &str) -> Option<IpAddr> {
    let ip = remote
        .parse::<std::net::SocketAddr>()
        .map(|a| a.ip())
        .or_else(|_| remote.parse::<IpAddr>())
        .ok()?;
    Some(match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut s = v6.segments();
                s[4..].fill(0);
                IpAddr::V6(s.into())
            }
        },
        v4 => v4,
    })
}

impl Gate {
    /// A door with `limits`.
    pub fn new(limits: GateLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            counts: Mutex::new(Counts::default()),
            refused: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connections open now, every transport.
    pub fn open(&self) -> u64 {
        self.lock().total
    }

    /// Let a connection of `claims` from `remote` in, or say why not (a stable code and
    /// a message for people).
    pub fn admit(
        self: &Arc<Self>,
        claims: &Claims,
        remote: &str,
    ) -> Result<Admitted, (ErrorCode, String)> {
        let mut counts = self.lock();
        let l = self.limits;
        let studio = claims.role >= Role::Publisher;
        let room = if studio {
            l.max
        } else {
            l.max.saturating_sub(l.reserve)
        };
        let refusal = if counts.total >= room {
            Some((
                ErrorCode::Overloaded,
                "the relay is full right now; try again in a minute".to_string(),
            ))
        } else {
            None
        };
        let guest = claims.role == Role::Guest;
        let address = address(remote).filter(|_| guest);
        // One person's tabs: a guest the relay minted a subject for (the link itself is
        // shared by everyone who has not given a name yet).
        let person = guest
            && claims
                .subject()
                .starts_with(crate::auth::exchange::GUEST_PREFIX);
        let subject: Option<Arc<str>> = person.then(|| claims.subject().into());
        let refusal = refusal.or_else(|| {
            let from_address = address.map_or(0, |a| counts.by_address.get(&a).copied().unwrap_or(0));
            (from_address >= l.per_address).then(|| {
                (
                    ErrorCode::TooManyConnections,
                    format!(
                        "too many people on this link from your network right now ({} connections); try again in a minute",
                        l.per_address
                    ),
                )
            })
        });
        let refusal = refusal.or_else(|| {
            let of_guest = subject
                .as_ref()
                .map_or(0, |s| counts.by_guest.get(s).copied().unwrap_or(0));
            (of_guest >= l.per_guest).then(|| {
                (
                    ErrorCode::TooManyConnections,
                    format!(
                        "this gallery is open in {} tabs or devices of yours already; close one and try again",
                        l.per_guest
                    ),
                )
            })
        });
        if let Some(refusal) = refusal {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(refusal);
        }
        counts.total += 1;
        if let Some(a) = address {
            *counts.by_address.entry(a).or_default() += 1;
        }
        if let Some(s) = &subject {
            *counts.by_guest.entry(s.clone()).or_default() += 1;
        }
        Ok(Admitted {
            gate: self.clone(),
            address,
            guest: subject,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut counts = self.gate.lock();
        counts.total = counts.total.saturating_sub(1);
        if let Some(a) = self.address
            && let Some(n) = counts.by_address.get_mut(&a)
        {
            *n -= 1;
            if *n == 0 {
                counts.by_address.remove(&a);
            }
        }
        if let Some(s) = &self.guest
            && let Some(n) = counts.by_guest.get_mut(s)
        {
            *n -= 1;
            if *n == 0 {
                counts.by_guest.remove(s);
            }
        }
    }
}

/// Socket.IO sessions opened but not yet past the door (the connect packet with its
/// token): at most `cap` at once, each counted until it passes or for `ttl` (Socket.IO's
/// connect timeout, after which it is closed) at most.
#[derive(Debug)]
pub struct Preauth {
    cap: usize,
    ttl: std::time::Duration,
    opened: Mutex<std::collections::VecDeque<std::time::Instant>>,
    /// Sessions refused.
    pub refused: AtomicU64,
}

impl Preauth {
    /// At most `cap` sessions waiting for the door, each for `ttl` at most.
    pub fn new(cap: usize, ttl: std::time::Duration) -> Self {
        Self {
            cap: cap.max(1),
            ttl,
            opened: Mutex::new(std::collections::VecDeque::new()),
            refused: AtomicU64::new(0),
        }
    }

    /// A new session asks to open; false when too many wait already.
    pub fn open(&self) -> bool {
        let now = std::time::Instant::now();
        let mut opened = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        while opened
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > self.ttl)
        {
            opened.pop_front();
        }
        if opened.len() >= self.cap {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        opened.push_back(now);
        true
    }

    /// A session reached the door (let in or not): one fewer waits.
    pub fn reached(&self) {
        self.opened
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn claims(role: Role, sub: &str) -> Claims {
        let sub = if role == Role::Guest {
            format!("guest-{sub}")
        } else {
            sub.to_string()
        };
        Claims::new(role, vec!["s:*".into()], Duration::from_secs(60)).with_sub(sub)
    }

    #[test]
    fn guests_are_capped_by_address_and_subject_and_the_studio_keeps_its_room() {
        let gate = Gate::new(GateLimits {
            max: 10,
            reserve: 2,
            per_address: 5,
            per_guest: 2,
        });
        let ana = claims(Role::Guest, "ana");
        let a = gate.admit(&ana, "10.0.0.1:1").expect("first tab");
        let _b = gate.admit(&ana, "10.0.0.1:2").expect("second tab");
        let (code, _) = gate.admit(&ana, "10.0.0.1:3").expect_err("third tab");
        assert_eq!(code, ErrorCode::TooManyConnections);
        drop(a);
        let _c = gate
            .admit(&ana, "10.0.0.1:3")
            .expect("a tab closed, one opens");
        let guests: Vec<Admitted> = (0..3)
            .map(|i| gate.admit(&claims(Role::Guest, &format!("g{i}")), "10.0.0.1:9"))
            .collect::<Result<_, _>>()
            .expect("five from the address");
        let (code, _) = gate
            .admit(&claims(Role::Guest, "late"), "10.0.0.1:9")
            .expect_err("a sixth from the address");
        assert_eq!(code, ErrorCode::TooManyConnections);
        let _other = gate
            .admit(&claims(Role::Guest, "late"), "10.0.0.2:9")
            .expect("another address");
        let _dashboards: Vec<Admitted> = (0..2)
            .map(|i| gate.admit(&claims(Role::Subscriber, "d"), &format!("10.0.0.3:{i}")))
            .collect::<Result<_, _>>()
            .expect("up to max - reserve");
        let (code, _) = gate
            .admit(&claims(Role::Subscriber, "d"), "10.0.0.3:9")
            .expect_err("the reserve is not for dashboards");
        assert_eq!(code, ErrorCode::Overloaded);
        let _engine = gate
            .admit(&claims(Role::Publisher, "engine"), "10.0.0.4:1")
            .expect("the studio's engine gets in");

        assert_eq!(gate.open(), 9);
        drop(guests);
        assert_eq!(gate.open(), 6);
        assert_eq!(gate.refused.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn the_link_itself_is_shared_by_everyone_who_has_not_given_a_name() {
        let gate = Gate::new(GateLimits {
            max: 10,
            reserve: 2,
            per_address: 5,
            per_guest: 2,
        });
        let link = Claims::new(
            Role::Guest,
            vec!["s:gallery:1".into()],
            Duration::from_secs(60),
        )
        .with_sub("share:1");
        let _viewers: Vec<Admitted> = (0..4)
            .map(|i| gate.admit(&link, &format!("10.0.0.{}:1", 20 + i)))
            .collect::<Result<_, _>>()
            .expect("no per-guest cap on the link");
    }

    #[test]
    fn sessions_before_the_door_are_bounded_and_let_go() {
        let waiting = Preauth::new(2, Duration::from_millis(200));
        assert!(waiting.open() && waiting.open());
        assert!(!waiting.open(), "a third waits");
        waiting.reached();
        assert!(waiting.open(), "one went through the door");
        assert!(!waiting.open());
        std::thread::sleep(Duration::from_millis(250));
        assert!(
            waiting.open(),
            "those never coming are let go after the timeout"
        );
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64() {
        assert_eq!(
            address("[2001:db8:1:2:aaaa::1]:443"),
            address("[2001:db8:1:2:bbbb::9]:80")
        );
        assert_ne!(
            address("[2001:db8:1:2::1]:1"),
            address("[2001:db8:1:3::1]:1")
        );
        assert_eq!(
            address("[::ffff:10.0.0.1]:1"),
            Some(IpAddr::from([10, 0, 0, 1]))
        );
        assert_eq!(address(""), None);
    }
}
