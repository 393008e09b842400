//! The case lifecycle of the Apache security procedure: states, the transitions
//! between them, and what each transition requires. This is the one table of rules;
//! storage and the API only carry out what it decides.

use crate::confidential::Confidential;

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::case::{AdvisoryDraft, Versions};

pub use crate::state::{ALL_STATES, State, UnknownState};

/// What the team has recorded on a case, as far as transitions depend on it.
#[derive(Debug, Clone, Default)]
pub struct CaseFacts {
    /// The current state; `None` is never valid and only eases construction.
    pub state: Option<State>,
    /// Whether a CVSS vector has been set.
    pub has_cvss: bool,
    /// Whether a CVE ID has been reserved and recorded.
    pub has_cve: bool,
    /// Affected and fixed versions.
    pub versions: Versions,
    /// The advisory draft.
    pub advisory: AdvisoryDraft,
    /// When the embargo lifts, if agreed.
    pub embargo_at: Option<OffsetDateTime>,
    /// The project's announcement lists that Embargo has not sent the announcement to.
    pub unsent_lists: Vec<String>,
    /// The branches whose fix is neither merged nor marked not affected (read for
    /// fix-ready).
    pub unfixed_branches: Vec<String>,
    /// Whether testing evidence is recorded (read for fix-ready).
    pub has_testing_evidence: bool,
}

/// What a person asks for when they move a case.
#[derive(Debug, Clone, Default)]
pub struct TransitionRequest {
    /// Why; recorded on the timeline.
    pub reason: Option<Confidential<String>>,
    /// The message sent to the reporter (required for invalid and duplicate).
    pub message_to_reporter: Option<Confidential<String>>,
    /// The case this one duplicates (required for duplicate).
    pub duplicate_of: Option<crate::reference::CaseRef>,
    /// Why the announcement goes out before the embargo date.
    pub override_reason: Option<Confidential<String>>,
    /// Why the case counts as announced although Embargo has not sent the announcement
    /// to every list (it went out by other means, say).
    pub not_sent_reason: Option<Confidential<String>>,
    /// How the project could make similar vulnerabilities less likely (required to close).
    pub retrospective: Option<Confidential<String>>,
    /// The retrospective's structured part: root cause, CWE, how it was introduced and
    /// found, what would have prevented it (required to close).
    pub retrospective_details: Option<crate::review::Retrospective>,
}

/// Something a transition needs that the case does not have yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// A CVSS 3.1 or 4.0 vector.
    CvssVector,
    /// A reserved CVE ID.
    CveId,
    /// At least one affected version.
    AffectedVersions,
    /// At least one fixed version.
    FixedVersions,
    /// The advisory's description.
    AdvisoryDescription,
    /// The advisory's mitigation section.
    AdvisoryMitigation,
    /// The agreed embargo date.
    EmbargoDate,
    /// The message to the reporter.
    MessageToReporter,
    /// The case this one duplicates.
    DuplicateOf,
    /// The retrospective.
    Retrospective,
    /// The retrospective's root cause and how the vulnerability was found.
    RetrospectiveDetails,
    /// A reason for reopening.
    Reason,
    /// The fix merged, or marked not affected, on trunk and every supported branch.
    FixOnEveryBranch,
    /// Testing evidence.
    TestingEvidence,
}

impl Requirement {
    /// How the requirement reads in a refusal.
    pub fn describe(self) -> &'static str {
        match self {
            Requirement::CvssVector => "a CVSS vector (3.1 or 4.0)",
            Requirement::CveId => "a reserved CVE ID",
            Requirement::AffectedVersions => "the affected versions",
            Requirement::FixedVersions => "the fixed versions",
            Requirement::AdvisoryDescription => "the advisory's description",
            Requirement::AdvisoryMitigation => "the advisory's mitigation",
            Requirement::EmbargoDate => "an embargo date",
            Requirement::MessageToReporter => "a message to the reporter",
            Requirement::DuplicateOf => "the reference of the case this one duplicates",
            Requirement::Retrospective => "a retrospective",
            Requirement::RetrospectiveDetails => {
                "the retrospective's root cause and how it was found (retrospective_details)"
            }
            Requirement::Reason => "a reason",
            Requirement::FixOnEveryBranch => {
                "the fix merged, or marked not affected, on every branch"
            }
            Requirement::TestingEvidence => "testing evidence",
        }
    }
}

/// Why a transition was refused. Each message says what is missing or what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The lifecycle has no such move.
    #[error("a case cannot move from {from} to {to}; from {from} it can move to: {}", list(.allowed))]
    NotAllowed {
        /// The current state.
        from: State,
        /// The state asked for.
        to: State,
        /// Where the case could go instead.
        allowed: Vec<State>,
    },
    /// The case is already in that state.
    #[error("the case is already {0}")]
    AlreadyThere(State),
    /// The public view and CHANGES/NEWS come only after the announcement.
    #[error("the case cannot be made public before it is announced (it is {0})")]
    PublicBeforeAnnouncement(State),
    /// Required facts are missing.
    #[error("moving to {to} needs {}{}", describe_all(.missing), still_open(.open_branches))]
    Missing {
        /// The state asked for.
        to: State,
        /// What is missing, in the order the procedure lists it.
        missing: Vec<Requirement>,
        /// The branches whose fix is still open, when that is missing.
        open_branches: Vec<String>,
    },
    /// The embargo date has not been reached.
    #[error("the embargo lifts at {embargo_at}; announcing earlier needs an override reason")]
    BeforeEmbargo {
        /// When the embargo lifts (RFC 3339).
        embargo_at: String,
    },
    /// A case cannot be a duplicate of itself.
    #[error("a case cannot be a duplicate of itself")]
    DuplicateOfItself,
    /// The announcement has not gone to every list.
    #[error(
        "the announcement has not been sent to {}; schedule the disclosure, or say why the case counts as announced anyway (not_sent_reason)",
        .lists.join(", ")
    )]
    NotSent {
        /// The lists that have not had it.
        lists: Vec<String>,
    },
}

fn list(states: &[State]) -> String {
    if states.is_empty() {
        return "nowhere (the case is closed)".to_owned();
    }
    states
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn still_open(branches: &[String]) -> String {
    if branches.is_empty() {
        String::new()
    } else {
        format!(" (still open: {})", branches.join(", "))
    }
}

fn describe_all(missing: &[Requirement]) -> String {
    missing
        .iter()
        .map(|r| r.describe())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A time the case records when it enters a state (a column of `cases`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// First confirmed; kept across later entries.
    Confirmed,
    /// Last marked fix-ready; a fix that goes back to work and returns is dated anew.
    FixReady,
    /// First announced; kept.
    Announced,
    /// First made public; kept.
    Public,
    /// Last closed.
    Closed,
}

impl Stamp {
    /// The column of `cases` that holds it.
    pub fn column(self) -> &'static str {
        match self {
            Stamp::Confirmed => "confirmed_at",
            Stamp::FixReady => "fix_ready_at",
            Stamp::Announced => "announced_at",
            Stamp::Public => "public_at",
            Stamp::Closed => "closed_at",
        }
    }

    /// Whether a later entry keeps the first time rather than the latest.
    pub fn keeps_first(self) -> bool {
        matches!(self, Stamp::Confirmed | Stamp::Announced | Stamp::Public)
    }
}

/// Everything entering a state does besides the move itself. [`on_entry`] is the table;
/// storage carries out what it says, for people and for Embargo itself alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnEntry {
    /// The time recorded on the case.
    pub stamp: Option<Stamp>,
    /// Checklist items ticked, by whoever made the move.
    pub marks: &'static [&'static str],
    /// A job tells the foundation security team.
    pub notify_foundation: bool,
    /// The request's message goes on the timeline and a job mails it to the reporter.
    pub mails_reporter: bool,
    /// Embargo tells the reporter itself (the announcement is out, with where to read
    /// the advisory): on the timeline, and mailed.
    pub tells_reporter: bool,
    /// The case is linked to the one it duplicates, whose reporters are credited.
    pub links_duplicate: bool,
    /// The retrospective (text and structured part) is recorded.
    pub records_retrospective: bool,
    /// A scheduled disclosure (pre-notifications and announcements not yet sent) is
    /// cancelled: the work goes back to fixing, and the team schedules again later.
    pub cancels_disclosure: bool,
}

const NOTHING: OnEntry = OnEntry {
    stamp: None,
    marks: &[],
    notify_foundation: false,
    mails_reporter: false,
    tells_reporter: false,
    links_duplicate: false,
    records_retrospective: false,
    cancels_disclosure: false,
};

/// The lifecycle's table of effects: what entering each state does.
pub fn on_entry(state: State) -> OnEntry {
    use crate::checklist::{CASE_PUBLIC, RETROSPECTIVE};
    match state {
        State::Reported | State::Triage | State::ReleasePending => NOTHING,
        State::Fixing => OnEntry {
            cancels_disclosure: true,
            ..NOTHING
        },
        State::Invalid => OnEntry {
            mails_reporter: true,
            ..NOTHING
        },
        State::Duplicate => OnEntry {
            mails_reporter: true,
            links_duplicate: true,
            ..NOTHING
        },
        State::Confirmed => OnEntry {
            stamp: Some(Stamp::Confirmed),
            notify_foundation: true,
            ..NOTHING
        },
        State::FixReady => OnEntry {
            stamp: Some(Stamp::FixReady),
            ..NOTHING
        },
        // Each list's line is ticked when its announcement is sent, not on entry: a case
        // moved here by hand has not necessarily been announced anywhere.
        State::Announced => OnEntry {
            stamp: Some(Stamp::Announced),
            tells_reporter: true,
            ..NOTHING
        },
        State::Public => OnEntry {
            stamp: Some(Stamp::Public),
            marks: &[CASE_PUBLIC],
            ..NOTHING
        },
        State::Closed => OnEntry {
            stamp: Some(Stamp::Closed),
            marks: &[RETROSPECTIVE],
            records_retrospective: true,
            ..NOTHING
        },
    }
}

/// A transition that the lifecycle allows, with everything storage must do to carry it
/// out: the table's entry for the new state and the request's parts it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effects {
    /// Where the case was.
    pub from: State,
    /// Where it goes.
    pub to: State,
    /// What entering `to` does.
    pub entry: OnEntry,
    /// The timeline's text for the move: the reason, and the override if there is one.
    pub detail: Option<Confidential<String>>,
    /// The message to send to the reporter (when `entry.mails_reporter`).
    pub message_to_reporter: Option<Confidential<String>>,
    /// The announcement went out before the embargo date, for this reason.
    pub embargo_override: Option<Confidential<String>>,
    /// The case this one duplicates (when `entry.links_duplicate`).
    pub duplicate_of: Option<crate::reference::CaseRef>,
    /// The retrospective's text and structured part (when `entry.records_retrospective`).
    pub retrospective: Option<(Confidential<String>, crate::review::Retrospective)>,
}

impl Effects {
    /// Whether the foundation security team is to be notified.
    pub fn notify_foundation(&self) -> bool {
        self.entry.notify_foundation
    }
}

fn non_empty(s: &Option<Confidential<String>>) -> Option<Confidential<String>> {
    s.as_ref()
        .map(|s| s.expose().trim())
        .filter(|s| !s.is_empty())
        .map(Confidential::from)
}

/// Decides whether a case may move to `to` now, and what else must happen if it does.
pub fn check_transition(
    facts: &CaseFacts,
    self_ref: Option<&crate::reference::CaseRef>,
    to: State,
    req: &TransitionRequest,
    now: OffsetDateTime,
) -> Result<Effects, Refusal> {
    let from = facts.state.unwrap_or(State::Reported);
    if from == to {
        return Err(Refusal::AlreadyThere(from));
    }
    if !from.next_states().contains(&to) {
        if to == State::Public && !from.is_announced() {
            return Err(Refusal::PublicBeforeAnnouncement(from));
        }
        return Err(Refusal::NotAllowed {
            from,
            to,
            allowed: from.next_states().to_vec(),
        });
    }
    let entry = on_entry(to);
    let mut message_to_reporter = None;
    let mut embargo_override = None;
    let mut retrospective = None;
    let mut missing = Vec::new();
    if entry.mails_reporter {
        message_to_reporter = non_empty(&req.message_to_reporter);
        if message_to_reporter.is_none() {
            missing.push(Requirement::MessageToReporter);
        }
    }
    if entry.links_duplicate {
        match &req.duplicate_of {
            None => missing.push(Requirement::DuplicateOf),
            Some(other) if Some(other) == self_ref => {
                return Err(Refusal::DuplicateOfItself);
            }
            Some(_) => {}
        }
    }
    if entry.records_retrospective {
        let text = non_empty(&req.retrospective);
        if text.is_none() {
            missing.push(Requirement::Retrospective);
        }
        if req.retrospective_details.is_none() {
            missing.push(Requirement::RetrospectiveDetails);
        }
        retrospective = text.zip(req.retrospective_details.clone());
    }
    match to {
        State::Triage
            if matches!(from, State::Invalid | State::Duplicate)
                && non_empty(&req.reason).is_none() =>
        {
            missing.push(Requirement::Reason);
        }
        State::FixReady => {
            if !facts.unfixed_branches.is_empty() {
                missing.push(Requirement::FixOnEveryBranch);
            }
            if !facts.has_testing_evidence {
                missing.push(Requirement::TestingEvidence);
            }
        }
        State::ReleasePending => {
            if !facts.has_cvss {
                missing.push(Requirement::CvssVector);
            }
            if !facts.has_cve {
                missing.push(Requirement::CveId);
            }
            if facts.versions.affected.iter().all(|v| v.trim().is_empty()) {
                missing.push(Requirement::AffectedVersions);
            }
            if facts.versions.fixed.iter().all(|v| v.trim().is_empty()) {
                missing.push(Requirement::FixedVersions);
            }
            for section in facts.advisory.missing_sections() {
                missing.push(match section {
                    "description" => Requirement::AdvisoryDescription,
                    _ => Requirement::AdvisoryMitigation,
                });
            }
            if facts.embargo_at.is_none() {
                missing.push(Requirement::EmbargoDate);
            }
        }
        State::Announced => match facts.embargo_at {
            None => missing.push(Requirement::EmbargoDate),
            Some(at) if now < at => match non_empty(&req.override_reason) {
                Some(reason) => embargo_override = Some(reason),
                None => {
                    return Err(Refusal::BeforeEmbargo {
                        embargo_at: crate::clocks::rfc3339(at),
                    });
                }
            },
            Some(_) => {}
        },
        _ => {}
    }
    if !missing.is_empty() {
        let open_branches = if missing.contains(&Requirement::FixOnEveryBranch) {
            facts.unfixed_branches.clone()
        } else {
            Vec::new()
        };
        return Err(Refusal::Missing {
            to,
            missing,
            open_branches,
        });
    }
    let mut not_sent = None;
    if to == State::Announced && !facts.unsent_lists.is_empty() {
        match non_empty(&req.not_sent_reason) {
            Some(why) => {
                not_sent = Some(format!(
                    "announced without Embargo's mail to {}: {}",
                    facts.unsent_lists.join(", "),
                    why.expose()
                ))
            }
            None => {
                return Err(Refusal::NotSent {
                    lists: facts.unsent_lists.clone(),
                });
            }
        }
    }
    let reason = non_empty(&req.reason);
    let mut parts: Vec<String> = reason.map(|r| r.expose().clone()).into_iter().collect();
    if let Some(o) = &embargo_override {
        parts.push(format!("announced before the embargo date: {}", o.expose()));
    }
    parts.extend(not_sent);
    let detail = match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(format!("{} ({})", parts[0], parts[1..].join("; "))),
    };
    Ok(Effects {
        from,
        to,
        entry,
        detail: detail.map(Confidential::from),
        message_to_reporter,
        embargo_override,
        duplicate_of: req.duplicate_of.clone().filter(|_| entry.links_duplicate),
        retrospective,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ready() -> CaseFacts {
        CaseFacts {
            state: Some(State::FixReady),
            has_cvss: true,
            has_cve: true,
            versions: Versions {
                affected: vec!["4.0".into()],
                fixed: vec!["4.1".into()],
                ..Versions::default()
            },
            advisory: AdvisoryDraft {
                description: "d".into(),
                mitigation: "m".into(),
                ..Default::default()
            },
            embargo_at: Some(datetime!(2026-12-01 12:00 UTC)),
            unsent_lists: Vec::new(),
            unfixed_branches: Vec::new(),
            has_testing_evidence: true,
        }
    }

    #[test]
    fn announced_by_hand_accounts_for_every_unsent_list() {
        let mut facts = ready();
        facts.state = Some(State::ReleasePending);
        facts.unsent_lists = vec!["dev@p.example".into(), "oss-security@lists.example".into()];
        let after = datetime!(2026-12-02 12:00 UTC);
        let err = check_transition(
            &facts,
            None,
            State::Announced,
            &TransitionRequest::default(),
            after,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the announcement has not been sent to dev@p.example, oss-security@lists.example; schedule the disclosure, or say why the case counts as announced anyway (not_sent_reason)"
        );
        let req = TransitionRequest {
            not_sent_reason: Some("posted by hand".into()),
            ..Default::default()
        };
        let effects = check_transition(&facts, None, State::Announced, &req, after).unwrap();
        assert_eq!(
            effects.detail.unwrap().expose(),
            "announced without Embargo's mail to dev@p.example, oss-security@lists.example: posted by hand"
        );
    }

    #[test]
    fn release_pending_names_each_missing_requirement() {
        let now = datetime!(2026-11-01 0:00 UTC);
        let req = TransitionRequest::default();
        assert!(check_transition(&ready(), None, State::ReleasePending, &req, now).is_ok());
        type Breaker = fn(&mut CaseFacts);
        let cases: [(Breaker, Requirement); 7] = [
            (|f| f.has_cvss = false, Requirement::CvssVector),
            (|f| f.has_cve = false, Requirement::CveId),
            (
                |f| f.versions.affected.clear(),
                Requirement::AffectedVersions,
            ),
            (
                |f| f.versions.fixed = vec![" ".into()],
                Requirement::FixedVersions,
            ),
            (
                |f| f.advisory.description.clear(),
                Requirement::AdvisoryDescription,
            ),
            (
                |f| f.advisory.mitigation.clear(),
                Requirement::AdvisoryMitigation,
            ),
            (|f| f.embargo_at = None, Requirement::EmbargoDate),
        ];
        for (break_it, requirement) in cases {
            let mut facts = ready();
            break_it(&mut facts);
            let err = check_transition(&facts, None, State::ReleasePending, &req, now).unwrap_err();
            assert_eq!(
                err,
                Refusal::Missing {
                    to: State::ReleasePending,
                    missing: vec![requirement],
                    open_branches: vec![],
                }
            );
            assert!(err.to_string().contains(requirement.describe()), "{err}");
        }
    }

    #[test]
    fn announcement_waits_for_the_embargo_unless_overridden() {
        let mut facts = ready();
        facts.state = Some(State::ReleasePending);
        let before = datetime!(2026-11-30 0:00 UTC);
        let err = check_transition(
            &facts,
            None,
            State::Announced,
            &TransitionRequest::default(),
            before,
        )
        .unwrap_err();
        assert!(matches!(err, Refusal::BeforeEmbargo { .. }), "{err}");
        let req = TransitionRequest {
            override_reason: Some("exploited in the wild".into()),
            ..Default::default()
        };
        let effects = check_transition(&facts, None, State::Announced, &req, before).unwrap();
        assert_eq!(
            effects
                .embargo_override
                .as_ref()
                .map(|r| r.expose().as_str()),
            Some("exploited in the wild")
        );
        let after = datetime!(2026-12-01 12:00 UTC);
        let effects = check_transition(
            &facts,
            None,
            State::Announced,
            &TransitionRequest::default(),
            after,
        )
        .unwrap();
        assert_eq!(effects.embargo_override, None);
    }

    #[test]
    fn fix_ready_waits_for_every_branch_and_the_evidence() {
        let now = datetime!(2026-11-01 0:00 UTC);
        let mut facts = CaseFacts {
            state: Some(State::Fixing),
            unfixed_branches: vec!["trunk".into(), "4.18".into()],
            ..Default::default()
        };
        let go = |f: &CaseFacts| {
            check_transition(f, None, State::FixReady, &TransitionRequest::default(), now)
        };
        let err = go(&facts).unwrap_err();
        assert_eq!(
            err,
            Refusal::Missing {
                to: State::FixReady,
                missing: vec![Requirement::FixOnEveryBranch, Requirement::TestingEvidence],
                open_branches: vec!["trunk".into(), "4.18".into()],
            }
        );
        assert!(err.to_string().contains("still open: trunk, 4.18"), "{err}");
        facts.unfixed_branches.clear();
        assert!(matches!(go(&facts), Err(Refusal::Missing { .. })));
        facts.has_testing_evidence = true;
        assert!(go(&facts).is_ok());
    }

    #[test]
    fn invalid_needs_a_message_and_public_needs_an_announcement() {
        let facts = CaseFacts {
            state: Some(State::Triage),
            ..Default::default()
        };
        let now = datetime!(2026-11-01 0:00 UTC);
        let err = check_transition(
            &facts,
            None,
            State::Invalid,
            &TransitionRequest::default(),
            now,
        )
        .unwrap_err();
        assert_eq!(
            err,
            Refusal::Missing {
                to: State::Invalid,
                missing: vec![Requirement::MessageToReporter],
                open_branches: vec![],
            }
        );
        let err = check_transition(
            &facts,
            None,
            State::Public,
            &TransitionRequest::default(),
            now,
        )
        .unwrap_err();
        assert_eq!(err, Refusal::PublicBeforeAnnouncement(State::Triage));
        let err = check_transition(
            &facts,
            None,
            State::Fixing,
            &TransitionRequest::default(),
            now,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("from triage it can move to: confirmed, invalid, duplicate"),
            "{err}"
        );
    }

    #[test]
    fn every_state_parses_back() {
        for s in ALL_STATES {
            assert_eq!(s.as_str().parse::<State>().unwrap(), s);
        }
    }
}
