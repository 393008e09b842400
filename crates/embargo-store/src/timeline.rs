//! The case's timeline and checklist marks, and the small steps every change to a case
//! shares: who acts, when, on which project's binding.

use embargo_core::checklist::MarkStatus;
use embargo_core::lifecycle::State;
use embargo_core::timeline::EventKind;
use sqlx::{AnyConnection, Row};

use crate::{Keyring, Result, StoreError};

/// Who acts on which case, and when: the common part of every timeline entry and mark.
#[derive(Clone, Copy)]
pub(crate) struct Act {
    pub case_id: i64,
    pub actor: Option<i64>,
    pub now: i64,
}

/// Adds an entry to a case's timeline; its detail is sealed to the case. Returns its id.
pub(crate) async fn record_event(
    conn: &mut AnyConnection,
    keys: &Keyring,
    act: Act,
    kind: EventKind,
    states: Option<(State, State)>,
    detail: Option<&str>,
) -> Result<i64> {
    let Act {
        case_id,
        actor,
        now,
    } = act;
    let project_id = case_project(conn, case_id).await?;
    let sealed = detail
        .map(|d| {
            keys.seal_str(
                &crate::contexts::event(project_id, case_id, kind.as_str()),
                d,
            )
        })
        .transpose()?;
    let row = sqlx::query(
        "INSERT INTO case_events (case_id, at, actor_id, kind, from_state, to_state, detail_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(case_id)
    .bind(now)
    .bind(actor)
    .bind(kind.as_str())
    .bind(states.map(|(from, _)| from.as_str()))
    .bind(states.map(|(_, to)| to.as_str()))
    .bind(sealed)
    .fetch_one(&mut *conn)
    .await?;
    if let (Some(source), Some(text)) = (crate::search::Source::of_event(kind), detail) {
        crate::search::index_text(conn, keys, case_id, source, text).await?;
    }
    Ok(row.try_get("id")?)
}

/// Ticks a checklist item.
pub(crate) async fn record_mark(
    conn: &mut AnyConnection,
    keys: &Keyring,
    act: Act,
    item: &str,
    status: MarkStatus,
    note: Option<&str>,
) -> Result<()> {
    let Act {
        case_id,
        actor,
        now,
    } = act;
    let project_id = case_project(conn, case_id).await?;
    let sealed = note
        .map(|n| keys.seal_str(&crate::contexts::mark(project_id, case_id, item), n))
        .transpose()?;
    sqlx::query("INSERT INTO checklist_marks (case_id, item, status, actor_id, at, note_sealed) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(case_id)
        .bind(item)
        .bind(status.as_str())
        .bind(actor)
        .bind(now)
        .bind(sealed)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The project a case belongs to now: what its sealed rows are bound to.
pub(crate) async fn case_project(conn: &mut AnyConnection, case_id: i64) -> Result<i64> {
    Ok(sqlx::query("SELECT project_id FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("project_id")?)
}

/// Opens a sealed value of a row, logging the row (never the value) when it does not open
/// under its binding: moved by SQL, or altered.
pub(crate) fn open_logged(
    keys: &Keyring,
    context: &str,
    sealed: &[u8],
    table: &'static str,
    id: i64,
) -> Result<String> {
    keys.open_string(context, sealed).map_err(|e| {
        tracing::error!(
            table,
            id,
            "a sealed value does not open under its binding: moved or altered"
        );
        StoreError::from(e)
    })
}

/// As [`open_logged`], for bytes.
pub(crate) fn open_bytes_logged(
    keys: &Keyring,
    context: &str,
    sealed: &[u8],
    table: &'static str,
    id: i64,
) -> Result<Vec<u8>> {
    keys.open(context, sealed).map_err(|e| {
        tracing::error!(
            table,
            id,
            "a sealed value does not open under its binding: moved or altered"
        );
        StoreError::from(e)
    })
}

/// Records activity on a case: its stall clock starts again.
pub(crate) async fn touch(conn: &mut AnyConnection, case_id: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE cases SET last_activity_at = $1, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(case_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
