//! `embargo report`: the process-review figures of a project or an organisation, as JSON,
//! CSV, or a plain-text summary for a board report; through a running server.

use clap::Args;
use reqwest::Method;

use crate::Output;
use crate::client::Client;
use embargo_core::review::{Duration, Figures};
use embargo_store::Metrics;
use std::collections::BTreeMap;

/// Options of `embargo report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The server's base URL.
    #[arg(long, env = "EMBARGO_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API token.
    #[arg(long, env = "EMBARGO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// One project.
    #[arg(long, conflicts_with = "org", required_unless_present = "org")]
    pub project: Option<String>,
    /// A whole organisation (its foundation team).
    #[arg(long)]
    pub org: Option<String>,
    /// Cases received from this date (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    /// Cases received before this date.
    #[arg(long)]
    pub to: Option<String>,
    /// text (a summary for a board report), csv, or json.
    #[arg(long, default_value = "text")]
    pub format: String,
}

/// The duration figures with their CSV key and their words in the summary.
fn durations(f: &Figures) -> [(&'static str, &'static str, &Duration); 5] {
    [
        ("time_to_acknowledge", "acknowledge", &f.time_to_acknowledge),
        ("time_to_validate", "validate", &f.time_to_validate),
        ("time_to_fix", "fix", &f.time_to_fix),
        ("time_to_announce", "announce", &f.time_to_announce),
        ("time_to_publish", "publish", &f.time_to_publish),
    ]
}

/// The counted figures with their CSV key.
fn counts(f: &Figures) -> [(&'static str, &BTreeMap<String, usize>); 5] {
    [
        ("by_state", &f.by_state),
        ("by_severity", &f.by_severity),
        ("by_disposition", &f.by_disposition),
        ("by_cwe", &f.by_cwe),
        ("by_channel", &f.by_channel),
    ]
}

/// A CSV field. A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or
/// a carriage return as a formula (OWASP's CSV injection), and names come from
/// strangers: such a cell is prefixed with `'` so it is shown as text.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A number as the API writes it (`4.0`, not `4`); empty for none.
fn number(n: Option<f64>) -> String {
    n.map(|n| serde_json::Value::from(n).to_string())
        .unwrap_or_default()
}

/// The figures as CSV rows: section, name, value.
pub fn csv(metrics: &Metrics) -> String {
    let f = &metrics.figures;
    let mut rows = vec![
        "section,name,value".to_owned(),
        format!("cases,all,{}", f.cases),
    ];
    for (key, _, d) in durations(f) {
        rows.push(format!("{key},count,{}", d.count));
        rows.push(format!("{key},median_days,{}", number(d.median_days)));
        rows.push(format!("{key},p90_days,{}", number(d.p90_days)));
    }
    for (key, map) in counts(f) {
        for (name, n) in map {
            rows.push(format!("{key},{},{n}", csv_field(name)));
        }
    }
    rows.push(format!("open,overdue,{}", f.overdue));
    rows.push(format!("open,stalled,{}", f.stalled));
    for (name, n) in &f.top_reporters {
        rows.push(format!("top_reporters,{},{n}", csv_field(name)));
    }
    for m in &metrics.members {
        rows.push(format!(
            "members,{},{}",
            csv_field(&m.email),
            m.cases_handled
        ));
    }
    rows.join("\n") + "\n"
}

/// The plain-text summary.
pub fn summary(metrics: &Metrics) -> String {
    let f = &metrics.figures;
    let period = match (&metrics.from, &metrics.to) {
        (Some(a), Some(b)) => format!("from {a} to {b}"),
        (Some(a), None) => format!("since {a}"),
        (None, Some(b)) => format!("until {b}"),
        (None, None) => "all time".to_owned(),
    };
    let mut out = format!(
        "Security report for {}, {period}\n\n{} report(s) received.\n",
        metrics.scope, f.cases
    );
    let listed = |map: &BTreeMap<String, usize>| {
        map.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str(&format!(
        "Dispositions: {}.\nSeverity: {}.\n",
        listed(&f.by_disposition),
        listed(&f.by_severity)
    ));
    out.push_str("\nTime from receipt, in days (median / 90th percentile):\n");
    for (_, label, d) in durations(f) {
        match (d.median_days, d.p90_days) {
            (Some(m), Some(p)) => out.push_str(&format!(
                "  to {label:<12} {m:>7.2} / {p:>7.2}  ({} cases)\n",
                d.count
            )),
            _ => out.push_str(&format!("  to {label:<12} (none yet)\n")),
        }
    }
    out.push_str(&format!(
        "\nOpen cases overdue: {}; stalled: {}.\n",
        f.overdue, f.stalled
    ));
    let reporters: Vec<String> = f
        .top_reporters
        .iter()
        .map(|(name, n)| format!("{name} ({n})"))
        .collect();
    if !reporters.is_empty() {
        out.push_str(&format!("With thanks to: {}.\n", reporters.join(", ")));
    }
    out
}

/// Runs `embargo report`.
pub async fn run(args: ReportArgs, out: &Output) -> Result<(), String> {
    let client = Client::from_env(&args.url, args.token.as_deref()).map_err(|e| e.to_string())?;
    let mut path = match (&args.project, &args.org) {
        (Some(p), _) => format!(
            "/api/projects/{}/metrics",
            embargo_server::url::component(p)
        ),
        (None, Some(o)) => format!("/api/orgs/{}/metrics", embargo_server::url::component(o)),
        (None, None) => return Err("give --project or --org".into()),
    };
    let query: Vec<String> = [("from", &args.from), ("to", &args.to)]
        .into_iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .map(|v| format!("{k}={}", embargo_server::url::component(v)))
        })
        .collect();
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    let (raw, metrics) = client
        .call_as::<Metrics>(Method::GET, &path, None)
        .await
        .map_err(|e| e.to_string())?;
    match (out.json, args.format.as_str()) {
        (true, _) | (false, "json") => {
            println!("{}", serde_json::to_string_pretty(&raw).unwrap_or_default())
        }
        (false, "csv") => print!("{}", csv(&metrics)),
        (false, "text") => print!("{}", summary(&metrics)),
        (false, other) => return Err(format!("'{other}' is not text, csv or json")),
    }
    Ok(())
}

#[cfg(test)]
mod csv_tests {
    use super::csv_field;

    #[test]
    fn formulas_are_shown_as_text() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://evil\")"),
            "\"'=HYPERLINK(\"\"http://evil\"\")\""
        );
        assert_eq!(csv_field("+1+1"), "'+1+1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("fay@finder.example"), "fay@finder.example");
    }
}
