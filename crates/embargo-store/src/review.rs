//! Process review: the figures of a project or an organisation over a period, and what
//! each team member has done. Read by the team (a project) or the foundation team (an
//! organisation); every case counted is an audited summary read.

use embargo_core::access::Viewer;
use embargo_core::reference::ProjectKey;
use embargo_core::review::{Figures, Retrospective, figures};
use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::audit::{Entry, Read};
use crate::case_row::{CASE_COLUMNS, CASE_FROM, Loaded};
use crate::cases::ctx;
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
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} {CASE_FROM} \
             WHERE {condition} AND p.inbox = 0 AND c.received_at >= $2 AND c.received_at < $3 ORDER BY c.id"
        ))
        .bind(&bind)
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await?;
        let now = OffsetDateTime::now_utc();
        let mut cases = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let case = Loaded::from_row(self.keys(), row, true)?;
            let retrospective: Option<Retrospective> =
                match row.try_get::<Option<Vec<u8>>, _>("retrospective_sealed")? {
                    Some(s) => Some(
                        serde_json::from_slice(&self.keys().open(
                            &ctx(
                                row.try_get("project_id")?,
                                row.try_get("number")?,
                                "retrospective",
                            ),
                            &s,
                        )?)
                        .map_err(|_| StoreError::Corrupt("retrospective".into()))?,
                    ),
                    None => None,
                };
            cases.push(case.figures(
                now,
                row.try_get("public_at")?,
                retrospective.and_then(|r| r.cwe),
            ));
            ids.push(id);
        }
        if !ids.is_empty() {
            // One row per thousand cases: a year's figures read every case of the year.
            let read = ids
                .chunks(1000)
                .flat_map(|some| Entry::listed(viewer, some, Read::Summary))
                .collect();
            self.audit(read).await?;
        }
        let members = self.member_activity(team_kind, team_scope, &ids).await?;
        Ok(Metrics {
            scope: name,
            from: from.map(|f| rfc(millis(f))),
            to: to.map(|t| rfc(millis(t))),
            figures: figures(&cases),
            members,
        })
    }

    async fn member_activity(
        &self,
        kind: &str,
        scope: i64,
        case_ids: &[i64],
    ) -> Result<Vec<MemberActivity>> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.last_active_at FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.kind = $1 AND m.scope_id = $2 ORDER BY u.email",
        )
        .bind(kind)
        .bind(scope)
        .fetch_all(&self.pool)
        .await?;
        let ids: Vec<String> = case_ids.iter().map(i64::to_string).collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let user: i64 = row.try_get("id")?;
            // Ids come from the database as integers, so listing them in the statement is safe.
            let handled: i64 = if ids.is_empty() {
                0
            } else {
                sqlx::query(&format!(
                    "SELECT COUNT(DISTINCT case_id) AS n FROM case_events WHERE actor_id = $1 AND case_id IN ({})",
                    ids.join(", ")
                ))
                .bind(user)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?
            };
            out.push(MemberActivity {
                email: row.try_get("email")?,
                last_active_at: row.try_get::<Option<i64>, _>("last_active_at")?.map(rfc),
                cases_handled: handled,
            });
        }
        Ok(out)
    }
}
