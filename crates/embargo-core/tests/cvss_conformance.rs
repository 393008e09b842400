//! CVSS conformance: every vector in ../shared/conformance/cvss (see its README) scores as the
//! README says, with the fixed CVSS 4.0 rounding (column `rh_fixed_score`), and every vector
//! marked invalid is refused with a message naming the fault.
//!
//! The files are read in place and never copied into the repository. Lines are split on TAB
//! without trimming: `v3/first_calc31_validity.tsv` has vectors with deliberate leading and
//! trailing spaces that must be refused.
//!
//! Nothing is skipped. In particular `v2/rh_vectors_calculator2.tsv` has one row the NVD
//! calculator disagrees with (`AV:N/AC:L/Au:S/C:C/I:C/A:C/E:F/RL:U/RC:C`, temporal 8.6 here,
//! 8.5 in NVD and polycvss); the module evaluates v2 in exact decimals as the Red Hat
//! reference does, so it matches the file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use embargo_core::cvss::{Cvss, CvssError, Severity, Version, severity_for};

/// How many mismatches a failure message lists.
const SHOWN: usize = 10;

fn data_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/cvss"
    ))
}

/// The data rows of a conformance file: comment lines dropped, columns split on TAB, nothing
/// trimmed. Each row keeps its 1-based line number for messages.
fn rows(relative: &str) -> Vec<(usize, Vec<String>)> {
    let path = data_dir().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.split('\n')
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(i, line)| (i + 1, line.split('\t').map(str::to_owned).collect()))
        .collect()
}

/// A score column: one decimal, or `NA` for "no value".
fn opt_score(text: &str) -> Option<f64> {
    if text == "NA" {
        None
    } else {
        Some(
            text.parse()
                .unwrap_or_else(|e| panic!("bad score {text:?}: {e}")),
        )
    }
}

fn score(text: &str) -> f64 {
    opt_score(text).unwrap_or_else(|| panic!("expected a score, found {text:?}"))
}

fn severity(text: &str) -> Severity {
    match text {
        "None" => Severity::None,
        "Low" => Severity::Low,
        "Medium" => Severity::Medium,
        "High" => Severity::High,
        "Critical" => Severity::Critical,
        other => panic!("unknown severity {other:?}"),
    }
}

/// Collects mismatches per file and reports them all at once.
struct Check {
    file: &'static str,
    rows: usize,
    mismatches: Vec<String>,
}

impl Check {
    fn new(file: &'static str) -> Self {
        Self {
            file,
            rows: 0,
            mismatches: Vec::new(),
        }
    }

    fn fail(&mut self, line: usize, vector: &str, what: String) {
        self.mismatches
            .push(format!("  line {line}: {vector:?}: {what}"));
    }

    /// Compares one value, recording a mismatch under `label`.
    fn expect<T: PartialEq + std::fmt::Debug>(
        &mut self,
        line: usize,
        vector: &str,
        label: &str,
        got: T,
        want: T,
    ) {
        if got != want {
            self.fail(line, vector, format!("{label}: got {got:?}, want {want:?}"));
        }
    }

    fn parse(&mut self, line: usize, vector: &str) -> Option<Cvss> {
        match Cvss::parse(vector) {
            Ok(cvss) => Some(cvss),
            Err(e) => {
                self.fail(line, vector, format!("refused: {e}"));
                None
            }
        }
    }

    /// Prints the count and fails with the first few mismatches.
    fn finish(self) -> (&'static str, usize) {
        eprintln!(
            "{}: {} rows, {} mismatches",
            self.file,
            self.rows,
            self.mismatches.len()
        );
        assert!(self.rows > 0, "{}: no rows read", self.file);
        assert!(
            self.mismatches.is_empty(),
            "{}: {} of {} rows mismatch; first {}:\n{}",
            self.file,
            self.mismatches.len(),
            self.rows,
            self.mismatches.len().min(SHOWN),
            self.mismatches[..self.mismatches.len().min(SHOWN)].join("\n")
        );
        (self.file, self.rows)
    }
}

fn assert_version(check: &mut Check, line: usize, vector: &str, cvss: &Cvss) {
    let want = if vector.starts_with("CVSS:3.0/") {
        Version::V3_0
    } else if vector.starts_with("CVSS:3.1/") {
        Version::V3_1
    } else if vector.starts_with("CVSS:4.0/") {
        Version::V4_0
    } else {
        Version::V2
    };
    check.expect(line, vector, "version", cvss.version(), want);
    check.expect(line, vector, "vector", cvss.vector(), vector);
}

#[test]
fn v2_scores() {
    // vector, base, temporal, environmental (NA: group absent)
    for file in [
        "v2/rh_vectors_simple2.tsv",
        "v2/rh_vectors_calculator2.tsv",
        "v2/rh_vectors_cvsslib2.tsv",
    ] {
        let mut check = Check::new(file);
        for (line, cols) in rows(file) {
            check.rows += 1;
            let vector = &cols[0];
            let Some(cvss) = check.parse(line, vector) else {
                continue;
            };
            assert_version(&mut check, line, vector, &cvss);
            let (base, temporal, env) = (score(&cols[1]), opt_score(&cols[2]), opt_score(&cols[3]));
            check.expect(line, vector, "base", cvss.base_score(), base);
            check.expect(line, vector, "temporal", cvss.temporal_score(), temporal);
            check.expect(
                line,
                vector,
                "environmental",
                cvss.environmental_score(),
                env,
            );
            let final_score = env.or(temporal).unwrap_or(base);
            check.expect(line, vector, "score", cvss.score(), final_score);
            let band = match final_score {
                s if s < 4.0 => Severity::Low,
                s if s < 7.0 => Severity::Medium,
                _ => Severity::High,
            };
            check.expect(
                line,
                vector,
                "severity (NVD v2 bands)",
                cvss.severity(),
                band,
            );
        }
        check.finish();
    }

    // The guide's examples: without environmental metrics the `environmental` column holds the
    // guide's final score (= temporal), which this API reports as score() with no
    // environmental score, as the README allows.
    let file = "v2/first_doc_examples_v2.tsv";
    let mut check = Check::new(file);
    for (line, cols) in rows(file) {
        check.rows += 1;
        let vector = &cols[0];
        let Some(cvss) = check.parse(line, vector) else {
            continue;
        };
        check.expect(line, vector, "base", cvss.base_score(), score(&cols[1]));
        check.expect(
            line,
            vector,
            "temporal",
            cvss.temporal_score(),
            Some(score(&cols[2])),
        );
        let has_env_metrics = ["CDP:", "TD:", "CR:", "IR:", "AR:"]
            .iter()
            .any(|m| vector.contains(m));
        let env = score(&cols[3]);
        check.expect(
            line,
            vector,
            "environmental",
            cvss.environmental_score(),
            has_env_metrics.then_some(env),
        );
        check.expect(line, vector, "final score", cvss.score(), env);
    }
    check.finish();
}

/// Checks a v3 row: base, temporal, environmental and, when given, their severities.
fn check_v3_row(check: &mut Check, line: usize, cols: &[String], severities: bool) {
    let vector = &cols[0];
    let Some(cvss) = check.parse(line, vector) else {
        return;
    };
    assert_version(check, line, vector, &cvss);
    let (base, temporal, env) = (score(&cols[1]), score(&cols[2]), score(&cols[3]));
    check.expect(line, vector, "base", cvss.base_score(), base);
    check.expect(
        line,
        vector,
        "temporal",
        cvss.temporal_score(),
        Some(temporal),
    );
    check.expect(
        line,
        vector,
        "environmental",
        cvss.environmental_score(),
        Some(env),
    );
    check.expect(line, vector, "score", cvss.score(), env);
    check.expect(line, vector, "severity", cvss.severity(), severity_for(env));
    if severities {
        check.expect(
            line,
            vector,
            "base severity",
            severity_for(base),
            severity(&cols[4]),
        );
        check.expect(
            line,
            vector,
            "temporal severity",
            severity_for(temporal),
            severity(&cols[5]),
        );
        check.expect(
            line,
            vector,
            "environmental severity",
            cvss.severity(),
            severity(&cols[6]),
        );
    }
}

#[test]
fn v3_scores() {
    // vector, base, temporal, environmental [, base/temporal/environmental severity]
    let mut totals = Vec::new();
    for (file, severities) in [
        ("v3/rh_vectors_simple3.tsv", false),
        ("v3/rh_vectors_simple31.tsv", false),
        ("v3/rh_vectors_calculator3.tsv", false),
        ("v3/rh_vectors_cvsslib3.tsv", false),
        ("v3/first_doc_examples_v3.tsv", false),
        ("v3/first_calc31_random.tsv", true),
        ("v3/first_calc30_random.tsv", true),
    ] {
        let mut check = Check::new(file);
        for (line, cols) in rows(file) {
            check.rows += 1;
            check_v3_row(&mut check, line, &cols, severities);
        }
        totals.push(check.finish());
    }
    eprintln!("v3 totals: {totals:?}");
}

/// The kind of fault each mutation of `first_calc31_validity.tsv` introduces.
fn fault_matches(mutation: &str, error: &CvssError) -> bool {
    use CvssError as E;
    match mutation {
        "drop_base" => matches!(error, E::MissingBaseMetric { .. }),
        "duplicate" | "dup_conflict" => matches!(error, E::DuplicateMetric { .. }),
        "lowercase_key" | "lowercase_value" => matches!(error, E::WrongCase { .. }),
        "illegal_value" | "base_X" | "pr_U" => matches!(error, E::IllegalValue { .. }),
        "empty_value" => matches!(error, E::EmptyValue { .. }),
        "trailing_slash" => matches!(error, E::TrailingSlash),
        "unknown_metric" => matches!(error, E::UnknownMetric { .. }),
        // The mutation writes "CVSS3.1/", "cvss:3.1/", "/AV:...", "CVSS:3/" or "CVSS:3.2/": a
        // misspelt, missing or unsupported-version prefix.
        "bad_prefix" => matches!(
            error,
            E::BadPrefix { .. } | E::MissingPrefix | E::UnsupportedVersion { .. }
        ),
        "no_prefix" => matches!(error, E::MissingPrefix),
        "whitespace" => matches!(error, E::Whitespace),
        _ => false,
    }
}

#[test]
fn v3_validity() {
    // vector, verdict, mutation, base, temporal, environmental
    let file = "v3/first_calc31_validity.tsv";
    let mut check = Check::new(file);
    let (mut valid, mut invalid) = (0, 0);
    for (line, cols) in rows(file) {
        check.rows += 1;
        let (vector, verdict, mutation) = (&cols[0], cols[1].as_str(), cols[2].as_str());
        match verdict {
            "valid" => {
                valid += 1;
                // Drop the verdict and mutation columns to get the score-file layout.
                let scored = [&cols[0], &cols[3], &cols[4], &cols[5]].map(String::clone);
                check_v3_row(&mut check, line, &scored, false);
            }
            "invalid" => {
                invalid += 1;
                match Cvss::parse(vector) {
                    Ok(cvss) => check.fail(
                        line,
                        vector,
                        format!("{mutation}: accepted, score {}", cvss.score()),
                    ),
                    Err(e) if !fault_matches(mutation, &e) => {
                        check.fail(
                            line,
                            vector,
                            format!("{mutation}: refused for the wrong fault: {e}"),
                        );
                    }
                    Err(_) => {}
                }
            }
            other => panic!("line {line}: unknown verdict {other:?}"),
        }
    }
    eprintln!("{file}: {valid} valid, {invalid} invalid");
    check.finish();
}

#[test]
fn v4_scores() {
    // vector, score [, severity]: every file but first_reference_valid.tsv agrees with the
    // fixed rounding.
    for (file, has_severity) in [
        ("v4/rh_vectors_simple4.tsv", false),
        ("v4/rh_vectors_supplemental4.tsv", false),
        ("v4/rh_vectors_security4.tsv", false),
        ("v4/rh_vectors_threat4.tsv", false),
        ("v4/first_macro_scores.tsv", true),
        ("v4/first_doc_examples_v4.tsv", true),
    ] {
        let mut check = Check::new(file);
        for (line, cols) in rows(file) {
            check.rows += 1;
            let vector = &cols[0];
            let Some(cvss) = check.parse(line, vector) else {
                continue;
            };
            assert_version(&mut check, line, vector, &cvss);
            let want = score(&cols[1]);
            check.expect(line, vector, "score", cvss.score(), want);
            check.expect(
                line,
                vector,
                "severity",
                cvss.severity(),
                severity_for(want),
            );
            if has_severity {
                check.expect(
                    line,
                    vector,
                    "listed severity",
                    cvss.severity(),
                    severity(&cols[2]),
                );
            }
            check.expect(line, vector, "temporal", cvss.temporal_score(), None);
            check.expect(
                line,
                vector,
                "environmental",
                cvss.environmental_score(),
                None,
            );
            if file == "v4/rh_vectors_simple4.tsv" {
                check.expect(
                    line,
                    vector,
                    "base (base-only vector)",
                    cvss.base_score(),
                    want,
                );
                check.expect(
                    line,
                    vector,
                    "nomenclature",
                    cvss.nomenclature(),
                    Some("CVSS-B"),
                );
            }
        }
        check.finish();
    }
}

#[test]
fn v4_reference_valid() {
    // vector, first_score, first_severity, rh_fixed_score, rh_fixed_severity, macrovector
    let file = "v4/first_reference_valid.tsv";
    let mut check = Check::new(file);
    let mut differs_from_first = 0;
    for (line, cols) in rows(file) {
        check.rows += 1;
        let vector = &cols[0];
        let Some(cvss) = check.parse(line, vector) else {
            continue;
        };
        let (first, fixed) = (score(&cols[1]), score(&cols[3]));
        check.expect(line, vector, "rh_fixed_score", cvss.score(), fixed);
        check.expect(
            line,
            vector,
            "rh_fixed_severity",
            cvss.severity(),
            severity(&cols[4]),
        );
        check.expect(
            line,
            vector,
            "severity band",
            cvss.severity(),
            severity_for(fixed),
        );
        if fixed != first {
            differs_from_first += 1;
            // The README: the fix only ever adds 0.1 and never crosses a band.
            check.expect(
                line,
                vector,
                "fixed - first",
                ((fixed - first) * 10.0).round(),
                1.0,
            );
            check.expect(
                line,
                vector,
                "first band",
                severity(&cols[2]),
                cvss.severity(),
            );
        }
    }
    eprintln!(
        "{file}: fixed rounding differs from FIRST's published score on {differs_from_first} vectors"
    );
    assert_eq!(differs_from_first, 157, "the README counts 157 differences");
    check.finish();
}

#[test]
fn v4_reference_invalid_sample() {
    // One vector per line, every one invalid in FIRST's corpus.
    let file = "v4/first_reference_invalid_sample.txt";
    let mut check = Check::new(file);
    let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
    for (line, cols) in rows(file) {
        check.rows += 1;
        let vector = cols.join("\t");
        match Cvss::parse(&vector) {
            Ok(cvss) => check.fail(line, &vector, format!("accepted, score {}", cvss.score())),
            Err(e) => {
                let kind = format!("{e:?}");
                let kind = kind.split([' ', '{']).next().unwrap_or_default().to_owned();
                *kinds.entry(kind).or_default() += 1;
            }
        }
    }
    eprintln!("{file}: refused by kind: {kinds:?}");
    check.finish();
}
