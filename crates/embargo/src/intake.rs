//! `embargo intake`: one message on stdin, for a mail transfer agent's alias
//! (`security: "|embargo intake --project CLOUDSTACK"`).
//!
//! Exit 0 only once the message is committed (a case, a follow-up, a third party's
//! message, kept, a duplicate, or quarantine: the MTA must never bounce a report to its
//! sender). Anything that would fail the same way again is quarantined, so 75
//! (EX_TEMPFAIL) means a transient fault only (the database unreachable, busy or full):
//! the MTA keeps the message and tries again.

use std::io::Read;

use clap::Args;
use serde_json::json;

use crate::Output;
use crate::store_args::{LimitArgs, StoreArgs};

/// sysexits.h: a temporary failure; the MTA retries.
pub const EX_TEMPFAIL: u8 = 75;

/// Options of `embargo intake`.
#[derive(Debug, Args, serde::Serialize)]
pub struct IntakeArgs {
    /// The project the address belongs to.
    #[arg(long)]
    #[serde(skip)]
    pub project: String,
    /// Read an mbox file of many messages instead of one message on stdin.
    #[arg(long)]
    #[serde(skip)]
    pub mbox: Option<std::path::PathBuf>,
    #[command(flatten)]
    #[serde(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArgs,
}

impl IntakeArgs {
    /// The store and the limits: these options over the configuration file.
    async fn open(&self) -> Result<(embargo_store::Store, embargo_mail::Limits), String> {
        let settings = crate::settings::resolve(self)?;
        let store = crate::store_args::open(&settings)
            .await
            .map_err(|e| e.to_string())?;
        Ok((store, settings.limits()))
    }
}

async fn run_mbox(args: &IntakeArgs, path: &std::path::Path, out: &Output) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let messages = embargo_mail::mbox::split(&data);
    let (store, limits) = args.open().await?;
    let show_progress = std::io::IsTerminal::is_terminal(&std::io::stderr()) && !out.json;
    let total = messages.len();
    let outcomes = store
        .intake_batch(&args.project, &messages, &limits, 200, |done| {
            if show_progress {
                eprint!("\r{done} of {total} messages");
            }
        })
        .await
        .map_err(|e| e.to_string())?;
    if show_progress {
        eprintln!();
    }
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for outcome in &outcomes {
        *counts.entry(outcome.label().to_owned()).or_default() += 1;
    }
    store.close().await;
    out.show(
        &json!({ "messages": messages.len(), "outcomes": counts }),
        || {
            let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
            format!("{} messages: {}", messages.len(), parts.join(", "))
        },
    );
    Ok(())
}

/// Runs `embargo intake`; `Err` means exit 75.
pub async fn run(args: IntakeArgs, out: &Output) -> Result<(), String> {
    if let Some(path) = args.mbox.clone() {
        return run_mbox(&args, &path, out).await;
    }
    let mut raw = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut raw)
        .map_err(|e| format!("reading the message: {e}"))?;
    let (store, limits) = args.open().await?;
    let outcome = store
        .intake(&args.project, &raw, &limits)
        .await
        .map_err(|e| e.to_string())?;
    store.close().await;
    out.show(&json!(outcome), || match &outcome {
        embargo_store::IntakeOutcome::NewCase { reference, kind } => {
            format!("{reference}: new case ({kind})")
        }
        embargo_store::IntakeOutcome::FollowUp { reference } => format!("{reference}: follow-up"),
        embargo_store::IntakeOutcome::ThirdParty { reference } => {
            format!("{reference}: a third party's message, for the team to look at")
        }
        embargo_store::IntakeOutcome::Kept { kind, reference } => format!(
            "kept as {kind}{}",
            reference
                .as_deref()
                .map(|r| format!(" on {r}"))
                .unwrap_or_default()
        ),
        embargo_store::IntakeOutcome::Duplicate => "duplicate delivery ignored".to_owned(),
        embargo_store::IntakeOutcome::Quarantined { reason } => format!("quarantined: {reason}"),
    });
    Ok(())
}
