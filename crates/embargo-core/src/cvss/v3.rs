//! CVSS 3.0 and 3.1: base, temporal and environmental scores computed step for step as FIRST's
//! `cvsscalc30.js` and `cvsscalc31.js` compute them.
//!
//! The calculators work in IEEE-754 doubles, and their rounding (3.0: `Math.ceil(x*10)/10`)
//! depends on the exact bits of each intermediate, so the operations below keep the
//! calculators' order of evaluation; reordering a product can move a score by 0.1.

use super::vector::{MetricDef, Order, Values, parse_metrics};
use super::{CvssError, Version};

/// The metrics, from the one table.
pub(crate) const TABLE: &[MetricDef] = super::metrics::V3;

const AV: usize = 0;
const AC: usize = 1;
const PR: usize = 2;
const UI: usize = 3;
const S: usize = 4;
const C: usize = 5;
const I: usize = 6;
const A: usize = 7;
const E: usize = 8;
const RL: usize = 9;
const RC: usize = 10;
const CR: usize = 11;
const IR: usize = 12;
const AR: usize = 13;
/// Each modified metric sits this many places after the base metric it modifies.
const MODIFIED_OFFSET: usize = 14;

const EXPLOITABILITY_COEFFICIENT: f64 = 8.22;
const SCOPE_COEFFICIENT: f64 = 1.08;

/// The three CVSS 3.x scores (FIRST always reports all three).
pub(crate) struct Scores {
    pub base: f64,
    pub temporal: f64,
    pub environmental: f64,
}

/// Which calculator's formulas apply.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Minor {
    /// `cvsscalc30.js`
    Zero,
    /// `cvsscalc31.js`
    One,
}

/// Checks the part of a 3.x vector after its prefix (any metric order, as FIRST accepts) and
/// scores it.
pub(crate) fn parse(body: &str, minor: Minor) -> Result<Scores, CvssError> {
    let version = match minor {
        Minor::Zero => Version::V3_0,
        Minor::One => Version::V3_1,
    };
    let values = parse_metrics(body, TABLE, Order::Any, version)?;
    Ok(score(&Metrics(values), minor))
}

/// Parsed values with the calculators' defaulting rules.
struct Metrics(Values);

impl Metrics {
    /// The value given, or "X" (Not Defined) for an optional metric left out.
    fn get(&self, metric: usize) -> &'static str {
        self.0.get(metric).copied().flatten().unwrap_or("X")
    }

    /// A modified metric's value, falling back to its base metric when Not Defined.
    fn modified(&self, base_metric: usize) -> &'static str {
        match self.get(base_metric + MODIFIED_OFFSET) {
            "X" => self.get(base_metric),
            value => value,
        }
    }
}

/// The calculators' `Weight` table. `metric` is a base metric (modified metrics use their base
/// metric's weights) and `scope` is the scope PR is weighed under.
fn weight(metric: usize, value: &str, scope: &str) -> f64 {
    match (metric, value) {
        (AV, "N") | (PR, "N") | (UI, "N") => 0.85,
        (AV, "A") => 0.62,
        (AV, "L") => 0.55,
        (AV, "P") => 0.2,
        (AC, "H") => 0.44,
        (AC, "L") => 0.77,
        (PR, "L") if scope == "C" => 0.68,
        (PR, "L") => 0.62,
        (PR, "H") if scope == "C" => 0.5,
        (PR, "H") => 0.27,
        (UI, "R") => 0.62,
        (S, "U") => 6.42,
        (S, "C") => 7.52,
        (C | I | A, "H") => 0.56,
        (C | I | A, "L") => 0.22,
        (C | I | A, _) => 0.0,
        (E, "U") => 0.91,
        (E, "P") => 0.94,
        (E, "F") | (RL, "W") => 0.97,
        (RL, "O") => 0.95,
        (RL, "T") | (RC, "R") => 0.96,
        (RC, "U") => 0.92,
        (CR | IR | AR, "L") => 0.5,
        (CR | IR | AR, "H") => 1.5,
        // X, and the values that weigh 1 (E:H, RL:U, RC:C, CR/IR/AR:M).
        _ => 1.0,
    }
}

/// `Roundup`: 3.0 is `Math.ceil(x*10)/10`; 3.1 rounds in integers to shed float noise.
fn round_up(input: f64, minor: Minor) -> f64 {
    match minor {
        Minor::Zero => (input * 10.0).ceil() / 10.0,
        Minor::One => {
            // JS Math.round rounds halves up; for the non-negative inputs here f64::round
            // (halves away from zero) agrees.
            let int_input = (input * 100_000.0).round();
            if int_input % 10_000.0 == 0.0 {
                int_input / 100_000.0
            } else {
                ((int_input / 10_000.0).floor() + 1.0) / 10.0
            }
        }
    }
}

fn score(m: &Metrics, minor: Minor) -> Scores {
    let scope = m.get(S);
    let w = |metric: usize| weight(metric, m.get(metric), scope);

    // Base.
    let iss = 1.0 - ((1.0 - w(C)) * (1.0 - w(I)) * (1.0 - w(A)));
    let impact = if scope == "U" {
        w(S) * iss
    } else {
        w(S) * (iss - 0.029) - 3.25 * (iss - 0.02).powf(15.0)
    };
    let exploitability = EXPLOITABILITY_COEFFICIENT * w(AV) * w(AC) * w(PR) * w(UI);
    let base = if impact <= 0.0 {
        0.0
    } else if scope == "U" {
        round_up((exploitability + impact).min(10.0), minor)
    } else {
        round_up(
            (SCOPE_COEFFICIENT * (exploitability + impact)).min(10.0),
            minor,
        )
    };

    // Temporal.
    let temporal_factor = |score: f64| score * w(E) * w(RL) * w(RC);
    let temporal = round_up(temporal_factor(base), minor);

    // Environmental.
    let modified_scope = m.modified(S);
    let mw = |metric: usize| weight(metric, m.modified(metric), modified_scope);
    let miss =
        (1.0 - ((1.0 - mw(C) * w(CR)) * (1.0 - mw(I) * w(IR)) * (1.0 - mw(A) * w(AR)))).min(0.915);
    let modified_impact = if modified_scope == "U" {
        mw(S) * miss
    } else {
        match minor {
            Minor::Zero => mw(S) * (miss - 0.029) - 3.25 * (miss - 0.02).powf(15.0),
            Minor::One => mw(S) * (miss - 0.029) - 3.25 * (miss * 0.9731 - 0.02).powf(13.0),
        }
    };
    let modified_exploitability = EXPLOITABILITY_COEFFICIENT * mw(AV) * mw(AC) * mw(PR) * mw(UI);
    let environmental = if modified_impact <= 0.0 {
        0.0
    } else if modified_scope == "U" {
        let adjusted = round_up((modified_impact + modified_exploitability).min(10.0), minor);
        round_up(temporal_factor(adjusted), minor)
    } else {
        let adjusted = round_up(
            (SCOPE_COEFFICIENT * (modified_impact + modified_exploitability)).min(10.0),
            minor,
        );
        round_up(temporal_factor(adjusted), minor)
    };

    Scores {
        base,
        temporal,
        environmental,
    }
}
