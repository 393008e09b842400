//! Rotation. A new master key wraps every data key, and a new data key is made for what
//! is sealed from then on (`keys reseal` moves older values onto it); an old master key,
//! even with an older copy of the database, opens nothing written since. The retired
//! master key leaves the data directory: it is written where the operator says, or
//! handed back to be printed once (backups taken before need it).
//!
//! With a key file, the new key is first written beside it as `master.key.next`, then the
//! database is re-wrapped, then the new key replaces the file. A rotation interrupted
//! between those steps is finished (or undone) the next time the store opens.

use std::path::{Path, PathBuf};

use sqlx::{AnyPool, Row};
use time::OffsetDateTime;

use crate::{Database, KeySource, MasterKey, Result, SealError, StoreError, connect, master_key};

/// What a rotation did.
#[derive(Clone, serde::Serialize)]
pub struct Rotation {
    /// How many data keys were re-wrapped.
    pub data_keys: usize,
    /// The new data key's id: what is sealed from now on.
    pub new_data_key: i64,
    /// Where the new master key was written.
    pub new_key_file: PathBuf,
    /// Where the retired master key was written, when the operator named a place.
    pub retired_key_file: Option<PathBuf>,
    /// The retired master key (base64), when no place was named: shown once, kept nowhere.
    pub retired_key: Option<String>,
}

impl std::fmt::Debug for Rotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Rotation(data_keys={}, new_data_key={})",
            self.data_keys, self.new_data_key
        )
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// The key files retired by earlier rotations, newest first.
pub fn retired_key_files(key_file: &Path) -> Vec<PathBuf> {
    let Some(dir) = key_file.parent() else {
        return Vec::new();
    };
    let prefix = format!(
        "{}.retired-",
        key_file.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut found: Vec<PathBuf> = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })
    .map(|entries| {
        entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
            })
            .collect()
    })
    .unwrap_or_default();
    found.sort();
    found.reverse();
    found
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|source| {
        StoreError::Seal(SealError::Io {
            path: from.to_owned(),
            source,
        })
    })
}

/// Puts the new key in place of the old (whose copy was written out before).
fn install(key_file: &Path, next: &Path) -> Result<()> {
    rename(next, key_file)
}

/// Whether `key` unwraps the database's first data key.
async fn unwraps(pool: &AnyPool, key: &MasterKey) -> Result<bool> {
    let row = sqlx::query("SELECT id, wrapped FROM data_keys ORDER BY id LIMIT 1")
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        None => false,
        Some(row) => key
            .unwrap_key(row.try_get("id")?, &row.try_get::<Vec<u8>, _>("wrapped")?)
            .is_ok(),
    })
}

/// Completes or undoes a rotation that stopped half-way.
pub(crate) async fn finish_interrupted_rotation(pool: &AnyPool, key_file: &Path) -> Result<()> {
    let next = sibling(key_file, ".next");
    let Ok(next_key) = MasterKey::read_file(&next) else {
        return Ok(());
    };
    if unwraps(pool, &next_key).await? {
        install(key_file, &next)?;
        tracing::warn!("finished an interrupted master key rotation");
    } else if let Ok(current) = MasterKey::read_file(key_file)
        && unwraps(pool, &current).await?
    {
        std::fs::remove_file(&next).map_err(|source| SealError::Io {
            path: next.clone(),
            source,
        })?;
        tracing::warn!("undid an interrupted master key rotation; the current key stays");
    }
    Ok(())
}

/// Re-wraps every data key under a new master key. With a key file, the new key replaces
/// it and the old one is kept beside it; with a key from the environment, the new key is
/// written to `output` (which must not exist) for the operator to install.
pub async fn rotate_master_key(
    database: &Database,
    source: &KeySource,
    output: Option<&Path>,
    retired_out: Option<&Path>,
) -> Result<Rotation> {
    let (pool, _) = connect(database).await?;
    if let KeySource::File(path) = source {
        finish_interrupted_rotation(&pool, path).await?;
    }
    let current = master_key(source, false)?;
    let rows = sqlx::query("SELECT id, wrapped FROM data_keys ORDER BY id")
        .fetch_all(&pool)
        .await?;
    if rows.is_empty() {
        return Err(StoreError::Invalid(
            "this database has no data keys yet; start it once before rotating".into(),
        ));
    }
    let mut keys = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        keys.push((
            id,
            current.unwrap_key(id, &row.try_get::<Vec<u8>, _>("wrapped")?)?,
        ));
    }
    let new = MasterKey::generate();
    // The retired key is saved (or kept to be shown) before anything changes.
    let (retired_key_file, retired_key) = match (source, retired_out) {
        (_, Some(out)) => {
            current.create_file(out)?;
            (Some(out.to_owned()), None)
        }
        (KeySource::File(_), None) => (None, Some(current.to_base64())),
        // A key from the environment: the operator holds it already.
        (KeySource::Given(_), None) => (None, None),
    };
    let new_file = match (source, output) {
        (KeySource::Given(_), Some(out)) => out.to_owned(),
        (KeySource::File(path), None) => sibling(path, ".next"),
        (KeySource::File(_), Some(_)) => {
            return Err(StoreError::Invalid(
                "the key file is replaced in place; --output is for a master key given in the environment".into(),
            ));
        }
        (KeySource::Given(_), None) => {
            return Err(StoreError::Invalid(
                "the master key comes from the environment: name a file for the new key with --output".into(),
            ));
        }
    };
    new.create_file(&new_file)?;
    let new_data_key = keys.iter().map(|(id, _)| *id).max().unwrap_or(0) + 1;
    let mut tx = pool.begin().await?;
    for (id, key) in &keys {
        sqlx::query("UPDATE data_keys SET wrapped = $1 WHERE id = $2")
            .bind(new.wrap(*id, key)?)
            .bind(*id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("INSERT INTO data_keys (id, wrapped, created_at) VALUES ($1, $2, $3)")
        .bind(new_data_key)
        .bind(new.wrap(new_data_key, &crate::seal::Keyring::generate_data_key())?)
        .bind(crate::millis(OffsetDateTime::now_utc()))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let new_key_file = match (source, output) {
        (KeySource::File(path), None) => {
            install(path, &new_file)?;
            path.clone()
        }
        _ => new_file,
    };
    pool.close().await;
    tracing::info!(data_keys = keys.len(), new_data_key, "master key rotated");
    Ok(Rotation {
        data_keys: keys.len(),
        new_data_key,
        new_key_file,
        retired_key_file,
        retired_key,
    })
}
