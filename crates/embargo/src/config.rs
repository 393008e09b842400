//! Where Embargo keeps its data: a data directory with an SQLite database and the master
//! key file by default, or a PostgreSQL URL. Flags override `EMBARGO_*` variables.

use std::path::PathBuf;

use clap::Args;
use embargo_store::{Database, KeySource, MasterKey, Store, StoreError};

/// The limits of intake (`embargo intake` and IMAP polling). Over a limit, a message is
/// kept whole in quarantine with a reason that names the limit.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Attachments over this many bytes are held back (kept, not offered).
    #[arg(long, env = "EMBARGO_ATTACHMENT_LIMIT", default_value_t = 10 * 1024 * 1024)]
    pub attachment_limit: usize,
    /// Messages over this many bytes are quarantined.
    #[arg(long, env = "EMBARGO_MAX_MESSAGE_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub max_message_bytes: usize,
    /// Header sections over this many bytes are quarantined.
    #[arg(long, env = "EMBARGO_MAX_HEADER_BYTES", default_value_t = 256 * 1024)]
    pub max_header_bytes: usize,
    /// MIME trees deeper than this are quarantined.
    #[arg(long, env = "EMBARGO_MAX_MIME_DEPTH", default_value_t = 20)]
    pub max_mime_depth: usize,
    /// Messages of more MIME parts than this are quarantined.
    #[arg(long, env = "EMBARGO_MAX_MIME_PARTS", default_value_t = 500)]
    pub max_mime_parts: usize,
    /// Decrypted OpenPGP data is read up to this many bytes (decompression bombs stop here).
    #[arg(long, env = "EMBARGO_MAX_DECOMPRESSED_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub max_decompressed_bytes: usize,
    /// Messages with more lines that look like header fields are quarantined.
    #[arg(long, env = "EMBARGO_MAX_HEADER_FIELDS", default_value_t = 50_000)]
    pub max_header_fields: usize,
}

impl LimitArgs {
    /// The limits these options set.
    pub fn limits(&self) -> embargo_mail::Limits {
        embargo_mail::Limits {
            attachment_bytes: self.attachment_limit,
            message_bytes: self.max_message_bytes,
            header_bytes: self.max_header_bytes,
            mime_depth: self.max_mime_depth,
            mime_parts: self.max_mime_parts,
            decompressed_bytes: self.max_decompressed_bytes,
            header_fields: self.max_header_fields,
        }
    }
}

/// Options shared by every command that opens the store directly.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Data directory: SQLite database and master key file.
    #[arg(long, env = "EMBARGO_DATA", default_value = "./embargo-data")]
    pub data: PathBuf,
    /// PostgreSQL URL; when set, the database lives there instead of in the data directory.
    #[arg(long, env = "EMBARGO_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
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
    /// The database these options name.
    pub fn database(&self) -> Result<Database, ConfigError> {
        match &self.database_url {
            Some(url) => Ok(Database::from_url(url)?),
            None => Ok(Database::Sqlite(embargo_store::sqlite_path(&self.data))),
        }
    }

    /// Where the master key comes from: `EMBARGO_MASTER_KEY`, `EMBARGO_MASTER_KEY_FILE`,
    /// or `master.key` in the data directory.
    pub fn key_source(&self) -> Result<KeySource, ConfigError> {
        if let Ok(text) = std::env::var("EMBARGO_MASTER_KEY") {
            return Ok(KeySource::Given(
                MasterKey::from_base64(&text, "EMBARGO_MASTER_KEY").map_err(StoreError::from)?,
            ));
        }
        if let Ok(path) = std::env::var("EMBARGO_MASTER_KEY_FILE") {
            return Ok(KeySource::File(PathBuf::from(path)));
        }
        embargo_store::create_private_dir(&self.data).map_err(|e| {
            ConfigError::Setting(format!(
                "cannot create the data directory {}: {e}",
                self.data.display()
            ))
        })?;
        Ok(KeySource::File(self.data.join("master.key")))
    }

    /// Opens the store, creating the database and key on first use.
    pub async fn open(&self) -> Result<Store, ConfigError> {
        let database = self.database()?;
        let keys = self.key_source()?;
        Ok(Store::open(&database, &keys).await?)
    }
}
