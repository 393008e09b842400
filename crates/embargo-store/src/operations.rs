//! Counts for monitoring: how much is open, waiting or overdue, never which case. They
//! are what an operator's dashboard shows, so none of them names a project or a case.

use sqlx::Row;
use time::OffsetDateTime;

use crate::case_row::{CASE_SELECT, Loaded, state_in};
use crate::{Result, Store};

/// The counts of one scrape.
#[derive(Debug, Default, Clone)]
pub struct OperationsCounts {
    /// Cases by state (every state that has any).
    pub cases_by_state: Vec<(String, i64)>,
    /// Open cases with a clock past its due date.
    pub clocks_overdue: i64,
    /// Open cases with no activity for the project's stall period.
    pub stalled: i64,
    /// Messages held in quarantine.
    pub quarantined: i64,
    /// Messages taken in, by what they became.
    pub intake_by_classification: Vec<(String, i64)>,
    /// Jobs due now and not done.
    pub jobs_pending: i64,
    /// Jobs given up.
    pub jobs_failed: i64,
}

impl Store {
    /// Counts for `/metrics`. The clocks are worked out per open case in memory; the
    /// titles this opens never leave the function.
    pub async fn operations_counts(&self) -> Result<OperationsCounts> {
        let pairs = |rows: Vec<sqlx::any::AnyRow>| -> Result<Vec<(String, i64)>> {
            rows.iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
                .collect()
        };
        let cases_by_state = pairs(
            sqlx::query("SELECT state, COUNT(*) FROM cases GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?,
        )?;
        let intake_by_classification = pairs(
            sqlx::query(
                "SELECT classification, COUNT(*) FROM intake_log GROUP BY classification ORDER BY classification",
            )
            .fetch_all(&self.pool)
            .await?,
        )?;
        let quarantined: i64 =
            sqlx::query("SELECT COUNT(*) FROM messages WHERE kind = 'quarantined'")
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
        let (jobs_pending, _, jobs_failed) = self.job_counts().await?;
        let now = OffsetDateTime::now_utc();
        let open = sqlx::query(&format!(
            "{CASE_SELECT} WHERE {}",
            state_in(|s| s.is_open())
        ))
        .fetch_all(&self.pool)
        .await?;
        let (mut clocks_overdue, mut stalled) = (0, 0);
        for row in &open {
            let case = Loaded::from_row(&self.keys, row, false)?;
            let figures = case.figures(now, None, None);
            clocks_overdue += i64::from(figures.overdue);
            stalled += i64::from(figures.stalled);
        }
        Ok(OperationsCounts {
            cases_by_state,
            clocks_overdue,
            stalled,
            quarantined,
            intake_by_classification,
            jobs_pending,
            jobs_failed,
        })
    }
}
