//! Process review: the retrospective that closes a case, and the figures a team or a
//! foundation board asks for (how fast reports are handled, what they were, who found them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// What class of mistake let the vulnerability in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RootCause {
    /// Input not validated.
    InputValidation,
    /// Output not encoded or escaped.
    OutputEncoding,
    /// Injection into a query, command or template.
    Injection,
    /// Who someone is, not checked.
    Authentication,
    /// What someone may do, not checked.
    Authorization,
    /// Cryptography used wrongly.
    Cryptography,
    /// Memory or resource handling.
    MemorySafety,
    /// An unsafe default or configuration.
    Configuration,
    /// A vulnerable dependency.
    Dependency,
    /// A flaw in the logic.
    Logic,
    /// Anything else.
    Other,
}

/// How the vulnerability was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FoundBy {
    /// Reported from outside the project.
    ExternalReport,
    /// Found in the project's own review.
    InternalReview,
    /// Found by an automated scanner or review.
    AutomatedScan,
    /// Found by fuzzing.
    Fuzzing,
    /// Anything else.
    Other,
}

/// The retrospective recorded when a case is closed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Retrospective {
    /// The class of root cause.
    pub root_cause: RootCause,
    /// The weakness, e.g. "CWE-79".
    #[serde(default)]
    pub cwe: Option<String>,
    /// How it was introduced: the commit or release, where known.
    #[serde(default)]
    pub introduced: Option<String>,
    /// How it was found.
    pub found_by: FoundBy,
    /// What would have prevented it.
    #[serde(default)]
    pub prevention: String,
}

impl std::fmt::Debug for Retrospective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Retrospective({:?}, {:?}, [redacted])",
            self.root_cause, self.found_by
        )
    }
}

/// One case as the figures see it.
#[derive(Debug, Clone)]
pub struct CaseFigures {
    /// When the report arrived.
    pub received: OffsetDateTime,
    /// When the reporter was acknowledged.
    pub acknowledged: Option<OffsetDateTime>,
    /// When it was confirmed (validated).
    pub confirmed: Option<OffsetDateTime>,
    /// When the fix was ready.
    pub fix_ready: Option<OffsetDateTime>,
    /// When it was announced.
    pub announced: Option<OffsetDateTime>,
    /// When it was made public.
    pub public: Option<OffsetDateTime>,
    /// Where it stands, e.g. "fixing".
    pub state: String,
    /// What triage concluded (valid, hardening, information, invalid, duplicate), kept
    /// when the case left triage; cases from before it was kept go by their state.
    pub disposition: Option<String>,
    /// Its severity band, if rated.
    pub severity: Option<String>,
    /// Its weakness, if known.
    pub cwe: Option<String>,
    /// How it arrived, e.g. "email".
    pub channel: String,
    /// Who reported it (for thanks), if known.
    pub reporter: Option<String>,
    /// A clock is past due.
    pub overdue: bool,
    /// No activity for the stall period.
    pub stalled: bool,
}

/// A duration statistic, in days with two decimals.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct Duration {
    /// How many cases reached this step.
    pub count: usize,
    /// The median, in days.
    pub median_days: Option<f64>,
    /// The 90th percentile (nearest rank), in days.
    pub p90_days: Option<f64>,
}

/// The figures of a set of cases.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct Figures {
    /// Cases counted.
    pub cases: usize,
    /// From receipt to acknowledgement.
    pub time_to_acknowledge: Duration,
    /// From receipt to confirmation.
    pub time_to_validate: Duration,
    /// From receipt to a ready fix.
    pub time_to_fix: Duration,
    /// From receipt to the announcement.
    pub time_to_announce: Duration,
    /// From receipt to the public view.
    pub time_to_publish: Duration,
    /// Cases by state.
    pub by_state: BTreeMap<String, usize>,
    /// Cases by severity band ("unrated" when not rated).
    pub by_severity: BTreeMap<String, usize>,
    /// Cases by disposition: vulnerability, invalid, duplicate, open.
    pub by_disposition: BTreeMap<String, usize>,
    /// Cases by CWE ("unknown" when not known).
    pub by_cwe: BTreeMap<String, usize>,
    /// Cases by intake channel.
    pub by_channel: BTreeMap<String, usize>,
    /// Open cases with a clock past due.
    pub overdue: usize,
    /// Open cases without activity for the stall period.
    pub stalled: usize,
    /// Who reported the most, most first (ties by name).
    pub top_reporters: Vec<(String, usize)>,
}

fn days(from: OffsetDateTime, to: OffsetDateTime) -> f64 {
    (to - from).as_seconds_f64() / 86_400.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The median (the mean of the two middle values for an even count) and the 90th
/// percentile by nearest rank (the value at rank ⌈0.9·n⌉).
pub fn duration(mut values: Vec<f64>) -> Duration {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return Duration {
            count: 0,
            median_days: None,
            p90_days: None,
        };
    }
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    let rank = (0.9 * n as f64).ceil() as usize;
    let p90 = values[rank.clamp(1, n) - 1];
    Duration {
        count: n,
        median_days: Some(round2(median)),
        p90_days: Some(round2(p90)),
    }
}

fn disposition(c: &CaseFigures) -> &str {
    match (c.state.as_str(), c.disposition.as_deref()) {
        ("reported" | "triage", _) => "open",
        (_, Some("valid")) => "vulnerability",
        (_, Some(kept)) => kept,
        ("invalid", None) => "invalid",
        ("duplicate", None) => "duplicate",
        (_, None) => "vulnerability",
    }
}

/// The figures of `cases`.
pub fn figures(cases: &[CaseFigures]) -> Figures {
    let since = |pick: fn(&CaseFigures) -> Option<OffsetDateTime>| {
        duration(
            cases
                .iter()
                .filter_map(|c| pick(c).map(|t| days(c.received, t)))
                .collect(),
        )
    };
    let mut by_state = BTreeMap::new();
    let mut by_severity = BTreeMap::new();
    let mut by_disposition = BTreeMap::new();
    let mut by_cwe = BTreeMap::new();
    let mut by_channel = BTreeMap::new();
    let mut reporters: BTreeMap<String, usize> = BTreeMap::new();
    for c in cases {
        *by_state.entry(c.state.clone()).or_insert(0) += 1;
        *by_severity
            .entry(c.severity.clone().unwrap_or_else(|| "unrated".into()))
            .or_insert(0) += 1;
        *by_disposition.entry(disposition(c).to_owned()).or_insert(0) += 1;
        *by_cwe
            .entry(c.cwe.clone().unwrap_or_else(|| "unknown".into()))
            .or_insert(0) += 1;
        *by_channel.entry(c.channel.clone()).or_insert(0) += 1;
        if let Some(r) = &c.reporter {
            *reporters.entry(r.clone()).or_insert(0) += 1;
        }
    }
    let mut top_reporters: Vec<(String, usize)> = reporters.into_iter().collect();
    top_reporters.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top_reporters.truncate(10);
    Figures {
        cases: cases.len(),
        time_to_acknowledge: since(|c| c.acknowledged),
        time_to_validate: since(|c| c.confirmed),
        time_to_fix: since(|c| c.fix_ready),
        time_to_announce: since(|c| c.announced),
        time_to_publish: since(|c| c.public),
        by_state,
        by_severity,
        by_disposition,
        by_cwe,
        by_channel,
        overdue: cases.iter().filter(|c| c.overdue).count(),
        stalled: cases.iter().filter(|c| c.stalled).count(),
        top_reporters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_percentiles_follow_their_definitions() {
        let d = duration(vec![5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((d.median_days, d.p90_days), (Some(3.0), Some(5.0)));
        let d = duration(vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!((d.median_days, d.p90_days), (Some(2.5), Some(4.0)));
        let d = duration((1..=20).map(f64::from).collect());
        assert_eq!((d.median_days, d.p90_days), (Some(10.5), Some(18.0)));
        assert_eq!(duration(Vec::new()).median_days, None);
    }
}
