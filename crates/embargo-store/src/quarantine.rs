//! The quarantine: messages intake could not use, listed with their reason and never
//! their content, and released to intake again once the cause is fixed.

use embargo_core::reference::ProjectKey;
use embargo_mail::Limits;
use sqlx::Row;

use embargo_core::access::Viewer;

use crate::intake::{Desk, IntakeOutcome};
use crate::timeline::open_bytes_logged;
use crate::{Result, Store, StoreError, rfc};

/// A message in quarantine, without its content.
#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Quarantined {
    /// Its id, for release.
    pub id: i64,
    /// When it arrived.
    pub received_at: String,
    /// Why it is here.
    pub reason: String,
    /// Its size in bytes.
    pub size: i64,
}

impl Store {
    /// The project's quarantine, newest first (its team and administrators).
    pub async fn quarantined(&self, viewer: &Viewer, key: &ProjectKey) -> Result<Vec<Quarantined>> {
        let project = self.project(key).await?;
        if !viewer.is_admin && !viewer.can_see_project(project.id) {
            return Err(StoreError::NotFound("project"));
        }
        let rows = sqlx::query(
            "SELECT id, received_at, quarantine_reason, raw_sealed FROM messages WHERE project_id = $1 AND kind = 'quarantined' ORDER BY id DESC LIMIT 500",
        )
        .bind(project.id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Quarantined {
                    id: row.try_get("id")?,
                    received_at: rfc(row.try_get("received_at")?),
                    reason: row
                        .try_get::<Option<String>, _>("quarantine_reason")?
                        .unwrap_or_default(),
                    // The sealed form's overhead is fixed: 1 + 4 + 24 + 16 bytes.
                    size: (row.try_get::<Vec<u8>, _>("raw_sealed")?.len() as i64 - 45).max(0),
                })
            })
            .collect()
    }

    /// Takes a quarantined message in again (after a fix, or as a report after all); the
    /// quarantine keeps its record, marked released.
    pub async fn release(
        &self,
        viewer: &Viewer,
        key: &ProjectKey,
        id: i64,
        limits: &Limits,
    ) -> Result<IntakeOutcome> {
        let project = self.project(key).await?;
        if !viewer.can_see_project(project.id) {
            return Err(StoreError::NotFound("quarantined message"));
        }
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT raw_sealed FROM messages WHERE id = $1 AND project_id = $2 AND kind = 'quarantined'")
            .bind(id)
            .bind(project.id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("quarantined message"))?;
        let raw = open_bytes_logged(
            self.keys(),
            &crate::contexts::message(Some(project.id), id, "raw"),
            &row.try_get::<Vec<u8>, _>("raw_sealed")?,
            "messages",
            id,
        )?;
        // Its Message-ID is let go, or the message would now be its own duplicate.
        sqlx::query(
            "UPDATE messages SET kind = 'released', message_id_hash = NULL, dedup_hash = NULL WHERE id = $1",
        )
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let team = self.team_key(&mut tx, project.id).await?;
        let outcome = self
            .intake_checked(
                &mut tx,
                Desk {
                    key: project.key.as_str(),
                    project: Some(&project),
                    team: team.as_ref(),
                },
                &raw,
                limits,
                true,
            )
            .await?;
        tx.commit().await?;
        tracing::info!(
            message = id,
            user = viewer.user_id,
            "quarantined message released"
        );
        Ok(outcome)
    }
}
