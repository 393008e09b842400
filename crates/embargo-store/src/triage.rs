//! Triage views (SPEC §2.2): each member of the project's team says what a report is,
//! with a reason; the case shows every view, the tally, and who has not given one; a
//! member may ask others for theirs (by mail, by reference only). The reason is the
//! detail of a sealed timeline entry; the disposition is one word.

use embargo_core::access::{Need, Viewer};
use embargo_core::reference::CaseRef;
use embargo_core::timeline::EventKind;
use embargo_core::triage::{Disposition, tally};
use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::access::authorize;
use crate::audit::{Entry, Read};
use crate::case_row::load;
use crate::jobs::{Task, enqueue};
use crate::timeline::{Act, open_logged, record_event, touch};
use crate::{Result, Store, StoreError, millis, rfc};

/// One member's latest view.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TriageView {
    /// Whose.
    pub member: String,
    /// What they think the report is.
    pub disposition: Disposition,
    /// Why.
    pub reason: String,
    /// The case it duplicates, for a probable duplicate.
    pub duplicate_of: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// Where triage stands on a case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TriageViews {
    /// Each member's latest view, oldest first.
    pub views: Vec<TriageView>,
    /// How many hold each disposition.
    pub tally: std::collections::BTreeMap<String, usize>,
    /// The disposition every view holds, if they all agree.
    pub agreed: Option<Disposition>,
    /// The team members who have not given a view.
    pub waiting: Vec<String>,
}

fn in_triage(state: embargo_core::lifecycle::State) -> Result<()> {
    use embargo_core::lifecycle::State;
    match state {
        State::Reported | State::Triage => Ok(()),
        other => Err(StoreError::Invalid(format!(
            "views are given during triage; the case is {other}"
        ))),
    }
}

/// What triage concluded as the case moves to `to`, kept for the figures: confirmed is a
/// vulnerability, a duplicate a duplicate; invalid is what most members' latest views
/// call it (hardening, information only, or invalid; invalid on a tie or with no view).
/// Moves that do not end triage conclude nothing.
pub(crate) async fn concluded(
    conn: &mut sqlx::AnyConnection,
    case_id: i64,
    to: embargo_core::lifecycle::State,
) -> Result<Option<Disposition>> {
    use embargo_core::lifecycle::State;
    Ok(match to {
        State::Confirmed => Some(Disposition::Valid),
        State::Duplicate => Some(Disposition::Duplicate),
        State::Invalid => {
            let rows = sqlx::query(
                "SELECT user_id, disposition FROM triage_views WHERE case_id = $1 ORDER BY id",
            )
            .bind(case_id)
            .fetch_all(&mut *conn)
            .await?;
            let mut latest = std::collections::HashMap::new();
            for row in rows {
                latest.insert(
                    row.try_get::<i64, _>("user_id")?,
                    row.try_get::<String, _>("disposition")?,
                );
            }
            let not_valid: Vec<Disposition> = latest
                .values()
                .filter_map(|d| Disposition::parse(d))
                .filter(|d| {
                    matches!(
                        d,
                        Disposition::Hardening | Disposition::Information | Disposition::Invalid
                    )
                })
                .collect();
            let (counts, _) = tally(&not_valid);
            let top = counts.values().copied().max().unwrap_or(0);
            let leaders: Vec<Disposition> = counts
                .into_iter()
                .filter(|(_, n)| *n == top && top > 0)
                .map(|(d, _)| d)
                .collect();
            Some(match leaders.as_slice() {
                [one] => *one,
                _ => Disposition::Invalid,
            })
        }
        _ => None,
    })
}

impl Store {
    /// Records the viewer's view of the report (a later one replaces theirs).
    pub async fn give_view(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        disposition: Disposition,
        reason: &str,
        duplicate_of: Option<&CaseRef>,
    ) -> Result<TriageViews> {
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > 10_000 {
            return Err(StoreError::Invalid(
                "a view needs a reason of 1 to 10000 bytes".into(),
            ));
        }
        if (disposition == Disposition::Duplicate) != duplicate_of.is_some() {
            return Err(StoreError::Invalid(
                "a probable duplicate names the case it duplicates, and only it does".into(),
            ));
        }
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let case = load(&mut tx, self.keys(), auth.case_id, false).await?;
        in_triage(case.state())?;
        let said = match duplicate_of {
            Some(other) => format!("{} of {other}: {reason}", disposition.label()),
            None => format!("{}: {reason}", disposition.label()),
        };
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        let event_id = record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::TriageView,
            None,
            Some(&said),
        )
        .await?;
        sqlx::query(
            "INSERT INTO triage_views (case_id, user_id, disposition, duplicate_of, event_id, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(auth.case_id)
        .bind(viewer.user_id)
        .bind(disposition.as_str())
        .bind(duplicate_of.map(|r| r.to_string()))
        .bind(event_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        touch(&mut tx, auth.case_id, now).await?;
        tx.commit().await?;
        self.triage_views(viewer, case_ref).await
    }

    /// Every member's latest view of a case, the tally, and who has not given one.
    pub async fn triage_views(&self, viewer: &Viewer, case_ref: &CaseRef) -> Result<TriageViews> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Change).await?;
        let rows = sqlx::query(
            "SELECT v.user_id, u.email, v.disposition, v.duplicate_of, v.at, e.id AS event_id, e.detail_sealed \
             FROM triage_views v JOIN users u ON u.id = v.user_id LEFT JOIN case_events e ON e.id = v.event_id \
             WHERE v.case_id = $1 ORDER BY v.id",
        )
        .bind(auth.case_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut latest: Vec<(i64, TriageView)> = Vec::new();
        for row in rows {
            let user_id: i64 = row.try_get("user_id")?;
            let disposition = Disposition::parse(&row.try_get::<String, _>("disposition")?)
                .ok_or_else(|| StoreError::Corrupt("disposition".into()))?;
            let reason = match row.try_get::<Option<Vec<u8>>, _>("detail_sealed")? {
                Some(sealed) => open_logged(
                    self.keys(),
                    &crate::contexts::event(
                        auth.project_id,
                        auth.case_id,
                        EventKind::TriageView.as_str(),
                    ),
                    &sealed,
                    "case_events",
                    row.try_get("event_id")?,
                )?,
                None => String::new(),
            };
            let view = TriageView {
                member: row.try_get("email")?,
                disposition,
                reason,
                duplicate_of: row.try_get("duplicate_of")?,
                at: rfc(row.try_get("at")?),
            };
            latest.retain(|(u, _)| *u != user_id);
            latest.push((user_id, view));
        }
        let team: Vec<String> = sqlx::query(
            "SELECT u.email FROM team_members t JOIN users u ON u.id = t.user_id WHERE t.kind = 'project' AND t.scope_id = $1 ORDER BY u.email",
        )
        .bind(auth.project_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("email"))
        .collect::<std::result::Result<_, _>>()?;
        drop(conn);
        self.audit(vec![Entry::new(viewer, auth.case_id, Read::Timeline)])
            .await?;
        let dispositions: Vec<Disposition> = latest.iter().map(|(_, v)| v.disposition).collect();
        let (counts, agreed) = tally(&dispositions);
        let views: Vec<TriageView> = latest.into_iter().map(|(_, v)| v).collect();
        let waiting = team
            .into_iter()
            .filter(|m| !views.iter().any(|v| &v.member == m))
            .collect();
        Ok(TriageViews {
            tally: counts
                .into_iter()
                .map(|(d, n)| (d.as_str().to_owned(), n))
                .collect(),
            agreed,
            views,
            waiting,
        })
    }

    /// Asks members of the project's team for their view: each gets a mail naming the
    /// case by reference only. Returns how many were asked.
    pub async fn request_views(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        members: &[String],
    ) -> Result<usize> {
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let case = load(&mut tx, self.keys(), auth.case_id, false).await?;
        in_triage(case.state())?;
        let mut asked = Vec::new();
        for email in members {
            let row = sqlx::query(
                "SELECT u.id FROM team_members t JOIN users u ON u.id = t.user_id WHERE lower(u.email) = lower($1) AND t.kind = 'project' AND t.scope_id = $2",
            )
            .bind(email.trim())
            .bind(auth.project_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                StoreError::Invalid(format!("{} is not on the project's security team", email.trim()))
            })?;
            let user_id: i64 = row.try_get("id")?;
            enqueue(
                &mut tx,
                &Task::RequestView {
                    case_id: auth.case_id,
                    user_id,
                },
                now,
            )
            .await?;
            asked.push(email.trim().to_owned());
        }
        if asked.is_empty() {
            return Err(StoreError::Invalid(
                "name at least one member to ask".into(),
            ));
        }
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::ViewsRequested,
            None,
            Some(&format!("views asked of {}", asked.join(", "))),
        )
        .await?;
        tx.commit().await?;
        Ok(asked.len())
    }
}
