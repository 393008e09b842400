//! Which case a message answers: by the Message-IDs it refers to, then by a case
//! reference in its subject, following cases routed to another project since.

use embargo_mail::Inbound;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::Result;

/// A Message-ID as the messages table indexes it (the ID itself is kept sealed).
pub(crate) fn id_hash(message_id: &str) -> Vec<u8> {
    Sha256::digest(message_id.as_bytes()).to_vec()
}

/// The case a message answers: by Message-ID headers first, then by a reference in the
/// subject to a case of this project.
pub(crate) async fn thread(
    conn: &mut AnyConnection,
    project_id: i64,
    inbound: &Inbound,
) -> Result<Option<i64>> {
    for id in &inbound.thread_ids {
        // The project's own cases, and those routed away from it since the mail began.
        let row = sqlx::query(
            "SELECT case_id FROM messages WHERE message_id_hash = $1 AND case_id IS NOT NULL \
             AND (project_id = $2 OR case_id IN (SELECT case_id FROM case_moves WHERE from_project_id = $2)) ORDER BY id LIMIT 1",
        )
        .bind(id_hash(id))
        .bind(project_id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return Ok(Some(row.try_get("case_id")?));
        }
    }
    for reference in &inbound.case_refs {
        let row = sqlx::query(
            "SELECT c.id FROM cases c JOIN projects p ON p.id = c.project_id WHERE p.id = $1 AND p.key = $2 AND c.number = $3",
        )
        .bind(project_id)
        .bind(reference.project.as_str())
        .bind(reference.number)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return Ok(Some(row.try_get("id")?));
        }
        // A reference the case had before it was routed.
        let row = sqlx::query(
            "SELECT m.case_id FROM case_moves m JOIN projects p ON p.id = m.from_project_id WHERE p.id = $1 AND p.key = $2 AND m.from_number = $3",
        )
        .bind(project_id)
        .bind(reference.project.as_str())
        .bind(reference.number)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return Ok(Some(row.try_get("case_id")?));
        }
    }
    Ok(None)
}
