//! Failed sign-ins per client address, in a sliding window: past the limit the address
//! is refused for a while, whichever account it tries. Accounts have their own lockout in
//! the store; this stops one address from walking through many accounts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per address and window.
pub const MAX_FAILURES: usize = 30;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(600);
/// Addresses tracked before old entries are swept.
const SWEEP_AT: usize = 10_000;

/// Failed sign-ins by address.
#[derive(Debug, Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

impl SignInLimiter {
    /// Whether this address may try now.
    pub fn allows(&self, addr: IpAddr) -> bool {
        let now = Instant::now();
        let Ok(mut map) = self.failures.lock() else {
            return true;
        };
        match map.get_mut(&addr) {
            Some(times) => {
                times.retain(|t| now.duration_since(*t) < WINDOW);
                times.len() < MAX_FAILURES
            }
            None => true,
        }
    }

    /// Records a failure.
    pub fn failed(&self, addr: IpAddr) {
        let now = Instant::now();
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= SWEEP_AT {
            map.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < WINDOW));
        }
        map.entry(addr).or_default().push(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_failures() {
        let limiter = SignInLimiter::default();
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.allows(a));
            limiter.failed(a);
        }
        assert!(!limiter.allows(a));
        assert!(limiter.allows(b));
    }
}
