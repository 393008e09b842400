//! Published advisories as rendered for the public site, kept in the database: rendered
//! once at the announcement (and at each correction) by a job, so that every server of
//! the deployment, and one just started, answers announcement-day traffic without
//! rendering. A render is kept with the validator of what it was drawn from; one whose
//! validator no longer matches is never served. Bodies are sealed under their case's
//! binding, so that whoever can write to the database still cannot change a public page.

use embargo_core::lifecycle::State;
use embargo_core::reference::CaseRef;
use sqlx::Row;
use time::OffsetDateTime;

use crate::case_row::state_in;
use crate::contexts::public_render as ctx;
use crate::{Result, Store, millis};

impl Store {
    /// The announced case's id and project, or `None` when it is not announced.
    async fn announced_case(&self, case_ref: &CaseRef) -> Result<Option<(i64, i64)>> {
        let row = sqlx::query(&format!(
            "SELECT c.id, c.project_id FROM cases c JOIN projects p ON p.id = c.project_id \
             WHERE p.key = $1 AND c.number = $2 AND {}",
            state_in(State::is_announced)
        ))
        .bind(case_ref.project.as_str())
        .bind(case_ref.number)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("project_id")?)))
            .transpose()
    }

    /// The kept render of an announced case's `form` with validator `etag`, if there is
    /// one. A body that does not open (moved by SQL, or sealed under a key since
    /// destroyed) counts as none: the caller renders again.
    pub async fn stored_render(
        &self,
        case_ref: &CaseRef,
        form: &str,
        etag: &str,
    ) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query(&format!(
            "SELECT c.id, c.project_id, r.body_sealed FROM public_renders r \
             JOIN cases c ON c.id = r.case_id JOIN projects p ON p.id = c.project_id \
             WHERE p.key = $1 AND c.number = $2 AND r.form = $3 AND r.etag = $4 AND {}",
            state_in(State::is_announced)
        ))
        .bind(case_ref.project.as_str())
        .bind(case_ref.number)
        .bind(form)
        .bind(etag)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let context = ctx(row.try_get("project_id")?, row.try_get("id")?, form);
        let sealed: Vec<u8> = row.try_get("body_sealed")?;
        match self.keys().open(&context, &sealed) {
            Ok(body) => Ok(Some(body)),
            Err(_) => {
                tracing::warn!(case = %case_ref, form, "a stored render does not open; rendering again");
                Ok(None)
            }
        }
    }

    /// Keeps the render of an announced case's `form`, replacing the one kept before.
    /// Returns whether it was kept: a case no longer announced keeps nothing.
    pub async fn keep_render(
        &self,
        case_ref: &CaseRef,
        form: &str,
        etag: &str,
        body: &[u8],
    ) -> Result<bool> {
        let Some((case_id, project_id)) = self.announced_case(case_ref).await? else {
            return Ok(false);
        };
        let sealed = self.keys().seal(&ctx(project_id, case_id, form), body)?;
        sqlx::query(
            "INSERT INTO public_renders (case_id, form, etag, body_sealed, rendered_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id, form) DO UPDATE SET \
             etag = excluded.etag, body_sealed = excluded.body_sealed, rendered_at = excluded.rendered_at",
        )
        .bind(case_id)
        .bind(form)
        .bind(etag)
        .bind(sealed)
        .bind(millis(OffsetDateTime::now_utc()))
        .execute(self.writer())
        .await?;
        Ok(true)
    }

    /// The reference of a case named by id (a job's case).
    pub async fn case_ref_of(&self, case_id: i64) -> Result<CaseRef> {
        let mut conn = self.pool.acquire().await?;
        crate::intake::case_reference(&mut conn, case_id)
            .await?
            .parse()
            .map_err(|_| crate::StoreError::Corrupt(format!("case {case_id}'s reference")))
    }
}
