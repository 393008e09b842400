//! Routing: the foundation team moves a case from its inbox (or a project that got it by
//! mistake) to the project it concerns. The case takes the next number there; its sealed
//! fields are sealed again under the new reference, mail under the old one still threads
//! onto it, and the move is on the timeline.

use embargo_core::access::{Need, Viewer};
use embargo_core::lifecycle::State;
use embargo_core::reference::{CaseRef, ProjectKey};
use embargo_core::timeline::EventKind;
use sqlx::Row;
use time::OffsetDateTime;

use crate::access::authorize;
use crate::audit::{Entry, Read};
use crate::case_row::{SEALED_CASE_FIELDS, load};
use crate::cases::ctx;
use crate::timeline::{Act, record_event, touch};
use crate::views::CaseDetail;
use crate::{Result, Store, StoreError, millis};

impl Store {
    /// Moves a case to another project of its organisation. Only the foundation team
    /// routes, and only cases not yet announced (an announced reference is public).
    pub async fn route_case(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        to: &ProjectKey,
        reason: &str,
    ) -> Result<CaseDetail> {
        crate::cases::check_text("reason", reason, 10_000)?;
        let now_dt = OffsetDateTime::now_utc();
        let now = millis(now_dt);
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let columns: Vec<&str> = SEALED_CASE_FIELDS.iter().map(|(c, _)| *c).collect();
        let row = sqlx::query(&format!(
            "SELECT c.project_id, c.number, c.state, p.org_id, {} FROM cases c JOIN projects p ON p.id = c.project_id WHERE c.id = $1",
            columns.iter().map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ")
        ))
        .bind(auth.case_id)
        .fetch_one(&mut *tx)
        .await?;
        let from_project: i64 = row.try_get("project_id")?;
        let from_number: i64 = row.try_get("number")?;
        let org_id: i64 = row.try_get("org_id")?;
        if !viewer.foundation_orgs.contains(&org_id) {
            return Err(StoreError::Forbidden(
                "only the foundation security team routes cases between projects",
            ));
        }
        let state: State = row
            .try_get::<String, _>("state")?
            .parse()
            .map_err(|_| StoreError::Corrupt("case state".into()))?;
        if matches!(state, State::Announced | State::Public | State::Closed) {
            return Err(StoreError::Invalid(format!(
                "{case_ref} is {state}: an announced case keeps its public reference"
            )));
        }
        let target = sqlx::query("SELECT id, org_id FROM projects WHERE key = $1")
            .bind(to.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .filter(|t| t.try_get::<i64, _>("org_id").ok() == Some(org_id))
            .ok_or_else(|| StoreError::Invalid(format!("the organisation has no project {to}")))?;
        let to_project: i64 = target.try_get("id")?;
        if to_project == from_project {
            return Err(StoreError::Invalid(format!(
                "{case_ref} is in {to} already"
            )));
        }
        let to_number: i64 = sqlx::query(
            "UPDATE projects SET next_case_number = next_case_number + 1 WHERE id = $1 RETURNING next_case_number - 1 AS number",
        )
        .bind(to_project)
        .fetch_one(&mut *tx)
        .await?
        .try_get("number")?;
        // Seals are bound to the reference; seal each field again under the new one.
        let keys = self.keys();
        let mut resealed: Vec<Option<Vec<u8>>> = Vec::with_capacity(SEALED_CASE_FIELDS.len());
        for (column, field) in SEALED_CASE_FIELDS {
            let sealed: Option<Vec<u8>> = row.try_get(*column)?;
            resealed.push(match sealed {
                Some(s) => {
                    let plain = keys.open(&ctx(from_project, from_number, field), &s)?;
                    Some(keys.seal(&ctx(to_project, to_number, field), &plain)?)
                }
                None => None,
            });
        }
        let sets: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 3))
            .collect();
        // Placeholders only; the column names are the constant list above.
        let statement = format!(
            "UPDATE cases SET project_id = $1, number = $2, {} WHERE id = ${}",
            sets.join(", "),
            SEALED_CASE_FIELDS.len() + 3
        );
        let mut update = sqlx::query(&statement).bind(to_project).bind(to_number);
        for value in resealed {
            update = update.bind(value);
        }
        // Events, notes, files and mail are bound to the project too: sealed again under
        // the new one before the case moves.
        crate::bind::rebind_case(&mut tx, keys, auth.case_id, from_project, to_project).await?;
        update.bind(auth.case_id).execute(&mut *tx).await?;
        sqlx::query("UPDATE messages SET project_id = $1 WHERE case_id = $2")
            .bind(to_project)
            .bind(auth.case_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO case_moves (case_id, from_project_id, from_number, to_project_id, to_number, actor_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(auth.case_id)
        .bind(from_project)
        .bind(from_number)
        .bind(to_project)
        .bind(to_number)
        .bind(viewer.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let new_ref = embargo_core::reference::case_reference(to.as_str(), to_number);
        let reason = reason.trim();
        let detail = if reason.is_empty() {
            format!("routed from {case_ref} to {new_ref}")
        } else {
            format!("routed from {case_ref} to {new_ref}: {reason}")
        };
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        record_event(&mut tx, keys, act, EventKind::Routed, None, Some(&detail)).await?;
        touch(&mut tx, auth.case_id, now).await?;
        // The project's team hears of its new case.
        crate::jobs::enqueue(
            &mut tx,
            &crate::jobs::Task::NotifyTeam {
                case_id: auth.case_id,
            },
            now,
        )
        .await?;
        let case = load(&mut tx, keys, auth.case_id, true).await?;
        tx.commit().await?;
        tracing::info!(
            case = auth.case_id,
            from = from_project,
            to = to_project,
            "case routed"
        );
        self.audit(vec![Entry::new(viewer, auth.case_id, Read::Case)])
            .await?;
        Ok(case.detail(now_dt))
    }
}
