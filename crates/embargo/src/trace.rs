//! `embargo trace FILE`: names the recipient whose pre-notified copy a leaked text is.

use clap::Args;
use serde_json::json;

use crate::Output;
use crate::store_args::StoreArgs;

/// Options of `embargo trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The leaked text (a file, or - for stdin).
    pub file: std::path::PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs `embargo trace`; finding no mark is an error (exit 1).
pub async fn run(args: TraceArgs, out: &Output) -> Result<(), String> {
    let text = crate::cases::read_text(&args.file)?;
    let store = args.store.open().await.map_err(|e| e.to_string())?;
    let hits = store.trace(&text).await.map_err(|e| e.to_string())?;
    store.close().await;
    out.show(&json!(hits), || {
        hits.iter()
            .map(|h| {
                format!(
                    "{}: the copy sent to {} ({})",
                    h.reference,
                    h.recipient,
                    h.sent_at.as_deref().unwrap_or("not sent")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    if hits.is_empty() {
        return Err("no pre-notification mark in this text (it may have been retyped, or was not pre-notified)".into());
    }
    Ok(())
}
