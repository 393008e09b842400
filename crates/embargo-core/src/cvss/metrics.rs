//! The one table of CVSS metrics, per version: each metric's abbreviation, its name as
//! people read it, its property in the CVSS JSON schemas (which CVE JSON 5 and CSAF
//! embed), whether the base group requires it, and each legal value with its label and
//! schema word. Parsing, scoring, the calculator and every format read this table.

use super::Version;

/// One value a metric takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueDef {
    /// As the vector spells it, e.g. `N`.
    pub code: &'static str,
    /// As people read it, e.g. `Network`.
    pub label: &'static str,
    /// As the JSON schemas spell it, e.g. `NETWORK`.
    pub json: &'static str,
}

/// One metric a version defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    /// The abbreviation exactly as the specification spells it, e.g. `AV` (`Au` in 2.0).
    pub name: &'static str,
    /// As people read it, e.g. `Attack Vector`.
    pub label: &'static str,
    /// The property in the version's JSON schema, e.g. `attackVector`.
    pub json: &'static str,
    /// Whether the base group requires it.
    pub required: bool,
    /// Every legal value, in the specification's order.
    pub values: &'static [ValueDef],
}

const fn v(code: &'static str, label: &'static str, json: &'static str) -> ValueDef {
    ValueDef { code, label, json }
}

const fn base(
    name: &'static str,
    label: &'static str,
    json: &'static str,
    values: &'static [ValueDef],
) -> MetricDef {
    MetricDef {
        name,
        label,
        json,
        required: true,
        values,
    }
}

const fn more(
    name: &'static str,
    label: &'static str,
    json: &'static str,
    values: &'static [ValueDef],
) -> MetricDef {
    MetricDef {
        name,
        label,
        json,
        required: false,
        values,
    }
}

/// The metric groups of the specifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Base: the vulnerability itself.
    Base,
    /// Temporal (3.x): exploit maturity, remediation, confidence.
    Temporal,
    /// Threat (4.0): exploit maturity.
    Threat,
    /// Environmental: the user's requirements and modified base metrics.
    Environmental,
    /// Supplemental (4.0): extra information that does not change the score.
    Supplemental,
}

impl Group {
    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            Group::Base => "Base",
            Group::Temporal => "Temporal",
            Group::Threat => "Threat",
            Group::Environmental => "Environmental",
            Group::Supplemental => "Supplemental",
        }
    }
}

impl MetricDef {
    /// The group the metric belongs to in `version`.
    pub fn group(&self, version: Version) -> Group {
        let environmental = matches!(self.name, "CR" | "IR" | "AR" | "CDP" | "TD")
            || (self.name.starts_with('M') && self.name.len() > 1);
        match (self.required, self.name) {
            (true, _) => Group::Base,
            _ if environmental => Group::Environmental,
            (false, "E") if version == Version::V4_0 => Group::Threat,
            (false, "E" | "RL" | "RC") => Group::Temporal,
            _ if version == Version::V4_0 => Group::Supplemental,
            _ => Group::Temporal,
        }
    }

    /// The value a code names.
    pub fn value(&self, code: &str) -> Option<&'static ValueDef> {
        self.values.iter().find(|v| v.code == code)
    }
}

/// The metrics of a version, in the specification's order (3.0 and 3.1 share theirs).
pub fn metrics(version: Version) -> &'static [MetricDef] {
    match version {
        Version::V2 => V2,
        Version::V3_0 | Version::V3_1 => V3,
        Version::V4_0 => V4,
    }
}

/// The metrics a vector sets, by the JSON schemas' property names and values, in the
/// vector's order; a metric set to X (or ND) is NOT_DEFINED. Components that are not
/// metrics of the version (the `CVSS:3.1` prefix) are skipped.
pub fn json_properties(version: Version, vector: &str) -> Vec<(&'static str, &'static str)> {
    let table = metrics(version);
    vector
        .split('/')
        .filter_map(|component| component.split_once(':'))
        .filter_map(|(name, code)| {
            let metric = table.iter().find(|m| m.name == name)?;
            Some((metric.json, metric.value(code)?.json))
        })
        .collect()
}

const ND: ValueDef = v("ND", "Not Defined", "NOT_DEFINED");
const X: ValueDef = v("X", "Not Defined", "NOT_DEFINED");
const HIGH: ValueDef = v("H", "High", "HIGH");
const LOW: ValueDef = v("L", "Low", "LOW");
const NONE: ValueDef = v("N", "None", "NONE");
const MEDIUM: ValueDef = v("M", "Medium", "MEDIUM");

const V2_IMPACT: &[ValueDef] = &[
    NONE,
    v("P", "Partial", "PARTIAL"),
    v("C", "Complete", "COMPLETE"),
];
const V2_REQUIREMENT: &[ValueDef] = &[LOW, MEDIUM, HIGH, ND];

/// CVSS 2.0, in the guide's order; `Au` is the one mixed-case name.
pub(crate) const V2: &[MetricDef] = &[
    base(
        "AV",
        "Access Vector",
        "accessVector",
        &[
            v("L", "Local", "LOCAL"),
            v("A", "Adjacent Network", "ADJACENT_NETWORK"),
            v("N", "Network", "NETWORK"),
        ],
    ),
    base(
        "AC",
        "Access Complexity",
        "accessComplexity",
        &[HIGH, MEDIUM, LOW],
    ),
    base(
        "Au",
        "Authentication",
        "authentication",
        &[
            v("M", "Multiple", "MULTIPLE"),
            v("S", "Single", "SINGLE"),
            NONE,
        ],
    ),
    base(
        "C",
        "Confidentiality Impact",
        "confidentialityImpact",
        V2_IMPACT,
    ),
    base("I", "Integrity Impact", "integrityImpact", V2_IMPACT),
    base("A", "Availability Impact", "availabilityImpact", V2_IMPACT),
    more(
        "E",
        "Exploitability",
        "exploitability",
        &[
            v("U", "Unproven", "UNPROVEN"),
            v("POC", "Proof-of-Concept", "PROOF_OF_CONCEPT"),
            v("F", "Functional", "FUNCTIONAL"),
            HIGH,
            ND,
        ],
    ),
    more(
        "RL",
        "Remediation Level",
        "remediationLevel",
        &[
            v("OF", "Official Fix", "OFFICIAL_FIX"),
            v("TF", "Temporary Fix", "TEMPORARY_FIX"),
            v("W", "Workaround", "WORKAROUND"),
            v("U", "Unavailable", "UNAVAILABLE"),
            ND,
        ],
    ),
    more(
        "RC",
        "Report Confidence",
        "reportConfidence",
        &[
            v("UC", "Unconfirmed", "UNCONFIRMED"),
            v("UR", "Uncorroborated", "UNCORROBORATED"),
            v("C", "Confirmed", "CONFIRMED"),
            ND,
        ],
    ),
    more(
        "CDP",
        "Collateral Damage Potential",
        "collateralDamagePotential",
        &[
            NONE,
            LOW,
            v("LM", "Low-Medium", "LOW_MEDIUM"),
            v("MH", "Medium-High", "MEDIUM_HIGH"),
            HIGH,
            ND,
        ],
    ),
    more(
        "TD",
        "Target Distribution",
        "targetDistribution",
        &[NONE, LOW, MEDIUM, HIGH, ND],
    ),
    more(
        "CR",
        "Confidentiality Requirement",
        "confidentialityRequirement",
        V2_REQUIREMENT,
    ),
    more(
        "IR",
        "Integrity Requirement",
        "integrityRequirement",
        V2_REQUIREMENT,
    ),
    more(
        "AR",
        "Availability Requirement",
        "availabilityRequirement",
        V2_REQUIREMENT,
    ),
];

const V3_AV: &[ValueDef] = &[
    v("N", "Network", "NETWORK"),
    v("A", "Adjacent", "ADJACENT_NETWORK"),
    v("L", "Local", "LOCAL"),
    v("P", "Physical", "PHYSICAL"),
];
const V3_MAV: &[ValueDef] = &[
    X,
    v("N", "Network", "NETWORK"),
    v("A", "Adjacent", "ADJACENT_NETWORK"),
    v("L", "Local", "LOCAL"),
    v("P", "Physical", "PHYSICAL"),
];
const V3_IMPACT: &[ValueDef] = &[HIGH, LOW, NONE];
const V3_MODIFIED_IMPACT: &[ValueDef] = &[X, HIGH, LOW, NONE];
const REQUIREMENT: &[ValueDef] = &[X, HIGH, MEDIUM, LOW];

/// CVSS 3.0 and 3.1 (`PR:U` passes FIRST's calculators' regular expression but not their
/// weight check, so it is not listed).
pub(crate) const V3: &[MetricDef] = &[
    base("AV", "Attack Vector", "attackVector", V3_AV),
    base("AC", "Attack Complexity", "attackComplexity", &[LOW, HIGH]),
    base(
        "PR",
        "Privileges Required",
        "privilegesRequired",
        &[NONE, LOW, HIGH],
    ),
    base(
        "UI",
        "User Interaction",
        "userInteraction",
        &[NONE, v("R", "Required", "REQUIRED")],
    ),
    base(
        "S",
        "Scope",
        "scope",
        &[
            v("U", "Unchanged", "UNCHANGED"),
            v("C", "Changed", "CHANGED"),
        ],
    ),
    base("C", "Confidentiality", "confidentialityImpact", V3_IMPACT),
    base("I", "Integrity", "integrityImpact", V3_IMPACT),
    base("A", "Availability", "availabilityImpact", V3_IMPACT),
    more(
        "E",
        "Exploit Code Maturity",
        "exploitCodeMaturity",
        &[
            X,
            HIGH,
            v("F", "Functional", "FUNCTIONAL"),
            v("P", "Proof-of-Concept", "PROOF_OF_CONCEPT"),
            v("U", "Unproven", "UNPROVEN"),
        ],
    ),
    more(
        "RL",
        "Remediation Level",
        "remediationLevel",
        &[
            X,
            v("U", "Unavailable", "UNAVAILABLE"),
            v("W", "Workaround", "WORKAROUND"),
            v("T", "Temporary Fix", "TEMPORARY_FIX"),
            v("O", "Official Fix", "OFFICIAL_FIX"),
        ],
    ),
    more(
        "RC",
        "Report Confidence",
        "reportConfidence",
        &[
            X,
            v("C", "Confirmed", "CONFIRMED"),
            v("R", "Reasonable", "REASONABLE"),
            v("U", "Unknown", "UNKNOWN"),
        ],
    ),
    more(
        "CR",
        "Confidentiality Requirement",
        "confidentialityRequirement",
        REQUIREMENT,
    ),
    more(
        "IR",
        "Integrity Requirement",
        "integrityRequirement",
        REQUIREMENT,
    ),
    more(
        "AR",
        "Availability Requirement",
        "availabilityRequirement",
        REQUIREMENT,
    ),
    more(
        "MAV",
        "Modified Attack Vector",
        "modifiedAttackVector",
        V3_MAV,
    ),
    more(
        "MAC",
        "Modified Attack Complexity",
        "modifiedAttackComplexity",
        &[X, LOW, HIGH],
    ),
    more(
        "MPR",
        "Modified Privileges Required",
        "modifiedPrivilegesRequired",
        &[X, NONE, LOW, HIGH],
    ),
    more(
        "MUI",
        "Modified User Interaction",
        "modifiedUserInteraction",
        &[X, NONE, v("R", "Required", "REQUIRED")],
    ),
    more(
        "MS",
        "Modified Scope",
        "modifiedScope",
        &[
            X,
            v("U", "Unchanged", "UNCHANGED"),
            v("C", "Changed", "CHANGED"),
        ],
    ),
    more(
        "MC",
        "Modified Confidentiality",
        "modifiedConfidentialityImpact",
        V3_MODIFIED_IMPACT,
    ),
    more(
        "MI",
        "Modified Integrity",
        "modifiedIntegrityImpact",
        V3_MODIFIED_IMPACT,
    ),
    more(
        "MA",
        "Modified Availability",
        "modifiedAvailabilityImpact",
        V3_MODIFIED_IMPACT,
    ),
];

const V4_AV: &[ValueDef] = &[
    v("N", "Network", "NETWORK"),
    v("A", "Adjacent", "ADJACENT"),
    v("L", "Local", "LOCAL"),
    v("P", "Physical", "PHYSICAL"),
];
const V4_MAV: &[ValueDef] = &[
    X,
    v("N", "Network", "NETWORK"),
    v("A", "Adjacent", "ADJACENT"),
    v("L", "Local", "LOCAL"),
    v("P", "Physical", "PHYSICAL"),
];
const V4_IMPACT: &[ValueDef] = &[HIGH, LOW, NONE];
const V4_MODIFIED_IMPACT: &[ValueDef] = &[X, HIGH, LOW, NONE];
const V4_MODIFIED_SUBSEQUENT: &[ValueDef] = &[X, v("S", "Safety", "SAFETY"), HIGH, LOW, NONE];
const V4_AT: &[ValueDef] = &[NONE, v("P", "Present", "PRESENT")];
const V4_UI: &[ValueDef] = &[
    NONE,
    v("P", "Passive", "PASSIVE"),
    v("A", "Active", "ACTIVE"),
];

/// CVSS 4.0, in the specification's order, which vectors must follow.
pub(crate) const V4: &[MetricDef] = &[
    // Base.
    base("AV", "Attack Vector", "attackVector", V4_AV),
    base("AC", "Attack Complexity", "attackComplexity", &[LOW, HIGH]),
    base("AT", "Attack Requirements", "attackRequirements", V4_AT),
    base(
        "PR",
        "Privileges Required",
        "privilegesRequired",
        &[NONE, LOW, HIGH],
    ),
    base("UI", "User Interaction", "userInteraction", V4_UI),
    base(
        "VC",
        "Vulnerable System Confidentiality",
        "vulnConfidentialityImpact",
        V4_IMPACT,
    ),
    base(
        "VI",
        "Vulnerable System Integrity",
        "vulnIntegrityImpact",
        V4_IMPACT,
    ),
    base(
        "VA",
        "Vulnerable System Availability",
        "vulnAvailabilityImpact",
        V4_IMPACT,
    ),
    base(
        "SC",
        "Subsequent System Confidentiality",
        "subConfidentialityImpact",
        V4_IMPACT,
    ),
    base(
        "SI",
        "Subsequent System Integrity",
        "subIntegrityImpact",
        V4_IMPACT,
    ),
    base(
        "SA",
        "Subsequent System Availability",
        "subAvailabilityImpact",
        V4_IMPACT,
    ),
    // Threat.
    more(
        "E",
        "Exploit Maturity",
        "exploitMaturity",
        &[
            X,
            v("A", "Attacked", "ATTACKED"),
            v("P", "Proof-of-Concept", "PROOF_OF_CONCEPT"),
            v("U", "Unreported", "UNREPORTED"),
        ],
    ),
    // Environmental.
    more(
        "CR",
        "Confidentiality Requirement",
        "confidentialityRequirement",
        REQUIREMENT,
    ),
    more(
        "IR",
        "Integrity Requirement",
        "integrityRequirement",
        REQUIREMENT,
    ),
    more(
        "AR",
        "Availability Requirement",
        "availabilityRequirement",
        REQUIREMENT,
    ),
    more(
        "MAV",
        "Modified Attack Vector",
        "modifiedAttackVector",
        V4_MAV,
    ),
    more(
        "MAC",
        "Modified Attack Complexity",
        "modifiedAttackComplexity",
        &[X, LOW, HIGH],
    ),
    more(
        "MAT",
        "Modified Attack Requirements",
        "modifiedAttackRequirements",
        &[X, NONE, v("P", "Present", "PRESENT")],
    ),
    more(
        "MPR",
        "Modified Privileges Required",
        "modifiedPrivilegesRequired",
        &[X, NONE, LOW, HIGH],
    ),
    more(
        "MUI",
        "Modified User Interaction",
        "modifiedUserInteraction",
        &[
            X,
            NONE,
            v("P", "Passive", "PASSIVE"),
            v("A", "Active", "ACTIVE"),
        ],
    ),
    more(
        "MVC",
        "Modified Vulnerable System Confidentiality",
        "modifiedVulnConfidentialityImpact",
        V4_MODIFIED_IMPACT,
    ),
    more(
        "MVI",
        "Modified Vulnerable System Integrity",
        "modifiedVulnIntegrityImpact",
        V4_MODIFIED_IMPACT,
    ),
    more(
        "MVA",
        "Modified Vulnerable System Availability",
        "modifiedVulnAvailabilityImpact",
        V4_MODIFIED_IMPACT,
    ),
    more(
        "MSC",
        "Modified Subsequent System Confidentiality",
        "modifiedSubConfidentialityImpact",
        V4_MODIFIED_IMPACT,
    ),
    more(
        "MSI",
        "Modified Subsequent System Integrity",
        "modifiedSubIntegrityImpact",
        V4_MODIFIED_SUBSEQUENT,
    ),
    more(
        "MSA",
        "Modified Subsequent System Availability",
        "modifiedSubAvailabilityImpact",
        V4_MODIFIED_SUBSEQUENT,
    ),
    // Supplemental: never scored.
    more(
        "S",
        "Safety",
        "Safety",
        &[
            X,
            v("N", "Negligible", "NEGLIGIBLE"),
            v("P", "Present", "PRESENT"),
        ],
    ),
    more(
        "AU",
        "Automatable",
        "Automatable",
        &[X, v("N", "No", "NO"), v("Y", "Yes", "YES")],
    ),
    more(
        "R",
        "Recovery",
        "Recovery",
        &[
            X,
            v("A", "Automatic", "AUTOMATIC"),
            v("U", "User", "USER"),
            v("I", "Irrecoverable", "IRRECOVERABLE"),
        ],
    ),
    more(
        "V",
        "Value Density",
        "valueDensity",
        &[
            X,
            v("D", "Diffuse", "DIFFUSE"),
            v("C", "Concentrated", "CONCENTRATED"),
        ],
    ),
    more(
        "RE",
        "Vulnerability Response Effort",
        "vulnerabilityResponseEffort",
        &[X, LOW, v("M", "Moderate", "MODERATE"), HIGH],
    ),
    more(
        "U",
        "Provider Urgency",
        "providerUrgency",
        &[
            X,
            v("Clear", "Clear", "CLEAR"),
            v("Green", "Green", "GREEN"),
            v("Amber", "Amber", "AMBER"),
            v("Red", "Red", "RED"),
        ],
    ),
];
