//! `embargo audit …`: review and verify the log of reads of confidential content.

use std::io::IsTerminal;

use clap::Subcommand;
use embargo_core::reference::CaseRef;
use serde_json::json;

use crate::Output;
use crate::store_args::StoreArgs;

/// `embargo audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the whole chain; exits 1 and names the first bad row if any was altered,
    /// deleted or reordered.
    Verify {
        /// Checkpoints kept outside the database (`embargo audit checkpoint`, or the
        /// server's --audit-checkpoints): the log must still hold each one's row as it
        /// was, so rows deleted or rewound at its end are found too.
        #[arg(long, env = "EMBARGO_AUDIT_CHECKPOINTS")]
        checkpoints: Option<std::path::PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Append where the chain stands now, authenticated, to a file kept outside the
    /// database (run it from cron, or let the server do it with --audit-checkpoints).
    Checkpoint {
        /// The file to append to (created with mode 0600).
        #[arg(long, env = "EMBARGO_AUDIT_CHECKPOINTS")]
        append: std::path::PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Show the newest reads, of one case or of all.
    Log {
        /// Only reads of this case.
        #[arg(long)]
        case: Option<String>,
        /// How many rows.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        limit: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// What `verify` found, for the exit code.
pub enum Verdict {
    /// Intact (or a listing was shown).
    Intact,
    /// A row is not as written.
    Broken,
}

/// Runs `embargo audit …`.
pub async fn run(cmd: AuditCommand, out: &Output) -> Result<Verdict, String> {
    match cmd {
        AuditCommand::Checkpoint { append, store } => {
            let store = store.open().await.map_err(|e| e.to_string())?;
            let checkpoint = store.audit_checkpoint().await.map_err(|e| e.to_string())?;
            store.close().await;
            checkpoint.append_to(&append).map_err(|e| e.to_string())?;
            out.show(&json!(checkpoint), || {
                format!(
                    "checkpoint at row {} appended to {}",
                    checkpoint.seq,
                    append.display()
                )
            });
            Ok(Verdict::Intact)
        }
        AuditCommand::Verify { checkpoints, store } => {
            let checkpoints = match &checkpoints {
                Some(path) => {
                    embargo_store::Checkpoint::read_file(path).map_err(|e| e.to_string())?
                }
                None => Vec::new(),
            };
            let store = store.open().await.map_err(|e| e.to_string())?;
            let show_progress = std::io::stderr().is_terminal() && !out.json;
            let report = store
                .verify_audit_against(&checkpoints, |rows| {
                    if show_progress {
                        eprint!("\rchecked {rows} rows");
                    }
                })
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            if show_progress {
                eprintln!();
            }
            out.show(&json!(report), || match &report.first_bad {
                None => format!("audit log intact: {} rows verified", report.rows),
                Some(bad) => format!(
                    "audit log BROKEN: {} ({} rows verified before it)",
                    bad.reason, report.rows
                ),
            });
            Ok(if report.first_bad.is_some() {
                Verdict::Broken
            } else {
                Verdict::Intact
            })
        }
        AuditCommand::Log { case, limit, store } => {
            let case: Option<CaseRef> = case
                .map(|c| c.parse())
                .transpose()
                .map_err(|e: embargo_core::reference::ReferenceError| e.to_string())?;
            let store = store.open().await.map_err(|e| e.to_string())?;
            let rows = store
                .audit_rows(case.as_ref(), limit)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(rows), || {
                rows.iter()
                    .map(|r| {
                        format!(
                            "{}\t{}\t{}\t{}\t{}\t{}",
                            r.seq,
                            r.at,
                            r.actor.as_deref().unwrap_or("-"),
                            r.case.as_deref().unwrap_or("-"),
                            r.what,
                            r.via
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(Verdict::Intact)
        }
    }
}
