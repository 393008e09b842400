//! The CVSS calculator of the case page: a button per metric value for the base metrics
//! of 3.1 and 4.0. A plain submit scores on the server; with JavaScript, every change is
//! scored live by the same scorer through `/desk/cvss`.

use std::collections::HashMap;

use axum::extract::{Query, State as AxumState};
use axum::response::{IntoResponse, Response};
use embargo_core::cvss::Cvss;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::web::PageError;
use crate::web::auth::Member;

/// A metric: its abbreviation, its name, and its values with their names.
struct Metric {
    key: &'static str,
    name: &'static str,
    values: &'static [(&'static str, &'static str)],
}

const IMPACT: &[(&str, &str)] = &[("H", "High"), ("L", "Low"), ("N", "None")];
const ATTACK_VECTOR: &[(&str, &str)] = &[
    ("N", "Network"),
    ("A", "Adjacent"),
    ("L", "Local"),
    ("P", "Physical"),
];
const PRIVILEGES: &[(&str, &str)] = &[("N", "None"), ("L", "Low"), ("H", "High")];
const COMPLEXITY: &[(&str, &str)] = &[("L", "Low"), ("H", "High")];

const V3_1: &[Metric] = &[
    Metric {
        key: "AV",
        name: "Attack Vector",
        values: ATTACK_VECTOR,
    },
    Metric {
        key: "AC",
        name: "Attack Complexity",
        values: COMPLEXITY,
    },
    Metric {
        key: "PR",
        name: "Privileges Required",
        values: PRIVILEGES,
    },
    Metric {
        key: "UI",
        name: "User Interaction",
        values: &[("N", "None"), ("R", "Required")],
    },
    Metric {
        key: "S",
        name: "Scope",
        values: &[("U", "Unchanged"), ("C", "Changed")],
    },
    Metric {
        key: "C",
        name: "Confidentiality",
        values: IMPACT,
    },
    Metric {
        key: "I",
        name: "Integrity",
        values: IMPACT,
    },
    Metric {
        key: "A",
        name: "Availability",
        values: IMPACT,
    },
];

const V4_0: &[Metric] = &[
    Metric {
        key: "AV",
        name: "Attack Vector",
        values: ATTACK_VECTOR,
    },
    Metric {
        key: "AC",
        name: "Attack Complexity",
        values: COMPLEXITY,
    },
    Metric {
        key: "AT",
        name: "Attack Requirements",
        values: &[("N", "None"), ("P", "Present")],
    },
    Metric {
        key: "PR",
        name: "Privileges Required",
        values: PRIVILEGES,
    },
    Metric {
        key: "UI",
        name: "User Interaction",
        values: &[("N", "None"), ("P", "Passive"), ("A", "Active")],
    },
    Metric {
        key: "VC",
        name: "Vulnerable System Confidentiality",
        values: IMPACT,
    },
    Metric {
        key: "VI",
        name: "Vulnerable System Integrity",
        values: IMPACT,
    },
    Metric {
        key: "VA",
        name: "Vulnerable System Availability",
        values: IMPACT,
    },
    Metric {
        key: "SC",
        name: "Subsequent System Confidentiality",
        values: IMPACT,
    },
    Metric {
        key: "SI",
        name: "Subsequent System Integrity",
        values: IMPACT,
    },
    Metric {
        key: "SA",
        name: "Subsequent System Availability",
        values: IMPACT,
    },
];

/// Whether the calculator offers this version.
pub fn known(version: &str) -> bool {
    metrics(version).is_some()
}

/// The two versions the calculator offers.
fn metrics(version: &str) -> Option<&'static [Metric]> {
    match version {
        "3.1" => Some(V3_1),
        "4.0" => Some(V4_0),
        _ => None,
    }
}

/// The metrics of a vector, by abbreviation, and its version.
fn split(vector: &str) -> (String, Vec<(String, String)>) {
    let mut parts = vector.split('/');
    let version = parts
        .next()
        .and_then(|p| p.strip_prefix("CVSS:"))
        .unwrap_or_default()
        .to_owned();
    let pairs = parts
        .filter_map(|p| p.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    (version, pairs)
}

/// The calculator's form fields: the version, a value per base metric, and whatever
/// else the stored vector had (temporal or environmental metrics), kept as it was.
#[derive(Deserialize, Default)]
pub struct Fields {
    pub version: Option<String>,
    pub extra: Option<String>,
    #[serde(flatten)]
    pub chosen: HashMap<String, String>,
}

/// Builds the vector the form describes, or says which metric is missing.
pub fn vector_from(fields: &Fields) -> Result<String, String> {
    let version = fields.version.as_deref().unwrap_or("3.1");
    let metrics = metrics(version)
        .ok_or_else(|| format!("CVSS {version} has no calculator; use 3.1 or 4.0"))?;
    let mut vector = format!("CVSS:{version}");
    for m in metrics {
        let value = fields
            .chosen
            .get(&format!("m_{}", m.key))
            .filter(|v| m.values.iter().any(|(code, _)| code == v))
            .ok_or_else(|| format!("choose a value for {}", m.name))?;
        vector.push_str(&format!("/{}:{value}", m.key));
    }
    if let Some(extra) = fields
        .extra
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        vector.push('/');
        vector.push_str(extra);
    }
    Ok(vector)
}

/// The calculator, preset from `vector` (the stored one, or the one just scored).
pub fn render(
    case_ref: &str,
    csrf: &str,
    version: &str,
    vector: Option<&str>,
    outcome: Option<&Result<Cvss, String>>,
) -> Markup {
    let (vector_version, pairs) = vector.map(split).unwrap_or_default();
    let metrics = metrics(version).unwrap_or(V3_1);
    let same_version = vector_version == version;
    let value_of = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| same_version && k == key)
            .map(|(_, v)| v.as_str())
    };
    let extra: Vec<String> = if same_version {
        pairs
            .iter()
            .filter(|(k, _)| !metrics.iter().any(|m| m.key == k))
            .map(|(k, v)| format!("{k}:{v}"))
            .collect()
    } else {
        Vec::new()
    };
    let order: Vec<&str> = metrics.iter().map(|m| m.key).collect();
    html! {
        p.versions {
            "Version: "
            @for v in ["3.1", "4.0"] {
                @if v == version { strong { "CVSS " (v) } } @else { a href={ "/desk/cases/" (case_ref) "?calc=" (v) "#cvss" } { "CVSS " (v) } }
                " "
            }
        }
        form #cvss-calculator.calculator method="post" action={ "/desk/cases/" (case_ref) "/cvss" } data-version=(version) data-order=(order.join(",")) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="version" value=(version);
            input type="hidden" name="extra" value=(extra.join("/"));
            div.metrics {
                @for m in metrics {
                    fieldset.metric {
                        legend { (m.name) " (" (m.key) ")" }
                        @for (code, label) in m.values {
                            @let id = format!("m-{}-{}", m.key, code);
                            input type="radio" id=(id) name={ "m_" (m.key) } value=(code) checked[value_of(m.key) == Some(*code)];
                            label for=(id) { (label) }
                        }
                    }
                }
            }
            div.score-line aria-live="polite" {
                span { "Vector: " output #cvss-vector { @match outcome { Some(Ok(c)) => (c.vector()), _ => (vector.filter(|_| same_version).unwrap_or("choose every metric")) } } }
                span { "Score: " output #cvss-score { @match outcome { Some(Ok(c)) => { (format!("{:.1}", c.score())) " " (c.severity()) }, Some(Err(e)) => (e), None => "not scored" } } }
            }
            div.actions {
                button type="submit" name="intent" value="score" { "Score" }
                button type="submit" name="intent" value="save" { "Save the score" }
            }
        }
    }
}

/// What the live calculator asks.
#[derive(Deserialize)]
pub struct ScoreQuery {
    vector: String,
}

/// The live calculator's answer.
#[derive(Serialize)]
struct Scored {
    vector: String,
    score: String,
    severity: String,
}

/// Scores a vector for the live calculator (signed-in members only).
pub async fn score(
    AxumState(_state): AxumState<AppState>,
    _member: Member,
    Query(q): Query<ScoreQuery>,
) -> Result<Response, PageError> {
    match Cvss::parse(&q.vector) {
        Ok(c) => Ok(axum::Json(Scored {
            vector: c.vector().to_owned(),
            score: format!("{:.1}", c.score()),
            severity: c.severity().to_string(),
        })
        .into_response()),
        Err(e) => Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({ "error": e.to_string() })),
        )
            .into_response()),
    }
}
