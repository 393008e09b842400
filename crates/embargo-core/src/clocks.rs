//! The procedure's clocks: acknowledgement, mitigation window, announcement, stall.

use serde::Serialize;
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

use crate::cvss::Severity;
use crate::project::ClockSettings;
use crate::state::State;

/// Formats a time the way the API and messages show it.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Formats a time the way people read it, on every page and in every mail:
/// "2026-12-01 14:05 UTC".
pub fn readable_time(at: OffsetDateTime) -> String {
    let t = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// When things happened to a case, as far as the clocks need them.
#[derive(Debug, Clone)]
pub struct CaseTimes {
    /// The current state.
    pub state: State,
    /// When the report was received.
    pub received_at: OffsetDateTime,
    /// When the reporter was acknowledged.
    pub acknowledged_at: Option<OffsetDateTime>,
    /// When the case was confirmed as a vulnerability.
    pub confirmed_at: Option<OffsetDateTime>,
    /// When the fix was verified.
    pub fix_ready_at: Option<OffsetDateTime>,
    /// When the announcement went out.
    pub announced_at: Option<OffsetDateTime>,
    /// The last time anyone did anything on the case.
    pub last_activity_at: OffsetDateTime,
    /// The severity band of the case's CVSS rating, if rated.
    pub severity: Option<Severity>,
}

/// How a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClockStatus {
    /// Running, with time to spare.
    Running,
    /// Running, past its warning point.
    Warning,
    /// Past its due time and not met.
    Overdue,
    /// Met in time.
    Met,
    /// Met, but after its due time.
    Late,
}

impl ClockStatus {
    /// The name the API uses, e.g. `overdue`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockStatus::Running => "running",
            ClockStatus::Warning => "warning",
            ClockStatus::Overdue => "overdue",
            ClockStatus::Met => "met",
            ClockStatus::Late => "late",
        }
    }
}

impl std::fmt::Display for ClockStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One clock of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, serde::Deserialize)]
pub struct Clock {
    /// When the clock is due (RFC 3339).
    pub due_at: String,
    /// How it stands now.
    pub status: ClockStatus,
    /// When it was met (RFC 3339), once it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_at: Option<String>,
}

/// All clocks of a case, computed at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, serde::Deserialize)]
pub struct Clocks {
    /// The reporter must hear back within days of receipt.
    pub acknowledgement: Clock,
    /// The mitigation window proposed from the severity band, once confirmed and rated.
    pub mitigation: Option<Clock>,
    /// The days proposed for the mitigation window.
    pub mitigation_days: Option<i64>,
    /// The announcement is due weeks after receipt, once confirmed.
    pub announcement: Option<Clock>,
    /// No activity for the stall period on an open case.
    pub stalled: bool,
    /// The project's stall period, in days (absent from servers before it was shown).
    #[serde(default)]
    pub stall_days: i64,
}

fn clock(
    due: OffsetDateTime,
    warn: Option<OffsetDateTime>,
    met: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Clock {
    let status = match met {
        Some(at) if at <= due => ClockStatus::Met,
        Some(_) => ClockStatus::Late,
        None if now > due => ClockStatus::Overdue,
        None if warn.is_some_and(|w| now >= w) => ClockStatus::Warning,
        None => ClockStatus::Running,
    };
    Clock {
        due_at: rfc3339(due),
        status,
        met_at: met.map(rfc3339),
    }
}

/// Computes the clocks of a case at `now`.
pub fn compute(times: &CaseTimes, settings: &ClockSettings, now: OffsetDateTime) -> Clocks {
    let acknowledgement = clock(
        times.received_at + Duration::days(settings.acknowledge_days),
        None,
        times.acknowledged_at,
        now,
    );
    let mitigation_days = times
        .confirmed_at
        .and(times.severity)
        .map(|severity| settings.mitigation_days(severity));
    let mitigation = times
        .confirmed_at
        .zip(mitigation_days)
        .map(|(confirmed, days)| {
            clock(
                confirmed + Duration::days(days),
                None,
                times.fix_ready_at,
                now,
            )
        });
    let announcement = times.confirmed_at.map(|_| {
        clock(
            times.received_at + Duration::days(settings.announce_overdue_days),
            Some(times.received_at + Duration::days(settings.announce_warn_days)),
            times.announced_at,
            now,
        )
    });
    let stalled = times.state.is_open()
        && !times.state.is_announced()
        && now - times.last_activity_at > Duration::days(settings.stall_days);
    Clocks {
        stall_days: settings.stall_days,
        acknowledgement,
        mitigation,
        mitigation_days,
        announcement,
        stalled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn times() -> CaseTimes {
        CaseTimes {
            state: State::Fixing,
            received_at: datetime!(2026-01-01 0:00 UTC),
            acknowledged_at: Some(datetime!(2026-01-02 0:00 UTC)),
            confirmed_at: Some(datetime!(2026-01-05 0:00 UTC)),
            fix_ready_at: None,
            announced_at: None,
            last_activity_at: datetime!(2026-01-10 0:00 UTC),
            severity: Some(Severity::High),
        }
    }

    #[test]
    fn clocks_follow_the_procedure_defaults() {
        let s = ClockSettings::default();
        let c = compute(&times(), &s, datetime!(2026-01-16 0:00 UTC));
        assert_eq!(c.acknowledgement.status, ClockStatus::Met);
        assert_eq!(c.mitigation_days, Some(21));
        assert_eq!(
            c.mitigation.as_ref().map(|m| m.due_at.as_str()),
            Some("2026-01-26T00:00:00Z")
        );
        assert_eq!(
            c.announcement.as_ref().map(|a| a.status),
            Some(ClockStatus::Warning)
        );
        let c = compute(&times(), &s, datetime!(2026-01-30 0:00 UTC));
        assert_eq!(c.announcement.map(|a| a.status), Some(ClockStatus::Overdue));
        assert!(!c.stalled);
        let c = compute(&times(), &s, datetime!(2026-02-10 0:00 UTC));
        assert!(c.stalled);
    }

    #[test]
    fn critical_gets_fifteen_days_and_low_thirty() {
        let s = ClockSettings::default();
        let mut t = times();
        t.severity = Some(Severity::Critical);
        assert_eq!(compute(&t, &s, t.received_at).mitigation_days, Some(15));
        t.severity = Some(Severity::Low);
        assert_eq!(compute(&t, &s, t.received_at).mitigation_days, Some(30));
    }

    #[test]
    fn late_acknowledgement_is_late() {
        let mut t = times();
        t.acknowledged_at = Some(datetime!(2026-01-09 0:00 UTC));
        let c = compute(
            &t,
            &ClockSettings::default(),
            datetime!(2026-01-10 0:00 UTC),
        );
        assert_eq!(c.acknowledgement.status, ClockStatus::Late);
        assert_eq!(
            c.acknowledgement.met_at.as_deref(),
            Some("2026-01-09T00:00:00Z"),
            "a met clock says when it was met, not only when it was due"
        );
        assert_ne!(c.acknowledgement.met_at, Some(c.acknowledgement.due_at));
    }
}

/// A span given in days, as people read it: minutes under an hour, hours under two days,
/// days (to a tenth) beyond; "0.01" days says nothing to anyone.
pub fn span_in_words(days: f64) -> String {
    let minutes = days * 24.0 * 60.0;
    if minutes < 60.0 {
        format!("{} min", minutes.round().max(0.0))
    } else if days < 2.0 {
        format!("{:.1} h", days * 24.0)
    } else {
        format!("{days:.1} days")
    }
}

#[cfg(test)]
mod span_tests {
    use super::span_in_words;

    #[test]
    fn times_read_the_same_everywhere() {
        let at = time::macros::datetime!(2026-12-01 15:05:59 +01:00);
        assert_eq!(super::readable_time(at), "2026-12-01 14:05 UTC");
    }

    #[test]
    fn spans_read_in_sensible_units() {
        assert_eq!(span_in_words(0.01), "14 min");
        assert_eq!(span_in_words(0.5), "12.0 h");
        assert_eq!(span_in_words(3.25), "3.2 days");
        assert_eq!(span_in_words(0.0), "0 min");
    }
}
