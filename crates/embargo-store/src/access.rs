//! The one place where case access is decided for storage: every case query goes
//! through `Store::viewer` and `authorize`, which apply `embargo_core::access`.

use embargo_core::access::{Membership, ProjectScope, Viewer};
use embargo_core::reference::CaseRef;
use sqlx::Row;

use crate::{Result, Store, StoreError};

impl Store {
    /// Resolves what a signed-in user may see; done once per request.
    pub async fn viewer(&self, user_id: i64) -> Result<Viewer> {
        let user = sqlx::query("SELECT is_admin FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        let is_admin: i64 = user.try_get("is_admin")?;
        let memberships = sqlx::query("SELECT kind, scope_id FROM team_members WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .filter_map(|row| {
                let kind: String = row.try_get("kind").ok()?;
                let scope: i64 = row.try_get("scope_id").ok()?;
                match kind.as_str() {
                    "foundation" => Some(Membership::Foundation { org_id: scope }),
                    "project" => Some(Membership::ProjectTeam { project_id: scope }),
                    _ => None,
                }
            })
            .collect::<Vec<_>>();
        let projects = if memberships.is_empty() {
            Vec::new()
        } else {
            sqlx::query("SELECT id, org_id FROM projects")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|row| {
                    Ok(ProjectScope {
                        project_id: row.try_get("id")?,
                        org_id: row.try_get("org_id")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        };
        Ok(Viewer::resolve(
            user_id,
            is_admin != 0,
            &memberships,
            &projects,
        ))
    }
}

/// A case the viewer is allowed to see, located by its reference.
pub(crate) struct Authorized {
    pub case_id: i64,
}

/// Finds a case the viewer may see. A case they may not see is reported exactly as a
/// missing one, so its existence does not leak.
pub(crate) async fn authorize(
    conn: &mut sqlx::AnyConnection,
    viewer: &Viewer,
    case_ref: &CaseRef,
) -> Result<Authorized> {
    let row = sqlx::query(
        "SELECT c.id, c.project_id FROM cases c JOIN projects p ON p.id = c.project_id WHERE p.key = $1 AND c.number = $2",
    )
    .bind(case_ref.project.as_str())
    .bind(case_ref.number)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound("case"))?;
    let project_id: i64 = row.try_get("project_id")?;
    if !viewer.can_see_project(project_id) {
        return Err(StoreError::NotFound("case"));
    }
    Ok(Authorized {
        case_id: row.try_get("id")?,
    })
}

/// The SQL condition restricting a case query to the viewer's projects. Ids come from
/// the database as integers, so formatting them into the statement is safe.
pub(crate) fn visible_projects_sql(viewer: &Viewer, column: &str) -> String {
    if viewer.visible_projects.is_empty() {
        return "1 = 0".to_owned();
    }
    let ids: Vec<String> = viewer.visible_projects.iter().map(i64::to_string).collect();
    format!("{column} IN ({})", ids.join(", "))
}
