//! The CVSS calculator of the case page: a button per metric value for every metric
//! group of 3.1 (base, temporal, environmental) and 4.0 (base, threat, environmental,
//! supplemental); the groups after the base start "Not Defined" (X) and fold away. A
//! plain submit scores on the server; with JavaScript, every change is scored live by the
//! same scorer through `/desk/cvss`.

use std::collections::HashMap;

use axum::extract::{Query, State as AxumState};
use axum::response::{IntoResponse, Response};
use embargo_core::cvss::{self, Cvss, MetricDef, Version};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::web::PageError;
use crate::web::auth::Member;

/// Whether the calculator offers this version.
pub fn known(version: &str) -> bool {
    metrics(version).is_some()
}

fn version_of(version: &str) -> Option<Version> {
    match version {
        "3.1" => Some(Version::V3_1),
        "4.0" => Some(Version::V4_0),
        _ => None,
    }
}

/// Every metric of the two versions the calculator offers, from core's one table.
fn metrics(version: &str) -> Option<Vec<&'static MetricDef>> {
    Some(cvss::metrics(version_of(version)?).iter().collect())
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
            .get(&format!("m_{}", m.name))
            .filter(|v| m.value(v).is_some());
        match value {
            Some(value) if m.required || value != "X" => {
                vector.push_str(&format!("/{}:{value}", m.name))
            }
            // Not Defined: left out of the vector, as the specification writes it.
            Some(_) => {}
            None if m.required => return Err(format!("choose a value for {}", m.label)),
            None => {}
        }
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
    let metrics = metrics(version)
        .or_else(|| metrics("3.1"))
        .unwrap_or_default();
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
            .filter(|(k, _)| !metrics.iter().any(|m| m.name == k))
            .map(|(k, v)| format!("{k}:{v}"))
            .collect()
    } else {
        Vec::new()
    };
    let order: Vec<&str> = metrics.iter().map(|m| m.name).collect();
    let version_enum = version_of(version).unwrap_or(Version::V3_1);
    let mut groups: Vec<(cvss::Group, Vec<&MetricDef>)> = Vec::new();
    for m in &metrics {
        let group = m.group(version_enum);
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, list)) => list.push(m),
            None => groups.push((group, vec![m])),
        }
    }
    // An optional metric the vector does not give is Not Defined.
    let chosen = |m: &MetricDef| value_of(m.name).or((!m.required).then_some("X"));
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
            @for (group, list) in &groups {
                @let fields = html! {
                    div.metrics {
                        @for m in list {
                            fieldset.metric {
                                legend { (m.label) " (" (m.name) ")" }
                                @for value in m.values {
                                    @let id = format!("m-{}-{}", m.name, value.code);
                                    input type="radio" id=(id) name={ "m_" (m.name) } value=(value.code) checked[chosen(m) == Some(value.code)];
                                    label for=(id) { (value.label) }
                                }
                            }
                        }
                    }
                };
                @if *group == cvss::Group::Base {
                    (fields)
                } @else {
                    @let open = list.iter().any(|m| value_of(m.name).is_some_and(|v| v != "X"));
                    details.metric-group open[open] {
                        summary { (group.label()) " metrics" }
                        (fields)
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
