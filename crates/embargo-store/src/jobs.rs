//! Durable background jobs on the same database as everything else.
//!
//! A job is enqueued in the same transaction as the change that causes it. A runner
//! claims a job with a lease (`locked_by`, `locked_until`); on PostgreSQL the claim uses
//! `FOR UPDATE SKIP LOCKED`, so several servers share one queue. A job is completed in
//! one transaction with its database effects, and only while the runner still holds
//! the lease: a runner whose lease expired and was taken over cannot complete it too,
//! so each job's effects are committed exactly once.

use serde_json::Value;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::{Backend, Result, Store, StoreError, millis};

/// A job handed to a runner.
#[derive(Debug, Clone)]
pub struct Job {
    /// The job's id.
    pub id: i64,
    /// What to do, e.g. `notify-foundation`.
    pub kind: String,
    /// Identifiers the job needs; never confidential content.
    pub payload: Value,
    /// How many times it has been claimed, this time included.
    pub attempts: i64,
    /// The lease token of the runner holding it.
    pub lease: String,
}

/// How many times a job is tried before it is given up.
const MAX_ATTEMPTS: i64 = 20;

/// Adds a job in the caller's transaction.
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    kind: &str,
    payload: &Value,
    run_at: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO jobs (kind, payload, run_at, max_attempts, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(kind)
    .bind(payload.to_string())
    .bind(run_at)
    .bind(MAX_ATTEMPTS)
    .bind(millis(OffsetDateTime::now_utc()))
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("id")?)
}

/// The delay before retry `attempt` (1-based): doubling from 2 s, at most an hour.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exp = attempt.clamp(1, 12) as u32;
    (1_000i64 << exp).min(3_600_000)
}

/// A job's completion: its database effects and the release of the job, in one transaction.
pub struct JobCompletion {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    store: Store,
    job_id: i64,
    lease: String,
    now: i64,
}

impl JobCompletion {
    /// The open transaction, the store and the completion time, for effects defined
    /// next to what they concern.
    pub(crate) fn parts(&mut self) -> (&mut sqlx::Transaction<'static, sqlx::Any>, &Store, i64) {
        (&mut self.tx, &self.store, self.now)
    }

    /// Records a diagnostic probe run, used to check that jobs run exactly once.
    pub async fn record_probe(&mut self, runner: &str) -> Result<()> {
        sqlx::query("INSERT INTO job_probes (job_id, runner, at) VALUES ($1, $2, $3)")
            .bind(self.job_id)
            .bind(runner)
            .bind(self.now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Records that the foundation security team has been notified of a case.
    pub async fn record_foundation_notified(&mut self, case_id: i64) -> Result<()> {
        Store::record_foundation_notified(&mut self.tx, self.store.keys(), case_id, self.now).await
    }

    /// Records that stalled cases were escalated (on each timeline), so that each stall
    /// is escalated once.
    pub async fn record_escalations(&mut self, case_ids: &[i64]) -> Result<()> {
        for &case_id in case_ids {
            sqlx::query("UPDATE cases SET escalated_at = $1 WHERE id = $2")
                .bind(self.now)
                .bind(case_id)
                .execute(&mut *self.tx)
                .await?;
            let act = crate::cases::Act {
                case_id,
                actor: None,
                now: self.now,
            };
            crate::cases::record_event(
                &mut self.tx,
                self.store.keys(),
                act,
                "escalated",
                None,
                Some("stalled: escalated to the foundation security team and the project's private list"),
            )
            .await?;
        }
        Ok(())
    }

    /// Commits the effects and marks the job done, if this runner still holds it.
    pub async fn commit(mut self) -> Result<()> {
        let done = sqlx::query("UPDATE jobs SET done_at = $1, locked_by = NULL, locked_until = NULL WHERE id = $2 AND locked_by = $3 AND done_at IS NULL")
            .bind(self.now)
            .bind(self.job_id)
            .bind(&self.lease)
            .execute(&mut *self.tx)
            .await?;
        if done.rows_affected() != 1 {
            // Dropping the transaction rolls the effects back.
            return Err(StoreError::Conflict(
                "the job's lease was lost before it completed".into(),
            ));
        }
        self.tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Adds a job outside any other change (diagnostics, tests).
    pub async fn enqueue_job(&self, kind: &str, payload: &Value) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = enqueue(&mut tx, kind, payload, millis(OffsetDateTime::now_utc())).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims the next due job for `runner`, holding it for `lease_ms`.
    pub async fn claim_job(&self, runner: &str, lease_ms: i64) -> Result<Option<Job>> {
        let now = millis(OffsetDateTime::now_utc());
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            // SQLite runs one writer at a time, and this is one statement.
            Backend::Sqlite => "",
        };
        let mut nonce = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        let lease = format!("{runner}/{}", u64::from_be_bytes(nonce));
        let sql = format!(
            "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= $3 \
             AND (locked_until IS NULL OR locked_until < $3) ORDER BY run_at, id LIMIT 1{lock}) \
             RETURNING id, kind, payload, attempts"
        );
        let row = sqlx::query(&sql)
            .bind(&lease)
            .bind(now + lease_ms)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let payload: String = row.try_get("payload")?;
        Ok(Some(Job {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            payload: serde_json::from_str(&payload)
                .map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?,
            attempts: row.try_get("attempts")?,
            lease,
        }))
    }

    /// Starts completing a job; call `commit` on the result.
    pub async fn complete_job(&self, job: &Job) -> Result<JobCompletion> {
        Ok(JobCompletion {
            tx: self.begin_write().await?,
            store: self.clone(),
            job_id: job.id,
            lease: job.lease.clone(),
            now: millis(OffsetDateTime::now_utc()),
        })
    }

    /// Releases a job that failed, to be retried after a backoff or given up.
    /// `reason` is a short code, never content.
    pub async fn fail_job(&self, job: &Job, reason: &str) -> Result<()> {
        let now = millis(OffsetDateTime::now_utc());
        sqlx::query(
            "UPDATE jobs SET locked_by = NULL, locked_until = NULL, last_error = $1, run_at = $2, \
             failed_at = CASE WHEN attempts >= max_attempts THEN $3 ELSE NULL END \
             WHERE id = $4 AND locked_by = $5",
        )
        .bind(reason)
        .bind(now + backoff_ms(job.attempts))
        .bind(now)
        .bind(job.id)
        .bind(&job.lease)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Counts of jobs by status: (pending and due now, done, failed). Jobs scheduled for
    /// later (the next digest) are not pending yet.
    pub async fn job_counts(&self) -> Result<(i64, i64, i64)> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM jobs WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= $1) AS pending, \
             (SELECT COUNT(*) FROM jobs WHERE done_at IS NOT NULL) AS done, \
             (SELECT COUNT(*) FROM jobs WHERE failed_at IS NOT NULL) AS failed",
        )
        .bind(millis(OffsetDateTime::now_utc()))
        .fetch_one(&self.pool)
        .await?;
        Ok((
            row.try_get("pending")?,
            row.try_get("done")?,
            row.try_get("failed")?,
        ))
    }

    /// For each probe job, how many times its effects were committed: (job id, runs, runners).
    pub async fn probe_runs(&self) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT j.id, (SELECT COUNT(*) FROM job_probes p WHERE p.job_id = j.id) AS runs FROM jobs j WHERE j.kind = 'probe' ORDER BY j.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("runs")?)))
            .collect()
    }

    /// How many probe runs each runner committed.
    pub async fn probe_runners(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT runner, COUNT(*) AS n FROM job_probes GROUP BY runner ORDER BY runner",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("runner")?, r.try_get("n")?)))
            .collect()
    }
}
