//! The limits per client address: failed sign-ins (past the limit the address is refused
//! for a while, whichever account it tries; accounts have their own lockout) and reports
//! filed without an account. The events are counted in the database
//! (`Store::address_allows`), so every server on it enforces the same limit.

use std::time::Duration;

/// Failed sign-ins allowed per address and window.
pub const MAX_FAILURES: usize = 30;
/// The sign-in window.
pub const WINDOW: Duration = Duration::from_secs(600);
/// Public reports allowed per address and window.
pub const MAX_REPORTS: usize = 30;
/// The public report window.
pub const REPORT_WINDOW: Duration = Duration::from_secs(3600);

/// The events a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Failed sign-ins.
    SignIn,
    /// Reports filed without an account.
    Report,
}

impl Limit {
    /// The name its events are stored under.
    pub fn scope(self) -> &'static str {
        match self {
            Limit::SignIn => "signin",
            Limit::Report => "report",
        }
    }

    /// How many events an address may have in the window.
    pub fn max(self) -> i64 {
        let max = match self {
            Limit::SignIn => MAX_FAILURES,
            Limit::Report => MAX_REPORTS,
        };
        i64::try_from(max).unwrap_or(i64::MAX)
    }

    /// The window, in milliseconds.
    pub fn window_ms(self) -> i64 {
        let window = match self {
            Limit::SignIn => WINDOW,
            Limit::Report => REPORT_WINDOW,
        };
        i64::try_from(window.as_millis()).unwrap_or(i64::MAX)
    }
}
