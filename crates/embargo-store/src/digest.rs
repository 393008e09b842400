//! The daily digest: each project's team hears which clocks are near or past due and
//! which cases have stalled, by case reference only. Stalled cases are also escalated,
//! once per stall, to the foundation team and the project's wider private list.

use embargo_core::clocks::{Clock, ClockStatus};
use embargo_core::lifecycle::State;
use sqlx::Row;
use time::{Duration, OffsetDateTime, Time};

use crate::case_row::{CASE_COLUMNS, CASE_FROM, CASE_SELECT, Loaded, state_in};
use crate::jobs::Task;
use crate::outbound::OutboundMail;
use crate::{Job, Result, Store, millis};

/// When the digest goes out, UTC.
const DIGEST_AT: Time = time::macros::time!(07:00);

fn describe(name: &str, clock: &Clock) -> Option<String> {
    match clock.status {
        ClockStatus::Warning => Some(format!("{name} due {}", clock.due_at)),
        ClockStatus::Overdue => Some(format!("{name} OVERDUE since {}", clock.due_at)),
        _ => None,
    }
}

impl Store {
    /// Makes sure the next digest is scheduled, once, whichever server asks.
    pub async fn schedule_digest(&self, now: OffsetDateTime) -> Result<()> {
        let today = now.replace_time(DIGEST_AT);
        let next = if now < today {
            today
        } else {
            today + Duration::days(1)
        };
        let on = Some(next.date().to_string());
        self.enqueue_job_at(&Task::Digest { on: on.clone() }, millis(next))
            .await?;
        self.enqueue_job_at(&Task::Escalate { on }, millis(next))
            .await?;
        Ok(())
    }

    /// The escalation of stalled cases not escalated since their last activity: one mail
    /// per case to the organisation's foundation team and the project's private list, by
    /// reference only; with the ids of the cases it covers.
    pub async fn escalation_mails(
        &self,
        job: &Job,
        public_url: &str,
        domain: &str,
    ) -> Result<(Vec<OutboundMail>, Vec<i64>)> {
        let now = OffsetDateTime::now_utc();
        let open = state_in(State::is_open);
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS}, \
             p.org_id, p.private_list AS project_private_list {CASE_FROM} WHERE {open} \
             AND (c.escalated_at IS NULL OR c.escalated_at < c.last_activity_at) ORDER BY c.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut mails = Vec::new();
        let mut cases = Vec::new();
        for row in &rows {
            let case = Loaded::from_row(self.keys(), row, false)?.summary(now);
            if !case.clocks.stalled {
                continue;
            }
            let case_id: i64 = row.try_get("id")?;
            let last: i64 = row.try_get("last_activity_at")?;
            let mut people = self
                .team_emails("foundation", row.try_get("org_id")?)
                .await?;
            if let Some(list) = row.try_get::<Option<String>, _>("project_private_list")? {
                people.push(list);
            }
            let letter = embargo_mail::wording::escalation(
                &case.reference.to_string(),
                case.state.as_str(),
                &crate::rfc(last),
                public_url,
            );
            mails.extend(OutboundMail::to_each(
                &people,
                &letter.subject,
                &letter.body,
                case_id,
                "escalation",
                |i| self.message_id(&format!("{}.{case_id}.{i}", job.id), domain),
            ));
            cases.push(case_id);
        }
        Ok((mails, cases))
    }

    /// The project's cases with a message from outside the team since `since`, by
    /// reference only: (case id, line).
    async fn messages_since(
        &self,
        project_id: i64,
        since: OffsetDateTime,
    ) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT c.id, p.key, c.number, COUNT(*) AS n FROM case_events e JOIN cases c ON c.id = e.case_id \
             JOIN projects p ON p.id = c.project_id \
             WHERE c.project_id = $1 AND e.kind IN ($2, $3) AND e.at > $4 GROUP BY c.id, p.key, c.number ORDER BY c.number",
        )
        .bind(project_id)
        .bind(embargo_core::timeline::EventKind::ReporterMessage.as_str())
        .bind(embargo_core::timeline::EventKind::ThirdPartyMessage.as_str())
        .bind(crate::millis(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let reference = embargo_core::reference::case_reference(
                    &r.try_get::<String, _>("key")?,
                    r.try_get::<i64, _>("number")?,
                );
                let n: i64 = r.try_get("n")?;
                Ok((
                    r.try_get("id")?,
                    format!("{reference}: {n} message(s) from outside the team in the last day"),
                ))
            })
            .collect()
    }

    /// The digest mails: to each team member of each project with something due.
    pub async fn digest_mails(
        &self,
        job: &Job,
        public_url: &str,
        domain: &str,
    ) -> Result<Vec<OutboundMail>> {
        let now = OffsetDateTime::now_utc();
        let projects = sqlx::query("SELECT id, key FROM projects ORDER BY key")
            .fetch_all(&self.pool)
            .await?;
        let mut mails = Vec::new();
        for project in projects {
            let project_id: i64 = project.try_get("id")?;
            let key: String = project.try_get("key")?;
            let rows = sqlx::query(&format!(
                "{CASE_SELECT} WHERE c.project_id = $1 AND {} ORDER BY c.number",
                state_in(State::is_open)
            ))
            .bind(project_id)
            .fetch_all(&self.pool)
            .await?;
            let mut lines = Vec::new();
            let mut first_case = None;
            for row in &rows {
                let case = Loaded::from_row(self.keys(), row, false)?.summary(now);
                let mut notes: Vec<String> = Vec::new();
                if case.state == State::Reported {
                    notes.extend(describe("acknowledgement", &case.clocks.acknowledgement));
                }
                for (name, clock) in [
                    ("mitigation", &case.clocks.mitigation),
                    ("announcement", &case.clocks.announcement),
                ] {
                    if let Some(c) = clock {
                        notes.extend(describe(name, c));
                    }
                }
                if case.clocks.stalled {
                    notes.push("stalled: no activity lately".to_owned());
                }
                if !notes.is_empty() {
                    first_case.get_or_insert(row.try_get::<i64, _>("id")?);
                    lines.push(format!(
                        "{} ({}): {}",
                        case.reference,
                        case.state,
                        notes.join("; ")
                    ));
                }
            }
            // Members who chose the digest for outside messages read of the last day's here.
            let modes = self.modes_on_project(project_id).await?;
            let wants_messages = modes.values().any(|m| *m == crate::NotifyMode::Digest);
            let messages = match wants_messages {
                true => {
                    self.messages_since(project_id, now - time::Duration::days(1))
                        .await?
                }
                false => Vec::new(),
            };
            let Some(case_id) = first_case.or(messages.first().map(|(id, _)| *id)) else {
                continue;
            };
            let people = self.team_emails("project", project_id).await?;
            for (i, email) in people.iter().enumerate() {
                let mut mine = lines.clone();
                if modes.get(email) == Some(&crate::NotifyMode::Digest) {
                    mine.extend(messages.iter().map(|(_, line)| line.clone()));
                }
                if mine.is_empty() {
                    continue;
                }
                let letter = embargo_mail::wording::digest(&key, &mine, public_url);
                mails.extend(OutboundMail::to_each(
                    std::slice::from_ref(email),
                    &letter.subject,
                    &letter.body,
                    case_id,
                    "digest",
                    |_| self.message_id(&format!("{}.{project_id}.{i}", job.id), domain),
                ));
            }
        }
        Ok(mails)
    }
}
