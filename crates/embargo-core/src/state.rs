//! Where a case stands in the procedure: the states and the moves between them. What a
//! move requires and does is the lifecycle's (`crate::lifecycle`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a case stands in the procedure.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Received; the reporter has been acknowledged.
    Reported,
    /// A team member is investigating whether it is a vulnerability.
    Triage,
    /// Not a vulnerability; closed with a message to the reporter.
    Invalid,
    /// Already tracked by another case; closed with a message to the reporter.
    Duplicate,
    /// A vulnerability; the foundation security team has been told.
    Confirmed,
    /// The patch is being developed with the maintainers.
    Fixing,
    /// The patch is tested: it mitigates the issue and causes no regressions.
    FixReady,
    /// A release is prepared and the announcement is scheduled for the embargo date.
    ReleasePending,
    /// The announcement has gone out to every configured list.
    Announced,
    /// CHANGES/NEWS are updated and the case is publicly viewable.
    Public,
    /// A retrospective is recorded; nothing more to do.
    Closed,
}

/// Every state, in procedure order.
pub const ALL_STATES: [State; 11] = [
    State::Reported,
    State::Triage,
    State::Invalid,
    State::Duplicate,
    State::Confirmed,
    State::Fixing,
    State::FixReady,
    State::ReleasePending,
    State::Announced,
    State::Public,
    State::Closed,
];

impl State {
    /// The name used in the API, the CLI and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Reported => "reported",
            State::Triage => "triage",
            State::Invalid => "invalid",
            State::Duplicate => "duplicate",
            State::Confirmed => "confirmed",
            State::Fixing => "fixing",
            State::FixReady => "fix-ready",
            State::ReleasePending => "release-pending",
            State::Announced => "announced",
            State::Public => "public",
            State::Closed => "closed",
        }
    }

    /// The states a case may move to from this one.
    pub fn next_states(self) -> &'static [State] {
        use State::*;
        match self {
            Reported => &[Triage, Invalid, Duplicate],
            Triage => &[Confirmed, Invalid, Duplicate],
            // Reopening a closed report goes back to triage and is recorded like any move.
            Invalid | Duplicate => &[Triage],
            Confirmed => &[Fixing, Invalid],
            Fixing => &[FixReady],
            // A fix that fails testing, or a release that slips, goes back to the work.
            FixReady => &[ReleasePending, Fixing],
            ReleasePending => &[Announced, Fixing],
            Announced => &[Public],
            Public => &[Closed],
            Closed => &[],
        }
    }

    /// Whether the announcement has gone out, so the case may be spoken of publicly.
    pub fn is_announced(self) -> bool {
        matches!(self, State::Announced | State::Public | State::Closed)
    }

    /// Whether the case still needs work from the team.
    pub fn is_open(self) -> bool {
        !matches!(self, State::Invalid | State::Duplicate | State::Closed)
    }

    /// Whether the case is a vulnerability that the checklist applies to.
    pub fn is_confirmed(self) -> bool {
        matches!(
            self,
            State::Confirmed
                | State::Fixing
                | State::FixReady
                | State::ReleasePending
                | State::Announced
                | State::Public
                | State::Closed
        )
    }

    /// Whether anyone may see the case's public view.
    pub fn is_publicly_viewable(self) -> bool {
        matches!(self, State::Public | State::Closed)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown state name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown state '{0}'; the states are reported, triage, invalid, duplicate, confirmed, fixing, fix-ready, release-pending, announced, public, closed"
)]
pub struct UnknownState(pub String);

impl FromStr for State {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL_STATES
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}
