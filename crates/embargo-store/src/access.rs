//! The one place where case access is decided for storage: every case query goes
//! through a `Viewer` resolved here and `authorize` or `visible_case_row`, which apply
//! `embargo_core::access`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use embargo_core::access::{CaseAccess, Grant, Need, case_access};
use embargo_core::access::{Membership, ProjectScope, Viewer};
use embargo_core::reference::CaseRef;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::{Result, Store, StoreError, millis};

/// Token use is recorded at most this often, to keep reads free of writes.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;
/// How long a resolved token is trusted without asking the database again. Revocation
/// and membership changes made by this process take effect at once; made by another
/// server sharing the database, within this long.
const TOKEN_CACHE_TTL: Duration = Duration::from_secs(1);
/// Entries kept at most; the cache is emptied when it grows past this.
const TOKEN_CACHE_MAX: usize = 10_000;

/// Recently resolved API tokens, by the SHA-256 of the secret.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], (Viewer, Instant)>>,
}

impl TokenCache {
    fn get(&self, digest: &[u8; 32]) -> Option<Viewer> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(digest)
            .filter(|(_, at)| at.elapsed() < TOKEN_CACHE_TTL)
            .map(|(viewer, _)| viewer.clone())
    }

    fn put(&self, digest: [u8; 32], viewer: &Viewer) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= TOKEN_CACHE_MAX {
                entries.clear();
            }
            entries.insert(digest, (viewer.clone(), Instant::now()));
        }
    }

    /// Forgets everything; called on any change to tokens or memberships.
    pub(crate) fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

fn memberships(rows: &[AnyRow]) -> Result<Vec<Membership>> {
    let mut out = Vec::new();
    for row in rows {
        let kind: Option<String> = row.try_get("kind")?;
        let scope: Option<i64> = row.try_get("scope_id")?;
        match (kind.as_deref(), scope) {
            (Some("foundation"), Some(org_id)) => out.push(Membership::Foundation { org_id }),
            (Some("project"), Some(project_id)) => out.push(Membership::ProjectTeam { project_id }),
            _ => {}
        }
    }
    Ok(out)
}

impl Store {
    /// Checks, by the one rule, that the viewer may do what `need` names on a case: for an
    /// edge that must refuse before it reads a form (a refusal must not tell a case that
    /// exists from one that does not). Reads nothing of the case, so audits nothing.
    pub async fn check_access(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        need: Need,
    ) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        authorize(&mut conn, viewer, case_ref, need)
            .await
            .map(|_| ())
    }

    /// Resolves what a signed-in user may see; done once per request.
    pub async fn viewer(&self, user_id: i64) -> Result<Viewer> {
        let rows = sqlx::query(
            "SELECT u.is_admin, m.kind, m.scope_id FROM users u LEFT JOIN team_members m ON m.user_id = u.id WHERE u.id = $1",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let first = rows.first().ok_or(StoreError::NotFound("user"))?;
        let is_admin: i64 = first.try_get("is_admin")?;
        self.resolve(user_id, is_admin != 0, memberships(&rows)?)
            .await
    }

    /// The viewer behind a live API token, in one query for the common case.
    pub async fn viewer_for_token(&self, secret: &str) -> Result<Option<Viewer>> {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        if let Some(viewer) = self.token_cache.get(&digest) {
            return Ok(Some(viewer));
        }
        let rows = sqlx::query(
            "SELECT t.id AS token_id, t.user_id, t.last_used_at, t.scope, u.is_admin, m.kind, m.scope_id \
             FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN team_members m ON m.user_id = u.id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(digest.to_vec())
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let user_id: i64 = first.try_get("user_id")?;
        let is_admin: i64 = first.try_get("is_admin")?;
        let last_used: Option<i64> = first.try_get("last_used_at")?;
        let now = millis(OffsetDateTime::now_utc());
        if last_used.is_none_or(|last| now - last > LAST_USED_GRANULARITY_MS) {
            let token_id: i64 = first.try_get("token_id")?;
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(token_id)
                .execute(self.writer())
                .await?;
            self.touch_user(user_id).await?;
        }
        let mut viewer = self
            .resolve(user_id, is_admin != 0, memberships(&rows)?)
            .await?;
        viewer.read_only = first.try_get::<String, _>("scope")? == "read";
        self.token_cache.put(digest, &viewer);
        Ok(Some(viewer))
    }

    async fn resolve(
        &self,
        user_id: i64,
        is_admin: bool,
        memberships: Vec<Membership>,
    ) -> Result<Viewer> {
        // Only a foundation membership needs the project list, to expand the organisation.
        let projects = if memberships
            .iter()
            .any(|m| matches!(m, Membership::Foundation { .. }))
        {
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
        } else {
            Vec::new()
        };
        Ok(Viewer::resolve(user_id, is_admin, &memberships, &projects))
    }
}

/// A case the viewer is allowed to reach, located by its reference.
pub(crate) struct Authorized {
    pub case_id: i64,
    pub project_id: i64,
    /// How much of the case the viewer reaches: what a collaborator is shown is less
    /// than what the team is.
    pub access: CaseAccess,
}

/// Finds a case and checks, by the one rule in `embargo_core::access`, that the viewer
/// may do what `need` names. A case they may not is reported exactly as a missing one,
/// so its existence does not leak.
pub(crate) async fn authorize(
    conn: &mut sqlx::AnyConnection,
    viewer: &Viewer,
    case_ref: &CaseRef,
    need: Need,
) -> Result<Authorized> {
    let rows = sqlx::query(
        "SELECT c.id, c.project_id, g.kind AS grant_kind, g.accepted_at AS grant_accepted_at FROM cases c JOIN projects p ON p.id = c.project_id \
         LEFT JOIN case_grants g ON g.case_id = c.id AND g.user_id = $3 AND g.revoked_at IS NULL \
         WHERE p.key = $1 AND c.number = $2",
    )
    .bind(case_ref.project.as_str())
    .bind(case_ref.number)
    .bind(viewer.user_id)
    .fetch_all(&mut *conn)
    .await?;
    let first = allowed_row(viewer, &rows, need)?;
    Ok(Authorized {
        case_id: first.try_get("id")?,
        project_id: first.try_get("project_id")?,
        access: best_access(viewer, &rows)?,
    })
}

/// Checks rows of one case, each joined with one of the viewer's grants on it (columns
/// `project_id`, `grant_kind`, `grant_accepted_at`), against the rule; returns the first
/// row if the viewer may do what `need` names. A person may hold both kinds of grant;
/// the widest wins.
pub(crate) fn allowed_row<'r>(
    viewer: &Viewer,
    rows: &'r [AnyRow],
    need: Need,
) -> Result<&'r AnyRow> {
    let first = rows_first(rows)?;
    if best_access(viewer, rows)?.allows(need) {
        Ok(first)
    } else {
        Err(StoreError::NotFound("case"))
    }
}

/// The widest access the viewer's grants on one case give (rows as for `allowed_row`).
pub(crate) fn best_access(viewer: &Viewer, rows: &[AnyRow]) -> Result<CaseAccess> {
    let first = rows_first(rows)?;
    let project_id: i64 = first.try_get("project_id")?;
    let mut access = case_access(viewer, project_id, None);
    for r in rows {
        let kind: Option<String> = r.try_get("grant_kind")?;
        let accepted: Option<i64> = r.try_get("grant_accepted_at")?;
        let grant = match kind.as_deref() {
            Some("collaborator") => Some(Grant::Collaborator {
                accepted: accepted.is_some(),
            }),
            Some("distributor") => Some(Grant::Distributor),
            _ => None,
        };
        access = access.max(case_access(viewer, project_id, grant));
    }
    Ok(access)
}

fn rows_first(rows: &[AnyRow]) -> Result<&AnyRow> {
    rows.first().ok_or(StoreError::NotFound("case"))
}

/// The SQL condition restricting a case query to the cases the viewer may read whole:
/// their teams' projects and the cases they collaborate on. Ids come from the database
/// as integers, so formatting them into the statement is safe.
pub(crate) fn readable_cases_sql(viewer: &Viewer, case: &str, project: &str) -> String {
    let collaborations = format!(
        "{case} IN (SELECT g.case_id FROM case_grants g WHERE g.user_id = {} AND g.kind = 'collaborator' \
         AND g.accepted_at IS NOT NULL AND g.revoked_at IS NULL)",
        viewer.user_id
    );
    if viewer.visible_projects.is_empty() {
        return collaborations;
    }
    let ids: Vec<String> = viewer.visible_projects.iter().map(i64::to_string).collect();
    format!("({project} IN ({}) OR {collaborations})", ids.join(", "))
}
