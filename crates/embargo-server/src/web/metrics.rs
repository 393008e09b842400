//! The process review page: a project's or organisation's figures over a period, with
//! charts. The figures are the same the metrics API and `embargo report` give.

use axum::extract::{Query, State as AxumState};
use axum::response::Response;
use embargo_core::reference::ProjectKey;
use embargo_core::review::Duration;
use embargo_store::Scope;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use crate::AppState;
use crate::api::review::when;
use crate::web::PageError;
use crate::web::auth::Member;
use crate::web::charts::{self, Bar};
use crate::web::form::given;
use crate::web::layout;

/// What the page shows.
#[derive(Deserialize, Default)]
pub struct MetricsQuery {
    project: Option<String>,
    org: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn span(value: Option<f64>) -> String {
    value
        .map(embargo_core::clocks::span_in_words)
        .unwrap_or_else(|| "–".into())
}

/// The unit that reads best for the longest of `days`, as the tables read them: minutes
/// under an hour, hours under two days, days beyond; with the factor from days.
fn time_unit(days: &[f64]) -> (&'static str, f64) {
    let longest = days.iter().copied().fold(0.0_f64, f64::max);
    if longest * 24.0 < 1.0 {
        ("minutes", 24.0 * 60.0)
    } else if longest < 2.0 {
        ("hours", 24.0)
    } else {
        ("days", 1.0)
    }
}

fn chart(title: &str, id: &str, bars: &[Bar], unit: &str) -> Markup {
    match charts::bars(bars, unit) {
        // The caption comes first, as a table's does, so it is never read as the next
        // chart's.
        Ok(svg) if !svg.is_empty() => html! {
            figure.chart id=(id) {
                figcaption { (title) }
                div role="img" aria-label=(title) { (PreEscaped(svg)) }
            }
        },
        Ok(_) => html! {},
        Err(e) => html! { p.notice { (e) } },
    }
}

fn counts(title: &str, map: &std::collections::BTreeMap<String, usize>) -> Markup {
    html! {
        div.table-wrap {
            table.counts {
                caption { (title) }
                thead { tr { th scope="col" { "Value" } th scope="col" { "Cases" } } }
                tbody {
                    @if map.is_empty() { tr { td colspan="2" { "none" } } }
                    @for (k, v) in map { tr { td { (k) } td.n { (v) } } }
                }
            }
        }
    }
}

/// The metrics page.
pub async fn page(
    AxumState(state): AxumState<AppState>,
    member: Member,
    Query(q): Query<MetricsQuery>,
) -> Result<Response, PageError> {
    let (from, to) = (when(&q.from, "from")?, when(&q.to, "to")?);
    let projects = crate::extract::visible_projects(&state, &member.viewer).await?;
    let scope = match (given(&q.org), given(&q.project)) {
        (Some(org), _) => Scope::Organisation(org.to_owned()),
        (None, Some(p)) => Scope::Project(p.parse::<ProjectKey>()?),
        (None, None) => match projects.first() {
            Some(p) => Scope::Project(p.parse::<ProjectKey>()?),
            None => {
                let body = html! { h1 { "Process review" } p { "You are on no project's team." } };
                return Ok(layout::page("Process review", Some(&member), body));
            }
        },
    };
    let metrics = state
        .store
        .metrics(&member.viewer, &scope, from, to)
        .await?;
    let f = &metrics.figures;
    let times: [(&str, &Duration); 5] = [
        ("acknowledge", &f.time_to_acknowledge),
        ("validate", &f.time_to_validate),
        ("fix", &f.time_to_fix),
        ("announce", &f.time_to_announce),
        ("publish", &f.time_to_publish),
    ];
    let state_bars: Vec<Bar> = f
        .by_state
        .iter()
        .map(|(k, v)| Bar {
            label: k.clone(),
            value: *v as f64,
        })
        .collect();
    let medians: Vec<f64> = times.iter().filter_map(|(_, d)| d.median_days).collect();
    let (unit, per_day) = time_unit(&medians);
    let median_bars: Vec<Bar> = times
        .iter()
        .filter_map(|(name, d)| {
            d.median_days.map(|m| Bar {
                label: (*name).to_owned(),
                value: m * per_day,
            })
        })
        .collect();
    let chosen = match &scope {
        Scope::Project(k) => Some(k.as_str().to_owned()),
        Scope::Organisation(_) => None,
    };
    let body = html! {
        h1 { "Process review: " (metrics.scope) }
        form.filters method="get" action="/desk/metrics" {
            div {
                label for="m-project" { "Project" }
                select #m-project name="project" {
                    @for p in &projects { option value=(p) selected[chosen.as_deref() == Some(p.as_str())] { (p) } }
                }
            }
            div { label for="m-from" { "From" } input #m-from type="date" name="from" value=(q.from.clone().unwrap_or_default()); }
            div { label for="m-to" { "To (excluded)" } input #m-to type="date" name="to" value=(q.to.clone().unwrap_or_default()); }
            div { button type="submit" { "Show" } }
        }
        p { "Cases: " strong #m-cases { (f.cases) } " · overdue: " strong #m-overdue { (f.overdue) } " · stalled: " strong #m-stalled { (f.stalled) } }
        h2 { "Time from report to each step" }
        div.table-wrap {
            table #m-times {
                caption { "Time from report to each step, in minutes (min), hours (h) or days" }
                thead { tr { th scope="col" { "Step" } th scope="col" { "Cases" } th scope="col" { "Median" } th scope="col" { "90th percentile" } } }
                tbody {
                    @for (name, d) in &times {
                        tr data-step=(name) { td { (name) } td.n { (d.count) } td.n.median { (span(d.median_days)) } td.n { (span(d.p90_days)) } }
                    }
                }
            }
        }
        (chart(&format!("Median time from report to each step, in {unit}"), "chart-times", &median_bars, unit))
        h2 { "Cases" }
        (chart("Cases by state", "chart-states", &state_bars, "cases"))
        div.editor {
            (counts("By state", &f.by_state))
            (counts("By severity", &f.by_severity))
            (counts("By disposition", &f.by_disposition))
            (counts("By CWE", &f.by_cwe))
            (counts("By channel", &f.by_channel))
        }
        h2 { "Top reporters" }
        @if f.top_reporters.is_empty() { p { "None yet." } }
        ol { @for (who, n) in &f.top_reporters { li { (who) ": " (n) } } }
        h2 { "Member activity" }
        div.table-wrap {
            table {
                thead { tr { th scope="col" { "Member" } th scope="col" { "Last active" } th scope="col" { "Cases handled" } } }
                tbody {
                    @for m in &metrics.members {
                        tr { td { (m.email) } td { @if let Some(at) = &m.last_active_at { (layout::short_time(at)) } @else { "never" } } td.n { (m.cases_handled) } }
                    }
                }
            }
        }
    };
    Ok(layout::page("Process review", Some(&member), body))
}

#[cfg(test)]
mod tests {
    use super::time_unit;

    #[test]
    fn the_chart_reads_in_the_unit_of_its_longest_bar() {
        assert_eq!(time_unit(&[0.001, 0.02]), ("minutes", 1440.0));
        assert_eq!(time_unit(&[0.01, 1.5]), ("hours", 24.0));
        assert_eq!(time_unit(&[0.01, 12.0]), ("days", 1.0));
        assert_eq!(time_unit(&[]).0, "minutes");
    }
}
