//! Leases that let one server of several do a job at a time (polling a mailbox), and the
//! IMAP position each mailbox was read to.

use sqlx::Row;
use time::OffsetDateTime;

use crate::{Result, Store, millis};

impl Store {
    /// Takes or renews the lease `name` for `holder` for `length`: true when `holder`
    /// holds it now (it was free, expired, or already theirs).
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        length: std::time::Duration,
    ) -> Result<bool> {
        let now = millis(OffsetDateTime::now_utc());
        let until = now + i64::try_from(length.as_millis()).unwrap_or(i64::MAX / 2);
        let row = sqlx::query(
            "INSERT INTO leases (name, holder, until_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = $2, until_at = $3 \
             WHERE leases.holder = $2 OR leases.until_at < $4 RETURNING holder",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .bind(now)
        .fetch_optional(self.writer())
        .await?;
        Ok(row.is_some())
    }

    /// Lets go of a lease `holder` holds, so another may take it at once.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The last UID taken in from a mailbox, if its UIDVALIDITY is still `uid_validity`.
    pub async fn imap_last_uid(&self, account: &str, uid_validity: i64) -> Result<i64> {
        let row = sqlx::query("SELECT uid_validity, last_uid FROM imap_state WHERE account = $1")
            .bind(account)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) if r.try_get::<i64, _>("uid_validity")? == uid_validity => {
                r.try_get("last_uid")?
            }
            _ => 0,
        })
    }

    /// Records how far a mailbox has been taken in.
    pub async fn set_imap_last_uid(
        &self,
        account: &str,
        uid_validity: i64,
        last_uid: i64,
    ) -> Result<()> {
        // Never backwards within one UIDVALIDITY, whichever server writes last.
        sqlx::query(
            "INSERT INTO imap_state (account, uid_validity, last_uid) VALUES ($1, $2, $3) \
             ON CONFLICT (account) DO UPDATE SET uid_validity = $2, last_uid = $3 \
             WHERE imap_state.uid_validity <> $2 OR imap_state.last_uid < $3",
        )
        .bind(account)
        .bind(uid_validity)
        .bind(last_uid)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
