//! CVSS 2.0, read for old records: base, temporal and environmental scores per the FIRST v2
//! guide.
//!
//! The guide's equations are evaluated in exact decimal arithmetic, as the Red Hat reference
//! implementation does (Python `Decimal`, 28 digits, which every v2 intermediate fits in).
//! Binary floating point lands just below some half-way points: `AV:N/AC:L/Au:S/C:C/I:C/A:C/
//! E:F/RL:U/RC:C` has temporal 9.0 × 0.95 = 8.55 exactly, which rounds half up to 8.6, but the
//! f64 product is 8.5499… and rounds to 8.5.

use super::vector::{MetricDef, Order, Values, parse_metrics};
use super::{CvssError, Version};

/// The metrics, from the one table.
pub(crate) const TABLE: &[MetricDef] = super::metrics::V2;

const AV: usize = 0;
const AC: usize = 1;
const AU: usize = 2;
const C: usize = 3;
const I: usize = 4;
const A: usize = 5;
const E: usize = 6;
const RL: usize = 7;
const RC: usize = 8;
const CDP: usize = 9;
const TD: usize = 10;
const CR: usize = 11;
const IR: usize = 12;
const AR: usize = 13;

/// The three CVSS 2.0 scores; a group is `None` when the vector gives none of its metrics (or
/// gives them all as `ND`), as the Red Hat reference reports it.
pub(crate) struct Scores {
    pub base: f64,
    pub temporal: Option<f64>,
    pub environmental: Option<f64>,
}

/// Checks a bare CVSS 2.0 vector (any metric order) and scores it.
pub(crate) fn parse(text: &str) -> Result<Scores, CvssError> {
    let values = parse_metrics(text, TABLE, Order::Any, Version::V2)?;
    Ok(score(&values))
}

/// A non-negative decimal `mantissa / 10^scale`, exact for every value the v2 equations reach
/// (at most 21 decimals and 23 significant digits, far inside `i128`).
#[derive(Clone, Copy, Debug)]
struct Dec {
    mantissa: i128,
    scale: u32,
}

impl Dec {
    const fn new(mantissa: i128, scale: u32) -> Self {
        Self { mantissa, scale }
    }

    fn mul(self, other: Self) -> Self {
        Self::new(self.mantissa * other.mantissa, self.scale + other.scale)
    }

    /// Both mantissas at the larger scale.
    fn aligned(self, other: Self) -> (i128, i128, u32) {
        let scale = self.scale.max(other.scale);
        (
            self.mantissa * 10_i128.pow(scale - self.scale),
            other.mantissa * 10_i128.pow(scale - other.scale),
            scale,
        )
    }

    fn add(self, other: Self) -> Self {
        let (a, b, scale) = self.aligned(other);
        Self::new(a + b, scale)
    }

    fn sub(self, other: Self) -> Self {
        let (a, b, scale) = self.aligned(other);
        Self::new(a - b, scale)
    }

    fn min(self, other: Self) -> Self {
        let (a, b, _) = self.aligned(other);
        if b < a { other } else { self }
    }

    fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// Rounds to one decimal, half away from zero (Python's `ROUND_HALF_UP`).
    fn round1(self) -> Self {
        if self.scale <= 1 {
            return Self::new(self.mantissa * 10_i128.pow(1 - self.scale), 1);
        }
        let unit = 10_i128.pow(self.scale - 1);
        let quotient = self.mantissa / unit;
        let remainder = self.mantissa % unit;
        let rounded = if 2 * remainder.abs() >= unit {
            quotient + self.mantissa.signum()
        } else {
            quotient
        };
        Self::new(rounded, 1)
    }

    /// A one-decimal value as f64, with negatives (and -0) clamped to 0 as the reference does.
    fn to_score(self) -> f64 {
        let tenths = self.round1().mantissa.max(0);
        // At most 100 tenths, exact in f64; dividing gives the f64 nearest to x.y.
        tenths as f64 / 10.0
    }
}

const ZERO: Dec = Dec::new(0, 0);
const ONE: Dec = Dec::new(1, 0);
const TEN: Dec = Dec::new(10, 0);

/// The guide's weight for a metric's value; absent metrics weigh as `ND`.
fn weight(values: &Values, metric: usize) -> Dec {
    let value = values.get(metric).copied().flatten().unwrap_or("ND");
    match (metric, value) {
        (AV, "L") => Dec::new(395, 3),
        (AV, "A") => Dec::new(646, 3),
        (AV, "N") => ONE,
        (AC, "H") => Dec::new(35, 2),
        (AC, "M") => Dec::new(61, 2),
        (AC, "L") => Dec::new(71, 2),
        (AU, "M") => Dec::new(45, 2),
        (AU, "S") => Dec::new(56, 2),
        (AU, "N") => Dec::new(704, 3),
        (C | I | A, "P") => Dec::new(275, 3),
        (C | I | A, "C") => Dec::new(660, 3),
        (E, "U") => Dec::new(85, 2),
        (E, "POC") => Dec::new(9, 1),
        (E, "F") | (RL, "W") | (RC, "UR") => Dec::new(95, 2),
        (RL, "OF") => Dec::new(87, 2),
        (RL, "TF") | (RC, "UC") => Dec::new(90, 2),
        (CDP, "L") => Dec::new(1, 1),
        (CDP, "LM") => Dec::new(3, 1),
        (CDP, "MH") => Dec::new(4, 1),
        (CDP, "H") | (CR | IR | AR, "L") => Dec::new(5, 1),
        (TD, "L") => Dec::new(25, 2),
        (TD, "M") => Dec::new(75, 2),
        (CR | IR | AR, "H") => Dec::new(151, 2),
        // C/I/A "N", CDP "N"/"ND" and TD "N" weigh nothing.
        (C | I | A | CDP, _) | (TD, "N") => ZERO,
        // Everything left is "H", "U", "C", "M" or "ND" of a multiplier: 1.
        _ => ONE,
    }
}

/// Whether any metric of a group is given with a value other than `ND`.
fn group_given(values: &Values, group: &[usize]) -> bool {
    group
        .iter()
        .any(|m| values.get(*m).copied().flatten().is_some_and(|v| v != "ND"))
}

/// `round_to_1_decimal(((0.6*Impact)+(0.4*Exploitability)-1.5)*f(Impact))`
fn base_equation(values: &Values, impact: Dec) -> Dec {
    let exploitability = Dec::new(20, 0)
        .mul(weight(values, AV))
        .mul(weight(values, AC))
        .mul(weight(values, AU));
    let f_impact = if impact.is_zero() {
        ZERO
    } else {
        Dec::new(1176, 3)
    };
    Dec::new(6, 1)
        .mul(impact)
        .add(Dec::new(4, 1).mul(exploitability))
        .sub(Dec::new(15, 1))
        .mul(f_impact)
        .round1()
}

/// `round_to_1_decimal(BaseScore*Exploitability*RemediationLevel*ReportConfidence)`
fn temporal_equation(values: &Values, base: Dec) -> Dec {
    base.mul(weight(values, E))
        .mul(weight(values, RL))
        .mul(weight(values, RC))
        .round1()
}

fn score(values: &Values) -> Scores {
    let impact = Dec::new(1041, 2).mul(
        ONE.sub(
            ONE.sub(weight(values, C))
                .mul(ONE.sub(weight(values, I)))
                .mul(ONE.sub(weight(values, A))),
        ),
    );
    let base = base_equation(values, impact);

    let temporal =
        group_given(values, &[E, RL, RC]).then(|| temporal_equation(values, base).to_score());

    let environmental = group_given(values, &[CDP, TD, CR, IR, AR]).then(|| {
        let adjusted_impact = TEN.min(
            Dec::new(1041, 2).mul(
                ONE.sub(
                    ONE.sub(weight(values, C).mul(weight(values, CR)))
                        .mul(ONE.sub(weight(values, I).mul(weight(values, IR))))
                        .mul(ONE.sub(weight(values, A).mul(weight(values, AR)))),
                ),
            ),
        );
        let adjusted_temporal = temporal_equation(values, base_equation(values, adjusted_impact));
        adjusted_temporal
            .add(TEN.sub(adjusted_temporal).mul(weight(values, CDP)))
            .mul(weight(values, TD))
            .to_score()
    });

    Scores {
        base: base.to_score(),
        temporal,
        environmental,
    }
}
