//! `embargo backup` and `embargo restore`.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::Output;
use crate::store_args::StoreArgs;

/// Options of `embargo backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write (never overwritten), encrypted to the backup recipient; it needs
    /// the backup identity and today's master key to be restored.
    #[arg(long)]
    pub output: PathBuf,
    /// The backup recipient's public key (`embargo keys backup generate`).
    #[arg(long, env = "EMBARGO_BACKUP_RECIPIENT_FILE")]
    pub recipient: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Options of `embargo restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file.
    #[arg(long)]
    pub input: PathBuf,
    /// The backup identity: the recipient's secret key, kept away from the server.
    #[arg(long, env = "EMBARGO_BACKUP_IDENTITY_FILE")]
    pub identity: Option<PathBuf>,
    /// Restore an unencrypted version 1 backup (taken before backups were encrypted).
    #[arg(long)]
    pub legacy_plain: bool,
    /// A master key file the backup may have been taken under (repeatable); retired key
    /// files in the data directory are tried anyway.
    #[arg(long = "key-file")]
    pub key_files: Vec<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// A bar over the backup's tables, advanced as each is written or loaded.
fn tables(out: &Output) -> (indicatif::ProgressBar, impl FnMut(&str, u64)) {
    crate::progress::by_table(embargo_store::backup::TABLES.len() as u64, out)
}

/// Runs `embargo backup`.
pub async fn backup(args: BackupArgs, out: &Output) -> Result<(), String> {
    let recipient = std::fs::read_to_string(&args.recipient)
        .map_err(|e| format!("{}: {e}", args.recipient.display()))
        .and_then(|text| {
            embargo_openpgp::PublicKey::from_armored(&text)
                .map_err(|e| format!("{}: {e}", args.recipient.display()))
        })?;
    let store = args.store.open().await.map_err(|e| e.to_string())?;
    let (bar, progress) = tables(out);
    let summary = store.backup(&args.output, &recipient, progress).await;
    bar.finish_and_clear();
    let summary = summary.map_err(|e| e.to_string())?;
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
    let identity = match &args.identity {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("{}: {e}", path.display()))
                .and_then(|text| {
                    embargo_openpgp::TeamKey::from_armored(&text, "")
                        .map_err(|e| format!("{}: {e}", path.display()))
                })?,
        ),
        None => None,
    };
    let opening = embargo_store::backup::Opening {
        identity: identity.as_ref(),
        legacy_plain: args.legacy_plain,
    };
    let (bar, progress) = tables(out);
    let summary = embargo_store::backup::restore(
        &database,
        &source,
        &args.input,
        &opening,
        &args.key_files,
        progress,
    )
    .await;
    bar.finish_and_clear();
    let summary = summary.map_err(|e| e.to_string())?;
    let total: u64 = summary.rows.iter().map(|(_, n)| n).sum();
    out.show(&json!(summary), || {
        format!(
            "restored {total} rows (data keys opened with {}, re-wrapped under the current master key)",
            summary.unwrapped_with
        )
    });
    Ok(())
}
