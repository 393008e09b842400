//! Moving what a case's sealed rows are bound to (see `crate::contexts`): when a case is
//! routed to another project, and once when a database sealed before rows were bound to
//! their project and case is upgraded.

use sqlx::{AnyConnection, AnyPool, Row};

use crate::contexts::{self, legacy};
use crate::seal::Keyring;
use crate::{Backend, Result};

/// Which contexts a row's values were sealed under, and which to seal them under now.
#[derive(Clone, Copy)]
enum From {
    /// Bound to the project the case was in.
    Project(i64),
    /// Sealed before binding (case and id only).
    Legacy,
}

/// A table whose one sealed column is bound to its case's project, its case and a name
/// column (a timeline entry's kind, a checklist mark's item).
struct Named {
    table: &'static str,
    name: &'static str,
    column: &'static str,
    bound: fn(i64, i64, &str) -> String,
    legacy: fn(i64, &str) -> String,
}

const EVENTS: Named = Named {
    table: "case_events",
    name: "kind",
    column: "detail_sealed",
    bound: contexts::event,
    legacy: legacy::event,
};

const MARKS: Named = Named {
    table: "checklist_marks",
    name: "item",
    column: "note_sealed",
    bound: contexts::mark,
    legacy: legacy::mark,
};

/// Fix stages were bound from the start; `legacy` is never read for them.
const FIXES: Named = Named {
    table: "fix_stages",
    name: "branch",
    column: "detail_sealed",
    bound: contexts::fix,
    legacy: |case, branch| contexts::fix(0, case, branch),
};

async fn rebind_named(
    conn: &mut AnyConnection,
    keys: &Keyring,
    spec: &Named,
    filter: &str,
    case_id: Option<i64>,
    from: From,
    to_project: Option<i64>,
) -> Result<u64> {
    // Table and column names are the constants above.
    let (table, name, column) = (spec.table, spec.name, spec.column);
    let rows = sqlx::query(&format!(
        "SELECT t.id, t.case_id, t.{name} AS name, t.{column} AS sealed, c.project_id FROM {table} t JOIN cases c ON c.id = t.case_id \
         WHERE t.{column} IS NOT NULL {filter}"
    ))
    .bind(case_id.unwrap_or(0))
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        let (id, case, named): (i64, i64, String) = (
            row.try_get("id")?,
            row.try_get("case_id")?,
            row.try_get("name")?,
        );
        let project = to_project.unwrap_or(row.try_get("project_id")?);
        let old = match from {
            From::Project(p) => (spec.bound)(p, case, &named),
            From::Legacy => (spec.legacy)(case, &named),
        };
        let plain = keys.open(&old, &row.try_get::<Vec<u8>, _>("sealed")?)?;
        sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE id = $2"))
            .bind(keys.seal(&(spec.bound)(project, case, &named), &plain)?)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(rows.len() as u64)
}

/// A table of files with `meta_sealed` and `data_sealed`, bound to project, case and id.
struct Files {
    table: &'static str,
    bound: fn(i64, i64, i64, &str) -> String,
}

const ATTACHMENTS: Files = Files {
    table: "attachments",
    bound: contexts::attachment,
};

const CASE_FILES: Files = Files {
    table: "case_files",
    bound: contexts::case_file,
};

async fn rebind_files(
    conn: &mut AnyConnection,
    keys: &Keyring,
    spec: &Files,
    filter: &str,
    case_id: Option<i64>,
    from: From,
    to_project: Option<i64>,
) -> Result<u64> {
    // The table name is one of the constants above.
    let table = spec.table;
    let rows = sqlx::query(&format!(
        "SELECT a.id, a.case_id, a.meta_sealed, a.data_sealed, c.project_id FROM {table} a JOIN cases c ON c.id = a.case_id \
         WHERE a.case_id IS NOT NULL {filter}"
    ))
    .bind(case_id.unwrap_or(0))
    .fetch_all(&mut *conn)
    .await?;
    let mut n = 0;
    for row in &rows {
        let (id, case): (i64, i64) = (row.try_get("id")?, row.try_get("case_id")?);
        let project = to_project.unwrap_or(row.try_get("project_id")?);
        let old = |part| match from {
            From::Project(p) => (spec.bound)(p, case, id, part),
            From::Legacy => legacy::attachment(id, part),
        };
        let meta = keys.open(&old("meta"), &row.try_get::<Vec<u8>, _>("meta_sealed")?)?;
        let data = keys.open(&old("data"), &row.try_get::<Vec<u8>, _>("data_sealed")?)?;
        let new = |part| (spec.bound)(project, case, id, part);
        sqlx::query(&format!(
            "UPDATE {table} SET meta_sealed = $1, data_sealed = $2 WHERE id = $3"
        ))
        .bind(keys.seal(&new("meta"), &meta)?)
        .bind(keys.seal(&new("data"), &data)?)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        n += 1;
    }
    Ok(n)
}

async fn rebind_messages(
    conn: &mut AnyConnection,
    keys: &Keyring,
    filter: &str,
    case_id: Option<i64>,
    legacy_source: bool,
    to_project: Option<i64>,
) -> Result<u64> {
    let rows = sqlx::query(&format!(
        "SELECT id, project_id, raw_sealed, message_id_sealed FROM messages m WHERE 1 = 1 {filter}"
    ))
    .bind(case_id.unwrap_or(0))
    .fetch_all(&mut *conn)
    .await?;
    let mut n = 0;
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let own: Option<i64> = row.try_get("project_id")?;
        let old = |part| {
            if legacy_source {
                legacy::message(id, part)
            } else {
                contexts::message(own, id, part)
            }
        };
        let project = to_project.or(own);
        let raw: Vec<u8> = row.try_get("raw_sealed")?;
        let raw = if raw.is_empty() {
            raw
        } else {
            keys.seal(
                &contexts::message(project, id, "raw"),
                &keys.open(&old("raw"), &raw)?,
            )?
        };
        let mid = match row.try_get::<Option<Vec<u8>>, _>("message_id_sealed")? {
            Some(s) => Some(keys.seal(
                &contexts::message(project, id, "message-id"),
                &keys.open(&old("message-id"), &s)?,
            )?),
            None => None,
        };
        sqlx::query("UPDATE messages SET raw_sealed = $1, message_id_sealed = $2 WHERE id = $3")
            .bind(raw)
            .bind(mid)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        n += 1;
    }
    Ok(n)
}

/// Seals a routed case's rows again under its new project (inside the routing
/// transaction, before the case's project changes).
pub(crate) async fn rebind_case(
    conn: &mut AnyConnection,
    keys: &Keyring,
    case_id: i64,
    from_project: i64,
    to_project: i64,
) -> Result<()> {
    let by_case = "AND c.id = $1";
    let from = From::Project(from_project);
    let to = Some(to_project);
    rebind_named(conn, keys, &EVENTS, by_case, Some(case_id), from, to).await?;
    rebind_named(conn, keys, &MARKS, by_case, Some(case_id), from, to).await?;
    rebind_named(conn, keys, &FIXES, by_case, Some(case_id), from, to).await?;
    rebind_files(conn, keys, &ATTACHMENTS, by_case, Some(case_id), from, to).await?;
    rebind_files(conn, keys, &CASE_FILES, by_case, Some(case_id), from, to).await?;
    rebind_messages(conn, keys, "AND m.case_id = $1", Some(case_id), false, to).await?;
    Ok(())
}

const UPGRADE: &str = "seal-contexts-v2";

/// Pre-notification marks kept in clear before: sealed, and the column given their tag.
async fn seal_marks(conn: &mut AnyConnection, keys: &Keyring) -> Result<u64> {
    let rows = sqlx::query(
        "SELECT id, case_id, user_id, mark FROM prenotifications WHERE mark_sealed IS NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        let (id, case, user, mark): (i64, i64, i64, i64) = (
            row.try_get("id")?,
            row.try_get("case_id")?,
            row.try_get("user_id")?,
            row.try_get("mark")?,
        );
        let mark = u64::try_from(mark).unwrap_or(0);
        sqlx::query("UPDATE prenotifications SET mark = $1, mark_sealed = $2 WHERE id = $3")
            .bind(crate::prenotify::mark_tag(keys, mark))
            .bind(keys.seal_str(
                &crate::contexts::prenotification_mark(case, user),
                &mark.to_string(),
            )?)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(rows.len() as u64)
}

/// Once per database: seals every row sealed before rows were bound to their project and
/// case under its binding. Recorded in `store_upgrades`, in the same transaction.
pub(crate) async fn upgrade(pool: &AnyPool, backend: Backend, keys: &Keyring) -> Result<()> {
    let done = sqlx::query("SELECT 1 AS done FROM store_upgrades WHERE name = $1")
        .bind(UPGRADE)
        .fetch_optional(pool)
        .await?;
    if done.is_some() {
        return Ok(());
    }
    let mut tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    };
    // `$1` is bound (and unused) so that each query has the same shape as for one case.
    let all = "AND $1 = $1";
    let mut n = rebind_named(&mut tx, keys, &EVENTS, all, None, From::Legacy, None).await?;
    n += rebind_named(&mut tx, keys, &MARKS, all, None, From::Legacy, None).await?;
    n += rebind_files(&mut tx, keys, &ATTACHMENTS, all, None, From::Legacy, None).await?;
    n += rebind_messages(&mut tx, keys, all, None, true, None).await?;
    n += seal_marks(&mut tx, keys).await?;
    sqlx::query(
        "INSERT INTO store_upgrades (name, done_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(UPGRADE)
    .bind(crate::millis(time::OffsetDateTime::now_utc()))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if n > 0 {
        tracing::info!(rows = n, "sealed values bound to their project and case");
    }
    Ok(())
}
