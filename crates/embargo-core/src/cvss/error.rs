//! Why a vector was refused.

use super::Version;

/// The one prefix list every message about a prefix quotes, so the wording cannot drift.
const PREFIXES: &str = "'CVSS:3.1/', 'CVSS:3.0/' or 'CVSS:4.0/'";

/// A fault found while checking a CVSS vector; its message names the fault and the metric concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CvssError {
    /// The vector is the empty string.
    #[error("empty vector")]
    Empty,
    /// The vector is longer than any valid vector can be.
    #[error("vector is {len} characters long; no valid CVSS vector is longer than {max}")]
    TooLong {
        /// Length of the refused text, in bytes.
        len: usize,
        /// The longest text accepted.
        max: usize,
    },
    /// The vector contains a space, tab or other whitespace (FIRST's calculators refuse it).
    #[error("unexpected whitespace")]
    Whitespace,
    /// The vector ends with '/'.
    #[error("trailing '/'")]
    TrailingSlash,
    /// A CVSS 3.x/4.0 vector written without its prefix.
    #[error("vector must start with {PREFIXES} (only CVSS 2.0 vectors have no prefix)")]
    MissingPrefix,
    /// The prefix is misspelt (case, missing ':' ...).
    #[error("vector must start with {PREFIXES}: found '{found}'")]
    BadPrefix {
        /// The text found where the prefix belongs.
        found: String,
    },
    /// The prefix names a version this desk does not score.
    #[error(
        "unsupported CVSS version '{version}': vector must start with {PREFIXES} \
         (CVSS 2.0 vectors are written without a prefix)"
    )]
    UnsupportedVersion {
        /// The version text after "CVSS:".
        version: String,
    },
    /// Two '/' in a row.
    #[error("empty component (two '/' in a row)")]
    EmptyComponent,
    /// A component that is not `NAME:VALUE`.
    #[error("malformed component '{component}' (expected NAME:VALUE)")]
    Malformed {
        /// The component as written.
        component: String,
    },
    /// A metric name or value in the wrong case.
    #[error("metric names and values are upper case: '{found}' (write '{expected}')")]
    WrongCase {
        /// The text as written.
        found: String,
        /// The spelling the specification uses.
        expected: String,
    },
    /// A metric name the version does not define.
    #[error("unknown metric '{metric}' in a CVSS {version} vector")]
    UnknownMetric {
        /// The name as written.
        metric: String,
        /// The version the prefix announced.
        version: Version,
    },
    /// `NAME:` with nothing after the colon.
    #[error("empty value for metric {metric}")]
    EmptyValue {
        /// The metric concerned.
        metric: &'static str,
    },
    /// A value the metric does not allow (including `X` for a base metric).
    #[error("illegal value '{value}' for metric {metric}")]
    IllegalValue {
        /// The metric concerned.
        metric: &'static str,
        /// The value as written.
        value: String,
    },
    /// A metric given twice.
    #[error("duplicate metric {metric}")]
    DuplicateMetric {
        /// The metric concerned.
        metric: &'static str,
    },
    /// A CVSS 4.0 metric written before one the specification puts ahead of it.
    #[error(
        "metric {metric} is out of order (CVSS 4.0 metrics must follow the specification's order)"
    )]
    OutOfOrder {
        /// The metric that came too late.
        metric: &'static str,
    },
    /// A mandatory base metric is absent.
    #[error("missing base metric {metric}")]
    MissingBaseMetric {
        /// The first absent base metric, in the specification's order.
        metric: &'static str,
    },
    /// The CVSS 4.0 scorer refused a vector the strict check accepted; a bug, never expected.
    #[error("the CVSS 4.0 scorer refused the vector: {reason}")]
    Scorer {
        /// What the scorer said.
        reason: String,
    },
}
