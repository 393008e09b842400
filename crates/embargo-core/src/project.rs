//! Project settings that shape the procedure: supported branches and clocks.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::cvss::Severity;

/// The procedure's clocks for one project, in days (SPEC §2 defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ClockSettings {
    /// The reporter is acknowledged within this many days of receipt.
    pub acknowledge_days: i64,
    /// Mitigation window proposed for a critical vulnerability.
    pub mitigation_days_critical: i64,
    /// Mitigation window proposed for a high-severity vulnerability.
    pub mitigation_days_high: i64,
    /// Mitigation window proposed for a medium or low severity vulnerability.
    pub mitigation_days_other: i64,
    /// The announcement clock warns this many days after receipt.
    pub announce_warn_days: i64,
    /// The announcement is overdue this many days after receipt.
    pub announce_overdue_days: i64,
    /// An open case with no activity for this many days is stalled.
    pub stall_days: i64,
}

impl Default for ClockSettings {
    fn default() -> Self {
        ClockSettings {
            acknowledge_days: 3,
            mitigation_days_critical: 15,
            mitigation_days_high: 21,
            mitigation_days_other: 30,
            announce_warn_days: 14,
            announce_overdue_days: 28,
            stall_days: 30,
        }
    }
}

/// Why clock settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockSettingsError {
    /// A period outside 1 to 365 days.
    #[error("{name} must be between 1 and 365 days, not {days}")]
    OutOfRange {
        /// The setting.
        name: &'static str,
        /// Its value.
        days: i64,
    },
    /// The warning comes after the announcement is overdue.
    #[error("announce_warn_days must not be after announce_overdue_days")]
    WarnAfterOverdue,
}

impl ClockSettings {
    /// The mitigation window to propose to the reporter for a severity band.
    pub fn mitigation_days(&self, severity: Severity) -> i64 {
        match severity {
            Severity::Critical => self.mitigation_days_critical,
            Severity::High => self.mitigation_days_high,
            _ => self.mitigation_days_other,
        }
    }

    /// Refuses settings that would make the clocks meaningless.
    pub fn validate(&self) -> Result<(), ClockSettingsError> {
        let all = [
            ("acknowledge_days", self.acknowledge_days),
            ("mitigation_days_critical", self.mitigation_days_critical),
            ("mitigation_days_high", self.mitigation_days_high),
            ("mitigation_days_other", self.mitigation_days_other),
            ("announce_warn_days", self.announce_warn_days),
            ("announce_overdue_days", self.announce_overdue_days),
            ("stall_days", self.stall_days),
        ];
        for (name, days) in all {
            if !(1..=365).contains(&days) {
                return Err(ClockSettingsError::OutOfRange { name, days });
            }
        }
        if self.announce_warn_days > self.announce_overdue_days {
            return Err(ClockSettingsError::WarnAfterOverdue);
        }
        Ok(())
    }
}

/// Checks a release branch name as git would accept it, loosely: no spaces or control characters.
pub fn is_branch_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && !s.starts_with('-')
        && !s.contains("..")
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"~^:?*[\\".contains(c))
}
