//! The reporter's agreement, given on their page: the embargo date (accepted, or another
//! proposed) and how they wish to be credited. Only their acceptance ticks "embargo date
//! agreed"; a team member may tick it for them with a note saying how they agreed, and a
//! later change of the date opens it again.

use embargo_core::case::{CreditChoice, ReporterCredit};
use embargo_core::checklist::{EMBARGO_AGREED, MarkStatus};
use embargo_core::clocks::readable_time;
use embargo_core::timeline::EventKind;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::case_row::load;
use crate::timeline::{Act, record_event, record_mark, touch};
use crate::views::ReporterView;
use crate::{Keyring, Result, Store, StoreError, from_millis, millis};

/// When the embargo date was last agreed, if its line is ticked now.
pub(crate) async fn agreed_at(conn: &mut AnyConnection, case_id: i64) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT status, at FROM checklist_marks WHERE case_id = $1 AND item = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(case_id)
    .bind(EMBARGO_AGREED)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) if r.try_get::<String, _>("status")? == MarkStatus::Done.as_str() => {
            Some(r.try_get("at")?)
        }
        _ => None,
    })
}

/// The date moved: an agreement given for the old one no longer holds.
pub(crate) async fn embargo_moved(
    conn: &mut AnyConnection,
    keys: &Keyring,
    act: Act,
    case: &crate::case_row::Loaded,
    to: i64,
) -> Result<()> {
    // The reporter hears of the date, first proposed or moved, while it is still theirs
    // to agree to.
    if case.state().is_open() && !case.state().is_announced() {
        let reference = case.reference();
        let text = match case.embargo_at {
            None => format!(
                "The team proposes to disclose {reference} on {}. Please accept the date, or propose another, on your page.",
                day(to)
            ),
            Some(from) => format!(
                "The proposed disclosure date of {reference} moved from {} to {}. Please accept the new date, or propose another, on your page.",
                day(from),
                day(to)
            ),
        };
        crate::jobs::tell_reporter(conn, keys, act, &text).await?;
    }
    if agreed_at(conn, act.case_id).await?.is_some() {
        record_mark(
            conn,
            keys,
            act,
            EMBARGO_AGREED,
            MarkStatus::Open,
            Some("the embargo date changed after it was agreed: the reporter's agreement is needed again"),
        )
        .await?;
    }
    Ok(())
}

fn day(ms: i64) -> String {
    readable_time(from_millis(ms))
}

impl Store {
    async fn open_case_for_reporter(&self, secret: &str) -> Result<(i64, crate::case_row::Loaded)> {
        let (case_id, _, _) = self.reporter_case(secret).await?;
        let mut conn = self.pool.acquire().await?;
        let case = load(&mut conn, self.keys(), case_id, true).await?;
        if !case.state().is_open() || case.state().is_announced() {
            return Err(StoreError::Invalid(format!(
                "the case is {}: there is no date left to agree",
                case.state()
            )));
        }
        Ok((case_id, case))
    }

    /// The reporter accepts the embargo date the team proposes.
    pub async fn reporter_accept_embargo(&self, secret: &str) -> Result<ReporterView> {
        let (case_id, case) = self.open_case_for_reporter(secret).await?;
        let at = case.embargo_at.ok_or_else(|| {
            StoreError::Invalid("the team has not proposed an embargo date yet".into())
        })?;
        let now = millis(OffsetDateTime::now_utc());
        let act = Act {
            case_id,
            actor: None,
            now,
        };
        let mut tx = self.begin_write().await?;
        let said = format!("The reporter accepted the embargo date {}.", day(at));
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::ReporterAgreed,
            None,
            Some(&said),
        )
        .await?;
        record_mark(
            &mut tx,
            self.keys(),
            act,
            EMBARGO_AGREED,
            MarkStatus::Done,
            Some(&format!(
                "accepted by the reporter on their page, for {}",
                day(at)
            )),
        )
        .await?;
        touch(&mut tx, case_id, now).await?;
        tx.commit().await?;
        self.reporter_view(secret).await
    }

    /// The reporter proposes another date, with why; the team decides.
    pub async fn reporter_propose_embargo(
        &self,
        secret: &str,
        at: OffsetDateTime,
        note: &str,
    ) -> Result<ReporterView> {
        if note.len() > 10_000 {
            return Err(StoreError::Invalid(
                "the note is longer than 10000 bytes".into(),
            ));
        }
        if at <= OffsetDateTime::now_utc() {
            return Err(StoreError::Invalid(
                "a proposed embargo date must be in the future".into(),
            ));
        }
        let (case_id, _) = self.open_case_for_reporter(secret).await?;
        let now = millis(OffsetDateTime::now_utc());
        let act = Act {
            case_id,
            actor: None,
            now,
        };
        let note = note.trim();
        let said = match note.is_empty() {
            true => format!(
                "The reporter proposed the embargo date {}.",
                readable_time(at)
            ),
            false => format!(
                "The reporter proposed the embargo date {}: {note}",
                readable_time(at)
            ),
        };
        let mut tx = self.begin_write().await?;
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::ReporterProposed,
            None,
            Some(&said),
        )
        .await?;
        touch(&mut tx, case_id, now).await?;
        tx.commit().await?;
        self.reporter_view(secret).await
    }

    /// The reporter agrees, or no longer agrees, that the people the team brings in to
    /// help (the case's collaborators) may know their name and address.
    pub async fn reporter_share_identity(&self, secret: &str, share: bool) -> Result<ReporterView> {
        let (case_id, _, _) = self.reporter_case(secret).await?;
        let now = millis(OffsetDateTime::now_utc());
        let act = Act {
            case_id,
            actor: None,
            now,
        };
        let said = match share {
            true => "The reporter agreed that the case's collaborators may know who they are.",
            false => "The reporter withdrew their identity from the case's collaborators.",
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE cases SET identity_shared_at = $1 WHERE id = $2")
            .bind(share.then_some(now))
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::IdentityShared,
            None,
            Some(said),
        )
        .await?;
        touch(&mut tx, case_id, now).await?;
        tx.commit().await?;
        self.reporter_view(secret).await
    }

    /// The reporter says how to be credited; the advisory's credits follow.
    pub async fn reporter_choose_credit(
        &self,
        secret: &str,
        choice: CreditChoice,
    ) -> Result<ReporterView> {
        let (case_id, _, _) = self.reporter_case(secret).await?;
        let mut conn = self.pool.acquire().await?;
        let case = load(&mut conn, self.keys(), case_id, true).await?;
        drop(conn);
        let reporter_name = case
            .reporter
            .as_ref()
            .and_then(|r| r.name.clone())
            .filter(|n| !n.trim().is_empty());
        let credited_as = match &choice {
            CreditChoice::Name => Some(reporter_name.clone().ok_or_else(|| {
                StoreError::Invalid(
                    "the report came without a name: choose a handle, or anonymous".into(),
                )
            })?),
            CreditChoice::Handle { handle } => {
                let handle = handle.trim();
                if handle.is_empty()
                    || handle.chars().count() > 100
                    || handle.chars().any(char::is_control)
                {
                    return Err(StoreError::Invalid(
                        "a handle has 1 to 100 characters and no control characters".into(),
                    ));
                }
                Some(handle.to_owned())
            }
            CreditChoice::Anonymous => None,
        };
        let choice = match choice {
            CreditChoice::Handle { .. } => CreditChoice::Handle {
                handle: credited_as.clone().unwrap_or_default(),
            },
            other => other,
        };
        let record = ReporterCredit {
            choice,
            credited_as: credited_as.clone(),
            reporter_name,
        };
        let now = millis(OffsetDateTime::now_utc());
        let act = Act {
            case_id,
            actor: None,
            now,
        };
        let said = match &credited_as {
            Some(name) => format!("The reporter asked to be credited as {name}."),
            None => "The reporter asked not to be credited.".to_owned(),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE cases SET credit_sealed = $1 WHERE id = $2")
            .bind(crate::seal::seal_json(
                self.keys(),
                &case.field_context("credit"),
                &record,
            )?)
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::CreditChosen,
            None,
            Some(&said),
        )
        .await?;
        touch(&mut tx, case_id, now).await?;
        tx.commit().await?;
        self.reporter_view(secret).await
    }
}
