//! `embargo disclose` and `embargo changes`: the disclosure of a case, rehearsed or
//! scheduled, and the CHANGES/NEWS entries after it, through a running server.

use clap::Args;
use reqwest::Method;
use serde_json::Value;

use crate::Output;
use crate::client::Client;

/// Options of `embargo disclose`.
#[derive(Debug, Args)]
pub struct DiscloseArgs {
    /// The server's base URL.
    #[arg(long, env = "EMBARGO_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API token.
    #[arg(long, env = "EMBARGO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The case reference.
    pub reference: String,
    /// Show every step and check it, without scheduling anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// Options of `embargo changes`.
#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// The server's base URL.
    #[arg(long, env = "EMBARGO_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API token.
    #[arg(long, env = "EMBARGO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Every announced case of this project.
    #[arg(long, conflicts_with = "case", required_unless_present = "case")]
    pub project: Option<String>,
    /// One case (refused before its announcement).
    #[arg(long)]
    pub case: Option<String>,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn plan_text(plan: &Value) -> String {
    let mut lines = vec![format!(
        "{}: embargo until {}{}",
        text(plan, "ref"),
        plan.get("embargo_at")
            .and_then(Value::as_str)
            .unwrap_or("(not set)"),
        if plan["scheduled"] == true {
            " (scheduled)"
        } else {
            ""
        }
    )];
    for step in plan["steps"].as_array().into_iter().flatten() {
        let at = step
            .get("at")
            .and_then(Value::as_str)
            .unwrap_or("afterwards");
        let mark = if step["problem"].is_string() {
            "BLOCKED"
        } else {
            "ok"
        };
        lines.push(format!(
            "{:>2}. [{mark}] {at}  {}",
            step["order"],
            text(step, "description")
        ));
        if let Some(subject) = step.get("subject").and_then(Value::as_str) {
            lines.push(format!("      Subject: {subject}"));
        }
        if let Some(problem) = step.get("problem").and_then(Value::as_str) {
            lines.push(format!("      problem: {problem}"));
        }
    }
    lines.push(if plan["ready"] == true {
        "every step checks out".to_owned()
    } else {
        "the schedule is blocked until each problem is fixed".to_owned()
    });
    lines.join("\n")
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

/// Runs `embargo disclose`; a rehearsal with a problem fails.
pub async fn disclose(args: DiscloseArgs, out: &Output) -> Result<(), String> {
    let client = Client::from_env(&args.url, args.token.as_deref()).map_err(|e| e.to_string())?;
    let reference = segment(&args.reference);
    let path = if args.dry_run {
        format!("/api/cases/{reference}/disclosure/rehearsal")
    } else {
        format!("/api/cases/{reference}/disclosure")
    };
    let plan = client
        .call(Method::POST, &path, None)
        .await
        .map_err(|e| e.to_string())?;
    out.show(&plan, || plan_text(&plan));
    if plan["ready"] == true {
        Ok(())
    } else {
        Err("the rehearsal found problems; nothing was scheduled".into())
    }
}

/// Runs `embargo changes`.
pub async fn changes(args: ChangesArgs, out: &Output) -> Result<(), String> {
    let client = Client::from_env(&args.url, args.token.as_deref()).map_err(|e| e.to_string())?;
    let entries = match (&args.case, &args.project) {
        (Some(case), _) => {
            let one = client
                .call(
                    Method::GET,
                    &format!("/api/cases/{}/changes", segment(case)),
                    None,
                )
                .await
                .map_err(|e| e.to_string())?;
            Value::Array(vec![one])
        }
        (None, Some(project)) => client
            .call(
                Method::GET,
                &format!("/api/projects/{}/changes", segment(project)),
                None,
            )
            .await
            .map_err(|e| e.to_string())?,
        (None, None) => return Err("give --project or --case".into()),
    };
    out.show(&entries, || {
        let list = entries.as_array().cloned().unwrap_or_default();
        let changes: Vec<String> = list.iter().map(|e| text(e, "changes")).collect();
        let news: Vec<String> = list.iter().map(|e| text(e, "news")).collect();
        format!(
            "CHANGES:\n{}\n\nNEWS:\n{}",
            changes.join("\n"),
            news.join("\n\n")
        )
    });
    Ok(())
}
