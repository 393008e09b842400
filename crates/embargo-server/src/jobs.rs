//! The background job runner: claims due jobs from the database and carries them out.
//! Several servers may run it against one PostgreSQL; the store's leases keep each job
//! to one runner at a time and its effects to one commit.

use std::time::Duration;

use embargo_store::{AnnouncementDue, Job, Store, StoreError, Task};

use crate::mail::Mailer;
use tokio::sync::watch;

/// How long a claimed job is held before another runner may take it over.
const LEASE_MS: i64 = 60_000;
/// The default lease.
pub const DEFAULT_LEASE: Duration = Duration::from_millis(LEASE_MS as u64);
/// How long an idle runner waits before looking again.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// Runs jobs until `shutdown` turns true.
pub async fn run(
    store: Store,
    runner: String,
    mailer: Option<Mailer>,
    lease: Duration,
    public_url: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(LEASE_MS);
    tracing::info!(runner = %runner, "job runner started");
    let mut next_schedule = tokio::time::Instant::now();
    loop {
        if *shutdown.borrow() {
            break;
        }
        // The digest of the coming day is enqueued once, whichever server gets here first.
        if tokio::time::Instant::now() >= next_schedule {
            if let Err(e) = store.schedule_digest(time::OffsetDateTime::now_utc()).await {
                tracing::warn!(error = %e, "scheduling the digest failed");
            }
            next_schedule = tokio::time::Instant::now() + Duration::from_secs(600);
        }
        let idle = match store.claim_job(&runner, lease_ms).await {
            Ok(Some(job)) => {
                handle(&store, &runner, mailer.as_ref(), &public_url, job).await;
                false
            }
            Ok(None) => true,
            Err(e) => {
                tracing::warn!(error = %e, "claiming a job failed");
                true
            }
        };
        if idle {
            tokio::select! {
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    tracing::info!(runner = %runner, "job runner stopped");
}

/// Sends each mail of a job; the first failure defers the job (all are sent again).
async fn send_each(
    mailer: &Mailer,
    job: &Job,
    mails: &[embargo_store::OutboundMail],
) -> Result<(), (&'static str, Option<StoreError>)> {
    for mail in mails {
        mailer.send(mail).await.map_err(|e| {
            tracing::warn!(job = job.id, kind = %job.kind, error = %e, "sending mail failed");
            ("smtp", None)
        })?;
    }
    Ok(())
}

async fn handle(store: &Store, runner: &str, mailer: Option<&Mailer>, public_url: &str, job: Job) {
    let outcome: Result<(), (&'static str, Option<StoreError>)> = async {
        let Some(task) = &job.task else {
            return Err(("unreadable-job", None));
        };
        match task {
            Task::Probe => {
                let mut done = store
                    .complete_job(&job)
                    .await
                    .map_err(|e| ("store", Some(e)))?;
                done.record_probe(runner)
                    .await
                    .map_err(|e| ("store", Some(e)))?;
                done.commit().await.map_err(|e| ("store", Some(e)))
            }
            // Mail to people who may see the case; without a relay they see it in the
            // queue anyway, so the job completes either way.
            Task::Digest { .. }
            | Task::NotifyFoundation { .. }
            | Task::NotifyTeam { .. }
            | Task::ReporterWrote { .. }
            | Task::RequestView { .. } => {
                let mut mailed = false;
                if let Some(mailer) = mailer {
                    let (public_url, domain) = (mailer.public_url(), mailer.domain());
                    let mails = if matches!(task, Task::Digest { .. }) {
                        store.digest_mails(&job, public_url, domain).await
                    } else {
                        store.team_notifications(&job, public_url, domain).await
                    }
                    .map_err(|e| ("store", Some(e)))?;
                    send_each(mailer, &job, &mails).await?;
                    mailed = !mails.is_empty();
                }
                if matches!(task, Task::Digest { .. }) {
                    let folded = store
                        .fold_figure_marks()
                        .await
                        .map_err(|e| ("store", Some(e)))?;
                    tracing::debug!(job = job.id, folded, "figure marks folded");
                }
                let mut done = store
                    .complete_job(&job)
                    .await
                    .map_err(|e| ("store", Some(e)))?;
                if let Task::NotifyFoundation { case_id } = task {
                    done.record_foundation_notified(*case_id, mailed)
                        .await
                        .map_err(|e| ("store", Some(e)))?;
                }
                done.commit().await.map_err(|e| ("store", Some(e)))
            }
            // Announcements and pre-notifications: each job one mail to one recipient,
            // never before its time, recorded with the job's completion.
            Task::Announce { .. } | Task::Prenotify { .. } => {
                let mailer = mailer.ok_or(("no-mail-transport", None))?;
                let due = store
                    .disclosure_mail(&job, mailer.public_url(), mailer.domain())
                    .await
                    .map_err(|e| ("store", Some(e)))?;
                match due {
                    AnnouncementDue::Later(at) => {
                        store.postpone_job(&job, at).await.map_err(|e| ("store", Some(e)))?;
                        Ok(())
                    }
                    AnnouncementDue::Nothing => {
                        let done = store.complete_job(&job).await.map_err(|e| ("store", Some(e)))?;
                        done.commit().await.map_err(|e| ("store", Some(e)))
                    }
                    AnnouncementDue::Send(mail) => {
                        let raw = mailer.send(&mail).await.map_err(|e| {
                            tracing::warn!(job = job.id, kind = %job.kind, error = %e, "sending mail failed");
                            ("smtp", None)
                        })?;
                        let mut done = store.complete_job(&job).await.map_err(|e| ("store", Some(e)))?;
                        done.record_disclosure_mail(&mail, &raw, &job)
                            .await
                            .map_err(|e| ("store", Some(e)))?;
                        done.commit().await.map_err(|e| ("store", Some(e)))
                    }
                }
            }
            // A correction to a published CVE record goes to CVE Services.
            Task::CveUpdate { .. } => {
                let update = store
                    .cve_update(&job, public_url)
                    .await
                    .map_err(|e| ("store", Some(e)))?;
                if let Some(update) = update {
                    let client = crate::cve_services::CveServices::new(update.credentials).map_err(|e| {
                        tracing::warn!(job = job.id, error = %e, "CVE Services client");
                        ("cve-services", None)
                    })?;
                    client.publish(&update.cve_id, &update.record, true).await.map_err(|e| {
                        tracing::warn!(job = job.id, error = %e, "updating the CVE record failed");
                        ("cve-services", None)
                    })?;
                    store
                        .record_cve_state(None, update.case_id, embargo_store::CveRecordState::Published, &format!("{}: the published record updated after a correction", update.cve_id))
                        .await
                        .map_err(|e| ("store", Some(e)))?;
                }
                let done = store.complete_job(&job).await.map_err(|e| ("store", Some(e)))?;
                done.commit().await.map_err(|e| ("store", Some(e)))
            }
            Task::RenderPublic { case_id } => {
                let case_ref = store.case_ref_of(*case_id).await.map_err(|e| ("store", Some(e)))?;
                let rendered = crate::api::site::render_published(store, public_url, &case_ref)
                    .await
                    .map_err(|e| {
                        tracing::warn!(job = job.id, error = %e, "rendering a published advisory failed");
                        ("render", None)
                    })?;
                tracing::debug!(job = job.id, rendered, "published advisory rendered and kept");
                let done = store.complete_job(&job).await.map_err(|e| ("store", Some(e)))?;
                done.commit().await.map_err(|e| ("store", Some(e)))
            }
            // Escalation must reach people, so without a relay it waits for one.
            Task::Escalate { .. } => {
                let mailer = mailer.ok_or(("no-mail-transport", None))?;
                let (mails, cases) = store
                    .escalation_mails(&job, mailer.public_url(), mailer.domain())
                    .await
                    .map_err(|e| ("store", Some(e)))?;
                send_each(mailer, &job, &mails).await?;
                let mut done = store
                    .complete_job(&job)
                    .await
                    .map_err(|e| ("store", Some(e)))?;
                done.record_escalations(&cases)
                    .await
                    .map_err(|e| ("store", Some(e)))?;
                done.commit().await.map_err(|e| ("store", Some(e)))
            }
            // An invitation to a team: without a relay it waits for one, like the
            // reporter's mail, as the newcomer has no other way in.
            Task::MailWelcome { .. } => {
                let mailer = mailer.ok_or(("no-mail-transport", None))?;
                let mail = store
                    .welcome_mail(&job, mailer.public_url(), mailer.domain())
                    .await
                    .map_err(|e| ("store", Some(e)))?;
                send_each(mailer, &job, std::slice::from_ref(&mail)).await?;
                let done = store
                    .complete_job(&job)
                    .await
                    .map_err(|e| ("store", Some(e)))?;
                done.commit().await.map_err(|e| ("store", Some(e)))
            }
            // Without a relay configured, mail waits (retried with backoff) for one.
            Task::Acknowledge { .. }
            | Task::MailReporter { .. }
            | Task::MailForwarder { .. }
            | Task::MailInvitation { .. } => {
                let mailer = mailer.ok_or(("no-mail-transport", None))?;
                let mail = store
                    .outbound_mail(&job, mailer.public_url(), mailer.domain())
                    .await
                    .map_err(|e| ("store", Some(e)))?;
                let done = match mail {
                    None => store
                        .complete_job(&job)
                        .await
                        .map_err(|e| ("store", Some(e)))?,
                    Some(mail) => {
                        let raw = mailer.send(&mail).await.map_err(|e| {
                            tracing::warn!(job = job.id, error = %e, "sending mail failed");
                            ("smtp", None)
                        })?;
                        // Sent: the record and the job's completion commit together. A crash
                        // between the relay's acceptance and this commit is the one window
                        // in which a retry sends again (with the same Message-ID).
                        let mut done = store
                            .complete_job(&job)
                            .await
                            .map_err(|e| ("store", Some(e)))?;
                        done.record_sent_mail(&mail, &raw)
                            .await
                            .map_err(|e| ("store", Some(e)))?;
                        done
                    }
                };
                done.commit().await.map_err(|e| ("store", Some(e)))
            }
        }
    }
    .await;
    crate::metrics::record_job(
        &job.kind,
        match &outcome {
            Ok(()) => "done",
            Err((reason, _)) => reason,
        },
    );
    match outcome {
        Ok(()) => tracing::debug!(job = job.id, kind = %job.kind, "job done"),
        Err((reason, error)) => {
            match &error {
                Some(e) => {
                    tracing::warn!(job = job.id, kind = %job.kind, reason, error = %e, "job failed")
                }
                None => tracing::debug!(job = job.id, kind = %job.kind, reason, "job deferred"),
            }
            if let Err(e) = store.fail_job(&job, reason).await {
                tracing::warn!(job = job.id, error = %e, "releasing a failed job failed");
            }
        }
    }
}
