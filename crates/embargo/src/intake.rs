//! `embargo intake`: one message on stdin, for a mail transfer agent's alias
//! (`security: "|embargo intake --project CLOUDSTACK"`).
//!
//! Exit 0 only once the message is committed (a case, a follow-up, kept, a duplicate, or
//! quarantine: the MTA must never bounce a report to its sender); 75 (EX_TEMPFAIL) on any
//! failure, so the MTA keeps the message and tries again.

use std::io::Read;

use clap::Args;
use serde_json::json;

use crate::Output;
use crate::config::StoreArgs;

/// sysexits.h: a temporary failure; the MTA retries.
pub const EX_TEMPFAIL: u8 = 75;

/// Options of `embargo intake`.
#[derive(Debug, Args)]
pub struct IntakeArgs {
    /// The project the address belongs to.
    #[arg(long)]
    pub project: String,
    /// Attachments over this many bytes are held back (kept, not offered).
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub attachment_limit: usize,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs `embargo intake`; `Err` means exit 75.
pub async fn run(args: IntakeArgs, out: &Output) -> Result<(), String> {
    let mut raw = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut raw)
        .map_err(|e| format!("reading the message: {e}"))?;
    let store = args.store.open().await.map_err(|e| e.to_string())?;
    let limits = embargo_mail::Limits {
        attachment_bytes: args.attachment_limit,
    };
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
