//! Where Embargo keeps its data: a data directory with an SQLite database and the master
//! key file by default, or a PostgreSQL URL; and the limits of intake. Flags override
//! `EMBARGO_*` variables, which override the configuration file (see `settings`).

use std::path::PathBuf;

use clap::Args;
use embargo_store::{Database, KeySource, MasterKey, Store, StoreError};
use serde::Serialize;

use crate::settings::Settings;

/// The limits of intake (`embargo intake` and IMAP polling). Over a limit, a message is
/// kept whole in quarantine with a reason that names the limit. Defaults in
/// `embargo config example`.
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct LimitArgs {
    /// Attachments over this many bytes are held back (kept, not offered) [default: 10 MiB].
    #[arg(long, env = "EMBARGO_ATTACHMENT_LIMIT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_limit: Option<usize>,
    /// Messages over this many bytes are quarantined [default: 25 MiB].
    #[arg(long, env = "EMBARGO_MAX_MESSAGE_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_message_bytes: Option<usize>,
    /// Header sections over this many bytes are quarantined [default: 256 KiB].
    #[arg(long, env = "EMBARGO_MAX_HEADER_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_header_bytes: Option<usize>,
    /// MIME trees deeper than this are quarantined [default: 20].
    #[arg(long, env = "EMBARGO_MAX_MIME_DEPTH")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_mime_depth: Option<usize>,
    /// Messages of more MIME parts than this are quarantined [default: 500].
    #[arg(long, env = "EMBARGO_MAX_MIME_PARTS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_mime_parts: Option<usize>,
    /// Decrypted OpenPGP data is read up to this many bytes (decompression bombs stop
    /// here) [default: 25 MiB].
    #[arg(long, env = "EMBARGO_MAX_DECOMPRESSED_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_decompressed_bytes: Option<usize>,
    /// Messages with more lines that look like header fields are quarantined
    /// [default: 50000].
    #[arg(long, env = "EMBARGO_MAX_HEADER_FIELDS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_header_fields: Option<usize>,
}

/// Options shared by every command that opens the store directly; the configuration
/// file (`--config`) may give them too.
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct StoreArgs {
    /// Data directory: SQLite database and master key file [default: ./embargo-data].
    #[arg(long, env = "EMBARGO_DATA")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<PathBuf>,
    /// PostgreSQL URL; when set, the database lives there instead of in the data directory.
    #[arg(long, env = "EMBARGO_DATABASE_URL", hide_env_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// The master key file (default: master.key in the data directory);
    /// EMBARGO_MASTER_KEY gives the key itself from the environment.
    #[arg(long, env = "EMBARGO_MASTER_KEY_FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_key_file: Option<PathBuf>,
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A bad setting.
    #[error("{0}")]
    Setting(String),
    /// From the store.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl StoreArgs {
    /// These options over the configuration file and the defaults.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        crate::settings::resolve(self).map_err(ConfigError::Setting)
    }

    /// The data directory in effect.
    pub fn data_dir(&self) -> Result<PathBuf, ConfigError> {
        Ok(self.settings()?.data)
    }

    /// The database these options name.
    pub fn database(&self) -> Result<Database, ConfigError> {
        database(&self.settings()?)
    }

    /// Where the master key comes from.
    pub fn key_source(&self) -> Result<KeySource, ConfigError> {
        key_source(&self.settings()?)
    }

    /// Opens the store, creating the database and key on first use.
    pub async fn open(&self) -> Result<Store, ConfigError> {
        open(&self.settings()?).await
    }
}

/// The database the settings name.
pub fn database(settings: &Settings) -> Result<Database, ConfigError> {
    match &settings.database_url {
        Some(url) => Ok(Database::from_url(url)?),
        None => Ok(Database::Sqlite(embargo_store::sqlite_path(&settings.data))),
    }
}

/// Where the master key comes from: `EMBARGO_MASTER_KEY`, the master key file, or
/// `master.key` in the data directory.
pub fn key_source(settings: &Settings) -> Result<KeySource, ConfigError> {
    if let Ok(text) = std::env::var("EMBARGO_MASTER_KEY") {
        return Ok(KeySource::Given(
            MasterKey::from_base64(&text, "EMBARGO_MASTER_KEY").map_err(StoreError::from)?,
        ));
    }
    if let Some(path) = &settings.master_key_file {
        return Ok(KeySource::File(path.clone()));
    }
    embargo_store::create_private_dir(&settings.data).map_err(|e| {
        ConfigError::Setting(format!(
            "cannot create the data directory {}: {e}",
            settings.data.display()
        ))
    })?;
    Ok(KeySource::File(settings.data.join("master.key")))
}

/// Opens the store the settings name, creating the database and key on first use.
pub async fn open(settings: &Settings) -> Result<Store, ConfigError> {
    let database = database(settings)?;
    let keys = key_source(settings)?;
    Ok(Store::open(&database, &keys).await?)
}
