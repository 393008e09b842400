//! A confirmed case's checklist: each item with its latest mark, marks by hand, and the
//! marks Embargo makes when the thing happens.

use embargo_core::access::Viewer;
use embargo_core::checklist::{self, MarkStatus};
use embargo_core::reference::CaseRef;
use embargo_core::timeline::EventKind;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::access::authorize;
use crate::audit::{Entry, Read};
use crate::case_row::load;
use crate::cases::check_text;
use crate::timeline::{Act, open_logged, record_event, record_mark, touch};
use crate::views::ChecklistEntry;
use crate::{Keyring, Result, Store, StoreError, millis, rfc};
use embargo_core::access::Need;

/// The project's lists whose announcement line is not done on this case: what a person
/// moving the case to announced by hand must account for.
pub(crate) async fn unsent_lists(
    conn: &mut AnyConnection,
    case_id: i64,
    lists: &[String],
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT item, status FROM checklist_marks WHERE case_id = $1 AND (item LIKE 'announcement:%' OR item = $2) ORDER BY id",
    )
    .bind(case_id)
    .bind(checklist::ANNOUNCEMENT)
    .fetch_all(&mut *conn)
    .await?;
    let mut latest = std::collections::HashMap::new();
    for row in rows {
        latest.insert(
            row.try_get::<String, _>("item")?,
            row.try_get::<String, _>("status")?,
        );
    }
    let done = |key: &str| {
        latest
            .get(key)
            .is_some_and(|s| s == MarkStatus::Done.as_str())
    };
    if done(checklist::ANNOUNCEMENT) {
        return Ok(Vec::new());
    }
    Ok(lists
        .iter()
        .filter(|l| !done(&checklist::announcement_to(l)))
        .cloned()
        .collect())
}

impl Store {
    /// The checklist of a case, with the latest mark of each item.
    pub async fn checklist(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
    ) -> Result<Vec<ChecklistEntry>> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Read).await?;
        let case = load(&mut conn, self.keys(), auth.case_id, false).await?;
        let rows = sqlx::query(
            "SELECT m.item, m.status, m.at, m.note_sealed, u.email FROM checklist_marks m LEFT JOIN users u ON u.id = m.actor_id \
             WHERE m.case_id = $1 ORDER BY m.id",
        )
        .bind(auth.case_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut entries: Vec<ChecklistEntry> = checklist::items(&case.branches, &case.lists)
            .into_iter()
            .map(|def| ChecklistEntry {
                key: def.key,
                label: def.label,
                status: MarkStatus::Open,
                automatic: def.automatic,
                manual: def.manual,
                by: None,
                at: None,
                note: None,
            })
            .collect();
        for row in rows {
            let item: String = row.try_get("item")?;
            // The one announcement line of before, where each list now has its own: it
            // stands for every list's line it was ticked for.
            if item == checklist::ANNOUNCEMENT && !entries.iter().any(|e| e.key == item) {
                let status: String = row.try_get("status")?;
                let status = MarkStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt("mark status".into()))?;
                let at = Some(rfc(row.try_get("at")?));
                for entry in entries
                    .iter_mut()
                    .filter(|e| e.key.starts_with("announcement:"))
                {
                    entry.status = status;
                    entry.at = at.clone();
                }
                continue;
            }
            let Some(entry) = entries.iter_mut().find(|e| e.key == item) else {
                continue;
            };
            let status: String = row.try_get("status")?;
            let sealed: Option<Vec<u8>> = row.try_get("note_sealed")?;
            entry.status = MarkStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt("mark status".into()))?;
            entry.by = row.try_get("email")?;
            entry.at = Some(rfc(row.try_get("at")?));
            entry.note = sealed
                .map(|s| {
                    open_logged(
                        self.keys(),
                        &crate::contexts::mark(auth.project_id, auth.case_id, &item),
                        &s,
                        "checklist_marks",
                        auth.case_id,
                    )
                })
                .transpose()?;
        }
        drop(conn);
        self.audit(vec![Entry::new(viewer, auth.case_id, Read::Checklist)])
            .await?;
        Ok(entries)
    }

    /// Marks a checklist item (done, not applicable, or open again).
    pub async fn mark_checklist(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        item: &str,
        status: MarkStatus,
        note: Option<&str>,
    ) -> Result<Vec<ChecklistEntry>> {
        if let Some(note) = note {
            check_text("note", note, 100_000)?;
        }
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let case = load(&mut tx, self.keys(), auth.case_id, false).await?;
        checklist::check_mark(&case.branches, &case.lists, item, case.state)?;
        if item == checklist::EMBARGO_AGREED
            && status == MarkStatus::Done
            && note.is_none_or(|n| n.trim().is_empty())
        {
            return Err(StoreError::Invalid(
                "the reporter agrees to the date on their page; ticking it for them needs a note saying how they agreed".into(),
            ));
        }
        record_mark(
            &mut tx,
            self.keys(),
            Act {
                case_id: auth.case_id,
                actor: Some(viewer.user_id),
                now,
            },
            item,
            status,
            note,
        )
        .await?;
        touch(&mut tx, auth.case_id, now).await?;
        tx.commit().await?;
        self.checklist(viewer, case_ref).await
    }

    /// Records that the foundation security team has been notified of a confirmed case.
    pub(crate) async fn record_foundation_notified(
        conn: &mut AnyConnection,
        keys: &Keyring,
        case_id: i64,
        now: i64,
        mailed: bool,
    ) -> Result<()> {
        let act = Act {
            case_id,
            actor: None,
            now,
        };
        let members: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM team_members t JOIN projects p ON p.org_id = t.scope_id \
             JOIN cases c ON c.project_id = p.id WHERE t.kind = 'foundation' AND c.id = $1",
        )
        .bind(case_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
        // Nobody to tell is not "told": the line stays open, saying why.
        let (detail, status, note) = match (members, mailed) {
            (0, _) => (
                "the foundation security team has no members: nobody was told",
                MarkStatus::Open,
                Some(
                    "the foundation security team has no members; add them, tell the team by other means, and tick this by hand",
                ),
            ),
            (_, true) => (
                "foundation security team notified by mail",
                MarkStatus::Done,
                None,
            ),
            (_, false) => (
                "foundation security team notified in their queue (no mail relay is set up)",
                MarkStatus::Done,
                None,
            ),
        };
        record_event(conn, keys, act, EventKind::Notified, None, Some(detail)).await?;
        record_mark(
            conn,
            keys,
            act,
            checklist::FOUNDATION_NOTIFIED,
            status,
            note,
        )
        .await
    }
}
