//! Cases: reports, transitions, notes, the fields the team records, the checklist and
//! the timeline. Every operation locates its case through `access::authorize`.

use embargo_core::access::{CaseAccess, Viewer};
use embargo_core::case::{AdvisoryDraft, Channel, Reporter, Versions};
use embargo_core::checklist::{self, MarkStatus};
use embargo_core::clocks::rfc3339;
use embargo_core::cvss::{CvssSummary, ratings};
use embargo_core::lifecycle::State;
use embargo_core::reference::{CaseRef, ProjectKey, is_cve_id};
use embargo_core::timeline::EventKind;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::access::{allowed_row, authorize, best_access};
use crate::accounts::{digest, new_secret};
use crate::audit::{Entry, Read};
use crate::case_row::{CASE_COLUMNS, CASE_FROM, CASE_SELECT, Loaded, load, parse_state};
/// A case field's seal context, `ctx(project_id, number, field)`.
pub(crate) use crate::contexts::case_field as ctx;
use crate::jobs::{Task, enqueue};
use crate::seal::seal_json;
use crate::search::{Source, index_text, mark_indexed};
use crate::timeline::{Act, open_logged, record_event, record_mark, touch};
use crate::views::{CaseDetail, PublicCase, TimelineEvent};
use crate::{Keyring, Result, Store, StoreError, millis, rfc};
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

/// CVSS ratings as a team member gives them: one vector, which sets the rating of its
/// version and keeps the other's, or the whole set (at most one vector per version).
#[derive(Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CvssInput {
    /// One vector: replaces the rating of its own version.
    One(String),
    /// Every rating: replaces them all.
    All(Vec<String>),
}

impl From<&str> for CvssInput {
    fn from(vector: &str) -> Self {
        CvssInput::One(vector.to_owned())
    }
}

impl From<String> for CvssInput {
    fn from(vector: String) -> Self {
        CvssInput::One(vector)
    }
}

impl From<Vec<String>> for CvssInput {
    fn from(vectors: Vec<String>) -> Self {
        CvssInput::All(vectors)
    }
}

/// Fields a team member sets on a case; absent fields are left as they are.
#[derive(Default)]
pub struct CasePatch {
    /// A new title.
    pub title: Option<String>,
    /// A CVSS 3.1 or 4.0 vector, or one of each.
    pub cvss: Option<CvssInput>,
    /// The reserved CVE ID.
    pub cve_id: Option<String>,
    /// When the embargo lifts.
    pub embargo_at: Option<OffsetDateTime>,
    /// Affected and fixed versions.
    pub versions: Option<Versions>,
    /// The advisory draft.
    pub advisory: Option<AdvisoryDraft>,
    /// The member who owns the case, by address; empty for nobody.
    pub owner: Option<String>,
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
    if let Some(Err(e)) = advisory.cwe.as_deref().map(embargo_core::cwe::lookup) {
        return Some(e.to_string());
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

/// The account of `email` if they are on the security team of `project_id` (its own, or
/// its organisation's foundation team): only they can own its cases.
async fn team_member_id(
    conn: &mut sqlx::AnyConnection,
    email: &str,
    project_id: i64,
) -> Result<i64> {
    let email = crate::accounts::check_email(email)?;
    let row = sqlx::query(
        "SELECT u.id FROM users u JOIN team_members t ON t.user_id = u.id JOIN projects p ON p.id = $2 \
         WHERE u.email = $1 AND ((t.kind = 'project' AND t.scope_id = p.id) OR (t.kind = 'foundation' AND t.scope_id = p.org_id)) LIMIT 1",
    )
    .bind(&email)
    .bind(project_id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(row.try_get("id")?),
        None => Err(StoreError::Invalid(format!(
            "{email} is not on this project's security team: only its members can own its cases"
        ))),
    }
}

/// What a person posts on a case's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Post {
    /// An internal note: the team's own, or, written by a collaborator, their thread's.
    Note,
    /// A note in the collaborators' thread, which the team and collaborators read.
    Shared,
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
    index_text(conn, keys, case_id, Source::Title, title).await?;
    index_text(
        conn,
        keys,
        case_id,
        Source::Description,
        &report.description,
    )
    .await?;
    mark_indexed(conn, keys, case_id).await?;
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
            "SELECT {CASE_COLUMNS}, \
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
        let collaborator = best_access(viewer, &rows)? == CaseAccess::Collaborator;
        let case_id: i64 = row.try_get("id")?;
        let case = Loaded::from_row(self.keys(), row, true)?;
        self.audit(vec![Entry::new(viewer, case_id, Read::Case)])
            .await?;
        // Opened: what arrived before now is no longer unread for this member. Written
        // only when something was unread, so that most reads write nothing but the audit.
        let unread = sqlx::query(&format!(
            "SELECT 1 AS unread WHERE {}",
            crate::queue::unread_sql(&case_id.to_string(), viewer.user_id)
        ))
        .fetch_optional(&self.pool)
        .await?;
        if unread.is_some() {
            sqlx::query(
                "INSERT INTO case_seen (case_id, user_id, at) VALUES ($1, $2, $3) \
                 ON CONFLICT (case_id, user_id) DO UPDATE SET at = excluded.at",
            )
            .bind(case_id)
            .bind(viewer.user_id)
            .bind(millis(OffsetDateTime::now_utc()))
            .execute(self.writer())
            .await?;
        }
        let shared = case.identity_shared;
        let detail = case.detail(OffsetDateTime::now_utc());
        // A collaborator learns who reported only when the reporter agreed to it.
        Ok(match collaborator && !shared {
            true => detail.for_collaborator(),
            false => detail,
        })
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
            index_text(&mut tx, keys, id, Source::Title, title).await?;
            changes.push(format!("title set to \"{title}\""));
        }
        if let Some(input) = &patch.cvss {
            let rated = match input {
                CvssInput::One(vector) => ratings::with_one(&case.ratings, vector),
                CvssInput::All(vectors) => ratings::parse_all(vectors),
            }
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
            sqlx::query("UPDATE cases SET cvss_sealed = $1 WHERE id = $2")
                .bind(keys.seal_str(&case.context("cvss"), &ratings::to_stored(&rated))?)
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
            let said: Vec<String> = rated
                .iter()
                .map(|c| format!("{} ({} {})", c.vector(), c.score(), c.severity()))
                .collect();
            changes.push(format!("CVSS set to {}", said.join(" and ")));
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
            index_text(&mut tx, keys, id, Source::Cve, cve).await?;
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
        // The stored date sent back (a form saved again, which shows it to the second)
        // is no new date: it changes nothing and tells nobody it moved.
        let new_embargo = patch.embargo_at.filter(|at| {
            case.embargo_at
                .is_none_or(|stored| stored.div_euclid(1000) != millis(*at).div_euclid(1000))
        });
        if let Some(at) = new_embargo {
            // A new date in the past would let the announcement go at once, unnoticed;
            // going out early is the override's, with its reason.
            if at < now_dt {
                return Err(StoreError::Invalid(format!(
                    "the embargo date {} is in the past: choose a time to come (to announce now, move the case with a reason for going out before the embargo)",
                    rfc3339(at)
                )));
            }
            sqlx::query("UPDATE cases SET embargo_at = $1 WHERE id = $2")
                .bind(millis(at))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            crate::agreement::embargo_moved(
                &mut tx,
                keys,
                Act {
                    case_id: id,
                    actor,
                    now,
                },
                &case,
                millis(at),
            )
            .await?;
            changes.push(format!(
                "embargo date set to {}",
                embargo_core::clocks::readable_time(at)
            ));
        }
        if let Some(owner) = &patch.owner {
            let owner = owner.trim();
            let owner_id: Option<i64> = match owner {
                "" => None,
                email => Some(team_member_id(&mut tx, email, auth.project_id).await?),
            };
            sqlx::query("UPDATE cases SET owner_id = $1 WHERE id = $2")
                .bind(owner_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changes.push(match owner {
                "" => "owner cleared".to_owned(),
                email => format!("owner set to {email}"),
            });
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
            versions
                .validate()
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            // The versions in words (the web form) leave what git said in place; only a
            // patch that brings git's facts replaces them.
            let mut versions = versions.clone();
            if !versions.has_git_facts() {
                let old = &case.versions;
                versions.ranges = old.ranges.clone();
                versions.releases = old.releases.clone();
                versions.introduced_commit = old.introduced_commit.clone();
                versions.fixed_commits = old.fixed_commits.clone();
            }
            sqlx::query("UPDATE cases SET versions_sealed = $1 WHERE id = $2")
                .bind(seal_json(keys, &case.context("versions"), &versions)?)
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
        // A correction to a published advisory is checked as its documents will be
        // served: one that would make any of them invalid is refused whole.
        let documents_change = patch.title.is_some()
            || patch.cvss.is_some()
            || patch.cve_id.is_some()
            || patch.embargo_at.is_some()
            || patch.versions.is_some()
            || patch.advisory.is_some()
            || patch.advisory_url.is_some();
        if documents_change && case.state().is_announced() {
            self.check_published_documents(&case).await?;
        }
        if case.state().is_announced() {
            // The corrected page and documents are rendered again for the public site.
            crate::jobs::enqueue(
                &mut tx,
                &crate::jobs::Task::RenderPublic { case_id: id },
                now,
            )
            .await?;
        }
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

    /// Adds a note to the collaborators' thread, which the team and the case's
    /// collaborators read.
    pub async fn add_shared_note(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        text: &str,
    ) -> Result<TimelineEvent> {
        self.post_text(viewer, case_ref, Post::Shared, text).await
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
            Post::Shared => (EventKind::SharedNote, "note", Need::Read),
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
        // A collaborator writes in their own thread: the team's internal notes are not
        // theirs to add to (nor to read).
        let kind = match (kind, auth.access) {
            (EventKind::Note, CaseAccess::Collaborator) => EventKind::SharedNote,
            (kind, _) => kind,
        };
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
        let collaborator = auth.access == CaseAccess::Collaborator;
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
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            let name: String = row.try_get("kind")?;
            let kind = EventKind::parse(&name).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown timeline entry kind {name:?}"))
            })?;
            // A collaborator sees their thread and how the case moves; a move's reason
            // is the team's own words and may name the reporter, so it is left out.
            if collaborator && !kind.shown_to_collaborators() {
                continue;
            }
            let sealed: Option<Vec<u8>> = match row.try_get("detail_sealed")? {
                Some(_) if collaborator && kind == EventKind::Transition => None,
                other => other,
            };
            let state = |col: &str| -> Result<Option<State>> {
                row.try_get::<Option<String>, _>(col)?
                    .map(|s| parse_state(&s))
                    .transpose()
            };
            events.push(TimelineEvent {
                id: row.try_get("id")?,
                at: rfc(row.try_get("at")?),
                actor: row.try_get("email")?,
                from_state: state("from_state")?,
                to_state: state("to_state")?,
                detail: sealed
                    .map(|s| {
                        open_logged(
                            self.keys(),
                            &crate::contexts::event(auth.project_id, auth.case_id, kind.as_str()),
                            &s,
                            "case_events",
                            row.try_get("id")?,
                        )
                    })
                    .transpose()?,
                kind,
            });
        }
        Ok(events)
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
            reference: case.case_ref(),
            project: case.project_key.clone(),
            title: if advisory.title.trim().is_empty() {
                case.title.clone()
            } else {
                advisory.title
            },
            cve_id: case.cve_id.clone(),
            cvss: case.cvss.as_ref().map(CvssSummary::from),
            ratings: case.ratings.iter().map(CvssSummary::from).collect(),
            versions: case.versions.clone(),
            description: advisory.description,
            mitigation: advisory.mitigation,
            credit: advisory.credit,
            references: advisory.references,
            announced_at: case.announced_at.map(rfc),
        })
    }
}
