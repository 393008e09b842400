//! `embargo disclose` and `embargo changes`: the disclosure of a case, rehearsed or
//! scheduled, and the CHANGES/NEWS entries after it, through a running server.

use clap::Args;
use reqwest::Method;
use serde_json::Value;

use crate::Output;
use crate::client::Client;
use embargo_core::disclosure::DisclosurePlan;
use embargo_store::ChangesEntry;

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

fn plan_text(plan: &DisclosurePlan) -> String {
    let mut lines = vec![format!(
        "{}: embargo until {}{}",
        plan.reference,
        plan.embargo_at.as_deref().unwrap_or("(not set)"),
        if plan.scheduled { " (scheduled)" } else { "" }
    )];
    for step in &plan.steps {
        let at = step.at.as_deref().unwrap_or("afterwards");
        let mark = if step.problem.is_some() {
            "BLOCKED"
        } else {
            "ok"
        };
        lines.push(format!(
            "{:>2}. [{mark}] {at}  {}",
            step.order, step.description
        ));
        if let Some(subject) = &step.subject {
            lines.push(format!("      Subject: {subject}"));
        }
        if let Some(problem) = &step.problem {
            lines.push(format!("      problem: {problem}"));
        }
    }
    lines.push(if plan.ready {
        "every step checks out".to_owned()
    } else {
        "the schedule is blocked until each problem is fixed".to_owned()
    });
    lines.join("\n")
}

/// Runs `embargo disclose`; a rehearsal with a problem fails.
pub async fn disclose(args: DiscloseArgs, out: &Output) -> Result<(), String> {
    let client = Client::from_env(&args.url, args.token.as_deref()).map_err(|e| e.to_string())?;
    let reference = embargo_server::url::component(&args.reference);
    let path = if args.dry_run {
        format!("/api/cases/{reference}/disclosure/rehearsal")
    } else {
        format!("/api/cases/{reference}/disclosure")
    };
    let (raw, plan) = client
        .call_as::<DisclosurePlan>(Method::POST, &path, None)
        .await
        .map_err(|e| e.to_string())?;
    out.show(&raw, || plan_text(&plan));
    if plan.ready {
        Ok(())
    } else {
        Err("the rehearsal found problems; nothing was scheduled".into())
    }
}

/// Runs `embargo changes`.
pub async fn changes(args: ChangesArgs, out: &Output) -> Result<(), String> {
    let client = Client::from_env(&args.url, args.token.as_deref()).map_err(|e| e.to_string())?;
    let (raw, entries) = match (&args.case, &args.project) {
        (Some(case), _) => {
            let (raw, one) = client
                .call_as::<ChangesEntry>(
                    Method::GET,
                    &format!(
                        "/api/cases/{}/changes",
                        embargo_server::url::component(case)
                    ),
                    None,
                )
                .await
                .map_err(|e| e.to_string())?;
            (Value::Array(vec![raw]), vec![one])
        }
        (None, Some(project)) => client
            .call_as::<Vec<ChangesEntry>>(
                Method::GET,
                &format!(
                    "/api/projects/{}/changes",
                    embargo_server::url::component(project)
                ),
                None,
            )
            .await
            .map_err(|e| e.to_string())?,
        (None, None) => return Err("give --project or --case".into()),
    };
    out.show(&raw, || {
        let changes: Vec<&str> = entries.iter().map(|e| e.changes.as_str()).collect();
        let news: Vec<&str> = entries.iter().map(|e| e.news.as_str()).collect();
        format!(
            "CHANGES:\n{}\n\nNEWS:\n{}",
            changes.join("\n"),
            news.join("\n\n")
        )
    });
    Ok(())
}
