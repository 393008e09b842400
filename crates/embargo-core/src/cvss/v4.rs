//! CVSS 4.0: the strict check is ours, the scoring is the `cvss` crate's.
//!
//! The crate implements Red Hat's corrected rounding (add 1e-6, then round half up: the
//! November 2024 fix of the reference calculator), which is the rounding SPEC chooses. Its own
//! parser is lenient (it upper-cases names and values, ignores order and accepts out-of-spec
//! spellings), so it only ever sees text this module has already accepted.

use std::str::FromStr;

use super::vector::{MetricDef, Order, Values, def, parse_metrics};
use super::{CvssError, Version};

const IMPACT: &[&str] = &["H", "L", "N"];
const MODIFIED_IMPACT: &[&str] = &["X", "H", "L", "N"];
const MODIFIED_SUBSEQUENT: &[&str] = &["X", "S", "H", "L", "N"];
const REQUIREMENT: &[&str] = &["X", "H", "M", "L"];

/// The CVSS 4.0 metrics in the specification's order, which vectors must follow.
pub(crate) const TABLE: &[MetricDef] = &[
    // Base.
    def("AV", &["N", "A", "L", "P"], true),
    def("AC", &["L", "H"], true),
    def("AT", &["N", "P"], true),
    def("PR", &["N", "L", "H"], true),
    def("UI", &["N", "P", "A"], true),
    def("VC", IMPACT, true),
    def("VI", IMPACT, true),
    def("VA", IMPACT, true),
    def("SC", IMPACT, true),
    def("SI", IMPACT, true),
    def("SA", IMPACT, true),
    // Threat.
    def("E", &["X", "A", "P", "U"], false),
    // Environmental.
    def("CR", REQUIREMENT, false),
    def("IR", REQUIREMENT, false),
    def("AR", REQUIREMENT, false),
    def("MAV", &["X", "N", "A", "L", "P"], false),
    def("MAC", &["X", "L", "H"], false),
    def("MAT", &["X", "N", "P"], false),
    def("MPR", &["X", "N", "L", "H"], false),
    def("MUI", &["X", "N", "P", "A"], false),
    def("MVC", MODIFIED_IMPACT, false),
    def("MVI", MODIFIED_IMPACT, false),
    def("MVA", MODIFIED_IMPACT, false),
    def("MSC", MODIFIED_IMPACT, false),
    def("MSI", MODIFIED_SUBSEQUENT, false),
    def("MSA", MODIFIED_SUBSEQUENT, false),
    // Supplemental: never scored.
    def("S", &["X", "N", "P"], false),
    def("AU", &["X", "N", "Y"], false),
    def("R", &["X", "A", "U", "I"], false),
    def("V", &["X", "D", "C"], false),
    def("RE", &["X", "L", "M", "H"], false),
    def("U", &["X", "Clear", "Green", "Amber", "Red"], false),
];

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
