//! Mail out to reporters: the acknowledgement of a new report and the team's messages,
//! composed here from the sealed case, sent by the job runner, and recorded (sealed, with
//! its Message-ID for threading) in the same transaction that completes the job.

use embargo_core::timeline::EventKind;
use sqlx::{AnyConnection, Row};

use embargo_mail::wording;

use crate::case_row::load;
use crate::jobs::{JobCompletion, Task};
use crate::threading::id_hash;
use crate::timeline::{Act, record_event};
use crate::{Job, Result, Store, StoreError};

/// A message to send, composed from a job.
pub struct OutboundMail {
    /// The case it belongs to.
    pub case_id: i64,
    /// The recipient.
    pub to: String,
    /// The subject: the case reference and no content.
    pub subject: String,
    /// The text.
    pub body: String,
    /// Our Message-ID for it, without brackets; the same on every retry of the job.
    pub message_id: String,
    /// The message it answers, without brackets.
    pub in_reply_to: Option<String>,
    /// The thread so far, oldest first, without brackets.
    pub references: Vec<String>,
    /// acknowledgement or reply.
    pub kind: &'static str,
    /// The recipient's OpenPGP key: the message goes out encrypted to it (PGP/MIME).
    pub encrypt_to: Option<embargo_openpgp::PublicKey>,
    /// The team key that signs an encrypted message, when the project has one.
    pub sign_with: Option<embargo_openpgp::TeamKey>,
}

impl std::fmt::Debug for OutboundMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OutboundMail(case={}, kind={}, [redacted])",
            self.case_id, self.kind
        )
    }
}

/// The Message-IDs of a case's messages, oldest first.
async fn thread_ids(store: &Store, conn: &mut AnyConnection, case_id: i64) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT id, project_id, message_id_sealed FROM messages WHERE case_id = $1 AND message_id_sealed IS NOT NULL ORDER BY id")
        .bind(case_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            let sealed: Vec<u8> = row.try_get("message_id_sealed")?;
            crate::timeline::open_logged(
                store.keys(),
                &crate::contexts::message(row.try_get("project_id")?, id, "message-id"),
                &sealed,
                "messages",
                id,
            )
        })
        .collect()
}

impl Store {
    /// The Message-ID of mail the team sends, for `seed` (the job and recipient): stable
    /// across retries, and keyed so that nobody can predict it and answer it to join a
    /// case's thread.
    pub(crate) fn message_id(&self, seed: &str, domain: &str) -> String {
        format!("embargo.{}@{domain}", self.keys().tag("message-id", seed))
    }

    /// Composes the mail a job sends; `None` when there is nobody to send it to (a
    /// report without a reporter address), which completes the job without mail.
    pub async fn outbound_mail(
        &self,
        job: &Job,
        public_url: &str,
        domain: &str,
    ) -> Result<Option<OutboundMail>> {
        let case_id = job.case_id()?;
        let mut conn = self.pool.acquire().await?;
        let case = load(&mut conn, self.keys(), case_id, true).await?;
        let unsealed = |sealed: &str, context: String| -> Result<String> {
            use base64::Engine;
            let sealed = base64::engine::general_purpose::STANDARD
                .decode(sealed)
                .map_err(|_| StoreError::Invalid("the job is incomplete".into()))?;
            Ok(self.keys().open_string(&context, &sealed)?)
        };
        if let Some(Task::MailInvitation {
            to_sealed,
            secret_sealed,
            ..
        }) = &job.task
        {
            let to = unsealed(to_sealed, crate::contexts::invitation(case_id, "to"))?;
            let secret = unsealed(
                secret_sealed,
                crate::contexts::invitation(case_id, "secret"),
            )?;
            let letter = wording::invitation(&case.reference(), public_url, &secret);
            return Ok(Some(OutboundMail {
                case_id,
                to,
                subject: letter.subject,
                body: letter.body,
                message_id: self.message_id(&job.id.to_string(), domain),
                in_reply_to: None,
                references: Vec::new(),
                kind: "invitation",
                encrypt_to: None,
                sign_with: None,
            }));
        }
        if let Some(Task::MailForwarder { to_sealed, .. }) = &job.task {
            // The forwarder hears that the report arrived, by reference only: the
            // reporter's secret link is the reporter's alone.
            let to = unsealed(to_sealed, crate::contexts::forwarder(case_id))?;
            let letter = wording::forwarder_notice(&case.reference());
            return Ok(Some(OutboundMail {
                case_id,
                to,
                subject: letter.subject,
                body: letter.body,
                message_id: self.message_id(&job.id.to_string(), domain),
                in_reply_to: None,
                references: Vec::new(),
                kind: "forward-acknowledgement",
                encrypt_to: None,
                sign_with: None,
            }));
        }
        let Some(to) = case.reporter_email() else {
            return Ok(None);
        };
        let encrypt_to = case.reporter_key();
        let sign_with = match &encrypt_to {
            Some(_) => self.team_key(&mut conn, case.project_id()).await?,
            None => None,
        };
        let reference = case.reference();
        let link = self.ensure_reporter_link(&mut conn, case_id).await?;
        let follow = wording::follow_line(public_url, &link);
        let references = thread_ids(self, &mut conn, case_id).await?;
        let (letter, kind) = match &job.task {
            Some(Task::Acknowledge { .. }) => {
                let overrides = self.overrides(case.project_id()).await?;
                let text = embargo_core::canned::responses(&overrides)
                    .into_iter()
                    .find(|c| c.name == "acknowledgement")
                    .map(|c| c.text)
                    .unwrap_or_default();
                let due = crate::from_millis(case.received_at)
                    + time::Duration::days(case.settings.acknowledge_days);
                let respond_by = embargo_core::clocks::rfc3339(due)
                    .get(..10)
                    .map(str::to_owned)
                    .unwrap_or_default();
                (
                    wording::acknowledgement(&reference, &text, &respond_by, &follow),
                    "acknowledgement",
                )
            }
            Some(Task::MailReporter { event_id, .. }) => {
                let event_id = *event_id;
                let row = sqlx::query(
                    "SELECT kind, detail_sealed FROM case_events WHERE id = $1 AND case_id = $2",
                )
                .bind(event_id)
                .bind(case_id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::NotFound("message"))?;
                let event_kind: String = row.try_get("kind")?;
                let sealed: Vec<u8> = row
                    .try_get::<Option<Vec<u8>>, _>("detail_sealed")?
                    .ok_or(StoreError::NotFound("message"))?;
                let text = crate::timeline::open_logged(
                    self.keys(),
                    &crate::contexts::event(case.project_id(), case_id, &event_kind),
                    &sealed,
                    "case_events",
                    event_id,
                )?;
                (
                    wording::reply_to_reporter(&reference, &text, &follow),
                    "reply",
                )
            }
            _ => {
                return Err(StoreError::Invalid(format!(
                    "job kind {} sends no mail",
                    job.kind
                )));
            }
        };
        Ok(Some(OutboundMail {
            case_id,
            to,
            subject: letter.subject,
            body: letter.body,
            message_id: self.message_id(&job.id.to_string(), domain),
            in_reply_to: references.last().cloned(),
            references,
            kind,
            encrypt_to,
            sign_with,
        }))
    }
}

impl JobCompletion {
    /// Records a sent message, sealed, so that replies to it thread onto the case; an
    /// acknowledgement also stops the case's acknowledgement clock.
    pub async fn record_sent_mail(&mut self, mail: &OutboundMail, raw: &[u8]) -> Result<()> {
        let (tx, store, now) = self.parts();
        let row = sqlx::query(
            "INSERT INTO messages (project_id, case_id, direction, kind, message_id_hash, received_at, raw_sealed) \
             SELECT project_id, id, 'out', $1, $2, $3, $4 FROM cases WHERE id = $5 RETURNING id, project_id",
        )
        .bind(mail.kind)
        .bind(id_hash(&mail.message_id))
        .bind(now)
        .bind(Vec::<u8>::new())
        .bind(mail.case_id)
        .fetch_one(&mut **tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let project: Option<i64> = row.try_get("project_id")?;
        sqlx::query("UPDATE messages SET raw_sealed = $1, message_id_sealed = $2 WHERE id = $3")
            .bind(
                store
                    .keys()
                    .seal(&crate::contexts::message(project, id, "raw"), raw)?,
            )
            .bind(store.keys().seal_str(
                &crate::contexts::message(project, id, "message-id"),
                &mail.message_id,
            )?)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        if mail.kind == "acknowledgement" {
            sqlx::query(
                "UPDATE cases SET acknowledged_at = $1 WHERE id = $2 AND acknowledged_at IS NULL",
            )
            .bind(now)
            .bind(mail.case_id)
            .execute(&mut **tx)
            .await?;
        }
        let act = Act {
            case_id: mail.case_id,
            actor: None,
            now,
        };
        record_event(
            tx,
            store.keys(),
            act,
            EventKind::MailSent,
            None,
            Some(mail.kind),
        )
        .await?;
        Ok(())
    }
}

impl Store {
    /// The notifications a job sends to people who may see the case: the project's team
    /// of a new report (`notify-team`), the foundation team of a confirmed one
    /// (`notify-foundation`). They name the case and carry no content.
    pub async fn team_notifications(
        &self,
        job: &Job,
        public_url: &str,
        domain: &str,
    ) -> Result<Vec<OutboundMail>> {
        let case_id = job.case_id()?;
        let row = sqlx::query(
            "SELECT c.project_id, p.org_id, p.key, p.inbox, c.number, c.channel FROM cases c JOIN projects p ON p.id = c.project_id WHERE c.id = $1",
        )
        .bind(case_id)
        .fetch_one(&self.pool)
        .await?;
        let key: String = row.try_get("key")?;
        let reference =
            embargo_core::reference::case_reference(&key, row.try_get::<i64, _>("number")?);
        let (kind, scope, letter) = match &job.task {
            Some(Task::NotifyTeam { .. }) => (
                "project",
                row.try_get::<i64, _>("project_id")?,
                wording::new_report(
                    &key,
                    &reference,
                    &row.try_get::<String, _>("channel")?,
                    public_url,
                ),
            ),
            Some(Task::ReporterWrote { .. }) => (
                "project",
                row.try_get::<i64, _>("project_id")?,
                wording::message_arrived(&key, &reference, public_url),
            ),
            Some(Task::NotifyFoundation { .. }) => (
                "foundation",
                row.try_get::<i64, _>("org_id")?,
                wording::confirmed(&key, &reference, public_url),
            ),
            // One member, and only while still on the project's team.
            Some(Task::RequestView { user_id, .. }) => {
                let letter = wording::view_requested(&key, &reference, public_url);
                let to: Vec<String> = sqlx::query(
                    "SELECT u.email FROM team_members t JOIN users u ON u.id = t.user_id WHERE t.user_id = $1 AND t.kind = 'project' AND t.scope_id = $2",
                )
                .bind(user_id)
                .bind(row.try_get::<i64, _>("project_id")?)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get("email"))
                .collect::<std::result::Result<_, _>>()?;
                return Ok(OutboundMail::to_each(
                    &to,
                    &letter.subject,
                    &letter.body,
                    case_id,
                    "notification",
                    |i| self.message_id(&format!("{}.{case_id}.{i}", job.id), domain),
                ));
            }
            _ => {
                return Err(StoreError::Invalid(format!(
                    "job kind {} notifies nobody",
                    job.kind
                )));
            }
        };
        // The inbox of the foundation address has no team of its own: its reports are
        // the foundation team's to route.
        let (kind, scope) = if kind == "project" && row.try_get::<i64, _>("inbox")? != 0 {
            ("foundation", row.try_get::<i64, _>("org_id")?)
        } else {
            (kind, scope)
        };
        let mut people = self.team_emails(kind, scope).await?;
        // A project's members each chose how to hear of new reports and outside
        // messages: those who chose the digest or no mail get none now.
        if kind == "project" {
            let modes = self.modes_on_project(scope).await?;
            people.retain(|email| {
                modes
                    .get(email)
                    .is_none_or(|m| *m == crate::NotifyMode::Immediately)
            });
        }
        Ok(OutboundMail::to_each(
            &people,
            &letter.subject,
            &letter.body,
            case_id,
            "notification",
            |i| self.message_id(&format!("{}.{case_id}.{i}", job.id), domain),
        ))
    }

    /// The addresses of a team: `kind` is `project` or `foundation`, `scope` its id.
    pub(crate) async fn team_emails(&self, kind: &str, scope: i64) -> Result<Vec<String>> {
        sqlx::query(
            "SELECT u.email FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.kind = $1 AND m.scope_id = $2 ORDER BY u.email",
        )
        .bind(kind)
        .bind(scope)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok(row.try_get("email")?))
        .collect()
    }
}

impl OutboundMail {
    /// The same message to each of `people`, outside any thread.
    pub(crate) fn to_each(
        people: &[String],
        subject: &str,
        body: &str,
        case_id: i64,
        kind: &'static str,
        message_id: impl Fn(usize) -> String,
    ) -> Vec<OutboundMail> {
        people
            .iter()
            .enumerate()
            .map(|(i, to)| OutboundMail {
                case_id,
                to: to.clone(),
                subject: subject.to_owned(),
                body: body.to_owned(),
                message_id: message_id(i),
                in_reply_to: None,
                references: Vec::new(),
                kind,
                encrypt_to: None,
                sign_with: None,
            })
            .collect()
    }
}
