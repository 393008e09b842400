//! Who speaks on a case's external thread. Mail threaded onto a case is the reporter's
//! only when it comes from the reporter's address or from a co-reporter the team accepted;
//! anyone else who answers the thread (a reply-all from a colleague, a stranger who put
//! the case's reference in a subject) is a third party. The team decides what a third
//! party's message is: it accepts the sender as a co-reporter, or moves the message to
//! quarantine, out of the case.

use embargo_core::access::{Need, Viewer};
use embargo_core::reference::CaseRef;
use embargo_core::timeline::EventKind;
use sqlx::{AnyConnection, Row};

use crate::access::authorize;
use crate::timeline::{Act, record_event};
use crate::{Result, Store, StoreError, millis};

impl Store {
    /// The co-reporters' addresses of a case.
    pub(crate) async fn co_reporters(
        &self,
        conn: &mut AnyConnection,
        case_id: i64,
    ) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT id, email_sealed FROM co_reporters WHERE case_id = $1 ORDER BY id")
                .bind(case_id)
                .fetch_all(&mut *conn)
                .await?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get("id")?;
                Ok(self.keys().open_string(
                    &crate::contexts::co_reporter(id),
                    &row.try_get::<Vec<u8>, _>("email_sealed")?,
                )?)
            })
            .collect()
    }

    /// Whether mail whose From is `author` speaks for the case's reporter. Mail without a
    /// From address never does (Reply-To and Sender prove nothing).
    pub(crate) async fn speaks_for_reporter(
        &self,
        conn: &mut AnyConnection,
        case_id: i64,
        author: Option<&str>,
    ) -> Result<bool> {
        let Some(email) = author else {
            return Ok(false);
        };
        let case = crate::case_row::load(conn, self.keys(), case_id, true).await?;
        if case
            .reporter_email()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
        {
            return Ok(true);
        }
        Ok(self
            .co_reporters(conn, case_id)
            .await?
            .iter()
            .any(|e| e.eq_ignore_ascii_case(email)))
    }

    /// A third party's message on a case, by its timeline entry: (message id, sender).
    async fn third_party_message(
        &self,
        conn: &mut AnyConnection,
        case_id: i64,
        event_id: i64,
    ) -> Result<(i64, Option<String>)> {
        let row = sqlx::query(
            "SELECT e.message_id, m.project_id, m.raw_sealed FROM case_events e JOIN messages m ON m.id = e.message_id \
             WHERE e.id = $1 AND e.case_id = $2 AND e.kind = $3 AND m.case_id = $2",
        )
        .bind(event_id)
        .bind(case_id)
        .bind(EventKind::ThirdPartyMessage.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound("third-party message"))?;
        let message_id: i64 = row.try_get("message_id")?;
        let raw = crate::timeline::open_bytes_logged(
            self.keys(),
            &crate::contexts::message(row.try_get("project_id")?, message_id, "raw"),
            &row.try_get::<Vec<u8>, _>("raw_sealed")?,
            "messages",
            message_id,
        )?;
        Ok((message_id, embargo_mail::inbound::author_of(&raw)))
    }

    /// Accepts the sender of a third party's message as a co-reporter: their mail on this
    /// case is the reporter's from now on. The team only. Returns the address.
    pub async fn accept_co_reporter(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        event_id: i64,
    ) -> Result<String> {
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let (_, sender) = self
            .third_party_message(&mut tx, auth.case_id, event_id)
            .await?;
        let sender = sender.ok_or_else(|| {
            StoreError::Invalid("the message has no From address: nobody to accept".into())
        })?;
        if self
            .speaks_for_reporter(&mut tx, auth.case_id, Some(&sender))
            .await?
        {
            return Err(StoreError::Conflict(
                "the sender already speaks for the reporter".into(),
            ));
        }
        let now = millis(time::OffsetDateTime::now_utc());
        let id: i64 = sqlx::query(
            "INSERT INTO co_reporters (case_id, email_sealed, added_by, added_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(auth.case_id)
        .bind(Vec::<u8>::new())
        .bind(viewer.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        sqlx::query("UPDATE co_reporters SET email_sealed = $1 WHERE id = $2")
            .bind(
                self.keys()
                    .seal_str(&crate::contexts::co_reporter(id), &sender)?,
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        let detail = format!("{sender} accepted as a co-reporter");
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::CoReporterAdded,
            None,
            Some(&detail),
        )
        .await?;
        tx.commit().await?;
        Ok(sender)
    }

    /// Moves a third party's message out of the case into the project's quarantine: its
    /// text leaves the timeline and its attachments the case; the raw message stays whole
    /// and sealed, and can be released again. The team only.
    pub async fn quarantine_third_party(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        event_id: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let (message_id, _) = self
            .third_party_message(&mut tx, auth.case_id, event_id)
            .await?;
        let now = millis(time::OffsetDateTime::now_utc());
        sqlx::query(
            "UPDATE messages SET kind = 'quarantined', case_id = NULL, quarantine_reason = $1 WHERE id = $2",
        )
        .bind("moved to quarantine from a case by its team: not from the reporter")
        .bind(message_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM attachments WHERE message_id = $1")
            .bind(message_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE case_events SET detail_sealed = NULL WHERE id = $1")
            .bind(event_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO intake_log (project_id, received_at, classification, case_id, message_id) \
             SELECT project_id, $1, 'quarantined', NULL, id FROM messages WHERE id = $2",
        )
        .bind(now)
        .bind(message_id)
        .execute(&mut *tx)
        .await?;
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::MessageQuarantined,
            None,
            Some("a third party's message was moved to quarantine"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
