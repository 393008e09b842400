//! The intake log: every message intake took in, newest first, with what it became (a
//! case, a follow-up, a third party's message, scan output, an auto-reply, a bounce, spam,
//! a duplicate delivery, quarantine). It names cases by reference and carries no content;
//! a case the viewer may not see is not named.

use embargo_core::access::Viewer;
use embargo_core::reference::ProjectKey;
use sqlx::Row;

use crate::{Result, Store, StoreError, rfc};

/// One message taken in.
#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IntakeEntry {
    /// Its place in the log; pass it as `before` for the next page.
    pub id: i64,
    /// When it arrived.
    pub received_at: String,
    /// What it was: report, scan-output, follow-up, third-party, auto-reply, bounce,
    /// duplicate or quarantined.
    pub classification: String,
    /// The case it opened or joined, when the viewer may see it.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// Its quarantine entry while it is in quarantine, for release.
    pub quarantine_id: Option<i64>,
    /// Why it is in quarantine.
    pub reason: Option<String>,
}

impl Store {
    /// A page of a project's intake log, newest first: entries before `before` (all when
    /// `None`), at most `limit` (1 to 200). The project's team and foundation team, and
    /// administrators (who see no case references).
    pub async fn intake_log(
        &self,
        viewer: &Viewer,
        key: &ProjectKey,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<IntakeEntry>> {
        let project = self.project(key).await?;
        if !viewer.is_admin && !viewer.can_see_project(project.id) {
            return Err(StoreError::NotFound("project"));
        }
        let rows = sqlx::query(
            "SELECT l.id, l.received_at, l.classification, c.project_id AS case_project, c.number, p.key, \
             m.id AS message_id, m.kind AS message_kind, m.quarantine_reason \
             FROM intake_log l LEFT JOIN cases c ON c.id = l.case_id LEFT JOIN projects p ON p.id = c.project_id \
             LEFT JOIN messages m ON m.id = l.message_id \
             WHERE l.project_id = $1 AND ($2 = 0 OR l.id < $2) ORDER BY l.id DESC LIMIT $3",
        )
        .bind(project.id)
        .bind(before.unwrap_or(0))
        .bind(limit.clamp(1, 200))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let case_project: Option<i64> = row.try_get("case_project")?;
                let reference = match (case_project, row.try_get::<Option<String>, _>("key")?) {
                    (Some(p), Some(key)) if viewer.can_see_project(p) => {
                        Some(embargo_core::reference::case_reference(
                            &key,
                            row.try_get::<i64, _>("number")?,
                        ))
                    }
                    _ => None,
                };
                let classification: String = row.try_get("classification")?;
                let held = row.try_get::<Option<String>, _>("message_kind")?.as_deref()
                    == Some("quarantined")
                    && classification == "quarantined";
                Ok(IntakeEntry {
                    id: row.try_get("id")?,
                    received_at: rfc(row.try_get("received_at")?),
                    reference,
                    quarantine_id: if held {
                        row.try_get("message_id")?
                    } else {
                        None
                    },
                    reason: if classification == "quarantined" {
                        row.try_get("quarantine_reason")?
                    } else {
                        None
                    },
                    classification,
                })
            })
            .collect()
    }
}
