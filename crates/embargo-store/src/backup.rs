//! Backups: a consistent snapshot of every table as JSON lines, encrypted as a whole to a
//! backup recipient's OpenPGP key, and its restore into an empty database of either
//! backend.
//!
//! Nothing is in clear but the first line, which names the format: not the users, their
//! hashes, memberships, states, dates or jobs. The recipient's secret key (the identity)
//! is kept away from the server, so a stolen server cannot read its own backups; any
//! changed byte makes the file fail to open. Inside, confidential fields stay sealed and
//! the data keys wrapped: a restore also needs the master key of the day the backup was
//! taken, and re-wraps the data keys under the target's master key, trying the current
//! key, any key files retired by rotations, and the keys it is given.
//!
//! Sessions are not kept: restoring signs everyone out.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;

use crate::keys::retired_key_files;
use crate::{
    Backend, Database, KeySource, MasterKey, Result, SealError, Store, StoreError, connect,
    master_key,
};

const FORMAT: &str = "embargo-backup";
const VERSION: u64 = 1;
/// The one line a backup file holds in clear: it names the format. The rest is an
/// OpenPGP message (SEIPD, AES-256) to the backup recipient's key, which the server does
/// not hold: a copy of the server cannot read its own backups.
pub const MAGIC: &[u8] = b"EMBARGO-BACKUP/2 OpenPGP\n";

/// How a column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer (ids, times, counters).
    Int,
    /// Text.
    Text,
    /// Bytes: sealed values, wrapped keys, hashes.
    Bytes,
}

use Kind::{Bytes, Int, Text};

/// Every table a backup holds, parents before children, with every column. A test checks
/// this against the migrated schema, so a new column cannot be silently left out.
pub const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "organisations",
        &[
            ("id", Int),
            ("name", Text),
            ("created_at", Int),
            ("settings", Text),
            ("cve_services_sealed", Bytes),
        ],
    ),
    (
        "projects",
        &[
            ("id", Int),
            ("org_id", Int),
            ("key", Text),
            ("name", Text),
            ("branches", Text),
            ("clock_settings", Text),
            ("next_case_number", Int),
            ("created_at", Int),
            ("inbox", Int),
            ("private_list", Text),
            ("disclosure", Text),
            ("giveaways", Text),
            ("canned_responses", Text),
            ("cve_delegated", Int),
            ("product", Text),
        ],
    ),
    (
        "committee_members",
        &[("project_id", Int), ("email", Text), ("added_at", Int)],
    ),
    (
        "users",
        &[
            ("id", Int),
            ("email", Text),
            ("password_hash", Text),
            ("openpgp_key", Text),
            ("is_admin", Int),
            ("created_at", Int),
            ("last_active_at", Int),
            ("totp_sealed", Bytes),
            ("totp_enabled_at", Int),
            ("totp_last_step", Int),
            ("failed_signins", Int),
            ("locked_until", Int),
        ],
    ),
    (
        "recovery_codes",
        &[
            ("user_id", Int),
            ("code_hash", Bytes),
            ("created_at", Int),
            ("used_at", Int),
        ],
    ),
    (
        "team_members",
        &[
            ("user_id", Int),
            ("kind", Text),
            ("scope_id", Int),
            ("added_at", Int),
        ],
    ),
    (
        "notification_modes",
        &[("user_id", Int), ("project_id", Int), ("mode", Text)],
    ),
    (
        "api_tokens",
        &[
            ("id", Int),
            ("user_id", Int),
            ("name", Text),
            ("token_hash", Bytes),
            ("created_at", Int),
            ("last_used_at", Int),
            ("revoked_at", Int),
            ("scope", Text),
        ],
    ),
    (
        "data_keys",
        &[("id", Int), ("wrapped", Bytes), ("created_at", Int)],
    ),
    (
        "cases",
        &[
            ("id", Int),
            ("project_id", Int),
            ("number", Int),
            ("state", Text),
            ("channel", Text),
            ("received_at", Int),
            ("acknowledged_at", Int),
            ("confirmed_at", Int),
            ("fix_ready_at", Int),
            ("announced_at", Int),
            ("public_at", Int),
            ("closed_at", Int),
            ("embargo_at", Int),
            ("last_activity_at", Int),
            ("updated_at", Int),
            ("duplicate_of", Int),
            ("title_sealed", Bytes),
            ("description_sealed", Bytes),
            ("reporter_sealed", Bytes),
            ("cvss_sealed", Bytes),
            ("cve_sealed", Bytes),
            ("versions_sealed", Bytes),
            ("advisory_sealed", Bytes),
            ("override_sealed", Bytes),
            ("terms_sealed", Bytes),
            ("reporter_link_hash", Bytes),
            ("reporter_link_sealed", Bytes),
            ("merged_sealed", Bytes),
            ("reporter_key_sealed", Bytes),
            ("escalated_at", Int),
            ("advisory_url_sealed", Bytes),
            ("cve_state_sealed", Bytes),
            ("retrospective_sealed", Bytes),
            ("credit_sealed", Bytes),
            ("disposition", Text),
            ("owner_id", Int),
            ("identity_shared_at", Int),
            ("revision", Int),
        ],
    ),
    (
        "case_moves",
        &[
            ("id", Int),
            ("case_id", Int),
            ("from_project_id", Int),
            ("from_number", Int),
            ("to_project_id", Int),
            ("to_number", Int),
            ("actor_id", Int),
            ("at", Int),
        ],
    ),
    (
        "case_grants",
        &[
            ("id", Int),
            ("case_id", Int),
            ("user_id", Int),
            ("kind", Text),
            ("invited_by", Int),
            ("invited_at", Int),
            ("invite_hash", Bytes),
            ("accepted_at", Int),
            ("terms_version", Text),
            ("revoked_at", Int),
        ],
    ),
    (
        "distributors",
        &[("project_id", Int), ("user_id", Int), ("added_at", Int)],
    ),
    (
        "case_events",
        &[
            ("id", Int),
            ("case_id", Int),
            ("at", Int),
            ("actor_id", Int),
            ("kind", Text),
            ("from_state", Text),
            ("to_state", Text),
            ("detail_sealed", Bytes),
            ("message_id", Int),
        ],
    ),
    (
        "checklist_marks",
        &[
            ("id", Int),
            ("case_id", Int),
            ("item", Text),
            ("status", Text),
            ("actor_id", Int),
            ("at", Int),
            ("note_sealed", Bytes),
        ],
    ),
    (
        "triage_views",
        &[
            ("id", Int),
            ("case_id", Int),
            ("user_id", Int),
            ("disposition", Text),
            ("duplicate_of", Text),
            ("event_id", Int),
            ("at", Int),
        ],
    ),
    (
        "jobs",
        &[
            ("id", Int),
            ("kind", Text),
            ("payload", Text),
            ("run_at", Int),
            ("attempts", Int),
            ("max_attempts", Int),
            ("locked_by", Text),
            ("locked_until", Int),
            ("done_at", Int),
            ("failed_at", Int),
            ("last_error", Text),
            ("created_at", Int),
            ("dedup_key", Text),
        ],
    ),
    (
        "job_probes",
        &[("id", Int), ("job_id", Int), ("runner", Text), ("at", Int)],
    ),
    (
        "messages",
        &[
            ("id", Int),
            ("project_id", Int),
            ("case_id", Int),
            ("direction", Text),
            ("kind", Text),
            ("message_id_hash", Bytes),
            ("received_at", Int),
            ("sent_at", Int),
            ("quarantine_reason", Text),
            ("raw_sealed", Bytes),
            ("message_id_sealed", Bytes),
            ("dedup_hash", Bytes),
        ],
    ),
    (
        "attachments",
        &[
            ("id", Int),
            ("message_id", Int),
            ("case_id", Int),
            ("size", Int),
            ("held_back", Int),
            ("meta_sealed", Bytes),
            ("data_sealed", Bytes),
        ],
    ),
    (
        "case_files",
        &[
            ("id", Int),
            ("case_id", Int),
            ("purpose", Text),
            ("size", Int),
            ("actor_id", Int),
            ("at", Int),
            ("meta_sealed", Bytes),
            ("data_sealed", Bytes),
        ],
    ),
    (
        "fix_stages",
        &[
            ("id", Int),
            ("case_id", Int),
            ("branch", Text),
            ("stage", Text),
            ("file_id", Int),
            ("actor_id", Int),
            ("at", Int),
            ("detail_sealed", Bytes),
        ],
    ),
    (
        "co_reporters",
        &[
            ("id", Int),
            ("case_id", Int),
            ("email_sealed", Bytes),
            ("added_by", Int),
            ("added_at", Int),
        ],
    ),
    (
        "intake_log",
        &[
            ("id", Int),
            ("project_id", Int),
            ("received_at", Int),
            ("classification", Text),
            ("case_id", Int),
            ("message_id", Int),
        ],
    ),
    (
        "prenotifications",
        &[
            ("id", Int),
            ("case_id", Int),
            ("user_id", Int),
            ("mark", Int),
            ("ack_hash", Bytes),
            ("ack_sealed", Bytes),
            ("mark_sealed", Bytes),
            ("sent_at", Int),
            ("ack_deadline", Int),
            ("acknowledged_at", Int),
        ],
    ),
    (
        "published_records",
        &[
            ("id", Int),
            ("source", Text),
            ("record_id", Text),
            ("cve_id", Text),
            ("title", Text),
            ("summary", Text),
            ("published_at", Int),
            ("modified_at", Int),
            ("document", Text),
            ("imported_at", Int),
        ],
    ),
    (
        "team_keys",
        &[
            ("project_id", Int),
            ("fingerprint", Text),
            ("public_key", Text),
            ("secret_sealed", Bytes),
            ("created_at", Int),
        ],
    ),
    (
        "imap_state",
        &[("account", Text), ("uid_validity", Int), ("last_uid", Int)],
    ),
    ("store_upgrades", &[("name", Text), ("done_at", Int)]),
    (
        "leases",
        &[("name", Text), ("holder", Text), ("until_at", Int)],
    ),
    (
        "signin_failures",
        &[
            ("name_tag", Text),
            ("client", Text),
            ("failures", Int),
            ("locked_until", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "audit_log",
        &[
            ("seq", Int),
            ("at", Int),
            ("actor_id", Int),
            ("case_id", Int),
            ("what", Text),
            ("via", Text),
            ("mac", Bytes),
            ("cases", Text),
        ],
    ),
    (
        "audit_head",
        &[("id", Int), ("seq", Int), ("mac", Bytes), ("auth", Bytes)],
    ),
];

/// Tables deliberately left out of backups (`case_seen` only marks what is unread; a
/// restored queue shows nothing unread).
pub const NOT_BACKED_UP: &[&str] = &[
    "sessions",
    "address_events",
    "backup_log",
    "case_seen",
    // Pending invitations are single-use links a week long: a restore asks for new ones.
    "member_invitations",
    // The search index is rebuilt from the sealed text when the restored store opens.
    "search_terms",
    "search_indexed",
    // Published advisories' renders and blocks of figures are made again from the
    // restored cases.
    "public_renders",
    "figure_blocks",
    // The blocks' marks: the triggers append them again as the restore inserts the cases.
    "figure_marks",
];

/// What a backup wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupSummary {
    /// The file.
    pub path: PathBuf,
    /// Rows per table.
    pub rows: Vec<(String, u64)>,
}

/// How a backup file is opened.
pub struct Opening<'a> {
    /// The backup recipient's secret key (`embargo keys backup generate`).
    pub identity: Option<&'a embargo_openpgp::TeamKey>,
    /// Accept an unencrypted version 1 backup, taken before backups were encrypted.
    pub legacy_plain: bool,
}

/// What a restore loaded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RestoreSummary {
    /// Rows per table.
    pub rows: Vec<(String, u64)>,
    /// Which key opened the backup's data keys.
    pub unwrapped_with: String,
}

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Invalid(format!("{}: {e}", path.display()))
}

fn bad_file(why: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("not a usable Embargo backup: {why}"))
}

fn encode(row: &sqlx::any::AnyRow, columns: &[(&str, Kind)]) -> Result<Value> {
    let mut out = Vec::with_capacity(columns.len());
    for (name, kind) in columns {
        out.push(match kind {
            Int => json!(row.try_get::<Option<i64>, _>(*name)?),
            Text => json!(row.try_get::<Option<String>, _>(*name)?),
            Bytes => json!(
                row.try_get::<Option<Vec<u8>>, _>(*name)?
                    .map(|b| B64.encode(b))
            ),
        });
    }
    Ok(Value::Array(out))
}

async fn schema_version(pool: &AnyPool) -> Result<i64> {
    Ok(
        sqlx::query("SELECT MAX(version) AS v FROM _sqlx_migrations")
            .fetch_one(pool)
            .await?
            .try_get::<Option<i64>, _>("v")?
            .unwrap_or(0),
    )
}

/// Chunks of the plaintext on their way to the encryption, at most this many at once.
const CHUNKS_IN_FLIGHT: usize = 8;
/// The size of each chunk.
const CHUNK: usize = 256 * 1024;

/// The snapshot's writer: full chunks go to the encrypting thread, which holds at most
/// `CHUNKS_IN_FLIGHT` of them; the writer waits while it does.
struct ChunkWriter {
    buffer: Vec<u8>,
    chunks: std::sync::mpsc::SyncSender<Vec<u8>>,
}

impl ChunkWriter {
    fn new(chunks: std::sync::mpsc::SyncSender<Vec<u8>>) -> ChunkWriter {
        ChunkWriter {
            buffer: Vec::with_capacity(CHUNK),
            chunks,
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        let full = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.chunks
            .send(full)
            .map_err(|_| std::io::Error::other("the encryption stopped"))
    }

    /// Sends what is left; the encryption ends when the writer is dropped.
    fn finish(mut self) -> Result<()> {
        self.send()
            .map_err(|e| StoreError::Invalid(format!("writing the backup: {e}")))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The encrypting thread's reader over the chunks the snapshot sends; it ends when the
/// writer is gone.
struct ChunkReader {
    chunk: std::io::Cursor<Vec<u8>>,
    chunks: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl ChunkReader {
    fn new(chunks: std::sync::mpsc::Receiver<Vec<u8>>) -> ChunkReader {
        ChunkReader {
            chunk: std::io::Cursor::new(Vec::new()),
            chunks,
        }
    }
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.chunk.read(out)?;
            if n > 0 || out.is_empty() {
                return Ok(n);
            }
            match self.chunks.recv() {
                Ok(next) => self.chunk = std::io::Cursor::new(next),
                Err(_) => return Ok(0),
            }
        }
    }
}

impl Store {
    /// Writes a consistent snapshot of the database to `path` (created with mode 0600,
    /// never overwriting). `progress` is called with each table's name and row count.
    pub async fn backup(
        &self,
        path: &Path,
        recipient: &embargo_openpgp::PublicKey,
        mut progress: impl FnMut(&str, u64),
    ) -> Result<BackupSummary> {
        let partial = path.with_extension("partial");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        if path.exists() {
            return Err(StoreError::Invalid(format!(
                "{} exists; a backup never overwrites a file",
                path.display()
            )));
        }
        // The snapshot is encrypted as it is read, a chunk at a time, before a byte reaches
        // the disk: memory stays constant whatever the database's size.
        let file = options.open(&partial).map_err(|e| io_error(&partial, e))?;
        let (chunks, receiver) = std::sync::mpsc::sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
        let recipient = recipient.clone();
        let sealing = tokio::task::spawn_blocking(move || -> std::result::Result<(), String> {
            let mut file = file;
            file.write_all(MAGIC).map_err(|e| e.to_string())?;
            embargo_openpgp::seal_stream_to(ChunkReader::new(receiver), &mut file, &recipient)
                .map_err(|e| format!("encrypting the backup: {e}"))?;
            file.sync_all().map_err(|e| e.to_string())
        });
        let mut plain = ChunkWriter::new(chunks);
        let snapshot = self.write_snapshot(&mut plain, &mut progress).await;
        let finished = plain.finish();
        let sealed = sealing
            .await
            .map_err(|e| StoreError::Invalid(format!("encrypting the backup: {e}")));
        let summary = match (snapshot, finished, sealed) {
            (Ok(summary), Ok(()), Ok(Ok(()))) => summary,
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
            (_, _, Ok(Err(e))) => {
                let _ = std::fs::remove_file(&partial);
                return Err(StoreError::Invalid(format!("{}: {e}", partial.display())));
            }
        };
        std::fs::rename(&partial, path).map_err(|e| io_error(path, e))?;
        self.record_backup().await?;
        Ok(BackupSummary {
            path: path.to_owned(),
            rows: summary,
        })
    }

    async fn write_snapshot(
        &self,
        out: &mut impl Write,
        progress: &mut impl FnMut(&str, u64),
    ) -> Result<Vec<(String, u64)>> {
        // One read transaction: a snapshot on both backends, whatever writers do meanwhile.
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let version = Self::schema_version_in(&mut tx).await?;
        let columns: serde_json::Map<String, Value> = TABLES
            .iter()
            .map(|(t, cols)| {
                (
                    (*t).to_owned(),
                    json!(cols.iter().map(|(c, _)| *c).collect::<Vec<_>>()),
                )
            })
            .collect();
        let header = json!({
            "format": FORMAT,
            "version": VERSION,
            "schema": version,
            "created_at": crate::rfc(crate::millis(OffsetDateTime::now_utc())),
            "columns": columns,
        });
        let write = |out: &mut dyn Write, v: &Value| -> Result<()> {
            writeln!(out, "{v}")
                .map_err(|e| StoreError::Invalid(format!("writing the backup: {e}")))
        };
        write(out, &header)?;
        let mut counts = Vec::new();
        let mut total = 0u64;
        for (table, cols) in TABLES {
            let names: Vec<&str> = cols.iter().map(|(c, _)| *c).collect();
            let order = if names.contains(&"id") {
                "id"
            } else {
                names[0]
            };
            let sql = format!("SELECT {} FROM {table} ORDER BY {order}", names.join(", "));
            let mut rows = sqlx::query(&sql).fetch(&mut *tx);
            let mut n = 0u64;
            while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
                write(out, &json!({ "t": table, "r": encode(&row, cols)? }))?;
                n += 1;
            }
            drop(rows);
            total += n;
            progress(table, n);
            counts.push(((*table).to_owned(), n));
        }
        write(out, &json!({ "end": true, "rows": total }))?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn schema_version_in(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<i64> {
        Ok(
            sqlx::query("SELECT MAX(version) AS v FROM _sqlx_migrations")
                .fetch_one(&mut **tx)
                .await?
                .try_get::<Option<i64>, _>("v")?
                .unwrap_or(0),
        )
    }
}

/// Fills `buffer` from `reader` as far as the reader goes.
fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Loads a backup into an empty database. The backup's data keys are unwrapped with the
/// first of: the target's master key, key files retired by rotations, `extra_keys`; and
/// re-wrapped under the target's master key.
pub async fn restore(
    database: &Database,
    source: &KeySource,
    path: &Path,
    opening: &Opening<'_>,
    extra_keys: &[PathBuf],
    mut progress: impl FnMut(&str, u64),
) -> Result<RestoreSummary> {
    // The file is read as it is decrypted, in constant memory. Nothing is committed
    // until all of it has been read and its integrity checked at its end: an altered
    // byte anywhere leaves the target database as it was.
    let mut file =
        std::io::BufReader::new(std::fs::File::open(path).map_err(|e| io_error(path, e))?);
    let mut prefix = vec![0u8; MAGIC.len()];
    let got = read_up_to(&mut file, &mut prefix).map_err(|e| io_error(path, e))?;
    prefix.truncate(got);
    let plain: Box<dyn BufRead> = if prefix == MAGIC {
        let identity = opening.identity.ok_or_else(|| {
            StoreError::Invalid(
                "the backup is encrypted: give the backup identity (--identity)".into(),
            )
        })?;
        Box::new(
            embargo_openpgp::open_sealed_reader(file, identity).map_err(|e| {
                bad_file(format!(
                    "it does not open with this identity, or it was altered ({e})"
                ))
            })?,
        )
    } else if opening.legacy_plain {
        Box::new(std::io::BufReader::new(
            std::io::Cursor::new(prefix).chain(file),
        ))
    } else {
        return Err(bad_file(
            "it is not an encrypted backup; a version 1 (unencrypted) backup is restored only with --legacy-plain",
        ));
    };
    let mut lines = plain.lines();
    let mut next_line = || -> Result<Option<Value>> {
        match lines.next() {
            None => Ok(None),
            Some(line) => {
                // A read that fails inside the encrypted file is a damaged file.
                let line =
                    line.map_err(|e| bad_file(format!("it was altered or is truncated ({e})")))?;
                serde_json::from_str(&line).map(Some).map_err(|e| {
                    bad_file(format!(
                        "a line is not JSON ({e}): it was altered or damaged"
                    ))
                })
            }
        }
    };
    let header = next_line()?.ok_or_else(|| bad_file("the file is empty"))?;
    if header["format"] != FORMAT || header["version"].as_u64() != Some(VERSION) {
        return Err(bad_file(
            "the header is not an embargo-backup version 1 header",
        ));
    }
    let (pool, backend) = connect(database).await?;
    let ours = schema_version(&pool).await?;
    if header["schema"].as_i64().is_none_or(|v| v > ours) {
        return Err(bad_file(
            "it was taken by a newer Embargo; restore it with that version",
        ));
    }
    for (table, _) in TABLES {
        // Rows every new database has: replaced by the backup's.
        if *table == "audit_head" || *table == "store_upgrades" {
            continue;
        }
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&pool)
            .await?
            .try_get("n")?;
        if n > 0 {
            return Err(StoreError::Conflict(format!(
                "the target database is not empty ({table} has rows); restore only into a new database"
            )));
        }
    }
    let spec: HashMap<&str, &[(&str, Kind)]> = TABLES.iter().copied().collect();
    // The backup's own column lists, so that a backup from an older schema still loads.
    let mut columns: HashMap<String, Vec<(String, Kind)>> = HashMap::new();
    for (table, names) in header["columns"]
        .as_object()
        .ok_or_else(|| bad_file("the header lists no columns"))?
    {
        let known = spec
            .get(table.as_str())
            .ok_or_else(|| bad_file(format!("unknown table {table}")))?;
        let mut cols = Vec::new();
        for name in names.as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            let kind = known
                .iter()
                .find(|(c, _)| *c == name)
                .map(|(_, k)| *k)
                .ok_or_else(|| bad_file(format!("unknown column {table}.{name}")))?;
            cols.push((name.to_owned(), kind));
        }
        columns.insert(table.clone(), cols);
    }

    let target = master_key(source, true)?;
    let mut candidates: Vec<(String, MasterKey)> =
        vec![("the current master key".into(), target.clone())];
    if let KeySource::File(key_file) = source {
        for retired in retired_key_files(key_file) {
            if let Ok(k) = MasterKey::read_file(&retired) {
                candidates.push((retired.display().to_string(), k));
            }
        }
    }
    for extra in extra_keys {
        candidates.push((extra.display().to_string(), MasterKey::read_file(extra)?));
    }

    let mut tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    };
    sqlx::query("DELETE FROM audit_head")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM store_upgrades")
        .execute(&mut *tx)
        .await?;
    let mut counts: Vec<(String, u64)> = Vec::new();
    let mut duplicates: Vec<(i64, i64)> = Vec::new();
    let mut unwrapped_with: Option<String> = None;
    let mut total = 0u64;
    let mut ended = false;
    while let Some(line) = next_line()? {
        if line["end"] == true {
            if line["rows"].as_u64() != Some(total) {
                return Err(bad_file("the row count at its end does not match"));
            }
            ended = true;
            break;
        }
        let table = line["t"]
            .as_str()
            .ok_or_else(|| bad_file("a row names no table"))?;
        let cols = columns
            .get(table)
            .ok_or_else(|| bad_file(format!("rows of unknown table {table}")))?;
        let values = line["r"]
            .as_array()
            .filter(|v| v.len() == cols.len())
            .ok_or_else(|| bad_file(format!("a row of {table} does not match its columns")))?;
        let mut decoded: Vec<Cell> = Vec::with_capacity(values.len());
        for ((name, kind), value) in cols.iter().zip(values) {
            decoded.push(decode(value, *kind).ok_or_else(|| {
                bad_file(format!("{table}.{name} holds a value of the wrong type"))
            })?);
        }
        if table == "data_keys" {
            let (Cell::Int(Some(id)), Cell::Bytes(Some(wrapped))) = (&decoded[0], &decoded[1])
            else {
                return Err(bad_file("a data key row is incomplete"));
            };
            let found = candidates
                .iter()
                .find_map(|(name, key)| key.unwrap_key(*id, wrapped).ok().map(|k| (name, k)));
            let Some((name, data_key)) = found else {
                return Err(StoreError::Seal(SealError::WrongMasterKey));
            };
            unwrapped_with = Some(name.clone());
            decoded[1] = Cell::Bytes(Some(target.wrap(*id, &data_key)?));
        }
        // A case may be a duplicate of a later one: link them once all cases are in.
        if table == "cases"
            && let Some(pos) = cols.iter().position(|(c, _)| c == "duplicate_of")
            && let (Cell::Int(Some(id)), Cell::Int(Some(dup))) = (&decoded[0], &decoded[pos])
        {
            duplicates.push((*id, *dup));
            decoded[pos] = Cell::Int(None);
        }
        let names: Vec<&str> = cols.iter().map(|(c, _)| c.as_str()).collect();
        let marks: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            marks.join(", ")
        );
        let mut insert = sqlx::query(&sql);
        for cell in decoded {
            insert = match cell {
                Cell::Int(v) => insert.bind(v),
                Cell::Text(v) => insert.bind(v),
                Cell::Bytes(v) => insert.bind(v),
            };
        }
        insert.execute(&mut *tx).await?;
        total += 1;
        match counts.last_mut() {
            Some((t, n)) if t == table => *n += 1,
            _ => {
                if let Some((t, n)) = counts.last() {
                    progress(t, *n);
                }
                counts.push((table.to_owned(), 1));
            }
        }
    }
    if !ended {
        return Err(bad_file("it is truncated (no end marker)"));
    }
    // Read to the very end: the encrypted file's integrity is checked there, and nothing
    // may follow the end marker.
    if next_line()?.is_some() {
        return Err(bad_file("it goes on after its end marker"));
    }
    if let Some((t, n)) = counts.last() {
        progress(t, *n);
    }
    for (id, dup) in duplicates {
        sqlx::query("UPDATE cases SET duplicate_of = $1 WHERE id = $2")
            .bind(dup)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    if backend == Backend::Postgres {
        // Identity columns do not follow explicit ids; move them past what was loaded.
        for (table, cols) in TABLES {
            if cols.iter().any(|(c, _)| *c == "id") && *table != "audit_head" {
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                ))
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    pool.close().await;
    Ok(RestoreSummary {
        rows: counts,
        unwrapped_with: unwrapped_with.ok_or_else(|| bad_file("it holds no data keys"))?,
    })
}

enum Cell {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

fn decode(value: &Value, kind: Kind) -> Option<Cell> {
    Some(match (kind, value) {
        (Int, Value::Null) => Cell::Int(None),
        (Text, Value::Null) => Cell::Text(None),
        (Bytes, Value::Null) => Cell::Bytes(None),
        (Int, v) => Cell::Int(Some(v.as_i64()?)),
        (Text, v) => Cell::Text(Some(v.as_str()?.to_owned())),
        (Bytes, v) => Cell::Bytes(Some(B64.decode(v.as_str()?).ok()?)),
    })
}
