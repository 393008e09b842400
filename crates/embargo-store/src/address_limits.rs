//! Limits per client address (failed sign-ins, public reports) kept in the database, so
//! that every server on it counts the same events. Addresses are stored as keyed tags,
//! never in clear.

use sqlx::Row;
use time::OffsetDateTime;

use crate::{Result, Store, millis};

/// How long any event is kept, whatever its window: a day.
const KEEP_MS: i64 = 86_400_000;

impl Store {
    /// Whether `address` has had fewer than `max` events of `scope` in the last
    /// `window_ms`.
    pub async fn address_allows(
        &self,
        scope: &str,
        address: &str,
        max: i64,
        window_ms: i64,
    ) -> Result<bool> {
        let now = millis(OffsetDateTime::now_utc());
        let count: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM address_events WHERE scope = $1 AND address_tag = $2 AND at > $3",
        )
        .bind(scope)
        .bind(self.keys().tag("address", address))
        .bind(now - window_ms)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        Ok(count < max)
    }

    /// Records an event of `scope` for `address`, and forgets events older than a day.
    pub async fn record_address_event(&self, scope: &str, address: &str) -> Result<()> {
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO address_events (scope, address_tag, at) VALUES ($1, $2, $3)")
            .bind(scope)
            .bind(self.keys().tag("address", address))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM address_events WHERE at < $1")
            .bind(now - KEEP_MS)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
