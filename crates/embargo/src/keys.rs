//! `embargo keys …`: the master key.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use crate::Output;
use crate::config::StoreArgs;

/// `embargo keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-wrap the data keys under a new master key. With a key file, the new key replaces
    /// it and the old one is kept beside it (backups taken before need it); with
    /// EMBARGO_MASTER_KEY, the new key is written to --output for you to install.
    Rotate {
        /// Where to write the new key when the current one comes from the environment.
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs `embargo keys …`.
pub async fn run(cmd: KeysCommand, out: &Output) -> Result<(), String> {
    match cmd {
        KeysCommand::Rotate { output, store } => {
            let database = store.database().map_err(|e| e.to_string())?;
            let source = store.key_source().map_err(|e| e.to_string())?;
            let rotation =
                embargo_store::keys::rotate_master_key(&database, &source, output.as_deref())
                    .await
                    .map_err(|e| e.to_string())?;
            out.show(&json!(rotation), || {
                let mut text = format!(
                    "re-wrapped {} data key(s); the new master key is in {}",
                    rotation.data_keys,
                    rotation.new_key_file.display()
                );
                match &rotation.retired_key_file {
                    Some(old) => text.push_str(&format!(
                        "\nthe old key is kept in {} for backups taken before now",
                        old.display()
                    )),
                    None => text.push_str(
                        "\nset EMBARGO_MASTER_KEY to its content before the next start; keep the old key for older backups",
                    ),
                }
                text
            });
            Ok(())
        }
    }
}
