//! Cases: reports, transitions, notes, the fields the team records, the checklist and
//! the timeline. Every operation locates its case through `access::authorize`.

use embargo_core::access::Viewer;
use embargo_core::case::{AdvisoryDraft, Channel, Reporter, Versions};
use embargo_core::checklist::{self, MarkStatus};
use embargo_core::clocks::{self, CaseTimes, rfc3339};
use embargo_core::cvss::{Cvss, CvssSummary, Version};
use embargo_core::lifecycle::{CaseFacts, State};
use embargo_core::project::ClockSettings;
use embargo_core::reference::{CaseRef, ProjectKey, is_cve_id};
use embargo_core::timeline::EventKind;
use serde::{Serialize, de::DeserializeOwned};
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::access::{allowed_row, authorize, readable_cases_sql};
use crate::accounts::{digest, new_secret};
use crate::audit::{Entry, Read};
/// A case field's seal context, `ctx(project_id, number, field)`.
pub(crate) use crate::contexts::case_field as ctx;
use crate::jobs::{Task, enqueue};
use crate::timeline::{Act, open_logged, record_event, record_mark, touch};
use crate::views::{
    AdvisoryView, CaseDetail, CaseSummary, ChecklistEntry, EmbargoOverride, MergedReporter,
    PublicCase, TimelineEvent,
};
use crate::{Keyring, Result, Store, StoreError, from_millis, millis, rfc};
use embargo_core::access::Need;

/// A new report, from whatever channel.
pub struct NewReport {
    /// The project it is filed against.
    pub project: ProjectKey,
    /// A short title.
    pub title: String,
    /// The report itself.
    pub description: String,
    /// Who reported it.
    pub reporter: Reporter,
    /// How it arrived.
    pub channel: Channel,
}

/// Which cases a list shows.
#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    /// Only this project.
    pub project: Option<ProjectKey>,
    /// Only cases in this state.
    pub state: Option<State>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

/// Fields a team member sets on a case; absent fields are left as they are.
#[derive(Default)]
pub struct CasePatch {
    /// A new title.
    pub title: Option<String>,
    /// A CVSS 3.1 or 4.0 vector.
    pub cvss: Option<String>,
    /// The reserved CVE ID.
    pub cve_id: Option<String>,
    /// When the embargo lifts.
    pub embargo_at: Option<OffsetDateTime>,
    /// Affected and fixed versions.
    pub versions: Option<Versions>,
    /// The advisory draft.
    pub advisory: Option<AdvisoryDraft>,
    /// Words the commit guard blocks while the case is embargoed (replaces the list).
    pub sensitive_terms: Option<Vec<String>>,
    /// The reporter's OpenPGP public key, armored: mail to them is encrypted to it.
    pub reporter_key: Option<String>,
    /// The archived public announcement (after the announcement): the advisory reference.
    pub advisory_url: Option<String>,
}

pub(crate) const MAX_TEXT: usize = 1_000_000;

pub(crate) fn check_text(what: &str, text: &str, max: usize) -> Result<()> {
    if text.len() > max {
        return Err(StoreError::Invalid(format!(
            "the {what} is longer than {max} bytes"
        )));
    }
    Ok(())
}

/// What makes an advisory draft unusable in the published formats, if anything.
fn advisory_problem(advisory: &AdvisoryDraft) -> Option<String> {
    if let Some(cwe) = &advisory.cwe
        && !embargo_core::case::is_cwe_id(cwe)
    {
        return Some(format!("'{cwe}' is not a CWE ID (expected CWE-NNN)"));
    }
    if advisory.credits.iter().any(|c| c.name.trim().is_empty()) {
        return Some("a credit has no name".into());
    }
    for reference in &advisory.references {
        if !(reference.starts_with("https://") || reference.starts_with("http://"))
            || reference.contains(|c: char| {
                c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>'
            })
        {
            return Some(format!("the reference '{reference}' is not an http(s) URL"));
        }
    }
    for product in &advisory.products {
        if let Some(purl) = &product.package_url
            && (!purl.starts_with("pkg:") || purl.contains('@'))
        {
            return Some(format!(
                "'{purl}' is not a package URL without a version (pkg:type/namespace/name)"
            ));
        }
        if product
            .ranges
            .iter()
            .any(|r| r.introduced.trim().is_empty())
        {
            return Some("a version range has no first affected version".into());
        }
    }
    None
}

pub(crate) fn seal_json<T: Serialize>(keys: &Keyring, context: &str, value: &T) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(keys.seal(context, &json)?)
}

pub(crate) fn open_json<T: DeserializeOwned>(
    keys: &Keyring,
    context: &str,
    sealed: &[u8],
) -> Result<T> {
    let plain = keys.open(context, sealed)?;
    serde_json::from_slice(&plain)
        .map_err(|_| StoreError::Corrupt(format!("sealed value {context}")))
}

fn parse_state(s: &str) -> Result<State> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown state {s}")))
}

macro_rules! case_from {
    () => {
        "FROM cases c JOIN projects p ON p.id = c.project_id \
         LEFT JOIN cases d ON d.id = c.duplicate_of LEFT JOIN projects dp ON dp.id = d.project_id"
    };
}

pub(crate) const CASE_SELECT: &str = concat!(
    "SELECT c.*, p.key AS project_key, p.branches, p.clock_settings, d.number AS dup_number, dp.key AS dup_key ",
    case_from!()
);

/// Every sealed column of `cases` with the field name its seal context binds it to
/// (`ctx(project, number, field)`): the one list that re-sealing, routing to another
/// project and the backup's coverage check go by.
pub const SEALED_CASE_FIELDS: &[(&str, &str)] = &[
    ("title_sealed", "title"),
    ("description_sealed", "description"),
    ("reporter_sealed", "reporter"),
    ("cvss_sealed", "cvss"),
    ("cve_sealed", "cve"),
    ("versions_sealed", "versions"),
    ("advisory_sealed", "advisory"),
    ("override_sealed", "override"),
    ("terms_sealed", "terms"),
    ("reporter_link_sealed", "reporter-link"),
    ("merged_sealed", "merged"),
    ("reporter_key_sealed", "reporter-key"),
    ("advisory_url_sealed", "advisory-url"),
    ("cve_state_sealed", "cve-state"),
    ("retrospective_sealed", "retrospective"),
];

/// The joins of `CASE_SELECT`, for queries that select more.
pub(crate) const CASE_FROM: &str = case_from!();

/// A case row with its sealed fields opened.
pub(crate) struct Loaded {
    project_id: i64,
    number: i64,
    project_key: String,
    branches: Vec<String>,
    settings: ClockSettings,
    state: State,
    channel: Channel,
    received_at: i64,
    acknowledged_at: Option<i64>,
    confirmed_at: Option<i64>,
    fix_ready_at: Option<i64>,
    announced_at: Option<i64>,
    embargo_at: Option<i64>,
    last_activity_at: i64,
    updated_at: i64,
    duplicate_of: Option<String>,
    title: String,
    description: Option<String>,
    reporter: Option<Reporter>,
    cvss: Option<Cvss>,
    cve_id: Option<String>,
    versions: Versions,
    pub(crate) advisory: AdvisoryDraft,
    embargo_override: Option<EmbargoOverride>,
    sensitive_terms: Vec<String>,
    merged_reporters: Vec<MergedReporter>,
    reporter_key: Option<String>,
    advisory_url: Option<String>,
    cve_state: Option<embargo_core::cve_record::CveState>,
}

impl Loaded {
    /// Opens a row; `full` also opens the report text and the reporter's identity,
    /// which a queue listing does not need.
    pub(crate) fn from_row(keys: &Keyring, row: &sqlx::any::AnyRow, full: bool) -> Result<Loaded> {
        let project_id: i64 = row.try_get("project_id")?;
        let number: i64 = row.try_get("number")?;
        let open_text = |field: &str, col: &str| -> Result<Option<String>> {
            let sealed: Option<Vec<u8>> = row.try_get(col)?;
            sealed
                .map(|s| {
                    keys.open_string(&ctx(project_id, number, field), &s)
                        .map_err(StoreError::from)
                })
                .transpose()
        };
        let sealed = |col: &str| -> Result<Option<Vec<u8>>> { Ok(row.try_get(col)?) };
        let cvss = open_text("cvss", "cvss_sealed")?
            .map(|v| Cvss::parse(&v).map_err(|_| StoreError::Corrupt("stored CVSS vector".into())))
            .transpose()?;
        let versions = match sealed("versions_sealed")? {
            Some(s) => open_json(keys, &ctx(project_id, number, "versions"), &s)?,
            None => Versions::default(),
        };
        let advisory = match sealed("advisory_sealed")? {
            Some(s) => open_json(keys, &ctx(project_id, number, "advisory"), &s)?,
            None => AdvisoryDraft::default(),
        };
        let embargo_override = match sealed("override_sealed")? {
            Some(s) => Some(open_json(keys, &ctx(project_id, number, "override"), &s)?),
            None => None,
        };
        let sensitive_terms = match sealed("terms_sealed")? {
            Some(s) => open_json(keys, &ctx(project_id, number, "terms"), &s)?,
            None => Vec::new(),
        };
        let merged_reporters = match (full, sealed("merged_sealed")?) {
            (true, Some(s)) => open_json(keys, &ctx(project_id, number, "merged"), &s)?,
            _ => Vec::new(),
        };
        let reporter_key = match (full, sealed("reporter_key_sealed")?) {
            (true, Some(s)) => {
                Some(keys.open_string(&ctx(project_id, number, "reporter-key"), &s)?)
            }
            _ => None,
        };
        let advisory_url = open_text("advisory-url", "advisory_url_sealed")?;
        let cve_state = match sealed("cve_state_sealed")? {
            Some(s) => Some(open_json(keys, &ctx(project_id, number, "cve-state"), &s)?),
            None => None,
        };
        let reporter = match (full, sealed("reporter_sealed")?) {
            (true, Some(s)) => Some(open_json(keys, &ctx(project_id, number, "reporter"), &s)?),
            _ => None,
        };
        let dup_key: Option<String> = row.try_get("dup_key")?;
        let dup_number: Option<i64> = row.try_get("dup_number")?;
        let channel: String = row.try_get("channel")?;
        let branches: String = row.try_get("branches")?;
        let settings: String = row.try_get("clock_settings")?;
        Ok(Loaded {
            project_id,
            number,
            project_key: row.try_get("project_key")?,
            branches: serde_json::from_str(&branches)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            settings: serde_json::from_str(&settings)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            state: parse_state(&row.try_get::<String, _>("state")?)?,
            channel: Channel::parse(&channel)
                .ok_or_else(|| StoreError::Corrupt("channel".into()))?,
            received_at: row.try_get("received_at")?,
            acknowledged_at: row.try_get("acknowledged_at")?,
            confirmed_at: row.try_get("confirmed_at")?,
            fix_ready_at: row.try_get("fix_ready_at")?,
            announced_at: row.try_get("announced_at")?,
            embargo_at: row.try_get("embargo_at")?,
            last_activity_at: row.try_get("last_activity_at")?,
            updated_at: row.try_get("updated_at")?,
            duplicate_of: dup_key
                .zip(dup_number)
                .map(|(k, n)| embargo_core::reference::case_reference(&k, n)),
            title: open_text("title", "title_sealed")?.unwrap_or_default(),
            description: if full {
                open_text("description", "description_sealed")?
            } else {
                None
            },
            reporter,
            cvss,
            cve_id: open_text("cve", "cve_sealed")?,
            versions,
            advisory,
            embargo_override,
            sensitive_terms,
            merged_reporters,
            reporter_key,
            advisory_url,
            cve_state,
        })
    }

    /// The advisory as it is published: the team's draft, the case's rating, IDs and
    /// versions, and the dates of the procedure. `page` is Embargo's public page for it.
    pub(crate) fn published(
        &self,
        product: &str,
        vendor: &str,
        page: &str,
    ) -> embargo_formats::Advisory {
        use embargo_formats::{Reference, TimelineEntry};
        let draft = &self.advisory;
        let mut references = Vec::new();
        if let Some(url) = &self.advisory_url {
            references.push(Reference {
                url: url.clone(),
                tags: vec!["vendor-advisory".into(), "mailing-list".into()],
            });
        }
        references.push(Reference {
            url: page.to_owned(),
            tags: vec!["vendor-advisory".into()],
        });
        for url in &draft.references {
            if !references.iter().any(|r| &r.url == url) {
                references.push(Reference {
                    url: url.clone(),
                    tags: Vec::new(),
                });
            }
        }
        let mut credits = draft.credits.clone();
        if credits.is_empty() && !draft.credit.trim().is_empty() {
            credits.push(embargo_core::case::Credit {
                name: draft.credit.trim().to_owned(),
                role: embargo_core::case::CreditRole::Finder,
            });
        }
        let at = |ms: i64| from_millis(ms);
        let mut timeline = vec![TimelineEntry {
            at: at(self.received_at),
            event: "Reported to the security team".into(),
        }];
        if let Some(t) = self.confirmed_at {
            timeline.push(TimelineEntry {
                at: at(t),
                event: "Confirmed as a vulnerability".into(),
            });
        }
        if let Some(t) = self.fix_ready_at {
            timeline.push(TimelineEntry {
                at: at(t),
                event: "Fix ready and tested".into(),
            });
        }
        let published = self
            .announced_at
            .or(self.embargo_at)
            .map(at)
            .unwrap_or_else(|| at(self.updated_at));
        timeline.push(TimelineEntry {
            at: published,
            event: "Announced".into(),
        });
        embargo_formats::Advisory {
            reference: self.reference(),
            cve_id: self.cve_id.clone(),
            title: if draft.title.trim().is_empty() {
                self.title.clone()
            } else {
                draft.title.clone()
            },
            vendor: vendor.to_owned(),
            product: product.to_owned(),
            description: draft.description.clone(),
            mitigation: draft.mitigation.clone(),
            workarounds: draft.workarounds.clone(),
            cwe: draft.cwe.clone(),
            cvss: self.cvss.iter().cloned().collect(),
            products: draft.products.clone(),
            affected: self.versions.affected.clone(),
            fixed: self.versions.fixed.clone(),
            credits,
            references,
            timeline,
            published,
            updated: at(self.updated_at).max(published),
        }
    }

    pub(crate) fn embargo_at(&self) -> Option<i64> {
        self.embargo_at
    }

    pub(crate) fn advisory_url(&self) -> Option<&str> {
        self.advisory_url.as_deref()
    }

    pub(crate) fn project_id(&self) -> i64 {
        self.project_id
    }

    /// The reporter's OpenPGP key, when known and readable.
    pub(crate) fn reporter_key(&self) -> Option<embargo_openpgp::PublicKey> {
        self.reporter_key
            .as_deref()
            .and_then(|k| embargo_openpgp::PublicKey::from_armored(k).ok())
    }

    pub(crate) fn reporter_email(&self) -> Option<String> {
        self.reporter
            .as_ref()
            .and_then(|r| r.email.clone())
            .filter(|e| e.contains('@'))
    }

    pub(crate) fn state(&self) -> State {
        self.state
    }

    pub(crate) fn received_at(&self) -> String {
        rfc(self.received_at)
    }

    pub(crate) fn title(&self) -> &str {
        &self.title
    }

    pub(crate) fn description(&self) -> &str {
        self.description.as_deref().unwrap_or_default()
    }

    pub(crate) fn project_key(&self) -> &str {
        &self.project_key
    }

    pub(crate) fn reference(&self) -> String {
        embargo_core::reference::case_reference(&self.project_key, self.number)
    }

    fn context(&self, field: &str) -> String {
        ctx(self.project_id, self.number, field)
    }

    /// The seal context of one of the case's fields.
    pub(crate) fn field_context(&self, field: &str) -> String {
        self.context(field)
    }

    fn clocks(&self, now: OffsetDateTime) -> clocks::Clocks {
        let times = CaseTimes {
            state: self.state,
            received_at: from_millis(self.received_at),
            acknowledged_at: self.acknowledged_at.map(from_millis),
            confirmed_at: self.confirmed_at.map(from_millis),
            fix_ready_at: self.fix_ready_at.map(from_millis),
            announced_at: self.announced_at.map(from_millis),
            last_activity_at: from_millis(self.last_activity_at),
            severity: self.cvss.as_ref().map(Cvss::severity),
        };
        clocks::compute(&times, &self.settings, now)
    }

    pub(crate) fn facts(&self) -> CaseFacts {
        CaseFacts {
            state: Some(self.state),
            has_cvss: self.cvss.is_some(),
            has_cve: self.cve_id.is_some(),
            versions: self.versions.clone(),
            advisory: self.advisory.clone(),
            embargo_at: self.embargo_at.map(from_millis),
        }
    }

    /// The case as the process-review figures count it (`full` rows: the reporter is read).
    pub(crate) fn figures(
        &self,
        now: OffsetDateTime,
        public_at: Option<i64>,
        retrospective_cwe: Option<String>,
    ) -> embargo_core::review::CaseFigures {
        use embargo_core::clocks::ClockStatus;
        let clocks = self.clocks(now);
        let overdue = self.state.is_open()
            && (clocks.acknowledgement.status == ClockStatus::Overdue
                && self.state == State::Reported
                || [clocks.mitigation.as_ref(), clocks.announcement.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|c| c.status == ClockStatus::Overdue));
        embargo_core::review::CaseFigures {
            received: from_millis(self.received_at),
            acknowledged: self.acknowledged_at.map(from_millis),
            confirmed: self.confirmed_at.map(from_millis),
            fix_ready: self.fix_ready_at.map(from_millis),
            announced: self.announced_at.map(from_millis),
            public: public_at.map(from_millis),
            state: self.state.as_str().to_owned(),
            severity: self.cvss.as_ref().map(|c| c.severity().to_string()),
            cwe: retrospective_cwe.or_else(|| self.advisory.cwe.clone()),
            channel: self.channel.as_str().to_owned(),
            reporter: self
                .reporter
                .as_ref()
                .and_then(|r| r.name.clone().or_else(|| r.email.clone()))
                .filter(|r| !r.trim().is_empty()),
            overdue,
            stalled: clocks.stalled,
        }
    }

    pub(crate) fn summary(self, now: OffsetDateTime) -> CaseSummary {
        CaseSummary {
            clocks: self.clocks(now),
            reference: self.reference(),
            project: self.project_key,
            state: self.state,
            title: self.title,
            received_at: rfc(self.received_at),
            updated_at: rfc(self.updated_at),
            embargo_at: self.embargo_at.map(rfc),
            severity: self.cvss.as_ref().map(Cvss::severity),
        }
    }

    /// What a pre-notified distributor may see.
    pub(crate) fn advisory_view(self) -> AdvisoryView {
        AdvisoryView {
            reference: self.reference(),
            project: self.project_key,
            state: self.state,
            embargo_at: self.embargo_at.map(rfc),
            cve_id: self.cve_id,
            cvss: self.cvss.as_ref().map(CvssSummary::from),
            versions: self.versions,
            advisory: self.advisory,
        }
    }

    pub(crate) fn detail(self, now: OffsetDateTime) -> CaseDetail {
        CaseDetail {
            clocks: self.clocks(now),
            reference: self.reference(),
            next_states: self.state.next_states().to_vec(),
            project: self.project_key,
            state: self.state,
            channel: self.channel,
            title: self.title,
            description: self.description.unwrap_or_default(),
            reporter: self.reporter.unwrap_or_default(),
            received_at: rfc(self.received_at),
            acknowledged_at: self.acknowledged_at.map(rfc),
            updated_at: rfc(self.updated_at),
            embargo_at: self.embargo_at.map(rfc),
            cvss: self.cvss.as_ref().map(CvssSummary::from),
            cve_id: self.cve_id,
            versions: self.versions,
            advisory: self.advisory,
            duplicate_of: self.duplicate_of,
            embargo_override: self.embargo_override,
            sensitive_terms: self.sensitive_terms,
            merged_reporters: self.merged_reporters,
            reporter_key: self
                .reporter_key
                .as_deref()
                .and_then(|k| embargo_openpgp::PublicKey::from_armored(k).ok())
                .map(|k| k.fingerprint()),
            advisory_url: self.advisory_url,
            cve_state: self.cve_state,
        }
    }
}

/// Opens the CVE ID and sensitive terms of a case row (for the guard's export).
pub(crate) fn opened_cve_and_terms(
    keys: &Keyring,
    project_id: i64,
    number: i64,
    row: &sqlx::any::AnyRow,
) -> Result<(Option<String>, Vec<String>)> {
    let cve: Option<Vec<u8>> = row.try_get("cve_sealed")?;
    let terms: Option<Vec<u8>> = row.try_get("terms_sealed")?;
    let cve = cve
        .map(|s| keys.open_string(&ctx(project_id, number, "cve"), &s))
        .transpose()?;
    let terms = match terms {
        Some(s) => open_json(keys, &ctx(project_id, number, "terms"), &s)?,
        None => Vec::new(),
    };
    Ok((cve, terms))
}

pub(crate) async fn load(
    conn: &mut AnyConnection,
    keys: &Keyring,
    case_id: i64,
    full: bool,
) -> Result<Loaded> {
    let row = sqlx::query(&format!("{CASE_SELECT} WHERE c.id = $1"))
        .bind(case_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound("case"))?;
    Loaded::from_row(keys, &row, full)
}

/// Appends an event to a case's timeline.
/// What a person posts on a case's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Post {
    /// An internal note (the team and collaborators).
    Note,
    /// A message to the reporter, mailed to them (the team).
    ToReporter,
}

/// Opens a case in `project_id` from a report: numbers it, seals it, gives it a reporter
/// link, and puts its creation on the timeline. Returns the case id, number and link.
pub(crate) async fn insert_case(
    conn: &mut AnyConnection,
    keys: &Keyring,
    project_id: i64,
    report: &NewReport,
    actor: Option<i64>,
    now: i64,
) -> Result<(i64, i64, String)> {
    let title = report.title.trim();
    if title.is_empty() {
        return Err(StoreError::Invalid("a report needs a title".into()));
    }
    check_text("title", title, 1_000)?;
    // Mail is bounded by intake's message size limit instead, and is kept whole.
    if report.channel != Channel::Email {
        check_text("description", &report.description, MAX_TEXT)?;
    }
    let number: i64 = sqlx::query(
        "UPDATE projects SET next_case_number = next_case_number + 1 WHERE id = $1 RETURNING next_case_number - 1 AS number",
    )
    .bind(project_id)
    .fetch_one(&mut *conn)
    .await?
    .try_get("number")?;
    let c = |field| ctx(project_id, number, field);
    // The reporter's secret link: found by its hash, kept sealed for the mail that carries it.
    let link = new_secret("rl_");
    let row = sqlx::query(
        "INSERT INTO cases (project_id, number, state, channel, received_at, last_activity_at, updated_at, title_sealed, description_sealed, reporter_sealed, reporter_link_hash, reporter_link_sealed) \
         VALUES ($1, $2, $3, $4, $5, $5, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(project_id)
    .bind(number)
    .bind(State::Reported.as_str())
    .bind(report.channel.as_str())
    .bind(now)
    .bind(keys.seal_str(&c("title"), title)?)
    .bind(keys.seal_str(&c("description"), &report.description)?)
    .bind(seal_json(keys, &c("reporter"), &report.reporter)?)
    .bind(digest(&link))
    .bind(keys.seal_str(&c("reporter-link"), &link)?)
    .fetch_one(&mut *conn)
    .await?;
    let case_id: i64 = row.try_get("id")?;
    record_event(
        conn,
        keys,
        Act {
            case_id,
            actor,
            now,
        },
        EventKind::Created,
        None,
        None,
    )
    .await?;
    Ok((case_id, number, link))
}

impl Store {
    /// Files a new report on behalf of a team member who may see the project.
    pub async fn create_case(&self, viewer: &Viewer, report: NewReport) -> Result<CaseDetail> {
        let project = self.project(&report.project).await?;
        if !viewer.can_see_project(project.id) {
            return Err(StoreError::NotFound("project"));
        }
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let (case_id, _, _) = insert_case(
            &mut tx,
            self.keys(),
            project.id,
            &report,
            Some(viewer.user_id),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(case_id, project = %project.key, "case created");
        let mut conn = self.pool.acquire().await?;
        let case = load(&mut conn, self.keys(), case_id, true).await?;
        drop(conn);
        self.audit(vec![Entry::new(viewer, case_id, Read::Case)])
            .await?;
        Ok(case.detail(OffsetDateTime::now_utc()))
    }

    /// Reads a case the viewer may see.
    pub async fn case(&self, viewer: &Viewer, case_ref: &CaseRef) -> Result<CaseDetail> {
        // One query: the case, joined with the viewer's grants on it for the access rule.
        let rows = sqlx::query(&format!(
            "SELECT c.*, p.key AS project_key, p.branches, p.clock_settings, d.number AS dup_number, dp.key AS dup_key, \
             g.kind AS grant_kind, g.accepted_at AS grant_accepted_at {CASE_FROM} \
             LEFT JOIN case_grants g ON g.case_id = c.id AND g.user_id = $3 AND g.revoked_at IS NULL \
             WHERE p.key = $1 AND c.number = $2"
        ))
        .bind(case_ref.project.as_str())
        .bind(case_ref.number)
        .bind(viewer.user_id)
        .fetch_all(&self.pool)
        .await?;
        let row = allowed_row(viewer, &rows, Need::Read)?;
        let case_id: i64 = row.try_get("id")?;
        let case = Loaded::from_row(self.keys(), row, true)?;
        self.audit(vec![Entry::new(viewer, case_id, Read::Case)])
            .await?;
        Ok(case.detail(OffsetDateTime::now_utc()))
    }

    /// Lists the cases the viewer may see, newest first.
    pub async fn list_cases(
        &self,
        viewer: &Viewer,
        filter: &CaseFilter,
    ) -> Result<Vec<CaseSummary>> {
        // The page is chosen on narrow rows (ids and times, from an index), and only its
        // cases are read whole: sorting every readable case with its sealed columns cost
        // about 50 ms per request at 10,000 cases.
        let mut page = format!(
            "SELECT c.id FROM cases c JOIN projects p ON p.id = c.project_id WHERE {}",
            readable_cases_sql(viewer, "c.id", "c.project_id")
        );
        let mut binds: Vec<String> = Vec::new();
        if let Some(project) = &filter.project {
            binds.push(project.as_str().to_owned());
            page.push_str(&format!(" AND p.key = ${}", binds.len()));
        }
        if let Some(state) = filter.state {
            binds.push(state.as_str().to_owned());
            page.push_str(&format!(" AND c.state = ${}", binds.len()));
        }
        let limit = filter.limit.unwrap_or(100).clamp(1, 1000);
        let offset = filter.offset.unwrap_or(0).max(0);
        let sql = format!(
            "{CASE_SELECT} WHERE c.id IN ({page} ORDER BY c.received_at DESC, c.id DESC LIMIT {limit} OFFSET {offset}) \
             ORDER BY c.received_at DESC, c.id DESC"
        );
        let mut query = sqlx::query(&sql);
        for b in binds {
            query = query.bind(b);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let now = OffsetDateTime::now_utc();
        let mut read = Vec::with_capacity(rows.len());
        let summaries = rows
            .iter()
            .map(|row| {
                read.push(Entry::new(viewer, row.try_get("id")?, Read::Summary));
                Ok(Loaded::from_row(self.keys(), row, false)?.summary(now))
            })
            .collect::<Result<Vec<_>>>()?;
        self.audit(read).await?;
        Ok(summaries)
    }

    /// Sets fields of a case; each change goes on the timeline.
    pub async fn update_case(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        patch: CasePatch,
    ) -> Result<CaseDetail> {
        let now_dt = OffsetDateTime::now_utc();
        let now = millis(now_dt);
        let keys = self.keys();
        let actor = Some(viewer.user_id);
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let case = load(&mut tx, keys, auth.case_id, false).await?;
        let id = auth.case_id;
        let mut changes: Vec<String> = Vec::new();
        if let Some(title) = &patch.title {
            let title = title.trim();
            if title.is_empty() {
                return Err(StoreError::Invalid("the title cannot be empty".into()));
            }
            check_text("title", title, 1_000)?;
            sqlx::query("UPDATE cases SET title_sealed = $1 WHERE id = $2")
                .bind(keys.seal_str(&case.context("title"), title)?)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changes.push(format!("title set to \"{title}\""));
        }
        if let Some(vector) = &patch.cvss {
            let cvss = Cvss::parse(vector)
                .map_err(|e| StoreError::Invalid(format!("bad CVSS vector: {e}")))?;
            if !matches!(cvss.version(), Version::V3_1 | Version::V4_0) {
                return Err(StoreError::Invalid(format!(
                    "a case is rated with CVSS 3.1 or 4.0; CVSS {} is read for old records only",
                    cvss.version()
                )));
            }
            sqlx::query("UPDATE cases SET cvss_sealed = $1 WHERE id = $2")
                .bind(keys.seal_str(&case.context("cvss"), cvss.vector())?)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            record_mark(
                &mut tx,
                keys,
                Act {
                    case_id: id,
                    actor,
                    now,
                },
                checklist::CVSS,
                MarkStatus::Done,
                None,
            )
            .await?;
            changes.push(format!(
                "CVSS set to {} ({} {})",
                cvss.vector(),
                cvss.score(),
                cvss.severity()
            ));
        }
        if let Some(cve) = &patch.cve_id {
            let cve = cve.trim();
            if !is_cve_id(cve) {
                return Err(StoreError::Invalid(format!(
                    "'{cve}' is not a CVE ID (expected CVE-YYYY-NNNN)"
                )));
            }
            sqlx::query("UPDATE cases SET cve_sealed = $1 WHERE id = $2")
                .bind(keys.seal_str(&case.context("cve"), cve)?)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            record_mark(
                &mut tx,
                keys,
                Act {
                    case_id: id,
                    actor,
                    now,
                },
                checklist::CVE_RESERVED,
                MarkStatus::Done,
                None,
            )
            .await?;
            changes.push(format!("CVE ID set to {cve}"));
        }
        if let Some(at) = patch.embargo_at {
            sqlx::query("UPDATE cases SET embargo_at = $1 WHERE id = $2")
                .bind(millis(at))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changes.push(format!("embargo date set to {}", rfc3339(at)));
        }
        if let Some(versions) = &patch.versions {
            let total: usize = versions
                .affected
                .iter()
                .chain(&versions.fixed)
                .map(String::len)
                .sum();
            if total > 100_000 {
                return Err(StoreError::Invalid(
                    "the version lists are longer than 100000 bytes".into(),
                ));
            }
            sqlx::query("UPDATE cases SET versions_sealed = $1 WHERE id = $2")
                .bind(seal_json(keys, &case.context("versions"), versions)?)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changes.push(format!(
                "affected versions: {}; fixed versions: {}",
                versions.affected.join(", "),
                versions.fixed.join(", ")
            ));
        }
        if let Some(advisory) = &patch.advisory {
            let size = advisory.title.len()
                + advisory.description.len()
                + advisory.mitigation.len()
                + advisory.credit.len();
            if size > MAX_TEXT {
                return Err(StoreError::Invalid(format!(
                    "the advisory is longer than {MAX_TEXT} bytes"
                )));
            }
            if let Some(problem) = advisory_problem(advisory) {
                return Err(StoreError::Invalid(format!("the advisory: {problem}")));
            }
            sqlx::query("UPDATE cases SET advisory_sealed = $1 WHERE id = $2")
                .bind(seal_json(keys, &case.context("advisory"), advisory)?)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if advisory.missing_sections().is_empty() {
                record_mark(
                    &mut tx,
                    keys,
                    Act {
                        case_id: id,
                        actor,
                        now,
                    },
                    checklist::ADVISORY,
                    MarkStatus::Done,
                    None,
                )
                .await?;
            }
            changes.push("advisory draft updated".to_owned());
        }
        if let Some(terms) = &patch.sensitive_terms {
            let terms: Vec<String> = terms
                .iter()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect();
            if terms.len() > 100 || terms.iter().any(|t| t.len() > 200) {
                return Err(StoreError::Invalid(
                    "at most 100 sensitive terms of at most 200 bytes each".into(),
                ));
            }
            sqlx::query("UPDATE cases SET terms_sealed = $1 WHERE id = $2")
                .bind(seal_json(keys, &case.context("terms"), &terms)?)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changes.push(format!(
                "sensitive terms for the commit guard: {}",
                terms.join(", ")
            ));
        }
        if let Some(armored) = &patch.reporter_key {
            check_text("reporter's key", armored, 200_000)?;
            let key = embargo_openpgp::PublicKey::from_armored(armored)
                .map_err(|e| StoreError::Invalid(format!("the reporter's key: {e}")))?;
            if !key.can_encrypt() {
                return Err(StoreError::Invalid(
                    "the reporter's key has no encryption key, so mail could not be encrypted to it".into(),
                ));
            }
            let armored = key
                .armored()
                .map_err(|e| StoreError::Invalid(format!("the reporter's key: {e}")))?;
            sqlx::query("UPDATE cases SET reporter_key_sealed = $1 WHERE id = $2")
                .bind(keys.seal_str(&case.context("reporter-key"), &armored)?)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changes.push(format!(
                "reporter's OpenPGP key set to {}; mail to the reporter is encrypted to it",
                key.fingerprint()
            ));
        }
        if let Some(url) = &patch.advisory_url {
            let url = url.trim();
            if !case.state.is_announced() {
                return Err(StoreError::Invalid(format!(
                    "the archived announcement exists only after the announcement (the case is {})",
                    case.state
                )));
            }
            if !url.starts_with("https://") && !url.starts_with("http://")
                || url.len() > 2048
                || url.contains(char::is_whitespace)
            {
                return Err(StoreError::Invalid(format!(
                    "'{url}' is not an http(s) URL"
                )));
            }
            sqlx::query("UPDATE cases SET advisory_url_sealed = $1 WHERE id = $2")
                .bind(keys.seal_str(&case.context("advisory-url"), url)?)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changes.push(format!("archived announcement recorded: {url}"));
        }
        if changes.is_empty() {
            return Err(StoreError::Invalid(
                "nothing to change: give at least one field".into(),
            ));
        }
        record_event(
            &mut tx,
            keys,
            Act {
                case_id: id,
                actor,
                now,
            },
            EventKind::Update,
            None,
            Some(&changes.join("; ")),
        )
        .await?;
        touch(&mut tx, id, now).await?;
        let case = load(&mut tx, keys, id, true).await?;
        // A correction after publication (credits, say) goes to the published CVE record.
        let published_record = case.cve_state.as_ref().is_some_and(|s| s.is_published());
        if published_record
            && (patch.advisory.is_some()
                || patch.cvss.is_some()
                || patch.versions.is_some()
                || patch.advisory_url.is_some())
        {
            crate::jobs::enqueue(&mut tx, &crate::jobs::Task::CveUpdate { case_id: id }, now)
                .await?;
        }
        tx.commit().await?;
        self.audit(vec![Entry::new(viewer, id, Read::Case)]).await?;
        Ok(case.detail(now_dt))
    }

    /// Adds an internal note, seen by the team only.
    pub async fn add_note(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        text: &str,
    ) -> Result<TimelineEvent> {
        self.post_text(viewer, case_ref, Post::Note, text).await
    }

    /// Puts a text written by the viewer on a case's timeline: an internal note, or a
    /// message to the reporter, which the job runner then mails.
    pub(crate) async fn post_text(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        post: Post,
        text: &str,
    ) -> Result<TimelineEvent> {
        let (kind, what, need) = match post {
            Post::Note => (EventKind::Note, "note", Need::Read),
            Post::ToReporter => (EventKind::MessageToReporter, "message", Need::Change),
        };
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreError::Invalid(format!("a {what} cannot be empty")));
        }
        check_text(what, text, MAX_TEXT)?;
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, need).await?;
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        let id = record_event(&mut tx, self.keys(), act, kind, None, Some(text)).await?;
        if post == Post::ToReporter {
            enqueue(
                &mut tx,
                &Task::MailReporter {
                    case_id: auth.case_id,
                    event_id: id,
                },
                now,
            )
            .await?;
        }
        touch(&mut tx, auth.case_id, now).await?;
        tx.commit().await?;
        let email = self.user_by_id(viewer.user_id).await?.email;
        Ok(TimelineEvent {
            id,
            at: rfc(now),
            actor: Some(email),
            kind,
            from_state: None,
            to_state: None,
            detail: Some(text.to_owned()),
        })
    }

    /// The case's timeline, oldest first.
    pub async fn timeline(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
    ) -> Result<Vec<TimelineEvent>> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Read).await?;
        let rows = sqlx::query(
            "SELECT e.id, e.at, u.email, e.kind, e.from_state, e.to_state, e.detail_sealed FROM case_events e \
             LEFT JOIN users u ON u.id = e.actor_id WHERE e.case_id = $1 ORDER BY e.id",
        )
        .bind(auth.case_id)
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        self.audit(vec![Entry::new(viewer, auth.case_id, Read::Timeline)])
            .await?;
        rows.iter()
            .map(|row| {
                let name: String = row.try_get("kind")?;
                let kind = EventKind::parse(&name).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown timeline entry kind {name:?}"))
                })?;
                let sealed: Option<Vec<u8>> = row.try_get("detail_sealed")?;
                let state = |col: &str| -> Result<Option<State>> {
                    row.try_get::<Option<String>, _>(col)?
                        .map(|s| parse_state(&s))
                        .transpose()
                };
                Ok(TimelineEvent {
                    id: row.try_get("id")?,
                    at: rfc(row.try_get("at")?),
                    actor: row.try_get("email")?,
                    from_state: state("from_state")?,
                    to_state: state("to_state")?,
                    detail: sealed
                        .map(|s| {
                            open_logged(
                                self.keys(),
                                &crate::contexts::event(
                                    auth.project_id,
                                    auth.case_id,
                                    kind.as_str(),
                                ),
                                &s,
                                "case_events",
                                row.try_get("id")?,
                            )
                        })
                        .transpose()?,
                    kind,
                })
            })
            .collect()
    }

    /// The checklist of a case, with the latest mark of each item.
    pub async fn checklist(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
    ) -> Result<Vec<ChecklistEntry>> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Read).await?;
        let case = load(&mut conn, self.keys(), auth.case_id, false).await?;
        let rows = sqlx::query(
            "SELECT m.item, m.status, m.at, m.note_sealed, u.email FROM checklist_marks m LEFT JOIN users u ON u.id = m.actor_id \
             WHERE m.case_id = $1 ORDER BY m.id",
        )
        .bind(auth.case_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut entries: Vec<ChecklistEntry> = checklist::items(&case.branches)
            .into_iter()
            .map(|def| ChecklistEntry {
                key: def.key,
                label: def.label,
                status: MarkStatus::Open,
                automatic: def.automatic,
                manual: def.manual,
                by: None,
                at: None,
                note: None,
            })
            .collect();
        for row in rows {
            let item: String = row.try_get("item")?;
            let Some(entry) = entries.iter_mut().find(|e| e.key == item) else {
                continue;
            };
            let status: String = row.try_get("status")?;
            let sealed: Option<Vec<u8>> = row.try_get("note_sealed")?;
            entry.status = MarkStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt("mark status".into()))?;
            entry.by = row.try_get("email")?;
            entry.at = Some(rfc(row.try_get("at")?));
            entry.note = sealed
                .map(|s| {
                    open_logged(
                        self.keys(),
                        &crate::contexts::mark(auth.project_id, auth.case_id, &item),
                        &s,
                        "checklist_marks",
                        auth.case_id,
                    )
                })
                .transpose()?;
        }
        drop(conn);
        self.audit(vec![Entry::new(viewer, auth.case_id, Read::Checklist)])
            .await?;
        Ok(entries)
    }

    /// Marks a checklist item (done, not applicable, or open again).
    pub async fn mark_checklist(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        item: &str,
        status: MarkStatus,
        note: Option<&str>,
    ) -> Result<Vec<ChecklistEntry>> {
        if let Some(note) = note {
            check_text("note", note, 100_000)?;
        }
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let case = load(&mut tx, self.keys(), auth.case_id, false).await?;
        checklist::check_mark(&case.branches, item, case.state)?;
        record_mark(
            &mut tx,
            self.keys(),
            Act {
                case_id: auth.case_id,
                actor: Some(viewer.user_id),
                now,
            },
            item,
            status,
            note,
        )
        .await?;
        touch(&mut tx, auth.case_id, now).await?;
        tx.commit().await?;
        self.checklist(viewer, case_ref).await
    }

    /// The public view of a case; a case that is not public yet does not exist here.
    pub async fn public_case(&self, case_ref: &CaseRef) -> Result<PublicCase> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(&format!("{CASE_SELECT} WHERE p.key = $1 AND c.number = $2"))
            .bind(case_ref.project.as_str())
            .bind(case_ref.number)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound("case"))?;
        let state = parse_state(&row.try_get::<String, _>("state")?)?;
        if !state.is_publicly_viewable() {
            return Err(StoreError::NotFound("case"));
        }
        let case = Loaded::from_row(self.keys(), &row, false)?;
        let advisory = case.advisory.clone();
        Ok(PublicCase {
            reference: case.reference(),
            project: case.project_key.clone(),
            title: if advisory.title.trim().is_empty() {
                case.title.clone()
            } else {
                advisory.title
            },
            cve_id: case.cve_id.clone(),
            cvss: case.cvss.as_ref().map(CvssSummary::from),
            versions: case.versions.clone(),
            description: advisory.description,
            mitigation: advisory.mitigation,
            credit: advisory.credit,
            references: advisory.references,
            announced_at: case.announced_at.map(rfc),
        })
    }

    /// Records that the foundation security team has been notified of a confirmed case.
    pub(crate) async fn record_foundation_notified(
        conn: &mut AnyConnection,
        keys: &Keyring,
        case_id: i64,
        now: i64,
    ) -> Result<()> {
        record_event(
            conn,
            keys,
            Act {
                case_id,
                actor: None,
                now,
            },
            EventKind::Notified,
            None,
            Some("foundation security team notified"),
        )
        .await?;
        record_mark(
            conn,
            keys,
            Act {
                case_id,
                actor: None,
                now,
            },
            checklist::FOUNDATION_NOTIFIED,
            MarkStatus::Done,
            None,
        )
        .await
    }
}
