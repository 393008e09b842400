//! Traceable pre-notifications: each distributor's copy carries its own invisible mark
//! and acknowledgement link with a deadline; a leaked copy is traced to its recipient.

use embargo_core::access::{Need, Viewer};
use embargo_core::reference::CaseRef;
use rand::RngCore;
use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::access::authorize;
use crate::accounts::{digest, new_secret};
use crate::{Result, Store, StoreError, millis, rfc};

/// A distributor's pre-notification, as the team follows it.
#[derive(Clone, Serialize, ToSchema)]
pub struct Prenotification {
    /// The distributor contact.
    pub recipient: String,
    /// When it was sent (RFC 3339).
    pub sent_at: Option<String>,
    /// When it must be acknowledged by.
    pub ack_deadline: Option<String>,
    /// When it was acknowledged.
    pub acknowledged_at: Option<String>,
    /// Past the deadline without an acknowledgement.
    pub overdue: bool,
}

/// Whose copy a leaked text is.
#[derive(Clone, Serialize)]
pub struct TraceHit {
    /// The case.
    #[serde(rename = "ref")]
    pub reference: embargo_core::reference::CaseRef,
    /// The recipient of the copy.
    pub recipient: String,
    /// When it was sent.
    pub sent_at: Option<String>,
}

/// The mark and acknowledgement secret of one recipient's copy.
pub(crate) struct CopyMarks {
    pub mark: u64,
    pub ack: String,
}

/// What the `mark` column holds: a keyed tag of the mark, unique and found by tracing,
/// which tells nothing of the mark itself.
pub(crate) fn mark_tag(keys: &crate::seal::Keyring, mark: u64) -> i64 {
    let tag = keys.tag("prenotification-mark", &mark.to_string());
    i64::from_str_radix(&tag[..15], 16).unwrap_or(0)
}

impl Store {
    /// The mark and acknowledgement secret of a recipient's copy, made once.
    pub(crate) async fn copy_marks(&self, case_id: i64, user_id: i64) -> Result<CopyMarks> {
        let existing = sqlx::query(
            "SELECT mark, ack_sealed FROM prenotifications WHERE case_id = $1 AND user_id = $2",
        )
        .bind(case_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        if existing.is_none() {
            // 40 bits: what the invisible code carries; a clash is retried by the unique key.
            let mark = rand::rngs::OsRng.next_u64() & 0xFF_FFFF_FFFF;
            let ack = new_secret("ack_");
            sqlx::query(
                "INSERT INTO prenotifications (case_id, user_id, mark, ack_hash, ack_sealed, mark_sealed) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id, user_id) DO NOTHING",
            )
            .bind(case_id)
            .bind(user_id)
            .bind(mark_tag(self.keys(), mark))
            .bind(digest(&ack))
            .bind(self.keys().seal_str(&crate::contexts::prenotification_ack(case_id, user_id), &ack)?)
            .bind(
                self.keys()
                    .seal_str(&crate::contexts::prenotification_mark(case_id, user_id), &mark.to_string())?,
            )
            .execute(self.writer())
            .await?;
        }
        let row = sqlx::query(
            "SELECT mark_sealed, ack_sealed FROM prenotifications WHERE case_id = $1 AND user_id = $2",
        )
        .bind(case_id)
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        let mark = self.keys().open_string(
            &crate::contexts::prenotification_mark(case_id, user_id),
            &row.try_get::<Vec<u8>, _>("mark_sealed")?,
        )?;
        Ok(CopyMarks {
            mark: mark
                .parse()
                .map_err(|_| StoreError::Corrupt("pre-notification mark".into()))?,
            ack: self.keys().open_string(
                &crate::contexts::prenotification_ack(case_id, user_id),
                &row.try_get::<Vec<u8>, _>("ack_sealed")?,
            )?,
        })
    }

    /// Records that a recipient's copy went out, starting its acknowledgement deadline.
    pub(crate) async fn record_prenotification_sent(
        conn: &mut sqlx::AnyConnection,
        case_id: i64,
        email: &str,
        now: i64,
        days: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE prenotifications SET sent_at = COALESCE(sent_at, $1), ack_deadline = COALESCE(ack_deadline, $2) \
             WHERE case_id = $3 AND user_id = (SELECT id FROM users WHERE email = $4)",
        )
        .bind(now)
        .bind(now + days * 86_400_000)
        .bind(case_id)
        .bind(email)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Acknowledges a pre-notification by its link's secret; returns the case reference.
    pub async fn acknowledge_prenotification(&self, secret: &str) -> Result<String> {
        let row = sqlx::query(
            "SELECT n.id, p.key, c.number FROM prenotifications n JOIN cases c ON c.id = n.case_id JOIN projects p ON p.id = c.project_id WHERE n.ack_hash = $1 AND n.sent_at IS NOT NULL",
        )
        .bind(digest(secret))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("pre-notification"))?;
        sqlx::query("UPDATE prenotifications SET acknowledged_at = COALESCE(acknowledged_at, $1) WHERE id = $2")
            .bind(millis(OffsetDateTime::now_utc()))
            .bind(row.try_get::<i64, _>("id")?)
            .execute(self.writer())
            .await?;
        Ok(embargo_core::reference::case_reference(
            &row.try_get::<String, _>("key")?,
            row.try_get::<i64, _>("number")?,
        ))
    }

    /// A case's pre-notifications (the team).
    pub async fn prenotifications(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
    ) -> Result<Vec<Prenotification>> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Change).await?;
        let now = millis(OffsetDateTime::now_utc());
        let rows = sqlx::query(
            "SELECT u.email, n.sent_at, n.ack_deadline, n.acknowledged_at FROM prenotifications n JOIN users u ON u.id = n.user_id WHERE n.case_id = $1 ORDER BY u.email",
        )
        .bind(auth.case_id)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                let deadline: Option<i64> = r.try_get("ack_deadline")?;
                let acknowledged: Option<i64> = r.try_get("acknowledged_at")?;
                Ok(Prenotification {
                    recipient: r.try_get("email")?,
                    sent_at: r.try_get::<Option<i64>, _>("sent_at")?.map(rfc),
                    ack_deadline: deadline.map(rfc),
                    acknowledged_at: acknowledged.map(rfc),
                    overdue: acknowledged.is_none() && deadline.is_some_and(|d| d < now),
                })
            })
            .collect()
    }

    /// Whose copies a leaked text came from (an operator's command; it reads the marks).
    pub async fn trace(&self, text: &str) -> Result<Vec<TraceHit>> {
        let mut hits = Vec::new();
        for mark in embargo_formats::mark::find(text) {
            let row = sqlx::query(
                "SELECT p.key, c.number, u.email, n.sent_at FROM prenotifications n JOIN cases c ON c.id = n.case_id JOIN projects p ON p.id = c.project_id JOIN users u ON u.id = n.user_id WHERE n.mark = $1",
            )
            .bind(mark_tag(self.keys(), mark))
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = row {
                hits.push(TraceHit {
                    reference: embargo_core::reference::case_reference(
                        &row.try_get::<String, _>("key")?,
                        row.try_get::<i64, _>("number")?,
                    )
                    .parse()
                    .map_err(|_| StoreError::Corrupt("case reference".into()))?,
                    recipient: row.try_get("email")?,
                    sent_at: row.try_get::<Option<i64>, _>("sent_at")?.map(rfc),
                });
            }
        }
        tracing::info!(found = hits.len(), "leak traced");
        Ok(hits)
    }
}
