//! The external thread from the team's side: replies to the reporter (mailed by the job
//! runner), the project's canned responses, and reports filed on the public form.

use embargo_core::access::Viewer;
use embargo_core::canned::{self, Canned};
use embargo_core::case::{Channel, Reporter};
use embargo_core::reference::{CaseRef, ProjectKey};
use sqlx::Row;
use time::OffsetDateTime;

use crate::cases::{NewReport, Post, check_text, insert_case};
use crate::jobs::enqueue;
use crate::views::TimelineEvent;
use crate::{Result, Store, StoreError, millis};

/// A report filed on the public form: its reference and the reporter's secret link.
#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FiledReport {
    /// The case reference.
    #[serde(rename = "ref")]
    #[schema(value_type = String, example = "CLOUDSTACK-SEC-42")]
    pub reference: embargo_core::reference::CaseRef,
    /// The reporter's secret: their page is /reporter/{secret}, their API /api/reporter/{secret}.
    pub secret: String,
}

impl Store {
    async fn project_for_team(&self, viewer: &Viewer, key: &ProjectKey) -> Result<crate::Project> {
        let project = self.project(key).await?;
        if !viewer.is_admin && !viewer.can_see_project(project.id) {
            return Err(StoreError::NotFound("project"));
        }
        Ok(project)
    }

    pub(crate) async fn overrides(&self, project_id: i64) -> Result<Vec<Canned>> {
        let text: Option<String> =
            sqlx::query("SELECT canned_responses FROM projects WHERE id = $1")
                .bind(project_id)
                .fetch_one(&self.pool)
                .await?
                .try_get("canned_responses")?;
        match text {
            Some(t) => {
                serde_json::from_str(&t).map_err(|_| StoreError::Corrupt("canned responses".into()))
            }
            None => Ok(Vec::new()),
        }
    }

    /// The project's canned responses (its team and administrators).
    pub async fn canned_responses(&self, viewer: &Viewer, key: &ProjectKey) -> Result<Vec<Canned>> {
        let project = self.project_for_team(viewer, key).await?;
        Ok(canned::responses(&self.overrides(project.id).await?))
    }

    /// Sets the project's text of one canned response.
    pub async fn set_canned_response(
        &self,
        viewer: &Viewer,
        key: &ProjectKey,
        name: &str,
        text: &str,
    ) -> Result<Vec<Canned>> {
        let project = self.project_for_team(viewer, key).await?;
        if !canned::is_known(name) {
            return Err(StoreError::NotFound("canned response"));
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreError::Invalid(
                "a canned response cannot be empty".into(),
            ));
        }
        check_text("canned response", text, 20_000)?;
        let mut own = self.overrides(project.id).await?;
        own.retain(|c| c.name != name);
        own.push(Canned {
            name: name.to_owned(),
            text: text.to_owned(),
        });
        sqlx::query("UPDATE projects SET canned_responses = $1 WHERE id = $2")
            .bind(
                serde_json::to_string(&own)
                    .map_err(|_| StoreError::Corrupt("canned responses".into()))?,
            )
            .bind(project.id)
            .execute(self.writer())
            .await?;
        Ok(canned::responses(&own))
    }

    /// Writes to the reporter (team only): the message joins the external thread and is
    /// mailed by the job runner.
    pub async fn reply_to_reporter(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        text: &str,
    ) -> Result<TimelineEvent> {
        self.post_text(viewer, case_ref, Post::ToReporter, text)
            .await
    }

    /// Files a report from the public form: no account; the reporter gets the reference
    /// and their secret link, and an acknowledgement by mail when they gave an address.
    pub async fn file_public_report(
        &self,
        key: &ProjectKey,
        title: &str,
        description: &str,
        reporter: Reporter,
    ) -> Result<FiledReport> {
        let project = self.project(key).await?;
        if let Some(email) = &reporter.email {
            crate::accounts::check_email(email)?;
        }
        let has_email = reporter.email.is_some();
        let report = NewReport {
            project: key.clone(),
            title: title.to_owned(),
            description: description.to_owned(),
            reporter,
            channel: Channel::WebForm,
        };
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let (case_id, number, secret) =
            insert_case(&mut tx, self.keys(), project.id, &report, None, now).await?;
        if has_email {
            enqueue(&mut tx, &crate::jobs::Task::Acknowledge { case_id }, now).await?;
        }
        enqueue(&mut tx, &crate::jobs::Task::NotifyTeam { case_id }, now).await?;
        tx.commit().await?;
        Ok(FiledReport {
            reference: embargo_core::reference::CaseRef {
                project: key.clone(),
                number,
            },
            secret,
        })
    }
}
