//! Process review: the figures of a project or an organisation over a period, and what
//! each team member has done. Read by the team (a project) or the foundation team (an
//! organisation); every case counted is an audited summary read.

use embargo_core::access::Viewer;
use embargo_core::reference::ProjectKey;
use embargo_core::review::Figures;
use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::audit::{Entry, Read};
use crate::figure_blocks::Count;
use crate::{Result, Store, StoreError, millis, rfc};

/// Whose figures.
pub enum Scope {
    /// One project, for its team (and the foundation team).
    Project(ProjectKey),
    /// A whole organisation, for its foundation team.
    Organisation(String),
}

/// A team member's activity.
#[derive(Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct MemberActivity {
    /// The member.
    pub email: String,
    /// When they last did anything (RFC 3339).
    pub last_active_at: Option<String>,
    /// How many of the scope's cases they acted on in the period.
    pub cases_handled: i64,
}

/// The figures of a scope over a period.
#[derive(Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Metrics {
    /// The project key or organisation name.
    pub scope: String,
    /// The period's start (RFC 3339), if bounded.
    pub from: Option<String>,
    /// The period's end (RFC 3339, excluded), if bounded.
    pub to: Option<String>,
    /// The figures of the cases received in the period.
    pub figures: Figures,
    /// The team's members and what they did.
    pub members: Vec<MemberActivity>,
}

impl Store {
    /// The figures of a project or an organisation for cases received in [from, to).
    pub async fn metrics(
        &self,
        viewer: &Viewer,
        scope: &Scope,
        from: Option<OffsetDateTime>,
        to: Option<OffsetDateTime>,
    ) -> Result<Metrics> {
        let (condition, bind, name, team_kind, team_scope): (&str, String, String, &str, i64) =
            match scope {
                Scope::Project(key) => {
                    let project = self.project(key).await?;
                    if !viewer.can_see_project(project.id) {
                        return Err(StoreError::NotFound("project"));
                    }
                    (
                        "p.key = $1",
                        key.as_str().to_owned(),
                        key.as_str().to_owned(),
                        "project",
                        project.id,
                    )
                }
                Scope::Organisation(org) => {
                    let id: i64 = sqlx::query("SELECT id FROM organisations WHERE name = $1")
                        .bind(org)
                        .fetch_optional(&self.pool)
                        .await?
                        .ok_or(StoreError::NotFound("organisation"))?
                        .try_get("id")?;
                    if !viewer.foundation_orgs.contains(&id) {
                        return Err(StoreError::NotFound("organisation"));
                    }
                    (
                        "p.org_id = (SELECT id FROM organisations WHERE name = $1)",
                        org.clone(),
                        org.clone(),
                        "foundation",
                        id,
                    )
                }
            };
        let (lo, hi) = (
            from.map(millis).unwrap_or(i64::MIN),
            to.map(millis).unwrap_or(i64::MAX),
        );
        // Each project's figures come from its kept blocks where they are current (see
        // `figure_blocks`); the inbox's unsorted mail is no project's case.
        let projects: Vec<i64> = sqlx::query(&format!(
            "SELECT p.id FROM projects p WHERE {condition} AND p.inbox = 0 ORDER BY p.id"
        ))
        .bind(&bind)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| row.try_get("id"))
        .collect::<std::result::Result<_, _>>()?;
        let now = OffsetDateTime::now_utc();
        let mut count = Count::default();
        for project in projects {
            self.count_project(project, lo, hi, now, &mut count).await?;
        }
        if !count.ids.is_empty() {
            // A year's figures read every case of the year: the rows name them by runs.
            self.audit(Entry::counted(viewer, &mut count.ids, Read::Summary))
                .await?;
        }
        let members = self
            .member_activity(team_kind, team_scope, &count.handled)
            .await?;
        Ok(Metrics {
            scope: name,
            from: from.map(|f| rfc(millis(f))),
            to: to.map(|t| rfc(millis(t))),
            figures: count.tally.finish(),
            members,
        })
    }

    /// The team's members, with how many of the counted cases each acted on (counted with
    /// the figures, block by block).
    async fn member_activity(
        &self,
        kind: &str,
        scope: i64,
        handled: &std::collections::HashMap<i64, i64>,
    ) -> Result<Vec<MemberActivity>> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.last_active_at FROM team_members m JOIN users u ON u.id = m.user_id \
             WHERE m.kind = $1 AND m.scope_id = $2 ORDER BY u.email",
        )
        .bind(kind)
        .bind(scope)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MemberActivity {
                    email: row.try_get("email")?,
                    last_active_at: row.try_get::<Option<i64>, _>("last_active_at")?.map(rfc),
                    cases_handled: handled
                        .get(&row.try_get::<i64, _>("id")?)
                        .copied()
                        .unwrap_or(0),
                })
            })
            .collect()
    }
}
