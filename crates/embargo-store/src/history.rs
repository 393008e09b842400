//! Advisories published elsewhere, imported (OSV, CVE JSON 5) for history and for
//! duplicate detection. An import is idempotent: a record already held is updated only
//! when the new copy is newer.

use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;

use crate::{Result, Store, millis};

/// One record to import.
pub struct PublishedRecord {
    /// osv or cve5.
    pub source: &'static str,
    /// Its id (RUSTSEC-…, GHSA-…, CVE-…).
    pub record_id: String,
    /// Its CVE ID, when it has one.
    pub cve_id: Option<String>,
    /// Its title.
    pub title: String,
    /// Its description.
    pub summary: String,
    /// When it was published.
    pub published: OffsetDateTime,
    /// When it last changed.
    pub modified: OffsetDateTime,
    /// The document as read.
    pub document: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportCounts {
    /// New records.
    pub imported: u64,
    /// Records held before, replaced by a newer copy.
    pub updated: u64,
    /// Records held before, unchanged.
    pub unchanged: u64,
}

impl Store {
    /// Imports records in transactions of `per_commit`; `progress` gets the count done.
    pub async fn import_published(
        &self,
        records: &[PublishedRecord],
        per_commit: usize,
        mut progress: impl FnMut(usize),
    ) -> Result<ImportCounts> {
        let now = millis(OffsetDateTime::now_utc());
        let mut counts = ImportCounts::default();
        let mut done = 0;
        for chunk in records.chunks(per_commit.max(1)) {
            let mut tx = self.begin_write().await?;
            for r in chunk {
                let held =
                    sqlx::query("SELECT modified_at FROM published_records WHERE record_id = $1")
                        .bind(&r.record_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                match held {
                    Some(row) if row.try_get::<i64, _>("modified_at")? >= millis(r.modified) => {
                        counts.unchanged += 1
                    }
                    Some(_) => {
                        sqlx::query("UPDATE published_records SET source = $1, cve_id = $2, title = $3, summary = $4, published_at = $5, modified_at = $6, document = $7, imported_at = $8 WHERE record_id = $9")
                            .bind(r.source)
                            .bind(&r.cve_id)
                            .bind(&r.title)
                            .bind(&r.summary)
                            .bind(millis(r.published))
                            .bind(millis(r.modified))
                            .bind(&r.document)
                            .bind(now)
                            .bind(&r.record_id)
                            .execute(&mut *tx)
                            .await?;
                        counts.updated += 1;
                    }
                    None => {
                        sqlx::query("INSERT INTO published_records (source, record_id, cve_id, title, summary, published_at, modified_at, document, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                            .bind(r.source)
                            .bind(&r.record_id)
                            .bind(&r.cve_id)
                            .bind(&r.title)
                            .bind(&r.summary)
                            .bind(millis(r.published))
                            .bind(millis(r.modified))
                            .bind(&r.document)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        counts.imported += 1;
                    }
                }
            }
            tx.commit().await?;
            done += chunk.len();
            progress(done);
        }
        tracing::info!(
            imported = counts.imported,
            updated = counts.updated,
            "published records imported"
        );
        Ok(counts)
    }

    /// Imported records as duplicate candidates: (id, title, summary).
    pub(crate) async fn published_record_texts(&self) -> Result<Vec<(String, String, String)>> {
        sqlx::query("SELECT record_id, title, summary FROM published_records ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("record_id")?,
                    r.try_get("title")?,
                    r.try_get("summary")?,
                ))
            })
            .collect()
    }
}
