//! CVSS 4.0: the strict check is ours, the scoring is the `cvss` crate's.
//!
//! The crate implements Red Hat's corrected rounding (add 1e-6, then round half up: the
//! November 2024 fix of the reference calculator), which is the rounding SPEC chooses. Its own
//! parser is lenient (it upper-cases names and values, ignores order and accepts out-of-spec
//! spellings), so it only ever sees text this module has already accepted.

use std::str::FromStr;

use super::vector::{MetricDef, Order, Values, parse_metrics};
use super::{CvssError, Version};

/// The metrics, from the one table.
pub(crate) const TABLE: &[MetricDef] = super::metrics::V4;

/// Base metrics come first in the table.
const BASE_COUNT: usize = 11;
/// Index of E, the only threat metric.
const THREAT: usize = 11;
/// Environmental metrics: CR through MSA.
const ENVIRONMENTAL: std::ops::Range<usize> = 12..26;

/// A scored CVSS 4.0 vector.
pub(crate) struct Scores {
    /// The score of the whole vector (CVSS-B, -BT, -BE or -BTE).
    pub score: f64,
    /// The score of the base metrics alone (CVSS-B).
    pub base: f64,
    /// Which metric groups the score uses, in the specification's nomenclature.
    pub nomenclature: &'static str,
}

/// Checks the part of a 4.0 vector after "CVSS:4.0/" and scores it.
pub(crate) fn parse(full_text: &str, body: &str) -> Result<Scores, CvssError> {
    let values = parse_metrics(body, TABLE, Order::Specification, Version::V4_0)?;
    let score = crate_score(full_text)?;
    let base = if has_group(&values, THREAT..THREAT + 1) || has_group(&values, ENVIRONMENTAL) {
        crate_score(&base_vector(&values))?
    } else {
        score
    };
    Ok(Scores {
        score,
        base,
        nomenclature: nomenclature(&values),
    })
}

fn crate_score(text: &str) -> Result<f64, CvssError> {
    cvss::v4::Vector::from_str(text)
        .map(|vector| vector.score().value())
        .map_err(|e| CvssError::Scorer {
            reason: e.to_string(),
        })
}

/// The vector cut down to its base metrics, for the CVSS-B score.
fn base_vector(values: &Values) -> String {
    let mut text = String::from("CVSS:4.0");
    for (metric, value) in TABLE.iter().zip(values).take(BASE_COUNT) {
        if let Some(value) = value {
            text.push('/');
            text.push_str(metric.name);
            text.push(':');
            text.push_str(value);
        }
    }
    text
}

/// Whether any metric in `range` is given a value other than X (Not Defined).
fn has_group(values: &Values, range: std::ops::Range<usize>) -> bool {
    values
        .get(range)
        .is_some_and(|group| group.iter().flatten().any(|v| *v != "X"))
}

/// The specification's label for the metric groups that shape the score; metrics set to X
/// change nothing, so they do not count.
fn nomenclature(values: &Values) -> &'static str {
    match (
        has_group(values, THREAT..THREAT + 1),
        has_group(values, ENVIRONMENTAL),
    ) {
        (false, false) => "CVSS-B",
        (true, false) => "CVSS-BT",
        (false, true) => "CVSS-BE",
        (true, true) => "CVSS-BTE",
    }
}
