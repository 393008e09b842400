//! The files of a case: from mail and the reporter's page, sealed, listed and downloaded
//! by whoever may see them (held-back files by the team only).

use sqlx::{AnyConnection, Row};

use embargo_core::access::{Need, Viewer};
use embargo_core::reference::CaseRef;

use crate::access::authorize;
use crate::audit::{Entry, Read};
use crate::timeline::open_bytes_logged;
use crate::{Result, Store, StoreError, rfc};

/// An attachment of a case, without its bytes.
#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AttachmentInfo {
    /// Its id, for download.
    pub id: i64,
    /// The file name the sender gave.
    pub filename: String,
    /// The type the sender declared (downloads are always served as octet-stream).
    pub content_type: String,
    /// Its size in bytes.
    pub size: i64,
    /// Over the size limit: kept, and downloadable by the team only.
    pub held_back: bool,
    /// When its message arrived.
    pub received_at: String,
}

impl Store {
    async fn attachment_rows(
        &self,
        conn: &mut AnyConnection,
        case_id: i64,
        only: Option<i64>,
    ) -> Result<Vec<(AttachmentInfo, Vec<u8>)>> {
        let project_id = crate::timeline::case_project(conn, case_id).await?;
        let rows = sqlx::query(
            "SELECT a.id, a.size, a.held_back, a.meta_sealed, a.data_sealed, m.received_at FROM attachments a JOIN messages m ON m.id = a.message_id \
             WHERE a.case_id = $1 AND ($2 = 0 OR a.id = $2) ORDER BY a.id",
        )
        .bind(case_id)
        .bind(only.unwrap_or(0))
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let context = |part| crate::contexts::attachment(project_id, case_id, id, part);
            let meta: serde_json::Value = serde_json::from_slice(&open_bytes_logged(
                self.keys(),
                &context("meta"),
                &row.try_get::<Vec<u8>, _>("meta_sealed")?,
                "attachments",
                id,
            )?)
            .map_err(|_| StoreError::Corrupt("attachment metadata".into()))?;
            let data = if only.is_some() {
                open_bytes_logged(
                    self.keys(),
                    &context("data"),
                    &row.try_get::<Vec<u8>, _>("data_sealed")?,
                    "attachments",
                    id,
                )?
            } else {
                Vec::new()
            };
            out.push((
                AttachmentInfo {
                    id,
                    filename: meta["filename"].as_str().unwrap_or("attachment").to_owned(),
                    content_type: meta["content_type"]
                        .as_str()
                        .unwrap_or("application/octet-stream")
                        .to_owned(),
                    size: row.try_get("size")?,
                    held_back: row.try_get::<i64, _>("held_back")? != 0,
                    received_at: rfc(row.try_get("received_at")?),
                },
                data,
            ));
        }
        Ok(out)
    }

    /// The attachments of a case.
    pub async fn attachments(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
    ) -> Result<Vec<AttachmentInfo>> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Read).await?;
        let rows = self.attachment_rows(&mut conn, auth.case_id, None).await?;
        drop(conn);
        self.audit(vec![Entry::new(viewer, auth.case_id, Read::Attachments)])
            .await?;
        Ok(rows.into_iter().map(|(info, _)| info).collect())
    }

    /// One attachment with its bytes, exactly as sent. Held-back ones are for the team.
    pub async fn attachment(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        id: i64,
    ) -> Result<(AttachmentInfo, Vec<u8>)> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Read).await?;
        let (info, data) = self
            .attachment_rows(&mut conn, auth.case_id, Some(id))
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound("attachment"))?;
        if info.held_back {
            authorize(&mut conn, viewer, case_ref, Need::Change)
                .await
                .map_err(|_| StoreError::NotFound("attachment"))?;
        }
        drop(conn);
        self.audit(vec![Entry::new(viewer, auth.case_id, Read::Attachments)])
            .await?;
        Ok((info, data))
    }
}

/// A file uploaded through a page: the reporter's, or the team's (patches, evidence).
pub struct Upload<'a> {
    /// The name their browser gave.
    pub filename: &'a str,
    /// The type their browser declared (downloads are served as octet-stream anyway).
    pub content_type: &'a str,
    /// The bytes, as sent.
    pub bytes: &'a [u8],
    /// The largest file accepted, in bytes.
    pub limit: usize,
}

/// An attachment as received, before it is sealed.
pub(crate) struct NewAttachment<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    pub held_back: bool,
}

impl Store {
    /// Stores an attachment of a kept message, sealed under its own id.
    pub(crate) async fn insert_attachment(
        &self,
        conn: &mut AnyConnection,
        message_id: i64,
        case_id: i64,
        file: &NewAttachment<'_>,
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO attachments (message_id, case_id, size, held_back, meta_sealed, data_sealed) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(message_id)
        .bind(case_id)
        .bind(file.bytes.len() as i64)
        .bind(i64::from(file.held_back))
        .bind(Vec::<u8>::new())
        .bind(Vec::<u8>::new())
        .fetch_one(&mut *conn)
        .await?;
        let id: i64 = row.try_get("id")?;
        let project_id = crate::timeline::case_project(conn, case_id).await?;
        let context = |part| crate::contexts::attachment(project_id, case_id, id, part);
        let meta =
            serde_json::json!({ "filename": file.filename, "content_type": file.content_type });
        sqlx::query("UPDATE attachments SET meta_sealed = $1, data_sealed = $2 WHERE id = $3")
            .bind(
                self.keys()
                    .seal(&context("meta"), meta.to_string().as_bytes())?,
            )
            .bind(self.keys().seal(&context("data"), file.bytes)?)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(id)
    }
}

/// Copies a merged duplicate's attachments onto the surviving case, each opened under
/// the duplicate's contexts and sealed again under the survivor's (the duplicate keeps
/// its own, for its reporter's link). `from` and `to` are (project, case). Returns the
/// files' names, in order.
pub(crate) async fn copy_attachments(
    conn: &mut AnyConnection,
    keys: &crate::Keyring,
    from: (i64, i64),
    to: (i64, i64),
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id, message_id, size, held_back, meta_sealed, data_sealed FROM attachments WHERE case_id = $1 ORDER BY id",
    )
    .bind(from.1)
    .fetch_all(&mut *conn)
    .await?;
    let mut names = Vec::new();
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let old = |part| crate::contexts::attachment(from.0, from.1, id, part);
        let meta = open_bytes_logged(
            keys,
            &old("meta"),
            &row.try_get::<Vec<u8>, _>("meta_sealed")?,
            "attachments",
            id,
        )?;
        let data = open_bytes_logged(
            keys,
            &old("data"),
            &row.try_get::<Vec<u8>, _>("data_sealed")?,
            "attachments",
            id,
        )?;
        let copy: i64 = sqlx::query(
            "INSERT INTO attachments (message_id, case_id, size, held_back, meta_sealed, data_sealed) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(row.try_get::<i64, _>("message_id")?)
        .bind(to.1)
        .bind(row.try_get::<i64, _>("size")?)
        .bind(row.try_get::<i64, _>("held_back")?)
        .bind(Vec::<u8>::new())
        .bind(Vec::<u8>::new())
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?;
        let new = |part| crate::contexts::attachment(to.0, to.1, copy, part);
        sqlx::query("UPDATE attachments SET meta_sealed = $1, data_sealed = $2 WHERE id = $3")
            .bind(keys.seal(&new("meta"), &meta)?)
            .bind(keys.seal(&new("data"), &data)?)
            .bind(copy)
            .execute(&mut *conn)
            .await?;
        let meta: serde_json::Value = serde_json::from_slice(&meta)
            .map_err(|_| StoreError::Corrupt("attachment metadata".into()))?;
        names.push(meta["filename"].as_str().unwrap_or("attachment").to_owned());
    }
    Ok(names)
}
