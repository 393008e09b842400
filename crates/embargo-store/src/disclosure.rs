//! Disclosure, one scheduled and checked operation: the rehearsal lists every step that
//! will run at the embargo time (each mail with its recipients, the CVE record, the OSV
//! and CSAF documents, the pages and feed) and checks each; scheduling enqueues the mails
//! as jobs, each keyed so it runs once whichever server takes it; the last announcement
//! sent moves the case to `announced`. What follows (the archived announcement URL, the
//! CVE record, CHANGES/NEWS, the public view) is refused until the announcement.

use embargo_core::access::{Need, Viewer};
use embargo_core::checklist::MarkStatus;
use embargo_core::lifecycle::State;
use embargo_core::reference::{CaseRef, ProjectKey};
use embargo_core::timeline::EventKind;
use embargo_formats::announcement::{self, ChangesFormat};
use embargo_formats::cve5::{Cna, Record};
use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::access::authorize;
use crate::audit::{Entry, Read};
use crate::case_row::{CASE_COLUMNS, CASE_FROM, CASE_SELECT, Loaded, load, state_in};
use crate::jobs::{JobCompletion, Task, enqueue};
use crate::outbound::OutboundMail;
use crate::timeline::{Act, record_event};
use crate::{Job, Project, Result, Store, StoreError, from_millis, millis, rfc};

pub use embargo_core::disclosure::{DisclosurePlan, DisclosureStep};

/// The announcement as it will go out.
#[derive(Clone, Serialize, ToSchema)]
pub struct AnnouncementPreview {
    /// The subject.
    pub subject: String,
    /// The text (cleartext-signed when it will be signed).
    pub text: String,
    /// Whether it is OpenPGP-signed.
    pub signed: bool,
    /// The lists it goes to.
    pub lists: Vec<String>,
}

/// The CHANGES and NEWS entries of an announced case.
#[derive(Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct ChangesEntry {
    /// The case.
    #[serde(rename = "ref")]
    #[schema(value_type = String, example = "CLOUDSTACK-SEC-42")]
    pub reference: embargo_core::reference::CaseRef,
    /// The CHANGES line.
    pub changes: String,
    /// The NEWS paragraph.
    pub news: String,
}

/// What an announcement job finds when it runs.
pub enum AnnouncementDue {
    /// Not yet: the embargo time is later (it was moved); run again then.
    Later(OffsetDateTime),
    /// The mail to send now.
    Send(Box<OutboundMail>),
    /// Nothing to send (the case left the disclosure, or the list was dropped).
    Nothing,
}

/// The published advisory of a case, with what its formats need.
pub(crate) struct Publication {
    pub advisory: embargo_formats::Advisory,
    pub project: Project,
    pub org: embargo_core::disclosure::OrgSettings,
}

/// The public page of an advisory.
pub fn advisory_page(public_url: &str, reference: &str) -> String {
    format!(
        "{}/advisories/{reference}",
        public_url.trim_end_matches('/')
    )
}

impl Store {
    /// Assembles a case's published advisory.
    pub(crate) async fn publication(&self, case: &Loaded, public_url: &str) -> Result<Publication> {
        let (project, org) = self.project_and_org(case.project_key()).await?;
        Ok(Self::publication_of(case, project, org, public_url))
    }

    /// A project and its organisation's publishing settings, by project key.
    async fn project_and_org(
        &self,
        project_key: &str,
    ) -> Result<(Project, embargo_core::disclosure::OrgSettings)> {
        let key: ProjectKey = project_key
            .parse()
            .map_err(|_| StoreError::Corrupt("project key".into()))?;
        let project = self.project(&key).await?;
        let org = self.org_settings(&project.org).await?;
        Ok((project, org))
    }

    fn publication_of(
        case: &Loaded,
        project: Project,
        org: embargo_core::disclosure::OrgSettings,
        public_url: &str,
    ) -> Publication {
        let settings = &project.product;
        let vendor = settings
            .vendor
            .clone()
            .or_else(|| org.vendor.clone())
            .unwrap_or_else(|| project.org.clone());
        let product = settings
            .product
            .clone()
            .unwrap_or_else(|| project.name.clone());
        let coordinates = embargo_formats::Coordinates {
            packages: settings.packages.clone(),
            cpes: settings.cpes.clone(),
            repository: settings.repository.clone(),
        };
        let advisory = case.published(
            &product,
            &vendor,
            coordinates,
            &advisory_page(public_url, &case.reference()),
        );
        Publication {
            advisory,
            project,
            org,
        }
    }

    /// Makes every document of a published advisory as the site will serve it, and
    /// refuses when any fails its checks (CSAF's mandatory tests, the CVE record's
    /// rules). The site's address does not change what the checks find, so a stand-in
    /// names the pages here.
    pub(crate) async fn check_published_documents(&self, case: &Loaded) -> Result<()> {
        let (project, org) = self.project_and_org(case.project_key()).await?;
        let site = "https://embargo.invalid";
        let publication = Self::publication_of(case, project, org, site);
        let advisory = &publication.advisory;
        let refused = |format: &str, e: embargo_formats::FormatError| {
            StoreError::Invalid(format!(
                "this correction would make the published {format} document invalid: {e}"
            ))
        };
        use embargo_formats::schemas::Schema;
        let against_schema = |schema: Schema, doc: &serde_json::Value| -> Result<()> {
            match self.schemas().map(|s| s.problems(schema, doc)) {
                Some(problems) if !problems.is_empty() => Err(StoreError::Invalid(format!(
                    "this correction would make the published {} document invalid: {}",
                    schema.name(),
                    problems.join("; ")
                ))),
                _ => Ok(()),
            }
        };
        let osv = embargo_formats::osv::to_osv(advisory, &publication.org.osv_prefix)
            .map_err(|e| refused("OSV", e))?;
        against_schema(Schema::Osv, &osv)?;
        let publisher = embargo_formats::csaf::Publisher::of(advisory, &publication.org, site);
        let csaf =
            embargo_formats::csaf::to_csaf(advisory, &publisher).map_err(|e| refused("CSAF", e))?;
        against_schema(Schema::Csaf, &csaf)?;
        // A CVE record exists only for a case with a CVE ID and an organisation that is
        // a CNA.
        if let (Some(org_id), Some(short_name), Some(_)) = (
            &publication.org.cna_org_id,
            &publication.org.cna_short_name,
            &advisory.cve_id,
        ) {
            let cna = embargo_formats::cve5::Cna {
                org_id: org_id.clone(),
                short_name: short_name.clone(),
            };
            let record = embargo_formats::cve5::Record::from_advisory(advisory, &cna)
                .map_err(|e| refused("CVE", e))?;
            against_schema(Schema::Cve, &record.to_json())?;
        }
        Ok(())
    }

    async fn team_key_for(&self, project_id: i64) -> Result<Option<embargo_openpgp::TeamKey>> {
        let mut conn = self.pool.acquire().await?;
        self.team_key(&mut conn, project_id).await
    }

    /// The announcement text, signed when the project signs and has a team key.
    async fn announcement_text(
        &self,
        publication: &Publication,
    ) -> Result<(announcement::Announcement, bool)> {
        let mut a = announcement::render(&publication.advisory);
        let settings = &publication.project.disclosure;
        if settings.sign_announcements
            && let Some(team) = self.team_key_for(publication.project.id).await?
        {
            a.body = embargo_openpgp::sign_cleartext(&a.body, &team)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            return Ok((a, true));
        }
        Ok((a, false))
    }

    async fn readable_case(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        need: Need,
    ) -> Result<(i64, Loaded)> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, need).await?;
        let case = load(&mut conn, self.keys(), auth.case_id, false).await?;
        drop(conn);
        self.audit(vec![Entry::new(viewer, auth.case_id, Read::Case)])
            .await?;
        Ok((auth.case_id, case))
    }

    /// The advisory as it would be published now, with `draft` in place of the saved
    /// draft when given (a preview of unsaved edits): what the public page will show.
    /// The advisory as it would be published today, with the organisation's publishing
    /// settings: for the team's export of a case's documents (drafts until announced).
    pub async fn publication_draft(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        public_url: &str,
    ) -> Result<PublishedAdvisory> {
        let (_, case) = self.readable_case(viewer, case_ref, Need::Change).await?;
        let publication = self.publication(&case, public_url).await?;
        Ok(PublishedAdvisory {
            project: case.project_key().to_owned(),
            org: publication.org,
            advisory: publication.advisory,
        })
    }

    pub async fn advisory_as_published(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        draft: Option<&embargo_core::case::AdvisoryDraft>,
        public_url: &str,
    ) -> Result<embargo_formats::Advisory> {
        let (_, mut case) = self.readable_case(viewer, case_ref, Need::Change).await?;
        if let Some(draft) = draft {
            case.advisory = draft.clone();
        }
        Ok(self.publication(&case, public_url).await?.advisory)
    }

    /// The announcement as it will go out (the team only).
    pub async fn announcement_preview(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        public_url: &str,
    ) -> Result<AnnouncementPreview> {
        let (_, case) = self.readable_case(viewer, case_ref, Need::Change).await?;
        let publication = self.publication(&case, public_url).await?;
        let (a, signed) = self.announcement_text(&publication).await?;
        Ok(AnnouncementPreview {
            subject: a.subject,
            text: a.body,
            signed,
            lists: publication.project.disclosure.all_lists(),
        })
    }

    /// The rehearsal: every step, checked, without doing any (the team only).
    pub async fn rehearse_disclosure(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        public_url: &str,
    ) -> Result<DisclosurePlan> {
        let (case_id, case) = self.readable_case(viewer, case_ref, Need::Change).await?;
        self.plan(case_id, &case, public_url).await
    }

    async fn plan(&self, case_id: i64, case: &Loaded, public_url: &str) -> Result<DisclosurePlan> {
        let publication = self.publication(case, public_url).await?;
        let settings = &publication.project.disclosure;
        let embargo_at = case.embargo_at().map(from_millis);
        let (announcement, signed) = self.announcement_text(&publication).await?;
        let prenotification =
            prenotification_text(&announcement.body, embargo_at, settings.acknowledge_days);
        let reference = case.case_ref();
        Ok(embargo_formats::rehearsal::plan(
            embargo_formats::rehearsal::Facts {
                reference: &reference,
                state: case.state(),
                embargo_at,
                now: OffsetDateTime::now_utc(),
                settings,
                org: &publication.org,
                org_name: &publication.project.org,
                advisory: &publication.advisory,
                announcement: (&announcement.subject, &announcement.body),
                signed,
                prenotification: &prenotification,
                distributors: self.prenotified_distributors(case_id).await?,
                public_url,
                scheduled: self.disclosure_scheduled(case_id).await?,
                schemas: self.schemas(),
            },
        ))
    }

    async fn disclosure_scheduled(&self, case_id: i64) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 AS one FROM jobs WHERE dedup_key LIKE $1 LIMIT 1")
                .bind(Task::announcements_of(case_id))
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// The addresses of the distributors pre-notified of a case.
    async fn prenotified_distributors(&self, case_id: i64) -> Result<Vec<String>> {
        sqlx::query(
            "SELECT u.email FROM case_grants g JOIN users u ON u.id = g.user_id WHERE g.case_id = $1 AND g.kind = 'distributor' AND g.revoked_at IS NULL ORDER BY u.email",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok(r.try_get("email")?))
        .collect()
    }

    /// Schedules the disclosure after a rehearsal finds nothing wrong; refuses with the
    /// first problem otherwise. Scheduling again changes nothing.
    /// Cancels a scheduled disclosure (the team only): the mails not sent yet are kept,
    /// failed as cancelled, and the case can be scheduled again. Refused when nothing is
    /// scheduled.
    pub async fn cancel_scheduled_disclosure(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
    ) -> Result<u64> {
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let act = crate::timeline::Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        let cancelled = crate::transition::cancel_disclosure(&mut tx, self.keys(), act).await?;
        if cancelled == 0 {
            return Err(StoreError::Invalid(
                "nothing is scheduled on this case: no mail waits to go out".into(),
            ));
        }
        crate::timeline::touch(&mut tx, auth.case_id, now).await?;
        tx.commit().await?;
        Ok(cancelled)
    }

    pub async fn schedule_disclosure(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        public_url: &str,
    ) -> Result<DisclosurePlan> {
        let (case_id, case) = self.readable_case(viewer, case_ref, Need::Change).await?;
        let plan = self.plan(case_id, &case, public_url).await?;
        let ack_days = self
            .project(&case_ref.project)
            .await?
            .disclosure
            .acknowledge_days;
        if let Some(step) = plan.steps.iter().find(|s| s.problem.is_some()) {
            return Err(StoreError::Invalid(format!(
                "the rehearsal blocks the schedule: step {} ({}): {}",
                step.order,
                step.kind,
                step.problem.clone().unwrap_or_default()
            )));
        }
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let mut scheduled = Vec::new();
        for s in &plan.steps {
            let run_at = match &s.at {
                Some(at) => crate::parse_rfc(at).unwrap_or(now),
                None => continue,
            };
            for to in &s.recipients {
                let task = match s.kind.as_str() {
                    "prenotification" => Task::Prenotify {
                        case_id,
                        to: to.clone(),
                        ack_days,
                    },
                    "announcement" => Task::Announce {
                        case_id,
                        to: to.clone(),
                        ack_days,
                    },
                    _ => break,
                };
                let row = enqueue(&mut tx, &task, run_at).await?;
                if row.is_some() {
                    scheduled.push(format!("{} to {to} at {}", s.kind, rfc(run_at)));
                }
            }
        }
        if !scheduled.is_empty() {
            let act = Act {
                case_id,
                actor: Some(viewer.user_id),
                now,
            };
            record_event(
                &mut tx,
                self.keys(),
                act,
                EventKind::DisclosureScheduled,
                None,
                Some(&scheduled.join("; ")),
            )
            .await?;
        }
        tx.commit().await?;
        tracing::info!(
            case = case_id,
            steps = scheduled.len(),
            "disclosure scheduled"
        );
        let (_, case) = self.readable_case(viewer, case_ref, Need::Change).await?;
        self.plan(case_id, &case, public_url).await
    }

    /// What an announcement or pre-notification job is to send now.
    pub async fn disclosure_mail(
        &self,
        job: &Job,
        public_url: &str,
        domain: &str,
    ) -> Result<AnnouncementDue> {
        let (case_id, to, announce) = match &job.task {
            Some(Task::Announce { case_id, to, .. }) => (*case_id, to.clone(), true),
            Some(Task::Prenotify { case_id, to, .. }) => (*case_id, to.clone(), false),
            _ => {
                return Err(StoreError::Invalid(format!(
                    "job kind {} is not a disclosure mail",
                    job.kind
                )));
            }
        };
        let mut conn = self.pool.acquire().await?;
        let case = load(&mut conn, self.keys(), case_id, false).await?;
        drop(conn);
        let now = OffsetDateTime::now_utc();
        let Some(embargo_at) = case.embargo_at().map(from_millis) else {
            return Ok(AnnouncementDue::Nothing);
        };
        let publication = self.publication(&case, public_url).await?;
        let settings = &publication.project.disclosure;
        let mail = |subject: String, body: String, kind: &'static str| OutboundMail {
            case_id,
            to: to.clone(),
            subject,
            body,
            message_id: self.message_id(&format!("{}.{case_id}", job.id), domain),
            in_reply_to: None,
            references: Vec::new(),
            kind,
            encrypt_to: None,
            sign_with: None,
        };
        if announce {
            // Never before the embargo time, wherever it was moved since scheduling.
            if now < embargo_at && !case.state().is_announced() {
                return Ok(AnnouncementDue::Later(embargo_at));
            }
            if !(case.state() == State::ReleasePending || case.state().is_announced())
                || !settings.all_lists().contains(&to)
            {
                return Ok(AnnouncementDue::Nothing);
            }
            let (a, _) = self.announcement_text(&publication).await?;
            Ok(AnnouncementDue::Send(Box::new(mail(
                a.subject,
                a.body,
                "announcement",
            ))))
        } else {
            if case.state() != State::ReleasePending
                || !self.prenotified_distributors(case_id).await?.contains(&to)
            {
                return Ok(AnnouncementDue::Nothing);
            }
            // Each copy its own: an invisible mark that names the recipient, and an
            // acknowledgement link. The text is unsigned, as the mark changes it.
            let recipient = sqlx::query("SELECT id, openpgp_key FROM users WHERE email = $1")
                .bind(&to)
                .fetch_one(&self.pool)
                .await?;
            let user_id: i64 = recipient.try_get("id")?;
            let their_key = recipient
                .try_get::<Option<String>, _>("openpgp_key")?
                .and_then(|k| embargo_openpgp::PublicKey::from_armored(&k).ok());
            let marks = self.copy_marks(case_id, user_id).await?;
            let plain = announcement::render(&publication.advisory);
            let link = format!(
                "{}/acknowledge/{}",
                public_url.trim_end_matches('/'),
                marks.ack
            );
            let text =
                prenotification_text(&plain.body, Some(embargo_at), settings.acknowledge_days)
                    .replace("by replying to this message.", &format!("at {link}"));
            let subject = format!(
                "[EMBARGOED until {}] {}",
                rfc(millis(embargo_at)),
                plain.subject
            );
            let mut m = mail(
                subject,
                embargo_formats::mark::embed(&text, marks.mark),
                "prenotification",
            );
            // A distributor with a key gets their copy encrypted to it (and signed by the
            // team when the project has a key): the embargoed advisory never crosses the
            // mail system in clear to them.
            if let Some(key) = their_key {
                // The subject travels in clear: it names no title then.
                m.subject = format!(
                    "[EMBARGOED until {}] Pre-notification (encrypted to your key)",
                    rfc(millis(embargo_at))
                );
                let mut conn = self.pool.acquire().await?;
                m.sign_with = self.team_key(&mut conn, case.project_id()).await?;
                m.encrypt_to = Some(key);
            }
            Ok(AnnouncementDue::Send(Box::new(m)))
        }
    }

    /// Moves a job to a later time without counting an attempt.
    pub async fn postpone_job(&self, job: &Job, run_at: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE jobs SET locked_by = NULL, locked_until = NULL, run_at = $1, attempts = attempts - 1 WHERE id = $2 AND locked_by = $3")
            .bind(millis(run_at))
            .bind(job.id)
            .bind(&job.lease)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The CVE record of an announced case, for upload or publication: refused before the
    /// announcement and until the archived announcement is recorded.
    pub async fn cve_record(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        public_url: &str,
    ) -> Result<serde_json::Value> {
        let (_, case) = self.readable_case(viewer, case_ref, Need::Change).await?;
        if !case.state().is_announced() {
            return Err(StoreError::Invalid(format!(
                "the CVE record is published after the announcement (the case is {})",
                case.state()
            )));
        }
        if case.advisory_url().is_none() {
            return Err(StoreError::Invalid("record the archived announcement URL first: a CVE record is never published without its advisory reference".into()));
        }
        let publication = self.publication(&case, public_url).await?;
        let cna = match (&publication.org.cna_org_id, &publication.org.cna_short_name) {
            (Some(id), Some(name)) => Cna {
                org_id: id.clone(),
                short_name: name.clone(),
            },
            _ => {
                return Err(StoreError::Invalid(format!(
                    "the organisation {} has no CNA identity",
                    publication.project.org
                )));
            }
        };
        Record::from_advisory(&publication.advisory, &cna)
            .map(|r| r.to_json())
            .map_err(|e| StoreError::Invalid(e.to_string()))
    }

    /// The CHANGES and NEWS entries of a case: refused before the announcement.
    pub async fn changes_entry(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        public_url: &str,
    ) -> Result<ChangesEntry> {
        let (_, case) = self.readable_case(viewer, case_ref, Need::Read).await?;
        if !case.state().is_announced() {
            return Err(StoreError::Invalid(format!(
                "CHANGES and NEWS entries come after the announcement (the case is {})",
                case.state()
            )));
        }
        let publication = self.publication(&case, public_url).await?;
        let format = ChangesFormat::parse(&publication.project.disclosure.changes_format)
            .unwrap_or(ChangesFormat::Markdown);
        let (changes, news) = announcement::changes_entries(&publication.advisory, format);
        Ok(ChangesEntry {
            reference: case.case_ref(),
            changes,
            news,
        })
    }

    /// The CHANGES and NEWS entries of a project's announced cases, newest first.
    pub async fn project_changes(
        &self,
        viewer: &Viewer,
        key: &ProjectKey,
        public_url: &str,
    ) -> Result<Vec<ChangesEntry>> {
        let project = self.project(key).await?;
        if !viewer.can_see_project(project.id) {
            return Err(StoreError::NotFound("project"));
        }
        let mut out = Vec::new();
        for case in self.published_cases(Some(key)).await? {
            let reference: CaseRef = case
                .reference()
                .parse()
                .map_err(|_| StoreError::Corrupt("reference".into()))?;
            out.push(self.changes_entry(viewer, &reference, public_url).await?);
        }
        Ok(out)
    }

    /// Announced cases, newest first; of one project or all.
    pub(crate) async fn published_cases(
        &self,
        project: Option<&ProjectKey>,
    ) -> Result<Vec<Loaded>> {
        let rows = sqlx::query(&format!(
            "{CASE_SELECT} WHERE {} AND ($1 = '' OR p.key = $1) ORDER BY c.announced_at DESC, c.id DESC",
            state_in(State::is_announced)
        ))
        .bind(project.map(|p| p.as_str().to_owned()).unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Loaded::from_row(self.keys(), r, false))
            .collect()
    }

    /// Every published advisory, newest first, as the public site shows them.
    pub async fn published_advisories(
        &self,
        project: Option<&ProjectKey>,
        public_url: &str,
    ) -> Result<Vec<PublishedAdvisory>> {
        // One lookup of each project and its organisation, not one per advisory.
        let mut known: std::collections::HashMap<
            String,
            (Project, embargo_core::disclosure::OrgSettings),
        > = std::collections::HashMap::new();
        let mut out = Vec::new();
        for case in self.published_cases(project).await? {
            let key = case.project_key().to_owned();
            if !known.contains_key(&key) {
                known.insert(key.clone(), self.project_and_org(&key).await?);
            }
            let (p, org) = known
                .get(&key)
                .cloned()
                .ok_or(StoreError::NotFound("project"))?;
            let publication = Self::publication_of(&case, p, org, public_url);
            out.push(PublishedAdvisory {
                project: key,
                org: publication.org,
                advisory: publication.advisory,
            });
        }
        Ok(out)
    }
}

/// What a published advisory is made of, digested, and when its case last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedStamp {
    /// SHA-256 over everything the advisory's page and documents are drawn from.
    pub digest: [u8; 32],
    /// When the case last changed.
    pub modified: OffsetDateTime,
}

/// A published advisory with its organisation's settings, for the public site.
pub struct PublishedAdvisory {
    /// The project key.
    pub project: String,
    /// The organisation's publishing settings.
    pub org: embargo_core::disclosure::OrgSettings,
    /// The advisory.
    pub advisory: embargo_formats::Advisory,
}

/// The pre-notification: the embargo, the acknowledgement deadline, then the advisory.
fn prenotification_text(
    advisory: &str,
    embargo_at: Option<OffsetDateTime>,
    acknowledge_days: i64,
) -> String {
    let when = embargo_at
        .map(|e| rfc(millis(e)))
        .unwrap_or_else(|| "(no date)".into());
    embargo_mail::wording::prenotification(advisory, &when, acknowledge_days)
}

impl JobCompletion {
    /// Records a sent announcement or pre-notification; once every list has the
    /// announcement, the case is announced.
    pub async fn record_disclosure_mail(
        &mut self,
        mail: &OutboundMail,
        raw: &[u8],
        job: &Job,
    ) -> Result<()> {
        let job_id = job.id;
        self.record_sent_mail(mail, raw).await?;
        let (tx, store, now) = self.parts();
        let act = Act {
            case_id: mail.case_id,
            actor: None,
            now,
        };
        if mail.kind == "prenotification" {
            let days = match &job.task {
                Some(Task::Prenotify { ack_days, .. }) => *ack_days,
                _ => 2,
            };
            Store::record_prenotification_sent(tx, mail.case_id, &mail.to, now, days).await?;
            crate::timeline::record_mark(
                tx,
                store.keys(),
                act,
                embargo_core::checklist::DISTRIBUTORS_NOTIFIED,
                MarkStatus::Done,
                None,
            )
            .await?;
            return Ok(());
        }
        crate::timeline::record_mark(
            tx,
            store.keys(),
            act,
            &embargo_core::checklist::announcement_to(&mail.to),
            MarkStatus::Done,
            None,
        )
        .await?;
        let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE dedup_key LIKE $1 AND done_at IS NULL AND id <> $2")
            .bind(Task::announcements_of(mail.case_id))
            .bind(job_id)
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?;
        if left > 0 {
            return Ok(());
        }
        crate::transition::announce_by_embargo(tx, store.keys(), mail.case_id, now).await?;
        Ok(())
    }
}

impl Store {
    /// One published advisory, by its case reference; a case not yet announced does not
    /// exist here.
    pub async fn published_advisory(
        &self,
        case_ref: &CaseRef,
        public_url: &str,
    ) -> Result<PublishedAdvisory> {
        let row = sqlx::query(&format!(
            "{CASE_SELECT} WHERE p.key = $1 AND c.number = $2 AND {}",
            state_in(State::is_announced)
        ))
        .bind(case_ref.project.as_str())
        .bind(case_ref.number)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("advisory"))?;
        let case = Loaded::from_row(self.keys(), &row, false)?;
        let publication = self.publication(&case, public_url).await?;
        Ok(PublishedAdvisory {
            project: case_ref.project.as_str().to_owned(),
            org: publication.org,
            advisory: publication.advisory,
        })
    }

    /// What an announced case's public page and documents are made of, digested: every
    /// column of its row, its project's and its organisation's settings. Equal stamps
    /// give equal documents, so the public site answers conditional requests and serves
    /// what it rendered before from one narrow read, opening nothing sealed.
    pub async fn published_stamp(&self, case_ref: &CaseRef) -> Result<PublishedStamp> {
        use sha2::Digest;
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS}, o.name AS org_name, o.settings AS org_settings {CASE_FROM} \
             JOIN organisations o ON o.id = p.org_id WHERE p.key = $1 AND c.number = $2 AND {}",
            state_in(State::is_announced)
        ))
        .bind(case_ref.project.as_str())
        .bind(case_ref.number)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("advisory"))?;
        let mut digest = sha2::Sha256::new();
        for (i, column) in row.columns().iter().enumerate() {
            use sqlx::Column;
            // The revision counts every change, timeline entries included, which the
            // public documents do not show.
            if column.name() == "revision" {
                continue;
            }
            digest.update(column.name().as_bytes());
            // Each value in a form of its own kind, so that no two rows digest alike.
            if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
                digest.update([b'b']);
                digest.update(v.unwrap_or_default());
            } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                digest.update([b's']);
                digest.update(v.unwrap_or_default().as_bytes());
            } else if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                digest.update([b'i']);
                digest.update(v.map(i64::to_be_bytes).unwrap_or_default());
            } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
                digest.update([b'l', u8::from(v.unwrap_or_default())]);
            } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
                digest.update([b'f']);
                digest.update(v.unwrap_or_default().to_be_bytes());
            } else {
                return Err(StoreError::Corrupt(format!(
                    "cannot read column {} for the published stamp",
                    column.name()
                )));
            }
            digest.update([0]);
        }
        Ok(PublishedStamp {
            digest: digest.finalize().into(),
            modified: from_millis(row.try_get("updated_at")?),
        })
    }

    /// A project's security.txt (RFC 9116), cleartext-signed with the team key when there
    /// is one.
    pub async fn security_txt(&self, key: &ProjectKey, public_url: &str) -> Result<String> {
        let project = self.project(key).await?;
        let settings = &project.disclosure;
        let base = public_url.trim_end_matches('/');
        let team = self.team_key_for(project.id).await?;
        let now = OffsetDateTime::now_utc();
        let fields = embargo_formats::site::SecurityTxt {
            contacts: settings.security_contacts.clone(),
            expires: Some(now + time::Duration::days(settings.security_txt_days)),
            encryption: team
                .as_ref()
                .map(|_| format!("{base}/api/public/projects/{key}/openpgp-key")),
            policy: settings.policy_url.clone(),
            canonical: Some(format!("{base}/projects/{key}/security.txt")),
            preferred_languages: settings.preferred_languages.clone(),
        };
        let text = embargo_formats::site::security_txt(&fields, now).map_err(|e| {
            StoreError::Invalid(format!("{e}: set the project's security contacts"))
        })?;
        match team {
            Some(team) => embargo_openpgp::sign_cleartext(&text, &team)
                .map_err(|e| StoreError::Invalid(e.to_string())),
            None => Ok(text),
        }
    }
}
