//! `embargo migrate`: the database's pending migrations, listed (`--dry-run`) or applied.
//! Take a backup first, with the release that wrote the database.

use clap::Args;
use serde_json::json;

use crate::Output;
use crate::store_args::StoreArgs;

/// Options of `embargo migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// List what would change, changing nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs `embargo migrate`.
pub async fn run(args: MigrateArgs, out: &Output) -> Result<(), String> {
    let settings = args.store.settings().map_err(|e| e.to_string())?;
    let database = crate::store_args::database(&settings).map_err(|e| e.to_string())?;
    let status = embargo_store::schema_status(&database)
        .await
        .map_err(|e| e.to_string())?;
    let listing = || {
        status
            .pending
            .iter()
            .map(|m| format!("  {:04} {}", m.version, m.description))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if args.dry_run || status.pending.is_empty() {
        out.show(
            &json!({
                "pending": status.pending,
                "new_database": status.new,
                "fresh_backup": status.fresh_backup,
                "applied": false,
            }),
            || match status.pending.is_empty() {
                true => "the database is up to date".to_owned(),
                false => format!(
                    "{} migration(s) pending{}:\n{}",
                    status.pending.len(),
                    if status.fresh_backup {
                        " (a backup of the last day is recorded)"
                    } else {
                        "; no backup recorded at this schema in the last day"
                    },
                    listing()
                ),
            },
        );
        return Ok(());
    }
    let keys = crate::store_args::key_source(&settings).map_err(|e| e.to_string())?;
    let store = embargo_store::Store::open_with(&database, &keys, embargo_store::Upgrade::Apply)
        .await
        .map_err(|e| e.to_string())?;
    store.close().await;
    out.show(
        &json!({ "pending": status.pending, "applied": true }),
        || {
            format!(
                "applied {} migration(s):\n{}",
                status.pending.len(),
                listing()
            )
        },
    );
    Ok(())
}
