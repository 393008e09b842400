//! Events per client address in a sliding window: failed sign-ins (past the limit the
//! address is refused for a while, whichever account it tries; accounts have their own
//! lockout in the store) and reports filed on the public form.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed sign-ins allowed per address and window.
pub const MAX_FAILURES: usize = 30;
/// The sign-in window.
pub const WINDOW: Duration = Duration::from_secs(600);
/// Public reports allowed per address and hour.
pub const MAX_REPORTS: usize = 30;
/// Addresses tracked before old entries are swept.
const SWEEP_AT: usize = 10_000;

/// Events by address.
#[derive(Debug)]
pub struct AddressLimiter {
    max: usize,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

impl AddressLimiter {
    /// At most `max` events per address within `window`.
    pub fn new(max: usize, window: Duration) -> AddressLimiter {
        AddressLimiter {
            max,
            window,
            failures: Mutex::default(),
        }
    }

    /// Whether this address may try now.
    pub fn allows(&self, addr: IpAddr) -> bool {
        let now = Instant::now();
        let Ok(mut map) = self.failures.lock() else {
            return true;
        };
        match map.get_mut(&addr) {
            Some(times) => {
                times.retain(|t| now.duration_since(*t) < self.window);
                times.len() < self.max
            }
            None => true,
        }
    }

    /// Records an event.
    pub fn record(&self, addr: IpAddr) {
        let now = Instant::now();
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= SWEEP_AT {
            map.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < self.window));
        }
        map.entry(addr).or_default().push(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_failures() {
        let limiter = AddressLimiter::new(MAX_FAILURES, WINDOW);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.allows(a));
            limiter.record(a);
        }
        assert!(!limiter.allows(a));
        assert!(limiter.allows(b));
    }
}
