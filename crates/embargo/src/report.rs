//! `embargo report`: the process-review figures of a project or an organisation, as JSON,
//! CSV, or a plain-text summary for a board report; through a running server.

use clap::Args;
use reqwest::Method;
use serde_json::Value;

use crate::Output;
use crate::client::Client;

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

fn segment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_string()
            } else {
                format!("%{:02X}", c as u32)
            }
        })
        .collect()
}

const DURATIONS: [(&str, &str); 5] = [
    ("time_to_acknowledge", "acknowledge"),
    ("time_to_validate", "validate"),
    ("time_to_fix", "fix"),
    ("time_to_announce", "announce"),
    ("time_to_publish", "publish"),
];
const COUNTS: [&str; 5] = [
    "by_state",
    "by_severity",
    "by_disposition",
    "by_cwe",
    "by_channel",
];

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

fn number(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The figures as CSV rows: section, name, value.
pub fn csv(metrics: &Value) -> String {
    let f = &metrics["figures"];
    let mut rows = vec![
        "section,name,value".to_owned(),
        format!("cases,all,{}", f["cases"]),
    ];
    for (key, _) in DURATIONS {
        for stat in ["count", "median_days", "p90_days"] {
            rows.push(format!("{key},{stat},{}", number(&f[key][stat])));
        }
    }
    for key in COUNTS {
        for (name, n) in f[key].as_object().into_iter().flatten() {
            rows.push(format!("{key},{},{n}", csv_field(name)));
        }
    }
    rows.push(format!("open,overdue,{}", f["overdue"]));
    rows.push(format!("open,stalled,{}", f["stalled"]));
    for pair in f["top_reporters"].as_array().into_iter().flatten() {
        rows.push(format!(
            "top_reporters,{},{}",
            csv_field(pair[0].as_str().unwrap_or_default()),
            pair[1]
        ));
    }
    for m in metrics["members"].as_array().into_iter().flatten() {
        rows.push(format!(
            "members,{},{}",
            csv_field(m["email"].as_str().unwrap_or_default()),
            m["cases_handled"]
        ));
    }
    rows.join("\n") + "\n"
}

/// The plain-text summary.
pub fn summary(metrics: &Value) -> String {
    let f = &metrics["figures"];
    let period = match (metrics["from"].as_str(), metrics["to"].as_str()) {
        (Some(a), Some(b)) => format!("from {a} to {b}"),
        (Some(a), None) => format!("since {a}"),
        (None, Some(b)) => format!("until {b}"),
        (None, None) => "all time".to_owned(),
    };
    let mut out = format!(
        "Security report for {}, {period}\n\n{} report(s) received.\n",
        metrics["scope"].as_str().unwrap_or_default(),
        f["cases"]
    );
    let counts = |key: &str| {
        f[key]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    out.push_str(&format!(
        "Dispositions: {}.\nSeverity: {}.\n",
        counts("by_disposition"),
        counts("by_severity")
    ));
    out.push_str("\nTime from receipt, in days (median / 90th percentile):\n");
    for (key, label) in DURATIONS {
        let d = &f[key];
        match (d["median_days"].as_f64(), d["p90_days"].as_f64()) {
            (Some(m), Some(p)) => out.push_str(&format!(
                "  to {label:<12} {m:>7.2} / {p:>7.2}  ({} cases)\n",
                d["count"]
            )),
            _ => out.push_str(&format!("  to {label:<12} (none yet)\n")),
        }
    }
    out.push_str(&format!(
        "\nOpen cases overdue: {}; stalled: {}.\n",
        f["overdue"], f["stalled"]
    ));
    let reporters: Vec<String> = f["top_reporters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| format!("{} ({})", p[0].as_str().unwrap_or_default(), p[1]))
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
        (Some(p), _) => format!("/api/projects/{}/metrics", segment(p)),
        (None, Some(o)) => format!("/api/orgs/{}/metrics", segment(o)),
        (None, None) => return Err("give --project or --org".into()),
    };
    let query: Vec<String> = [("from", &args.from), ("to", &args.to)]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", segment(v))))
        .collect();
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    let metrics = client
        .call(Method::GET, &path, None)
        .await
        .map_err(|e| e.to_string())?;
    match (out.json, args.format.as_str()) {
        (true, _) | (false, "json") => println!(
            "{}",
            serde_json::to_string_pretty(&metrics).unwrap_or_default()
        ),
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
