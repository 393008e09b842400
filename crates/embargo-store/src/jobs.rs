//! Durable background jobs on the same database as everything else.
//!
//! A job is enqueued in the same transaction as the change that causes it. A runner
//! claims a job with a lease (`locked_by`, `locked_until`); on PostgreSQL the claim uses
//! `FOR UPDATE SKIP LOCKED`, so several servers share one queue. A job is completed in
//! one transaction with its database effects, and only while the runner still holds
//! the lease: a runner whose lease expired and was taken over cannot complete it too,
//! so each job's effects are committed exactly once.

use embargo_core::timeline::EventKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::{Backend, Result, Store, StoreError, millis};

/// What a job does, with the identifiers it needs (never confidential content in the
/// clear: addresses and secrets travel sealed). The kind is stored in `jobs.kind` and
/// the rest as the JSON payload, so each variant's fields are the payload's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Task {
    /// A diagnostic that records which runner ran it.
    Probe,
    /// The daily digest to each team; once per day named.
    Digest {
        /// The day it covers (the dedup key), absent on jobs queued by hand.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<String>,
    },
    /// The escalation of stalled cases; once per day named.
    Escalate {
        /// The day it covers (the dedup key).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<String>,
    },
    /// The acknowledgement to the reporter of a new case.
    Acknowledge {
        /// The case.
        case_id: i64,
    },
    /// The project team hears of a new report or a reply.
    NotifyTeam {
        /// The case.
        case_id: i64,
    },
    /// The project team hears that the reporter (or someone else) wrote on a case.
    ReporterWrote {
        /// The case.
        case_id: i64,
    },
    /// One team member is asked for their view of a report.
    RequestView {
        /// The case.
        case_id: i64,
        /// The member asked.
        user_id: i64,
    },
    /// The foundation security team hears of a confirmed case.
    NotifyFoundation {
        /// The case.
        case_id: i64,
    },
    /// A message on the timeline goes to the reporter.
    MailReporter {
        /// The case.
        case_id: i64,
        /// The timeline entry holding the message.
        event_id: i64,
    },
    /// Whoever forwarded a report hears that it arrived.
    MailForwarder {
        /// The case.
        case_id: i64,
        /// The forwarder's address, sealed, base64.
        to_sealed: String,
    },
    /// An invitation to collaborate on a case.
    MailInvitation {
        /// The case.
        case_id: i64,
        /// The invitee's address, sealed, base64.
        to_sealed: String,
        /// The single-use secret, sealed, base64.
        secret_sealed: String,
    },
    /// An invitation to a project's team, to the newcomer: the link to choose their
    /// password.
    MailWelcome {
        /// The invitation.
        invitation_id: i64,
        /// The newcomer's address, sealed, base64.
        to_sealed: String,
        /// The single-use secret, sealed, base64.
        secret_sealed: String,
    },
    /// A correction to a published CVE record goes to CVE Services.
    CveUpdate {
        /// The case.
        case_id: i64,
    },
    /// A published advisory's page and documents are rendered and kept (at the
    /// announcement, and again after a correction).
    RenderPublic {
        /// The case.
        case_id: i64,
    },
    /// One announcement to one list, at the embargo time.
    Announce {
        /// The case.
        case_id: i64,
        /// The list.
        to: String,
        /// Days the distributors have to acknowledge (carried for the record).
        #[serde(default = "two")]
        ack_days: i64,
    },
    /// One pre-notification to one distributor.
    Prenotify {
        /// The case.
        case_id: i64,
        /// The distributor's address.
        to: String,
        /// Days they have to acknowledge.
        #[serde(default = "two")]
        ack_days: i64,
    },
}

fn two() -> i64 {
    2
}

impl Task {
    /// The stored kind, e.g. `notify-foundation`.
    pub fn kind(&self) -> &'static str {
        match self {
            Task::Probe => "probe",
            Task::Digest { .. } => "digest",
            Task::Escalate { .. } => "escalate",
            Task::Acknowledge { .. } => "acknowledge",
            Task::NotifyTeam { .. } => "notify-team",
            Task::RequestView { .. } => "request-view",
            Task::ReporterWrote { .. } => "reporter-wrote",
            Task::NotifyFoundation { .. } => "notify-foundation",
            Task::MailReporter { .. } => "mail-reporter",
            Task::MailForwarder { .. } => "mail-forwarder",
            Task::MailInvitation { .. } => "mail-invitation",
            Task::MailWelcome { .. } => "mail-welcome",
            Task::CveUpdate { .. } => "cve-update",
            Task::RenderPublic { .. } => "render-public",
            Task::Announce { .. } => "announce",
            Task::Prenotify { .. } => "prenotify",
        }
    }

    /// The case the job is about, if it is about one.
    pub fn case_id(&self) -> Option<i64> {
        match self {
            Task::Probe
            | Task::Digest { .. }
            | Task::Escalate { .. }
            | Task::MailWelcome { .. } => None,
            Task::Acknowledge { case_id }
            | Task::NotifyTeam { case_id }
            | Task::ReporterWrote { case_id }
            | Task::RequestView { case_id, .. }
            | Task::NotifyFoundation { case_id }
            | Task::MailReporter { case_id, .. }
            | Task::MailForwarder { case_id, .. }
            | Task::MailInvitation { case_id, .. }
            | Task::CveUpdate { case_id }
            | Task::RenderPublic { case_id }
            | Task::Announce { case_id, .. }
            | Task::Prenotify { case_id, .. } => Some(*case_id),
        }
    }

    /// What makes a second job of this kind the same job: enqueueing it again adds
    /// nothing. The disclosure keys start with the kind and the case, so that the jobs
    /// of one case's disclosure can be found by prefix ([`Task::disclosure_prefix`]).
    pub fn dedup_key(&self) -> Option<String> {
        match self {
            Task::Digest { on: Some(day) } => Some(format!("digest:{day}")),
            Task::Escalate { on: Some(day) } => Some(format!("escalate:{day}")),
            Task::Announce { case_id, to, .. } => Some(format!("announce:{case_id}:{to}")),
            Task::Prenotify { case_id, to, .. } => Some(format!("prenotify:{case_id}:{to}")),
            _ => None,
        }
    }

    /// The `LIKE` pattern of the dedup keys of a case's announcements.
    pub(crate) fn announcements_of(case_id: i64) -> String {
        format!("announce:{case_id}:%")
    }

    /// The `LIKE` pattern of the dedup keys of a case's pre-notifications.
    pub(crate) fn prenotifications_of(case_id: i64) -> String {
        format!("prenotify:{case_id}:%")
    }

    /// How many times it is tried before it is given up: disclosure mail is tried for
    /// longer, since it must go out.
    pub fn max_attempts(&self) -> i64 {
        match self {
            Task::Announce { .. } | Task::Prenotify { .. } => 50,
            _ => MAX_ATTEMPTS,
        }
    }

    /// The payload column: every field but the kind.
    fn payload(&self) -> Result<String> {
        let mut value = serde_json::to_value(self)
            .map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?;
        if let Some(object) = value.as_object_mut() {
            object.remove("kind");
        }
        Ok(value.to_string())
    }

    /// Reads a stored job back; `None` for a kind or payload this version cannot read.
    fn read(kind: &str, payload: &str) -> Option<Task> {
        let mut value: Value = serde_json::from_str(payload).ok()?;
        value
            .as_object_mut()?
            .insert("kind".into(), Value::String(kind.to_owned()));
        serde_json::from_value(value).ok()
    }
}

/// A job handed to a runner.
#[derive(Debug, Clone)]
pub struct Job {
    /// The job's id.
    pub id: i64,
    /// The stored kind, for logs (also for a job this version cannot read).
    pub kind: String,
    /// What to do; `None` when the stored job is unreadable, which the runner fails.
    pub task: Option<Task>,
    /// How many times it has been claimed, this time included.
    pub attempts: i64,
    /// The lease token of the runner holding it.
    pub lease: String,
}

impl Job {
    /// The job's case, or an error naming the job as unreadable.
    pub(crate) fn case_id(&self) -> Result<i64> {
        self.task
            .as_ref()
            .and_then(Task::case_id)
            .ok_or_else(|| StoreError::Invalid("the job names no case".into()))
    }
}

/// How many times a job is tried before it is given up.
const MAX_ATTEMPTS: i64 = 20;

/// Adds a job in the caller's transaction, unless its dedup key is taken. Returns the
/// new job's id, `None` when it was a duplicate.
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    task: &Task,
    run_at: i64,
) -> Result<Option<i64>> {
    let row = sqlx::query(
        "INSERT INTO jobs (kind, payload, run_at, max_attempts, created_at, dedup_key) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
    )
    .bind(task.kind())
    .bind(task.payload()?)
    .bind(run_at)
    .bind(task.max_attempts())
    .bind(millis(OffsetDateTime::now_utc()))
    .bind(task.dedup_key())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| Ok(r.try_get("id")?)).transpose()
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
    /// `mailed`: whether a relay took the mail (without one, the team sees the case in
    /// their queue).
    pub async fn record_foundation_notified(&mut self, case_id: i64, mailed: bool) -> Result<()> {
        Store::record_foundation_notified(
            &mut self.tx,
            self.store.keys(),
            case_id,
            self.now,
            mailed,
        )
        .await
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
            let act = crate::timeline::Act {
                case_id,
                actor: None,
                now: self.now,
            };
            crate::timeline::record_event(
                &mut self.tx,
                self.store.keys(),
                act,
                EventKind::Escalated,
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
    /// Adds a job outside any other change (diagnostics, tests), due now; `None` when an
    /// equal job is already queued.
    pub async fn enqueue_job(&self, task: &Task) -> Result<Option<i64>> {
        self.enqueue_job_at(task, millis(OffsetDateTime::now_utc()))
            .await
    }

    /// As [`Store::enqueue_job`], due at `run_at` (ms).
    pub(crate) async fn enqueue_job_at(&self, task: &Task, run_at: i64) -> Result<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let id = enqueue(&mut tx, task, run_at).await?;
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
        let kind: String = row.try_get("kind")?;
        Ok(Some(Job {
            id: row.try_get("id")?,
            task: Task::read(&kind, &payload),
            kind,
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
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Makes every job that failed, or waits out a backoff after failing, due now with its
    /// attempts reset: after the relay's settings are put right, nothing waits for hours
    /// and nothing given up stays lost; a job held by a server that died is freed. Jobs
    /// scheduled for later that never ran (an
    /// announcement at the embargo's end) keep their time. Returns how many.
    pub async fn retry_jobs(&self) -> Result<u64> {
        let now = millis(OffsetDateTime::now_utc());
        let done = sqlx::query(
            "UPDATE jobs SET attempts = 0, failed_at = NULL, last_error = NULL, run_at = $1, \
             locked_by = NULL, locked_until = NULL \
             WHERE done_at IS NULL AND (locked_by IS NULL OR locked_until < $1) AND attempts > 0 \
             AND (failed_at IS NOT NULL OR run_at > $1)",
        )
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
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

/// A message of Embargo's own to the case's reporter: on the timeline, and mailed (a
/// reporter without an address reads it on their page).
pub(crate) async fn tell_reporter(
    conn: &mut sqlx::AnyConnection,
    keys: &crate::Keyring,
    act: crate::timeline::Act,
    text: &str,
) -> Result<()> {
    let event = crate::timeline::record_event(
        conn,
        keys,
        act,
        embargo_core::timeline::EventKind::MessageToReporter,
        None,
        Some(text),
    )
    .await?;
    enqueue(
        conn,
        &Task::MailReporter {
            case_id: act.case_id,
            event_id: event,
        },
        act.now,
    )
    .await?;
    Ok(())
}
