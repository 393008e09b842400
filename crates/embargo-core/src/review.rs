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

/// Figures being counted, kept so that tallies made apart (a block of cases at a time,
/// or one project at a time) add up to what [`figures`] makes of all their cases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    cases: usize,
    /// Days from receipt to acknowledgement, validation, fix, announcement, publication.
    since: [Vec<f64>; 5],
    by_state: BTreeMap<String, usize>,
    by_severity: BTreeMap<String, usize>,
    by_disposition: BTreeMap<String, usize>,
    by_cwe: BTreeMap<String, usize>,
    by_channel: BTreeMap<String, usize>,
    /// Kept unordered: a year may hold as many reporters as cases, and only ten are shown.
    reporters: std::collections::HashMap<String, usize>,
    overdue: usize,
    stalled: usize,
}

fn count(map: &mut BTreeMap<String, usize>, key: &str, n: usize) {
    match map.get_mut(key) {
        Some(c) => *c += n,
        None => {
            map.insert(key.to_owned(), n);
        }
    }
}

impl Tally {
    /// Counts one case.
    pub fn add(&mut self, c: &CaseFigures) {
        self.cases += 1;
        let steps = [
            c.acknowledged,
            c.confirmed,
            c.fix_ready,
            c.announced,
            c.public,
        ];
        for (values, step) in self.since.iter_mut().zip(steps) {
            if let Some(t) = step {
                values.push(days(c.received, t));
            }
        }
        count(&mut self.by_state, &c.state, 1);
        count(
            &mut self.by_severity,
            c.severity.as_deref().unwrap_or("unrated"),
            1,
        );
        count(&mut self.by_disposition, disposition(c), 1);
        count(&mut self.by_cwe, c.cwe.as_deref().unwrap_or("unknown"), 1);
        count(&mut self.by_channel, &c.channel, 1);
        if let Some(r) = &c.reporter {
            match self.reporters.get_mut(r) {
                Some(n) => *n += 1,
                None => {
                    self.reporters.insert(r.clone(), 1);
                }
            }
        }
        self.judged(c.overdue, c.stalled);
    }

    /// Counts how one open case's clocks stand, for a case added (with neither) before
    /// they were judged.
    pub fn judged(&mut self, overdue: bool, stalled: bool) {
        self.overdue += usize::from(overdue);
        self.stalled += usize::from(stalled);
    }

    /// Adds what another tally counted, taking its parts rather than copying them (a
    /// year's blocks may hold as many reporters as cases).
    pub fn merge(&mut self, other: Tally) {
        self.cases += other.cases;
        for (values, more) in self.since.iter_mut().zip(&other.since) {
            values.extend_from_slice(more);
        }
        let maps = [
            (&mut self.by_state, &other.by_state),
            (&mut self.by_severity, &other.by_severity),
            (&mut self.by_disposition, &other.by_disposition),
            (&mut self.by_cwe, &other.by_cwe),
            (&mut self.by_channel, &other.by_channel),
        ];
        for (mine, theirs) in maps {
            for (key, n) in theirs {
                count(mine, key, *n);
            }
        }
        if self.reporters.is_empty() {
            self.reporters = other.reporters;
        } else {
            self.reporters.reserve(other.reporters.len());
            for (reporter, n) in other.reporters {
                *self.reporters.entry(reporter).or_insert(0) += n;
            }
        }
        self.overdue += other.overdue;
        self.stalled += other.stalled;
    }

    /// How many cases it counted.
    pub fn cases(&self) -> usize {
        self.cases
    }

    /// The figures of everything counted.
    pub fn finish(self) -> Figures {
        let [ack, validate, fix, announce, publish] = self.since;
        let mut top_reporters: Vec<(String, usize)> = self.reporters.into_iter().collect();
        let most_first =
            |a: &(String, usize), b: &(String, usize)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
        if top_reporters.len() > 10 {
            top_reporters.select_nth_unstable_by(9, most_first);
            top_reporters.truncate(10);
        }
        top_reporters.sort_by(most_first);
        Figures {
            cases: self.cases,
            time_to_acknowledge: duration(ack),
            time_to_validate: duration(validate),
            time_to_fix: duration(fix),
            time_to_announce: duration(announce),
            time_to_publish: duration(publish),
            by_state: self.by_state,
            by_severity: self.by_severity,
            by_disposition: self.by_disposition,
            by_cwe: self.by_cwe,
            by_channel: self.by_channel,
            overdue: self.overdue,
            stalled: self.stalled,
            top_reporters,
        }
    }
}

/// The figures of `cases`.
pub fn figures(cases: &[CaseFigures]) -> Figures {
    let mut tally = Tally::default();
    for c in cases {
        tally.add(c);
    }
    tally.finish()
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

    #[test]
    fn tallies_made_apart_add_up_to_the_figures_of_all() {
        let at = time::macros::datetime!(2026-01-01 00:00 UTC);
        let cases: Vec<CaseFigures> = (0..40)
            .map(|i| CaseFigures {
                received: at + time::Duration::hours(i),
                acknowledged: (i % 3 != 0).then(|| at + time::Duration::hours(i * 2 + 1)),
                confirmed: (i % 4 == 0).then(|| at + time::Duration::days(i)),
                fix_ready: None,
                announced: (i % 5 == 0).then(|| at + time::Duration::days(i + 3)),
                public: None,
                state: ["reported", "fixing", "announced"][i as usize % 3].into(),
                disposition: (i % 7 == 0).then(|| "invalid".to_owned()),
                severity: (i % 2 == 0).then(|| "high".to_owned()),
                cwe: (i % 6 == 0).then(|| "CWE-79".to_owned()),
                channel: "email".into(),
                reporter: Some(format!("Researcher {}", i % 4)),
                overdue: i % 9 == 0,
                stalled: i % 11 == 0,
            })
            .collect();
        let whole = figures(&cases);
        let mut merged = Tally::default();
        for part in cases.chunks(7).rev() {
            let mut tally = Tally::default();
            for c in part {
                tally.add(c);
            }
            merged.merge(tally);
        }
        assert_eq!(merged.cases(), 40);
        assert_eq!(merged.finish(), whole);
    }
}
