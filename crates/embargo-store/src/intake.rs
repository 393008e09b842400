//! Intake of inbound mail: one message, stored whole and sealed in one transaction, then
//! either opening a case, joining one as a follow-up, kept without a case (auto-replies,
//! bounces), ignored as a duplicate delivery, or quarantined with its reason. Nothing is
//! dropped: even a message that cannot be parsed is kept, sealed, in quarantine.

use embargo_core::case::{Channel, Reporter};
use embargo_core::reference::ProjectKey;
use embargo_core::timeline::EventKind;
use embargo_mail::{Forwarded, Inbound, Keys, Kind, Limits};
use embargo_openpgp::{SignatureCheck, TeamKey};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::attachments::NewAttachment;
use crate::cases::{NewReport, insert_case};
use crate::threading::{id_hash, thread};
use crate::timeline::{Act, record_event, touch};
use crate::{Result, Store, StoreError, millis};

/// Where a message landed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum IntakeOutcome {
    /// It opened a case.
    NewCase {
        /// The case reference.
        #[serde(rename = "ref")]
        reference: String,
        /// report or scan-output.
        kind: String,
    },
    /// It joined a case's external thread.
    FollowUp {
        /// The case reference.
        #[serde(rename = "ref")]
        reference: String,
    },
    /// It joined a case's thread from someone who is not the reporter (nor a co-reporter
    /// the team accepted): shown to the team as a third party's, never as the reporter's.
    ThirdParty {
        /// The case reference.
        #[serde(rename = "ref")]
        reference: String,
    },
    /// Kept, but it opens no case (an auto-reply or a bounce).
    Kept {
        /// auto-reply or bounce.
        kind: String,
        /// The case it answers, if it threads onto one.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// The same message arrived before; this delivery is ignored.
    Duplicate,
    /// Kept in quarantine.
    Quarantined {
        /// Why, without quoting the message.
        reason: String,
    },
}

impl IntakeOutcome {
    /// What the message became, as the API's `outcome` names it.
    pub fn label(&self) -> &'static str {
        match self {
            IntakeOutcome::NewCase { .. } => "new-case",
            IntakeOutcome::FollowUp { .. } => "follow-up",
            IntakeOutcome::ThirdParty { .. } => "third-party",
            IntakeOutcome::Kept { .. } => "kept",
            IntakeOutcome::Duplicate => "duplicate",
            IntakeOutcome::Quarantined { .. } => "quarantined",
        }
    }
}

/// Titles are for lists and subjects; a longer subject is cut here, at a character
/// boundary, and kept whole at the top of the description.
const MAX_TITLE: usize = 200;

/// The case a message opens: its title, text and reporter, the original sender's for a
/// forwarded report.
fn report_from(project: ProjectKey, inbound: &Inbound, forwarded: Option<&Forwarded>) -> NewReport {
    let subject = match forwarded {
        Some(f) => f
            .subject
            .clone()
            .or_else(|| {
                embargo_mail::forward::strip_forward_prefix(&inbound.subject).map(str::to_owned)
            })
            .unwrap_or_else(|| inbound.subject.clone()),
        None => inbound.subject.clone(),
    };
    let reporter = match forwarded {
        Some(f) => Reporter {
            name: f.name.clone(),
            email: Some(f.email.clone()),
        },
        None => Reporter {
            name: inbound.from_name.clone(),
            email: Some(inbound.from_email.clone()),
        },
    };
    let (title, description) = match cut_title(&subject) {
        None if subject.trim().is_empty() => ("(no subject)".to_owned(), inbound.text.clone()),
        None => (subject.trim().to_owned(), inbound.text.clone()),
        Some(short) => (
            short,
            format!("Subject (in full): {}\n\n{}", subject.trim(), inbound.text),
        ),
    };
    NewReport {
        project,
        title,
        description,
        reporter,
        channel: Channel::Email,
    }
}

/// The subject cut to a title of at most [`MAX_TITLE`] characters, marked with an
/// ellipsis; `None` when it fits.
pub(crate) fn cut_title(subject: &str) -> Option<String> {
    let subject = subject.trim();
    let (cut, _) = subject.char_indices().nth(MAX_TITLE)?;
    Some(format!("{}… (subject cut)", subject[..cut].trim_end()))
}

/// One line of the intake log: what a message became. No content.
async fn log_intake(
    conn: &mut AnyConnection,
    project_id: Option<i64>,
    classification: &str,
    case_id: Option<i64>,
    message_id: Option<i64>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO intake_log (project_id, received_at, classification, case_id, message_id) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(project_id)
    .bind(now)
    .bind(classification)
    .bind(case_id)
    .bind(message_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn case_reference(conn: &mut AnyConnection, case_id: i64) -> Result<String> {
    let row = sqlx::query("SELECT p.key, c.number FROM cases c JOIN projects p ON p.id = c.project_id WHERE c.id = $1")
        .bind(case_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(embargo_core::reference::case_reference(
        &row.try_get::<String, _>("key")?,
        row.try_get::<i64, _>("number")?,
    ))
}

/// Where mail is taken in: the address's project key, the project (none when the key
/// names none), and its team key.
#[derive(Clone, Copy)]
pub(crate) struct Desk<'a> {
    pub(crate) key: &'a str,
    pub(crate) project: Option<&'a crate::Project>,
    pub(crate) team: Option<&'a TeamKey>,
}

struct Stored<'a> {
    project_id: Option<i64>,
    case_id: Option<i64>,
    kind: &'a str,
    message_id: Option<&'a str>,
    sent_at: Option<i64>,
    reason: Option<&'a str>,
    /// What makes another delivery a duplicate of this one (see [`dedup_key`]).
    dedup: Option<Vec<u8>>,
}

/// A delivery's identity for duplicates: the desk's project with the Message-ID and the
/// text after the header section (relays add header fields to each delivery), or with
/// every byte when there is no Message-ID. A Message-ID alone would let a copy sent to
/// two desks reach one, and let whoever learnt a Message-ID first bury the real report.
fn dedup_key(project_id: Option<i64>, message_id: Option<&str>, raw: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"embargo delivery v1\0");
    h.update(project_id.unwrap_or(0).to_be_bytes());
    match message_id {
        Some(id) => {
            let body = raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|p| p + 4)
                .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 2))
                .map_or(&raw[raw.len()..], |start| &raw[start..]);
            h.update(b"id\0");
            h.update(id.as_bytes());
            h.update(b"\0");
            h.update(Sha256::digest(body));
        }
        None => {
            h.update(b"raw\0");
            h.update(Sha256::digest(raw));
        }
    }
    h.finalize().to_vec()
}

impl Store {
    async fn store_message(
        &self,
        conn: &mut AnyConnection,
        raw: &[u8],
        m: Stored<'_>,
        now: i64,
    ) -> Result<Option<i64>> {
        // A concurrent delivery of the same message loses the race quietly.
        let row = sqlx::query(
            "INSERT INTO messages (project_id, case_id, direction, kind, message_id_hash, received_at, sent_at, quarantine_reason, raw_sealed, dedup_hash) \
             VALUES ($1, $2, 'in', $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (direction, dedup_hash) DO NOTHING RETURNING id",
        )
        .bind(m.project_id)
        .bind(m.case_id)
        .bind(m.kind)
        .bind(m.message_id.map(id_hash))
        .bind(now)
        .bind(m.sent_at.map(|s| s * 1000))
        .bind(m.reason)
        .bind(Vec::<u8>::new())
        .bind(m.dedup)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        if m.kind != "web-upload" {
            log_intake(conn, m.project_id, m.kind, m.case_id, Some(id), now).await?;
        }
        let message_id_sealed = m
            .message_id
            .map(|mid| {
                self.keys().seal_str(
                    &crate::contexts::message(m.project_id, id, "message-id"),
                    mid,
                )
            })
            .transpose()?;
        sqlx::query("UPDATE messages SET raw_sealed = $1, message_id_sealed = $2 WHERE id = $3")
            .bind(
                self.keys()
                    .seal(&crate::contexts::message(m.project_id, id, "raw"), raw)?,
            )
            .bind(message_id_sealed)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(Some(id))
    }

    async fn quarantine(
        &self,
        conn: &mut AnyConnection,
        project_id: Option<i64>,
        raw: &[u8],
        reason: &str,
        now: i64,
    ) -> Result<IntakeOutcome> {
        let stored = Stored {
            project_id,
            case_id: None,
            kind: "quarantined",
            message_id: None,
            sent_at: None,
            reason: Some(reason),
            dedup: Some(dedup_key(project_id, None, raw)),
        };
        if self.store_message(conn, raw, stored, now).await?.is_none() {
            // The same bytes are in quarantine already (a redelivery).
            log_intake(conn, project_id, "duplicate", None, None, now).await?;
            return Ok(IntakeOutcome::Duplicate);
        }
        tracing::warn!(reason, "message quarantined");
        Ok(IntakeOutcome::Quarantined {
            reason: reason.to_owned(),
        })
    }

    /// Takes in one raw message addressed to a project. Returns once it is committed.
    pub async fn intake(&self, key: &str, raw: &[u8], limits: &Limits) -> Result<IntakeOutcome> {
        let project = self.intake_project(key).await?;
        let team = self.intake_team_key(project.as_ref()).await?;
        let desk = Desk {
            key,
            project: project.as_ref(),
            team: team.as_ref(),
        };
        // Parsed first, off the async threads and outside the write transaction: a large
        // message (or a bomb up to the limits) holds up no other writer.
        let parsed = match &project {
            Some(_) => {
                let (owned, limits_copy, team_copy) = (raw.to_vec(), *limits, team.clone());
                let done = tokio::task::spawn_blocking(move || {
                    let keys = Keys {
                        team: team_copy.as_ref(),
                        signers: &[],
                    };
                    Inbound::parse_with(&owned, &limits_copy, keys)
                })
                .await;
                Some(done.unwrap_or(Err(embargo_mail::Unusable::Unreadable)))
            }
            None => None,
        };
        let mut tx = self.begin_write().await?;
        let outcome = self
            .intake_with(&mut tx, desk, raw, parsed, limits, false)
            .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Takes in many messages (an mbox, a mailbox), `per_commit` to a transaction: each
    /// commit is durable, and a re-run after a failure skips what was stored (by
    /// Message-ID). `progress` is called with the count stored so far.
    pub async fn intake_batch(
        &self,
        key: &str,
        raws: &[Vec<u8>],
        limits: &Limits,
        per_commit: usize,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<IntakeOutcome>> {
        let project = self.intake_project(key).await?;
        let team = self.intake_team_key(project.as_ref()).await?;
        let desk = Desk {
            key,
            project: project.as_ref(),
            team: team.as_ref(),
        };
        let mut outcomes = Vec::with_capacity(raws.len());
        for chunk in raws.chunks(per_commit.max(1)) {
            let mut tx = self.begin_write().await?;
            for raw in chunk {
                outcomes.push(self.intake_in(&mut tx, desk, raw, limits).await?);
            }
            tx.commit().await?;
            progress(outcomes.len());
        }
        Ok(outcomes)
    }

    /// The project a key names; `None` when there is none (its mail is quarantined).
    async fn intake_project(&self, key: &str) -> Result<Option<crate::Project>> {
        let Ok(key) = key.parse::<ProjectKey>() else {
            return Ok(None);
        };
        match self.project(&key).await {
            Ok(p) => Ok(Some(p)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The project's team key, which decrypts what reporters encrypt to it. A key that
    /// cannot be read is logged and treated as missing: encrypted mail then waits in
    /// quarantine, and the rest still comes in (a retry would fail the same way).
    async fn intake_team_key(&self, project: Option<&crate::Project>) -> Result<Option<TeamKey>> {
        match project {
            Some(p) => {
                let mut conn = self.pool.acquire().await?;
                match self.team_key(&mut conn, p.id).await {
                    Err(e) if !e.is_transient() => {
                        tracing::error!(
                            project = p.id,
                            error = e.category(),
                            "the team key cannot be read"
                        );
                        Ok(None)
                    }
                    other => other,
                }
            }
            None => Ok(None),
        }
    }

    /// One message inside the caller's transaction, in a savepoint of its own so that a
    /// duplicate found late leaves nothing behind.
    async fn intake_in(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        desk: Desk<'_>,
        raw: &[u8],
        limits: &Limits,
    ) -> Result<IntakeOutcome> {
        self.intake_checked(tx, desk, raw, limits, false).await
    }

    pub(crate) async fn intake_checked(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        desk: Desk<'_>,
        raw: &[u8],
        limits: &Limits,
        released: bool,
    ) -> Result<IntakeOutcome> {
        self.intake_with(tx, desk, raw, None, limits, released)
            .await
    }

    /// As [`Store::intake_checked`], with the message parsed already when `parsed` is given
    /// (before the write transaction began, so parsing a large message holds no lock).
    async fn intake_with(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        desk: Desk<'_>,
        raw: &[u8],
        parsed: Option<std::result::Result<Inbound, embargo_mail::Unusable>>,
        limits: &Limits,
        released: bool,
    ) -> Result<IntakeOutcome> {
        let Desk { key, project, team } = desk;
        let now = millis(OffsetDateTime::now_utc());
        let Some(project) = project else {
            let reason = match key.parse::<ProjectKey>() {
                Ok(k) => format!("addressed to project {k}, which does not exist"),
                Err(_) => format!("addressed to '{key}', which is not a project key"),
            };
            return self.quarantine(tx, None, raw, &reason, now).await;
        };
        let keys = Keys { team, signers: &[] };
        let parsed = parsed.unwrap_or_else(|| Inbound::parse_with(raw, limits, keys));
        let inbound = match parsed {
            Ok(inbound) => inbound,
            Err(why) => {
                return self
                    .quarantine(tx, Some(project.id), raw, &why.to_string(), now)
                    .await;
            }
        };
        let mut inbound = inbound;
        if released && inbound.kind == Kind::Spam {
            // A person looked at it and released it: it is a report after all.
            inbound.kind = Kind::Report;
        }
        if inbound.kind == Kind::Spam {
            let reason = "marked as spam by the receiving mail system";
            return self
                .quarantine(tx, Some(project.id), raw, reason, now)
                .await;
        }
        let mut sp = sqlx::Acquire::begin(&mut **tx).await?;
        match self
            .intake_parsed(&mut sp, project, inbound, raw, now, (limits, team))
            .await
        {
            Ok(IntakeOutcome::Duplicate) => {
                sp.rollback().await?;
                log_intake(tx, Some(project.id), "duplicate", None, None, now).await?;
                Ok(IntakeOutcome::Duplicate)
            }
            Ok(outcome) => {
                sp.commit().await?;
                Ok(outcome)
            }
            Err(e) if e.is_transient() => Err(e),
            // Whatever would fail the same way on every retry is kept for a person to
            // look at, never handed back to the mail system to retry until it bounces.
            Err(e) => {
                sp.rollback().await?;
                tracing::warn!(
                    error = e.category(),
                    "a message could not be stored as parsed"
                );
                let reason = format!(
                    "it could not be stored as parsed ({}); kept whole for a person to look at",
                    e.category()
                );
                self.quarantine(tx, Some(project.id), raw, &reason, now)
                    .await
            }
        }
    }

    async fn intake_parsed(
        &self,
        tx: &mut AnyConnection,
        project: &crate::Project,
        mut inbound: Inbound,
        raw: &[u8],
        now: i64,
        (limits, team): (&Limits, Option<&TeamKey>),
    ) -> Result<IntakeOutcome> {
        let dedup = dedup_key(Some(project.id), inbound.message_id.as_deref(), raw);
        let seen = sqlx::query(
            "SELECT 1 AS seen FROM messages WHERE direction = 'in' AND dedup_hash = $1",
        )
        .bind(&dedup)
        .fetch_optional(&mut *tx)
        .await?;
        if seen.is_some() {
            return Ok(IntakeOutcome::Duplicate);
        }
        let threaded = thread(tx, project.id, &inbound).await?;
        // A follow-up signed by the reporter's known key is checked against it.
        if let Some(case_id) = threaded
            && matches!(
                inbound.protection.signature,
                Some(SignatureCheck::UnknownKey { .. })
            )
            && let Some(known) = self.reporter_key(tx, case_id).await?
        {
            let signers = [known];
            if let Ok(again) = Inbound::parse_with(
                raw,
                limits,
                Keys {
                    team,
                    signers: &signers,
                },
            ) {
                inbound = again;
            }
        }
        let inbound = &inbound;
        if threaded.is_none() && inbound.kind.opens_case() && inbound.is_subject_only() {
            let reason = "empty: a subject and no text or attachment";
            return self
                .quarantine(tx, Some(project.id), raw, reason, now)
                .await;
        }
        let (case_id, outcome_kind) = match (threaded, inbound.kind.opens_case()) {
            (Some(case_id), true) => {
                if self
                    .speaks_for_reporter(tx, case_id, inbound.author.as_deref())
                    .await?
                {
                    (case_id, "follow-up")
                } else {
                    (case_id, "third-party")
                }
            }
            (threaded, false) => {
                let stored = Stored {
                    project_id: Some(project.id),
                    case_id: threaded,
                    kind: inbound.kind.as_str(),
                    message_id: inbound.message_id.as_deref(),
                    sent_at: inbound.date,
                    reason: None,
                    dedup: Some(dedup.clone()),
                };
                if self.store_message(tx, raw, stored, now).await?.is_none() {
                    return Ok(IntakeOutcome::Duplicate);
                }
                let reference = match threaded {
                    Some(id) => Some(case_reference(tx, id).await?),
                    None => None,
                };
                return Ok(IntakeOutcome::Kept {
                    kind: inbound.kind.as_str().to_owned(),
                    reference,
                });
            }
            (None, true) => {
                let key: ProjectKey = project
                    .key
                    .parse()
                    .map_err(|_| StoreError::Corrupt("project key".into()))?;
                // Only the team (or the foundation team) forwards a report on behalf of its
                // reporter; anyone else who quotes a "From:" is the reporter themselves.
                let forwarded = match &inbound.forwarded {
                    Some(f) if self.trusted_forwarder(inbound, project.id).await? => Some(f),
                    _ => None,
                };
                let report = report_from(key, inbound, forwarded);
                let (case_id, _, _) =
                    insert_case(tx, self.keys(), project.id, &report, None, now).await?;
                let act = Act {
                    case_id,
                    actor: None,
                    now,
                };
                let forward_note = match (&inbound.forwarded, forwarded) {
                    (_, Some(_)) => Some(format!(
                        "forwarded by {}; the report is credited to its original sender",
                        inbound.from_email
                    )),
                    (Some(f), None) => Some(format!(
                        "this looks like a forwarded message from {}; it is credited to its sender, who is not on the team",
                        f.email
                    )),
                    (None, None) => None,
                };
                if let Some(detail) = forward_note {
                    record_event(
                        tx,
                        self.keys(),
                        act,
                        EventKind::Forwarded,
                        None,
                        Some(&detail),
                    )
                    .await?;
                }
                // The reporter hears back: the acknowledgement goes out through the job runner.
                crate::jobs::enqueue(tx, &crate::jobs::Task::Acknowledge { case_id }, now).await?;
                // A forwarded report's acknowledgement goes to its reporter; the forwarder
                // is told too, by reference only (never the reporter's secret link).
                if forwarded.is_some() {
                    use base64::Engine;
                    let to = self
                        .keys()
                        .seal_str(&crate::contexts::forwarder(case_id), &inbound.from_email)?;
                    let to = base64::engine::general_purpose::STANDARD.encode(to);
                    crate::jobs::enqueue(
                        tx,
                        &crate::jobs::Task::MailForwarder {
                            case_id,
                            to_sealed: to,
                        },
                        now,
                    )
                    .await?;
                }
                crate::jobs::enqueue(tx, &crate::jobs::Task::NotifyTeam { case_id }, now).await?;
                (case_id, inbound.kind.as_str())
            }
        };
        // A follow-up may answer a case routed to another project since.
        let case_project: i64 = if matches!(outcome_kind, "follow-up" | "third-party") {
            sqlx::query("SELECT project_id FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("project_id")?
        } else {
            project.id
        };
        let stored = Stored {
            project_id: Some(case_project),
            case_id: Some(case_id),
            kind: outcome_kind,
            message_id: inbound.message_id.as_deref(),
            sent_at: inbound.date,
            reason: None,
            dedup: Some(dedup),
        };
        let Some(message_id) = self.store_message(tx, raw, stored, now).await? else {
            return Ok(IntakeOutcome::Duplicate);
        };
        if matches!(outcome_kind, "follow-up" | "third-party") {
            let text = if inbound.text.is_empty() {
                "(no text; see the attachments)"
            } else {
                inbound.text.as_str()
            };
            let act = Act {
                case_id,
                actor: None,
                now,
            };
            let event = if outcome_kind == "follow-up" {
                record_event(
                    tx,
                    self.keys(),
                    act,
                    EventKind::ReporterMessage,
                    None,
                    Some(text),
                )
                .await?
            } else {
                // The From address is who would be accepted as a co-reporter.
                let sender = match (&inbound.author, &inbound.from_name) {
                    (Some(author), Some(name)) => format!("{name} <{author}>"),
                    (Some(author), None) => author.clone(),
                    (None, _) => format!("(no From address; replies go to {})", inbound.from_email),
                };
                let detail = format!("From {sender}:\n\n{text}");
                record_event(
                    tx,
                    self.keys(),
                    act,
                    EventKind::ThirdPartyMessage,
                    None,
                    Some(&detail),
                )
                .await?
            };
            sqlx::query("UPDATE case_events SET message_id = $1 WHERE id = $2")
                .bind(message_id)
                .bind(event)
                .execute(&mut *tx)
                .await?;
            touch(tx, case_id, now).await?;
            crate::jobs::enqueue(tx, &crate::jobs::Task::ReporterWrote { case_id }, now).await?;
        }
        self.record_protection(tx, case_id, inbound, now).await?;
        for attachment in &inbound.attachments {
            let file = NewAttachment {
                filename: &attachment.filename,
                content_type: &attachment.content_type,
                bytes: &attachment.bytes,
                // A third party's files are the team's to look at first.
                held_back: attachment.held_back || outcome_kind == "third-party",
            };
            self.insert_attachment(tx, message_id, case_id, &file)
                .await?;
        }
        let reference = case_reference(tx, case_id).await?;
        tracing::info!(
            case_id,
            kind = outcome_kind,
            attachments = inbound.attachments.len(),
            "message taken in"
        );
        Ok(if outcome_kind == "follow-up" {
            IntakeOutcome::FollowUp { reference }
        } else if outcome_kind == "third-party" {
            IntakeOutcome::ThirdParty { reference }
        } else {
            IntakeOutcome::NewCase {
                reference,
                kind: outcome_kind.to_owned(),
            }
        })
    }
}

impl Store {
    /// Whether the sender of a forward is on the project's team or its organisation's
    /// foundation team, by the one access rule.
    async fn trusted_forwarder(&self, inbound: &Inbound, project_id: i64) -> Result<bool> {
        let Some(author) = inbound.author.as_deref() else {
            return Ok(false);
        };
        let row = sqlx::query("SELECT id FROM users WHERE email = $1")
            .bind(author)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => self
                .viewer(row.try_get("id")?)
                .await?
                .can_see_project(project_id),
            None => false,
        })
    }
}

impl Store {
    /// Keeps a message that did not come by mail (a file the reporter uploaded on their
    /// page), sealed like mail, so the attachment it carries has a message to belong to.
    pub(crate) async fn keep_web_message(
        &self,
        conn: &mut AnyConnection,
        project_id: i64,
        case_id: i64,
        raw: &[u8],
        now: i64,
    ) -> Result<i64> {
        let stored = Stored {
            project_id: Some(project_id),
            case_id: Some(case_id),
            kind: "web-upload",
            message_id: None,
            sent_at: None,
            reason: None,
            dedup: None,
        };
        self.store_message(conn, raw, stored, now)
            .await?
            .ok_or(StoreError::Conflict("the upload was already kept".into()))
    }
}
