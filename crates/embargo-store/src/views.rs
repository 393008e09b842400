//! What the store hands out: cases as a team member sees them, the timeline, the checklist.
//! None of these derive `Debug`, so their content cannot be logged by accident.

use embargo_core::case::{AdvisoryDraft, Channel, Reporter, Versions};
use embargo_core::checklist::MarkStatus;
use embargo_core::clocks::Clocks;
use embargo_core::cvss::{CvssSummary, Severity};
use embargo_core::lifecycle::State;
use embargo_core::reference::{CaseRef, ProjectKey};
use serde::Serialize;
use utoipa::ToSchema;

/// A line of the team's queue.
#[derive(Serialize, ToSchema, serde::Deserialize)]
pub struct CaseSummary {
    /// The case reference, e.g. CLOUDSTACK-SEC-42.
    #[serde(rename = "ref")]
    #[schema(value_type = String, example = "CLOUDSTACK-SEC-42")]
    pub reference: CaseRef,
    /// The project key.
    #[schema(value_type = String, example = "CLOUDSTACK")]
    pub project: ProjectKey,
    /// Where the case stands.
    pub state: State,
    /// The case title.
    pub title: String,
    /// When the report was received (RFC 3339).
    pub received_at: String,
    /// When the case last changed (RFC 3339).
    pub updated_at: String,
    /// When the embargo lifts (RFC 3339), if agreed.
    pub embargo_at: Option<String>,
    /// The severity band of the CVSS rating, if rated.
    pub severity: Option<Severity>,
    /// The procedure's clocks.
    pub clocks: Clocks,
    /// A message from outside the team (the reporter, a third party) arrived since the
    /// viewer last opened the case.
    #[serde(default)]
    pub unread: bool,
    /// The member who owns the case, by address.
    #[serde(default)]
    pub owner: Option<String>,
}

/// An announcement that went out before the embargo date.
#[derive(Serialize, ToSchema, serde::Deserialize)]
pub struct EmbargoOverride {
    /// Why the embargo was not kept.
    pub reason: String,
    /// Who decided (email).
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
}

/// A case as its security team sees it.
#[derive(Serialize, ToSchema, serde::Deserialize)]
pub struct CaseDetail {
    /// The case reference.
    #[serde(rename = "ref")]
    #[schema(value_type = String, example = "CLOUDSTACK-SEC-42")]
    pub reference: CaseRef,
    /// The project key.
    #[schema(value_type = String, example = "CLOUDSTACK")]
    pub project: ProjectKey,
    /// Where the case stands.
    pub state: State,
    /// The states it may move to next.
    pub next_states: Vec<State>,
    /// How the report arrived.
    pub channel: Channel,
    /// The case title.
    pub title: String,
    /// The report as received.
    pub description: String,
    /// Who reported it.
    pub reporter: Reporter,
    /// When the report was received (RFC 3339).
    pub received_at: String,
    /// When the reporter was acknowledged (RFC 3339).
    pub acknowledged_at: Option<String>,
    /// When the case last changed (RFC 3339).
    pub updated_at: String,
    /// When the embargo lifts (RFC 3339).
    pub embargo_at: Option<String>,
    /// The CVSS rating (the newest version's, when there are two).
    pub cvss: Option<CvssSummary>,
    /// Every CVSS rating: at most one per version, oldest version first.
    #[serde(default)]
    pub ratings: Vec<CvssSummary>,
    /// What triage concluded the report is, kept when the case left triage.
    #[serde(default)]
    pub disposition: Option<embargo_core::triage::Disposition>,
    /// The reserved CVE ID.
    pub cve_id: Option<String>,
    /// Affected and fixed versions.
    pub versions: Versions,
    /// The advisory draft.
    pub advisory: AdvisoryDraft,
    /// The case this one duplicates.
    pub duplicate_of: Option<String>,
    /// Set when the announcement went out before the embargo date.
    pub embargo_override: Option<EmbargoOverride>,
    /// Words the commit guard blocks while the case is embargoed.
    pub sensitive_terms: Vec<String>,
    /// Reporters of duplicates merged into this case, kept for credit.
    pub merged_reporters: Vec<MergedReporter>,
    /// The fingerprint of the reporter's OpenPGP key, when known: mail to them is encrypted.
    pub reporter_key: Option<String>,
    /// Whether the reporter's identity is withheld from this viewer (a collaborator).
    #[serde(default)]
    pub reporter_withheld: bool,
    /// The member who owns the case, by address.
    #[serde(default)]
    pub owner: Option<String>,
    /// The archived public announcement, once recorded.
    pub advisory_url: Option<String>,
    /// The state of the CVE ID at CVE Services, when Embargo reserved or published it.
    pub cve_state: Option<embargo_core::cve_record::CveState>,
    /// The procedure's clocks.
    pub clocks: Clocks,
}

impl CaseDetail {
    /// The case as a collaborator is shown it: the reporter's identity (name, address,
    /// key, and those of merged duplicates) withheld. A collaborator helps with the
    /// vulnerability; who reported it is the team's to know.
    pub(crate) fn for_collaborator(mut self) -> CaseDetail {
        self.reporter = Reporter {
            name: None,
            email: None,
        };
        self.reporter_key = None;
        self.merged_reporters.clear();
        self.reporter_withheld = true;
        self
    }
}

/// One entry of a case's timeline.
#[derive(Serialize, ToSchema, serde::Deserialize)]
pub struct TimelineEvent {
    /// Ordinal of the event.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who (email), or none for Embargo itself.
    pub actor: Option<String>,
    /// What kind of entry.
    pub kind: embargo_core::timeline::EventKind,
    /// The state before a transition.
    pub from_state: Option<State>,
    /// The state after a transition.
    pub to_state: Option<State>,
    /// The reason, note or message text.
    pub detail: Option<String>,
}

/// One item of a case's checklist.
#[derive(Serialize, ToSchema, serde::Deserialize)]
pub struct ChecklistEntry {
    /// The item's key, e.g. cvss or fix:4.18.
    pub key: String,
    /// What it asks for.
    pub label: String,
    /// How it stands.
    pub status: MarkStatus,
    /// Whether Embargo ticks it by itself.
    pub automatic: bool,
    /// Whether people tick it by hand (absent from servers before it was shown).
    #[serde(default)]
    pub manual: bool,
    /// Who ticked it (email), or none for Embargo itself.
    pub by: Option<String>,
    /// When (RFC 3339).
    pub at: Option<String>,
    /// The note: commit ids, evidence links, and so on.
    pub note: Option<String>,
}

/// The public view of a case, open once it is made public.
#[derive(Serialize, ToSchema)]
pub struct PublicCase {
    /// The case reference.
    #[serde(rename = "ref")]
    #[schema(value_type = String, example = "CLOUDSTACK-SEC-42")]
    pub reference: CaseRef,
    /// The project key.
    #[schema(value_type = String, example = "CLOUDSTACK")]
    pub project: ProjectKey,
    /// The advisory title.
    pub title: String,
    /// The CVE ID.
    pub cve_id: Option<String>,
    /// The CVSS rating (the newest version's, when there are two).
    pub cvss: Option<CvssSummary>,
    /// Every CVSS rating: at most one per version, oldest version first.
    #[serde(default)]
    pub ratings: Vec<CvssSummary>,
    /// Affected and fixed versions.
    pub versions: Versions,
    /// What the vulnerability is.
    pub description: String,
    /// What users should do.
    pub mitigation: String,
    /// Who is credited.
    pub credit: String,
    /// Links.
    pub references: Vec<String>,
    /// When it was announced (RFC 3339).
    pub announced_at: Option<String>,
}

/// What a pre-notified distributor sees of a case: the advisory draft, the fix, and the
/// embargo date; nothing of the report, the reporter or the team's discussion.
#[derive(Clone, Serialize, ToSchema)]
pub struct AdvisoryView {
    /// The case reference.
    #[serde(rename = "ref")]
    #[schema(value_type = String, example = "CLOUDSTACK-SEC-42")]
    pub reference: CaseRef,
    /// The project key.
    #[schema(value_type = String, example = "CLOUDSTACK")]
    pub project: ProjectKey,
    /// Where the case stands.
    pub state: State,
    /// When the embargo lifts.
    pub embargo_at: Option<String>,
    /// The CVE ID.
    pub cve_id: Option<String>,
    /// The CVSS score (the newest version's, when there are two).
    pub cvss: Option<CvssSummary>,
    /// Every CVSS rating, oldest version first.
    #[serde(default)]
    pub ratings: Vec<CvssSummary>,
    /// Affected and fixed versions.
    pub versions: Versions,
    /// The advisory draft.
    pub advisory: AdvisoryDraft,
}

/// A person engaged on one case.
#[derive(Clone, Serialize, ToSchema)]
pub struct Collaborator {
    /// Their address.
    pub email: String,
    /// When they were invited.
    pub invited_at: String,
    /// When they accepted the confidentiality terms; until then they see nothing.
    pub accepted_at: Option<String>,
    /// The version of the terms they accepted.
    pub terms_version: Option<String>,
    /// When their access was withdrawn.
    pub revoked_at: Option<String>,
}

/// An invitation to collaborate on a case, for the team to pass on.
#[derive(Clone, Serialize, ToSchema)]
pub struct Invitation {
    /// The invitee: the single-use secret they accept with goes to them by mail, never to
    /// the inviter.
    pub email: String,
}

/// One message of the thread between the team and the reporter.
#[derive(Clone, Serialize, ToSchema)]
pub struct ThreadMessage {
    /// "reporter" or "team".
    pub from: String,
    /// When, RFC 3339.
    pub at: String,
    /// The text.
    pub text: String,
}

/// What a reporter sees through their secret link: the status and the external thread,
/// never internal notes.
#[derive(Clone, Serialize, ToSchema)]
pub struct ReporterView {
    /// The case reference.
    #[serde(rename = "ref")]
    #[schema(value_type = String, example = "CLOUDSTACK-SEC-42")]
    pub reference: embargo_core::reference::CaseRef,
    /// Where the case stands.
    pub state: State,
    /// When the report arrived.
    pub received_at: String,
    /// The embargo date the team proposes, once it has one (RFC 3339).
    pub embargo_at: Option<String>,
    /// When the date was agreed, if it is (by the reporter here, or recorded by the team).
    pub embargo_agreed_at: Option<String>,
    /// How they chose to be credited, once they did.
    pub credit: Option<embargo_core::case::CreditChoice>,
    /// The name the report came with, for the "by my name" choice.
    pub name_on_file: Option<String>,
    /// Whether they agreed that the case's collaborators may know who they are.
    #[serde(default)]
    pub identity_shared: bool,
    /// The report and the messages since, oldest first.
    pub thread: Vec<ThreadMessage>,
}

/// The reporter of a duplicate merged into a case: credited, with their own thread kept
/// on the duplicate.
#[derive(Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct MergedReporter {
    /// The duplicate case.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Who reported it.
    pub reporter: Reporter,
}
