//! CVSS vectors: strict parsing and scoring of versions 3.0, 3.1 and 4.0 exactly as FIRST's
//! calculators score them, and of 2.0 for old records.
//!
//! Vectors are checked as FIRST's calculators check them: exact prefix, names and values spelt
//! as the specification spells them, every base metric present, no duplicates, and for 4.0 the
//! specification's metric order. CVSS 4.0 scores use the corrected rounding of the reference
//! calculator (Red Hat, November 2024), which is 0.1 higher than FIRST's older published scores
//! on about 0.4% of vectors and never changes a severity band.

mod error;
pub mod metrics;
pub mod ratings;
mod v2;
mod v3;
mod v4;
mod vector;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use utoipa::ToSchema;

pub use error::CvssError;
pub use metrics::{Group, MetricDef, ValueDef, json_properties, metrics};

/// A CVSS version this desk reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema, serde::Deserialize)]
pub enum Version {
    /// CVSS 2.0 (old records only).
    #[serde(rename = "2.0")]
    V2,
    /// CVSS 3.0.
    #[serde(rename = "3.0")]
    V3_0,
    /// CVSS 3.1.
    #[serde(rename = "3.1")]
    V3_1,
    /// CVSS 4.0.
    #[serde(rename = "4.0")]
    V4_0,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V2 => "2.0",
            Self::V3_0 => "3.0",
            Self::V3_1 => "3.1",
            Self::V4_0 => "4.0",
        })
    }
}

/// A qualitative severity rating, ordered from None to Critical.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    ToSchema,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// 0.0 (v3/v4 only).
    None,
    /// 0.1–3.9 (v2: 0.0–3.9).
    Low,
    /// 4.0–6.9.
    Medium,
    /// 7.0–8.9 (v2: 7.0–10.0).
    High,
    /// 9.0–10.0 (v3/v4 only).
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::Critical => "Critical",
        })
    }
}

/// The CVSS 3.x/4.0 band of a one-decimal score (v3.1 spec §5, v4.0 rating scale).
pub fn severity_for(score: f64) -> Severity {
    // Scores carry one decimal, so comparing against the band's lower edge minus half a step
    // is immune to the f64 representation of x.y.
    if score < 0.05 {
        Severity::None
    } else if score < 3.95 {
        Severity::Low
    } else if score < 6.95 {
        Severity::Medium
    } else if score < 8.95 {
        Severity::High
    } else {
        Severity::Critical
    }
}

/// The NVD convention for CVSS 2.0, which has no official rating: Low 0.0–3.9, Medium 4.0–6.9,
/// High 7.0–10.0.
fn severity_for_v2(score: f64) -> Severity {
    if score < 3.95 {
        Severity::Low
    } else if score < 6.95 {
        Severity::Medium
    } else {
        Severity::High
    }
}

/// No valid vector comes near this length (a CVSS 4.0 vector with every metric is under 200
/// characters), so anything longer is refused before it is split.
const MAX_LEN: usize = 255;

/// A parsed, validated and scored CVSS vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Cvss {
    vector: String,
    version: Version,
    base: f64,
    temporal: Option<f64>,
    environmental: Option<f64>,
    score: f64,
    nomenclature: Option<&'static str>,
}

impl Cvss {
    /// Parses and scores a vector, refusing anything FIRST's calculators would refuse.
    pub fn parse(vector: &str) -> Result<Cvss, CvssError> {
        if vector.is_empty() {
            return Err(CvssError::Empty);
        }
        if vector.len() > MAX_LEN {
            return Err(CvssError::TooLong {
                len: vector.len(),
                max: MAX_LEN,
            });
        }
        if vector.chars().any(char::is_whitespace) {
            return Err(CvssError::Whitespace);
        }
        if vector.ends_with('/') {
            return Err(CvssError::TrailingSlash);
        }
        let Some(rest) = vector.strip_prefix("CVSS:") else {
            return Self::parse_unprefixed(vector);
        };
        let (version, body) = rest.split_once('/').unwrap_or((rest, ""));
        match version {
            "3.0" | "3.1" => {
                let (minor, version) = if version == "3.0" {
                    (v3::Minor::Zero, Version::V3_0)
                } else {
                    (v3::Minor::One, Version::V3_1)
                };
                let scores = v3::parse(body, minor)?;
                Ok(Self {
                    vector: vector.to_owned(),
                    version,
                    base: scores.base,
                    temporal: Some(scores.temporal),
                    environmental: Some(scores.environmental),
                    score: scores.environmental,
                    nomenclature: None,
                })
            }
            "4.0" => {
                let scores = v4::parse(vector, body)?;
                Ok(Self {
                    vector: vector.to_owned(),
                    version: Version::V4_0,
                    base: scores.base,
                    temporal: None,
                    environmental: None,
                    score: scores.score,
                    nomenclature: Some(scores.nomenclature),
                })
            }
            _ => Err(CvssError::UnsupportedVersion {
                version: version.to_owned(),
            }),
        }
    }

    /// A vector without "CVSS:" is either CVSS 2.0 (which has no prefix) or a misspelt or
    /// missing 3.x/4.0 prefix; the metric names tell which, so the message can name the fault.
    fn parse_unprefixed(vector: &str) -> Result<Cvss, CvssError> {
        let first = vector.split('/').next().unwrap_or_default();
        if first
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("CVSS"))
        {
            return Err(CvssError::BadPrefix {
                found: first.to_owned(),
            });
        }
        let names_a_newer_metric = vector.split('/').any(|component| {
            let name = component.split(':').next().unwrap_or_default();
            let known = |table: &[vector::MetricDef]| {
                table.iter().any(|m| m.name.eq_ignore_ascii_case(name))
            };
            !known(v2::TABLE) && (known(v3::TABLE) || known(v4::TABLE))
        });
        if names_a_newer_metric {
            return Err(CvssError::MissingPrefix);
        }
        let scores = v2::parse(vector)?;
        Ok(Self {
            vector: vector.to_owned(),
            version: Version::V2,
            base: scores.base,
            temporal: scores.temporal,
            environmental: scores.environmental,
            score: scores
                .environmental
                .or(scores.temporal)
                .unwrap_or(scores.base),
            nomenclature: None,
        })
    }

    /// The CVSS version the vector declares (2.0 when it has no prefix).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The vector exactly as given (it passed the strict check, so it is canonical).
    pub fn vector(&self) -> &str {
        &self.vector
    }

    /// The base score; for 4.0 the CVSS-B score, from the base metrics alone.
    pub fn base_score(&self) -> f64 {
        self.base
    }

    /// The temporal score: v3 always (equal to the base score without temporal metrics, as
    /// FIRST reports it), v2 when a temporal metric is given, never for v4.
    pub fn temporal_score(&self) -> Option<f64> {
        self.temporal
    }

    /// The environmental score: v3 always (FIRST's final score), v2 when an environmental
    /// metric is given, never for v4.
    pub fn environmental_score(&self) -> Option<f64> {
        self.environmental
    }

    /// The single score a team acts on: v4 its score, v3 the environmental score, v2 the
    /// environmental, else temporal, else base score.
    pub fn score(&self) -> f64 {
        self.score
    }

    /// The severity band of [`Cvss::score`]; v2 uses the NVD v2 bands.
    pub fn severity(&self) -> Severity {
        match self.version {
            Version::V2 => severity_for_v2(self.score),
            Version::V3_0 | Version::V3_1 | Version::V4_0 => severity_for(self.score),
        }
    }

    /// The severity band of the base score alone (what `baseSeverity` means in the CVSS
    /// JSON schemas), which may differ from [`Cvss::severity`] of the overall score.
    pub fn base_severity(&self) -> Severity {
        self.band(self.base)
    }

    /// The band of the temporal (3.x, 2.0) score, when the vector has one.
    pub fn temporal_severity(&self) -> Option<Severity> {
        self.temporal.map(|s| self.band(s))
    }

    /// The band of the environmental score, when the vector has one.
    pub fn environmental_severity(&self) -> Option<Severity> {
        self.environmental.map(|s| self.band(s))
    }

    fn band(&self, score: f64) -> Severity {
        match self.version {
            Version::V2 => severity_for_v2(score),
            Version::V3_0 | Version::V3_1 | Version::V4_0 => severity_for(score),
        }
    }

    /// For 4.0, which metric groups the score uses: "CVSS-B", "CVSS-BT", "CVSS-BE" or
    /// "CVSS-BTE" (metrics set to X do not count); `None` for other versions.
    pub fn nomenclature(&self) -> Option<&'static str> {
        self.nomenclature
    }
}

impl FromStr for Cvss {
    type Err = CvssError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Cvss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.vector)
    }
}

/// What an API response shows of a CVSS vector.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, serde::Deserialize)]
pub struct CvssSummary {
    /// The vector as given.
    #[schema(example = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")]
    pub vector: String,
    /// Its CVSS version.
    pub version: Version,
    /// The score a team acts on: v4 its score, v3 the environmental score, v2 the last group given.
    pub score: f64,
    /// The severity band of `score`.
    pub severity: Severity,
    /// The base score (for 4.0, CVSS-B).
    pub base_score: f64,
}

impl From<&Cvss> for CvssSummary {
    fn from(cvss: &Cvss) -> Self {
        Self {
            vector: cvss.vector.clone(),
            version: cvss.version,
            score: cvss.score,
            severity: cvss.severity(),
            base_score: cvss.base,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn refused(vector: &str) -> String {
        match Cvss::parse(vector) {
            Ok(cvss) => panic!("accepted {vector:?}: {cvss:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn band_edges() {
        let cases = [
            (0.0, Severity::None),
            (0.1, Severity::Low),
            (3.9, Severity::Low),
            (4.0, Severity::Medium),
            (6.9, Severity::Medium),
            (7.0, Severity::High),
            (8.9, Severity::High),
            (9.0, Severity::Critical),
            (10.0, Severity::Critical),
        ];
        for (score, severity) in cases {
            assert_eq!(severity_for(score), severity, "score {score}");
        }
        // Arithmetic that lands a hair off x.y still falls in x.y's band.
        assert_eq!(severity_for(0.1 + 0.2 + 3.6), Severity::Low);
        assert_eq!(severity_for(7.0 - 1e-12), Severity::High);
    }

    #[test]
    fn v2_band_edges() {
        for (score, severity) in [
            (0.0, Severity::Low),
            (3.9, Severity::Low),
            (4.0, Severity::Medium),
            (6.9, Severity::Medium),
            (7.0, Severity::High),
            (10.0, Severity::High),
        ] {
            assert_eq!(severity_for_v2(score), severity, "score {score}");
        }
        let v2 = Cvss::parse("AV:N/AC:L/Au:N/C:C/I:C/A:C").unwrap();
        assert_eq!((v2.score(), v2.severity()), (10.0, Severity::High));
        let v2 = Cvss::parse("AV:L/AC:H/Au:M/C:N/I:N/A:N").unwrap();
        assert_eq!((v2.score(), v2.severity()), (0.0, Severity::Low));
    }

    #[test]
    fn severity_display_and_serde() {
        assert_eq!(Severity::Critical.to_string(), "Critical");
        assert_eq!(Severity::None.to_string(), "None");
        assert_eq!(
            serde_json::to_string(&Severity::Medium).unwrap(),
            "\"medium\""
        );
        assert_eq!(serde_json::to_string(&Severity::None).unwrap(), "\"none\"");
        assert_eq!(serde_json::to_string(&Version::V3_1).unwrap(), "\"3.1\"");
        assert_eq!(serde_json::to_string(&Version::V2).unwrap(), "\"2.0\"");
        assert_eq!(Version::V4_0.to_string(), "4.0");
        assert!(Severity::Low < Severity::Critical);
    }

    #[test]
    fn scores_and_summary() {
        let v31 = Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert_eq!(v31.version(), Version::V3_1);
        assert_eq!(v31.base_score(), 9.8);
        assert_eq!(v31.temporal_score(), Some(9.8));
        assert_eq!(v31.environmental_score(), Some(9.8));
        assert_eq!(v31.severity(), Severity::Critical);
        let summary = CvssSummary::from(&v31);
        assert_eq!(
            serde_json::to_value(&summary).unwrap(),
            serde_json::json!({
                "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "version": "3.1",
                "score": 9.8,
                "severity": "critical",
                "base_score": 9.8,
            })
        );

        // Scores from v4/rh_vectors_threat4 and v4/rh_vectors_simple4 in the conformance data.
        let v4 = Cvss::parse("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U")
            .unwrap();
        assert_eq!(v4.base_score(), 7.3);
        assert_eq!(v4.score(), 4.1);
        assert_eq!(v4.temporal_score(), None);
        assert_eq!(v4.nomenclature(), Some("CVSS-BT"));
        assert_eq!(v4.severity(), Severity::Medium);

        let v2 = Cvss::parse("AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C").unwrap();
        assert_eq!(v2.base_score(), 7.8);
        assert_eq!(v2.temporal_score(), Some(6.4));
        assert_eq!(v2.environmental_score(), None);
        assert_eq!(v2.score(), 6.4);
    }

    #[test]
    fn error_messages_name_the_fault() {
        let cases = [
            ("", "empty vector"),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
                "missing base metric A",
            ),
            (
                "CVSS:4.0/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                "missing base metric AV",
            ),
            (
                "CVSS:4.0/AV:N/AC:T/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                "illegal value 'T' for metric AC",
            ),
            (
                "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "illegal value 'X' for metric AV",
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:N",
                "duplicate metric AV",
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/SC:N/VA:H/SI:N/SA:N",
                "metric VA is out of order (CVSS 4.0 metrics must follow the specification's order)",
            ),
            (
                "cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "vector must start with 'CVSS:3.1/', 'CVSS:3.0/' or 'CVSS:4.0/': found 'cvss:3.1'",
            ),
            (
                "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "vector must start with 'CVSS:3.1/', 'CVSS:3.0/' or 'CVSS:4.0/' (only CVSS 2.0 vectors have no prefix)",
            ),
            (
                "CVSS:3.1/av:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "metric names and values are upper case: 'av' (write 'AV')",
            ),
            (
                "CVSS:3.1/AV:n/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "metric names and values are upper case: 'AV:n' (write 'AV:N')",
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/XX:Y",
                "unknown metric 'XX' in a CVSS 3.1 vector",
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:/S:U/C:H/I:H/A:H",
                "empty value for metric UI",
            ),
            (
                " CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "unexpected whitespace",
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",
                "trailing '/'",
            ),
            (
                "CVSS:3.1/AV:N/AC:L//PR:N/UI:N/S:U/C:H/I:H/A:H",
                "empty component (two '/' in a row)",
            ),
            (
                "CVSS:3.1/AV:N/ACL/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "malformed component 'ACL' (expected NAME:VALUE)",
            ),
            (
                "CVSS:5.0/AV:N",
                "unsupported CVSS version '5.0': vector must start with 'CVSS:3.1/', 'CVSS:3.0/' or \
                 'CVSS:4.0/' (CVSS 2.0 vectors are written without a prefix)",
            ),
        ];
        for (vector, message) in cases {
            assert_eq!(refused(vector), message, "vector {vector:?}");
        }
        assert!(refused(&"A".repeat(300)).contains("no valid CVSS vector is longer than 255"));
    }

    #[test]
    fn case_exceptions_follow_the_specification() {
        // CVSS 2.0 spells Authentication "Au"; CVSS 4.0 spells Provider Urgency values in
        // title case. Both are exact-spelling checks, not upper-case checks.
        assert!(Cvss::parse("AV:N/AC:L/Au:N/C:N/I:N/A:C").is_ok());
        assert_eq!(
            refused("AV:N/AC:L/AU:N/C:N/I:N/A:C"),
            "metric names and values are upper case: 'AU' (write 'Au')"
        );
        let base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        assert!(Cvss::parse(&format!("{base}/U:Amber")).is_ok());
        assert_eq!(
            refused(&format!("{base}/U:AMBER")),
            "metric names and values are upper case: 'U:AMBER' (write 'U:Amber')"
        );
    }

    #[test]
    fn v3_accepts_any_order_v4_does_not() {
        let v3 = Cvss::parse("CVSS:3.0/S:U/AV:N/AC:L/PR:H/UI:N/C:L/I:L/A:N/E:F/RL:X").unwrap();
        assert_eq!(
            (
                v3.base_score(),
                v3.temporal_score(),
                v3.environmental_score()
            ),
            (3.8, Some(3.7), Some(3.7))
        );
        assert!(
            Cvss::parse("CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").is_err()
        );
    }
}
