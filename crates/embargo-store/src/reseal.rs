//! `embargo keys reseal`: every sealed value not yet under the active data key is opened
//! and sealed again under it. After `keys rotate` (which makes a new data key for new
//! writes) and a reseal, nothing in the live database opens with an old data key, so an
//! old master key with an older copy of the database reads nothing of today's.
//!
//! Resumable by construction: a value already under the active key is skipped, and each
//! batch commits on its own, so a run that stops is simply run again.

use sqlx::Row;

use crate::case_row::SEALED_CASE_FIELDS;
use crate::contexts;
use crate::seal::Keyring;
use crate::{Result, Store, StoreError};

/// What a reseal did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ResealReport {
    /// Values sealed again under the active key.
    pub resealed: u64,
    /// Values that were under it already.
    pub current: u64,
    /// The active data key.
    pub data_key: u32,
    /// Cases whose search tokens were made again under the active key.
    pub reindexed: u64,
}

/// Rows per transaction.
const BATCH: i64 = 500;

/// One table's sealed columns: how to select them and each value's context.
struct Sealed {
    table: &'static str,
    /// Selects `id` (the row's key, as `key_id`), the columns the contexts need, and the
    /// sealed columns; `$1` is the last key done, `$2` the batch size.
    select: String,
    columns: Vec<&'static str>,
    context: fn(&sqlx::any::AnyRow, &str) -> Result<String>,
}

fn get(row: &sqlx::any::AnyRow, name: &str) -> Result<i64> {
    Ok(row.try_get(name)?)
}

fn case_field(column: &str) -> Result<&'static str> {
    SEALED_CASE_FIELDS
        .iter()
        .find(|(c, _)| *c == column)
        .map(|(_, f)| *f)
        .ok_or_else(|| StoreError::Corrupt(format!("no context for cases.{column}")))
}

fn tables() -> Vec<Sealed> {
    vec![
        Sealed {
            table: "cases",
            select: format!(
                "SELECT id AS key_id, project_id, number, {} FROM cases WHERE id > $1 ORDER BY id LIMIT $2",
                SEALED_CASE_FIELDS
                    .iter()
                    .map(|(column, _)| *column)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            columns: SEALED_CASE_FIELDS.iter().map(|(column, _)| *column).collect(),
            context: |row, column| {
                Ok(crate::cases::ctx(
                    get(row, "project_id")?,
                    get(row, "number")?,
                    case_field(column)?,
                ))
            },
        },
        Sealed {
            table: "case_events",
            select: "SELECT e.id AS key_id, e.case_id, e.kind, c.project_id, e.detail_sealed FROM case_events e JOIN cases c ON c.id = e.case_id WHERE e.id > $1 ORDER BY e.id LIMIT $2".into(),
            columns: vec!["detail_sealed"],
            context: |row, _| {
                Ok(contexts::event(
                    get(row, "project_id")?,
                    get(row, "case_id")?,
                    &row.try_get::<String, _>("kind")?,
                ))
            },
        },
        Sealed {
            table: "checklist_marks",
            select: "SELECT m.id AS key_id, m.case_id, m.item, c.project_id, m.note_sealed FROM checklist_marks m JOIN cases c ON c.id = m.case_id WHERE m.id > $1 ORDER BY m.id LIMIT $2".into(),
            columns: vec!["note_sealed"],
            context: |row, _| {
                Ok(contexts::mark(
                    get(row, "project_id")?,
                    get(row, "case_id")?,
                    &row.try_get::<String, _>("item")?,
                ))
            },
        },
        Sealed {
            table: "attachments",
            select: "SELECT a.id AS key_id, a.case_id, c.project_id, a.meta_sealed, a.data_sealed FROM attachments a JOIN cases c ON c.id = a.case_id WHERE a.id > $1 ORDER BY a.id LIMIT $2".into(),
            columns: vec!["meta_sealed", "data_sealed"],
            context: |row, column| {
                let part = if column == "meta_sealed" {
                    "meta"
                } else {
                    "data"
                };
                Ok(contexts::attachment(
                    get(row, "project_id")?,
                    get(row, "case_id")?,
                    get(row, "key_id")?,
                    part,
                ))
            },
        },
        Sealed {
            table: "case_files",
            select: "SELECT f.id AS key_id, f.case_id, c.project_id, f.meta_sealed, f.data_sealed FROM case_files f JOIN cases c ON c.id = f.case_id WHERE f.id > $1 ORDER BY f.id LIMIT $2".into(),
            columns: vec!["meta_sealed", "data_sealed"],
            context: |row, column| {
                let part = if column == "meta_sealed" {
                    "meta"
                } else {
                    "data"
                };
                Ok(contexts::case_file(
                    get(row, "project_id")?,
                    get(row, "case_id")?,
                    get(row, "key_id")?,
                    part,
                ))
            },
        },
        Sealed {
            table: "fix_stages",
            select: "SELECT s.id AS key_id, s.case_id, s.branch, c.project_id, s.detail_sealed FROM fix_stages s JOIN cases c ON c.id = s.case_id WHERE s.id > $1 ORDER BY s.id LIMIT $2".into(),
            columns: vec!["detail_sealed"],
            context: |row, _| {
                Ok(contexts::fix(
                    get(row, "project_id")?,
                    get(row, "case_id")?,
                    &row.try_get::<String, _>("branch")?,
                ))
            },
        },
        Sealed {
            table: "messages",
            select: "SELECT id AS key_id, project_id, raw_sealed, message_id_sealed FROM messages WHERE id > $1 ORDER BY id LIMIT $2".into(),
            columns: vec!["raw_sealed", "message_id_sealed"],
            context: |row, column| {
                let part = if column == "raw_sealed" {
                    "raw"
                } else {
                    "message-id"
                };
                Ok(contexts::message(
                    row.try_get("project_id")?,
                    get(row, "key_id")?,
                    part,
                ))
            },
        },
        Sealed {
            table: "co_reporters",
            select: "SELECT id AS key_id, email_sealed FROM co_reporters WHERE id > $1 ORDER BY id LIMIT $2".into(),
            columns: vec!["email_sealed"],
            context: |row, _| Ok(crate::contexts::co_reporter(get(row, "key_id")?)),
        },
        Sealed {
            table: "users",
            select: "SELECT id AS key_id, totp_sealed FROM users WHERE id > $1 ORDER BY id LIMIT $2".into(),
            columns: vec!["totp_sealed"],
            context: |row, _| Ok(crate::contexts::totp(get(row, "key_id")?)),
        },
        Sealed {
            table: "organisations",
            select: "SELECT id AS key_id, cve_services_sealed FROM organisations WHERE id > $1 ORDER BY id LIMIT $2".into(),
            columns: vec!["cve_services_sealed"],
            context: |row, _| Ok(crate::contexts::cve_credentials(get(row, "key_id")?)),
        },
        Sealed {
            table: "team_keys",
            select: "SELECT project_id AS key_id, secret_sealed FROM team_keys WHERE project_id > $1 ORDER BY project_id LIMIT $2".into(),
            columns: vec!["secret_sealed"],
            context: |row, _| Ok(crate::contexts::team_key_secret(get(row, "key_id")?)),
        },
        Sealed {
            table: "prenotifications",
            select: "SELECT id AS key_id, case_id, user_id, ack_sealed, mark_sealed FROM prenotifications WHERE id > $1 ORDER BY id LIMIT $2".into(),
            columns: vec!["ack_sealed", "mark_sealed"],
            context: |row, column| {
                let (case, user) = (get(row, "case_id")?, get(row, "user_id")?);
                Ok(if column == "ack_sealed" {
                    crate::contexts::prenotification_ack(case, user)
                } else {
                    crate::contexts::prenotification_mark(case, user)
                })
            },
        },
    ]
}

impl Store {
    /// Seals every value not under the active data key again under it. `progress` is
    /// called with each table and the values resealed in it so far.
    pub async fn reseal(&self, mut progress: impl FnMut(&str, u64)) -> Result<ResealReport> {
        let keys: &Keyring = self.keys();
        let active = keys.active();
        let mut report = ResealReport {
            data_key: active,
            ..ResealReport::default()
        };
        // Stored renders of published advisories and kept blocks of figures are caches:
        // dropped, not resealed, and made again under the active key when next read.
        for cache in ["public_renders", "figure_blocks"] {
            sqlx::query(&format!("DELETE FROM {cache}"))
                .execute(self.writer())
                .await?;
        }
        for spec in tables() {
            let key_column = if spec.table == "team_keys" {
                "project_id"
            } else {
                "id"
            };
            let mut after = 0i64;
            let mut in_table = 0u64;
            loop {
                let mut tx = self.begin_write().await?;
                let rows = sqlx::query(&spec.select)
                    .bind(after)
                    .bind(BATCH)
                    .fetch_all(&mut *tx)
                    .await?;
                let Some(last) = rows.last() else {
                    break;
                };
                after = get(last, "key_id")?;
                for row in &rows {
                    for column in &spec.columns {
                        let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>(*column)? else {
                            continue;
                        };
                        if sealed.is_empty() || Keyring::key_of(&sealed) == Some(active) {
                            report.current += 1;
                            continue;
                        }
                        let context = (spec.context)(row, column)?;
                        let plain = keys.open(&context, &sealed).map_err(|e| {
                            tracing::error!(
                                table = spec.table,
                                id = get(row, "key_id").unwrap_or(0),
                                "a sealed value does not open under its binding"
                            );
                            StoreError::from(e)
                        })?;
                        // Column and key names are the constant lists above.
                        sqlx::query(&format!(
                            "UPDATE {} SET {column} = $1 WHERE {key_column} = $2",
                            spec.table
                        ))
                        .bind(keys.seal(&context, &plain)?)
                        .bind(get(row, "key_id")?)
                        .execute(&mut *tx)
                        .await?;
                        report.resealed += 1;
                        in_table += 1;
                    }
                }
                tx.commit().await?;
                progress(spec.table, in_table);
            }
        }
        // The search index's tokens follow the data key too: a case indexed under an
        // older one is indexed again (its words stay findable meanwhile).
        report.reindexed = self
            .index_pending(crate::search::Pending::NotUnderActiveKey, |done| {
                progress("search_terms", done)
            })
            .await?;
        Ok(report)
    }
}
