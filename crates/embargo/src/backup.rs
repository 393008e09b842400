//! `embargo backup` and `embargo restore`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::Output;
use crate::config::StoreArgs;

/// Options of `embargo backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write (never overwritten). Sealed fields stay sealed in it; it needs
    /// today's master key to be restored.
    #[arg(long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Options of `embargo restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file.
    #[arg(long)]
    pub input: PathBuf,
    /// A master key file the backup may have been taken under (repeatable); retired key
    /// files in the data directory are tried anyway.
    #[arg(long = "key-file")]
    pub key_files: Vec<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn progress(out: &Output) -> impl FnMut(&str, u64) {
    let show = std::io::stderr().is_terminal() && !out.json;
    move |table, rows| {
        if show {
            eprintln!("  {table}: {rows} rows");
        }
    }
}

/// Runs `embargo backup`.
pub async fn backup(args: BackupArgs, out: &Output) -> Result<(), String> {
    let store = args.store.open().await.map_err(|e| e.to_string())?;
    let summary = store
        .backup(&args.output, progress(out))
        .await
        .map_err(|e| e.to_string())?;
    store.close().await;
    let total: u64 = summary.rows.iter().map(|(_, n)| n).sum();
    out.show(&json!(summary), || {
        format!("wrote {total} rows to {}", summary.path.display())
    });
    Ok(())
}

/// Runs `embargo restore`.
pub async fn restore(args: RestoreArgs, out: &Output) -> Result<(), String> {
    let database = args.store.database().map_err(|e| e.to_string())?;
    let source = args.store.key_source().map_err(|e| e.to_string())?;
    let summary = embargo_store::backup::restore(
        &database,
        &source,
        &args.input,
        &args.key_files,
        progress(out),
    )
    .await
    .map_err(|e| e.to_string())?;
    let total: u64 = summary.rows.iter().map(|(_, n)| n).sum();
    out.show(&json!(summary), || {
        format!(
            "restored {total} rows (data keys opened with {}, re-wrapped under the current master key)",
            summary.unwrapped_with
        )
    });
    Ok(())
}
