//! `embargo keys …`: the master key, and each project's OpenPGP team key.

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
    /// A project's OpenPGP team key: reporters encrypt to it, announcements are signed with it.
    #[command(subcommand)]
    Pgp(PgpCommand),
    /// The backup key pair: backups are encrypted to its public half (the recipient); its
    /// secret half (the identity) restores them and belongs away from the server.
    #[command(subcommand)]
    Backup(BackupKeyCommand),
}

/// `embargo keys backup …`.
#[derive(Debug, Subcommand)]
pub enum BackupKeyCommand {
    /// Generate the backup key pair into two new files (never overwritten; the identity
    /// is written with mode 0600).
    Generate {
        /// Where to write the identity (the secret key).
        #[arg(long)]
        identity: PathBuf,
        /// Where to write the recipient (the public key) that `embargo backup` takes.
        #[arg(long)]
        recipient: PathBuf,
    },
}

/// `embargo keys pgp …`.
#[derive(Debug, Subcommand)]
pub enum PgpCommand {
    /// Generate a new team key (Ed25519 with a Curve25519 encryption subkey).
    Generate {
        /// The project key.
        #[arg(long)]
        project: String,
        /// The key's user ID, e.g. "CloudStack Security <security@cloudstack.example>".
        #[arg(long)]
        user_id: String,
        /// Replace an existing team key (mail encrypted to it can no longer be re-read).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Import an existing team key: an armored secret key (`gpg --export-secret-keys --armor`).
    Import {
        /// The project key.
        #[arg(long)]
        project: String,
        /// The armored secret key file; `-` reads stdin.
        file: PathBuf,
        /// The key's passphrase, read from this environment variable (none if unset).
        #[arg(long, value_name = "VAR")]
        passphrase_env: Option<String>,
        /// Replace an existing team key.
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the public team key (armored), as reporters get it.
    Export {
        /// The project key.
        #[arg(long)]
        project: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn project_key(key: &str) -> Result<embargo_core::reference::ProjectKey, String> {
    key.parse().map_err(|e| format!("{e}"))
}

async fn run_pgp(cmd: PgpCommand, out: &Output) -> Result<(), String> {
    let (store_args, project) = match &cmd {
        PgpCommand::Generate { store, project, .. }
        | PgpCommand::Import { store, project, .. }
        | PgpCommand::Export { store, project } => (store, project_key(project)?),
    };
    let store = store_args.open().await.map_err(|e| e.to_string())?;
    let set = match cmd {
        PgpCommand::Generate {
            user_id, replace, ..
        } => {
            let team = embargo_openpgp::TeamKey::generate(&user_id).map_err(|e| e.to_string())?;
            store.set_team_key(&project, &team, replace).await
        }
        PgpCommand::Import {
            file,
            passphrase_env,
            replace,
            ..
        } => {
            let text = crate::cases::read_text(&file)?;
            let passphrase = match passphrase_env {
                Some(var) => std::env::var(&var)
                    .map_err(|_| format!("the environment variable {var} is not set"))?,
                None => String::new(),
            };
            let team = embargo_openpgp::TeamKey::from_armored(&text, &passphrase)
                .map_err(|e| e.to_string())?;
            store.set_team_key(&project, &team, replace).await
        }
        PgpCommand::Export { .. } => {
            let key = store
                .team_public_key(&project)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| {
                    format!(
                        "{project} has no team key; create one with `embargo keys pgp generate`"
                    )
                })?;
            out.show(&json!(key), || key.public_key.trim_end().to_owned());
            return Ok(());
        }
    }
    .map_err(|e| e.to_string())?;
    out.show(&json!(set), || {
        format!(
            "{} team key {}; reporters get it at /api/public/projects/{}/openpgp-key",
            set.project, set.fingerprint, set.project
        )
    });
    Ok(())
}

/// Writes a new file with `text`, never overwriting one; `private` files get mode 0600.
fn write_new(path: &std::path::Path, text: &str, private: bool) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = private;
    options
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn generate_backup_keys(
    identity: &std::path::Path,
    recipient: &std::path::Path,
    out: &Output,
) -> Result<(), String> {
    let key = embargo_openpgp::TeamKey::generate("Embargo backups").map_err(|e| e.to_string())?;
    let public = key.public();
    write_new(
        recipient,
        &public.armored().map_err(|e| e.to_string())?,
        false,
    )?;
    write_new(
        identity,
        &key.armored_secret().map_err(|e| e.to_string())?,
        true,
    )?;
    out.show(
        &serde_json::json!({ "fingerprint": public.fingerprint(), "identity": identity, "recipient": recipient }),
        || {
            format!(
                "backup key {}: recipient {} (for `embargo backup`), identity {} (keep it away from the server; restores need it)",
                public.fingerprint(),
                recipient.display(),
                identity.display()
            )
        },
    );
    Ok(())
}

/// Runs `embargo keys …`.
pub async fn run(cmd: KeysCommand, out: &Output) -> Result<(), String> {
    match cmd {
        KeysCommand::Pgp(cmd) => run_pgp(cmd, out).await,
        KeysCommand::Backup(BackupKeyCommand::Generate {
            identity,
            recipient,
        }) => generate_backup_keys(&identity, &recipient, out),
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
