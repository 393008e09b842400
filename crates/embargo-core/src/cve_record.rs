//! A CVE ID's state at CVE Services, as the CVE program names it: reserved for a case,
//! published with its record, or rejected.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a CVE ID stands at CVE Services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum CveRecordState {
    /// Reserved for the case; nothing public yet.
    Reserved,
    /// The record is public.
    Published,
    /// Rejected, with a public reason.
    Rejected,
}

impl CveRecordState {
    /// The name CVE Services and CVE JSON 5 use.
    pub fn as_str(self) -> &'static str {
        match self {
            CveRecordState::Reserved => "RESERVED",
            CveRecordState::Published => "PUBLISHED",
            CveRecordState::Rejected => "REJECTED",
        }
    }

    /// Reads the name CVE Services answers with; `None` for one this version does not know.
    pub fn parse(s: &str) -> Option<CveRecordState> {
        Some(match s {
            "RESERVED" => CveRecordState::Reserved,
            "PUBLISHED" => CveRecordState::Published,
            "REJECTED" => CveRecordState::Rejected,
            _ => return None,
        })
    }
}

impl fmt::Display for CveRecordState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of a case's CVE ID, and when Embargo last changed or checked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CveState {
    /// Where the ID stands.
    pub state: CveRecordState,
    /// When (RFC 3339).
    pub at: String,
}

impl CveState {
    /// Whether the record is public.
    pub fn is_published(&self) -> bool {
        self.state == CveRecordState::Published
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_as_cve_services_spells_them() {
        for state in [
            CveRecordState::Reserved,
            CveRecordState::Published,
            CveRecordState::Rejected,
        ] {
            assert_eq!(CveRecordState::parse(state.as_str()), Some(state));
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::Value::String(state.as_str().into())
            );
        }
        assert_eq!(CveRecordState::parse("published"), None);
    }
}
