//! The disclosure's rehearsal: every step it will take, when, to whom, with what, and
//! what would stop each, worked out from the case's facts alone. The store loads the
//! facts and schedules the steps; nothing here reads or writes anything.

use embargo_core::disclosure::{DisclosurePlan, DisclosureSettings, DisclosureStep, OrgSettings};
use embargo_core::state::State;
use time::{Duration, OffsetDateTime};

use crate::advisory::Advisory;
use crate::cve5::{Cna, Record};

/// What the rehearsal is worked out from.
pub struct Facts<'a> {
    /// The case's reference.
    pub reference: &'a embargo_core::reference::CaseRef,
    /// Where the case stands.
    pub state: State,
    /// When the embargo lifts.
    pub embargo_at: Option<OffsetDateTime>,
    /// Now.
    pub now: OffsetDateTime,
    /// The project's disclosure settings.
    pub settings: &'a DisclosureSettings,
    /// The organisation's publishing settings.
    pub org: &'a OrgSettings,
    /// The organisation's name, for a refusal that asks for its CNA identity.
    pub org_name: &'a str,
    /// The advisory as it will be published.
    pub advisory: &'a Advisory,
    /// The announcement's subject and text (signed when it will be).
    pub announcement: (&'a str, &'a str),
    /// Whether the announcement is OpenPGP-signed.
    pub signed: bool,
    /// The pre-notification's text (the embargo terms, then the advisory).
    pub prenotification: &'a str,
    /// The distributors to pre-notify.
    pub distributors: Vec<String>,
    /// The site's public URL.
    pub public_url: &'a str,
    /// Whether the disclosure is scheduled already.
    pub scheduled: bool,
    /// The official schemas each document is checked against, where the operator gave
    /// them.
    pub schemas: Option<&'a crate::schemas::Schemas>,
}

/// A generated document, or why it cannot be published: the format's own checks first,
/// then its official schema.
fn checked(
    made: Result<serde_json::Value, String>,
    schemas: Option<&crate::schemas::Schemas>,
    schema: crate::schemas::Schema,
) -> Result<serde_json::Value, String> {
    let doc = made?;
    match schemas
        .map(|s| s.problems(schema, &doc))
        .unwrap_or_default()
    {
        problems if problems.is_empty() => Ok(doc),
        problems => Err(problems.join("; ")),
    }
}

/// A time as the plan shows it: RFC 3339 to the millisecond, as stored.
fn stamp(at: OffsetDateTime) -> String {
    let ms = at.unix_timestamp_nanos() / 1_000_000;
    let at = OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).unwrap_or(at);
    embargo_core::clocks::rfc3339(at)
}

/// Works out the disclosure's steps; a step with a problem blocks the schedule.
pub fn plan(facts: Facts<'_>) -> DisclosurePlan {
    let Facts {
        reference,
        state,
        embargo_at,
        now,
        settings,
        org,
        org_name,
        advisory,
        announcement: (subject, body),
        signed,
        prenotification,
        distributors,
        public_url,
        scheduled,
        schemas,
    } = facts;
    let base = public_url.trim_end_matches('/');
    let at_embargo = embargo_at.map(|e| stamp(e.max(now)));
    let mut steps: Vec<DisclosureStep> = Vec::new();
    let mut step = |kind: &str,
                    at: Option<String>,
                    description: String,
                    recipients: Vec<String>,
                    subject: Option<String>,
                    content: Option<String>,
                    problem: Option<String>| {
        steps.push(DisclosureStep {
            order: steps.len() + 1,
            at,
            kind: kind.to_owned(),
            description,
            recipients,
            subject,
            content,
            problem,
        });
    };
    // What blocks every step.
    let blocker = match state {
        State::ReleasePending => None,
        s if s.is_announced() => Some(format!("the case is {s}: it was announced already")),
        s => Some(format!(
            "the case is {s}: disclosure is scheduled from release-pending, once the advisory, CVSS, CVE ID, versions and embargo date are set"
        )),
    }
    .or_else(|| embargo_at.is_none().then(|| "no embargo date is set".to_owned()))
    .or_else(|| settings.problem().map(|p| format!("disclosure settings: {p}")));
    if !distributors.is_empty() {
        let at = embargo_at.map(|e| stamp((e - Duration::days(settings.prenotify_days)).max(now)));
        step(
            "prenotification",
            at,
            format!(
                "pre-notify {} distributor(s) {} day(s) before the embargo time, with the advisory, the embargo date and an acknowledgement deadline",
                distributors.len(),
                settings.prenotify_days
            ),
            distributors,
            Some(format!(
                "[EMBARGOED until {}] {subject}",
                at_embargo.clone().unwrap_or_default()
            )),
            Some(prenotification.to_owned()),
            blocker.clone(),
        );
    }
    let lists = settings.all_lists();
    let list_problem = blocker.clone().or_else(|| {
        lists.is_empty().then(|| {
            "no announcement list is configured (project lists or oss-security)".to_owned()
        })
    });
    for list in lists
        .iter()
        .cloned()
        .chain(lists.is_empty().then(String::new))
    {
        let description = if list.is_empty() {
            "send the announcement".to_owned()
        } else {
            format!(
                "send the announcement{} to {list}",
                if signed { ", OpenPGP-signed," } else { "" }
            )
        };
        let recipients = if list.is_empty() {
            Vec::new()
        } else {
            vec![list]
        };
        step(
            "announcement",
            at_embargo.clone(),
            description,
            recipients,
            Some(subject.to_owned()),
            Some(body.to_owned()),
            list_problem.clone(),
        );
    }
    let cna = match (&org.cna_org_id, &org.cna_short_name) {
        (Some(id), Some(name)) => Ok(Cna {
            org_id: id.clone(),
            short_name: name.clone(),
        }),
        _ => Err(format!(
            "the organisation {org_name} has no CNA identity (embargo org set --cna-org-id … --cna-short-name …)"
        )),
    };
    let record = checked(
        cna.and_then(|cna| {
            Record::from_advisory(advisory, &cna)
                .map(|r| r.to_json())
                .map_err(|e| e.to_string())
        }),
        schemas,
        crate::schemas::Schema::Cve,
    );
    step(
        "cve-record",
        at_embargo.clone(),
        "make the CVE record (CVE JSON 5.1), checked; it is published once the archived announcement is recorded".to_owned(),
        Vec::new(),
        None,
        record
            .as_ref()
            .ok()
            .map(|r| serde_json::to_string_pretty(r).unwrap_or_default()),
        record.as_ref().err().cloned(),
    );
    let osv = checked(
        crate::osv::to_osv(advisory, &org.osv_prefix).map_err(|e| e.to_string()),
        schemas,
        crate::schemas::Schema::Osv,
    );
    step(
        "osv",
        at_embargo.clone(),
        "publish the OSV document".to_owned(),
        Vec::new(),
        None,
        osv.as_ref()
            .ok()
            .map(|d| serde_json::to_string_pretty(d).unwrap_or_default()),
        osv.as_ref().err().cloned(),
    );
    let publisher = crate::csaf::Publisher::of(advisory, org, base);
    let csaf = checked(
        crate::csaf::to_csaf(advisory, &publisher).map_err(|e| e.to_string()),
        schemas,
        crate::schemas::Schema::Csaf,
    );
    step(
        "csaf",
        at_embargo.clone(),
        "publish the CSAF 2.0 document (checked against the mandatory tests)".to_owned(),
        Vec::new(),
        None,
        csaf.as_ref()
            .ok()
            .map(|d| serde_json::to_string_pretty(d).unwrap_or_default()),
        csaf.as_ref().err().cloned(),
    );
    step(
        "pages",
        at_embargo.clone(),
        format!(
            "open the advisory page {base}/advisories/{reference} and its entry in {base}/advisories.atom"
        ),
        Vec::new(),
        None,
        None,
        blocker,
    );
    for after in [
        "record the archived announcement URL (embargo case set REF --advisory-url URL): it becomes the CVE record's advisory reference",
        "publish the CVE record through CVE Services, or export it for upload (refused until the archived announcement is recorded)",
        "add the CHANGES and NEWS entries (embargo changes)",
        "make the case public",
    ] {
        step(
            "after",
            None,
            after.to_owned(),
            Vec::new(),
            None,
            None,
            None,
        );
    }
    DisclosurePlan {
        reference: reference.clone(),
        embargo_at: embargo_at.map(stamp),
        ready: steps.iter().all(|s| s.problem.is_none()),
        scheduled,
        steps,
    }
}
