//! `embargo keys …`: the master key, and each project's OpenPGP team key.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use crate::Output;
use crate::store_args::StoreArgs;

/// `embargo keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// A new master key wraps the data keys, and a new data key seals what is written from
    /// now on (run `keys reseal` next, after restarting the servers). With a key file, the
    /// new key replaces it; with EMBARGO_MASTER_KEY, the new key is written to --output for
    /// you to install. The retired key leaves the data directory: it is written to
    /// --retired-key-out, or printed once (backups taken before need it).
    Rotate {
        /// Where to write the new key when the current one comes from the environment.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Where to write the retired master key (a new file, mode 0600), off this machine
        /// ideally; without it, the key is printed once and kept nowhere.
        #[arg(long)]
        retired_key_out: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Seal every value not yet under the newest data key again under it (after `keys
    /// rotate`); resumable: run it again after an interruption.
    Reseal {
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
        KeysCommand::Rotate {
            output,
            retired_key_out,
            store,
        } => {
            let database = store.database().map_err(|e| e.to_string())?;
            let source = store.key_source().map_err(|e| e.to_string())?;
            let rotation = embargo_store::keys::rotate_master_key(
                &database,
                &source,
                output.as_deref(),
                retired_key_out.as_deref(),
            )
            .await
            .map_err(|e| e.to_string())?;
            out.show(&json!(rotation), || {
                let mut text = format!(
                    "re-wrapped {} data key(s) and made data key {}; the new master key is in {}",
                    rotation.data_keys,
                    rotation.new_data_key,
                    rotation.new_key_file.display()
                );
                match (&rotation.retired_key_file, &rotation.retired_key) {
                    (Some(old), _) => text.push_str(&format!(
                        "\nthe retired key is in {} (backups taken before now need it); move it off this machine",
                        old.display()
                    )),
                    (None, Some(key)) => text.push_str(&format!(
                        "\nthe retired key, shown once and kept nowhere (backups taken before now need it):\n{key}"
                    )),
                    (None, None) => text.push_str(
                        "\nset EMBARGO_MASTER_KEY to the new key before the next start",
                    ),
                }
                text.push_str("\nrestart the servers, then run `embargo keys reseal`");
                text
            });
            Ok(())
        }
        KeysCommand::Reseal { store } => {
            let store = store.open().await.map_err(|e| e.to_string())?;
            let (bar, progress) = crate::progress::counting(out);
            let report = store.reseal(progress).await.map_err(|e| e.to_string())?;
            bar.finish_and_clear();
            store.close().await;
            out.show(&json!(report), || {
                format!(
                    "{} values sealed again under data key {} ({} were already)",
                    report.resealed, report.data_key, report.current
                )
            });
            Ok(())
        }
    }
}
