//! What can happen on a case's timeline: the kinds of entry, each stored by its name.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! event_kinds {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)+) => {
        /// The kind of a timeline entry.
        // The stored names are the variants in kebab case (a test holds the two together);
        // the OpenAPI document reads them from this attribute.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "kebab-case")]
        pub enum EventKind {
            $($(#[$doc])* $variant,)+
        }

        impl EventKind {
            /// Every kind.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)+];

            /// The stored name, e.g. `message-to-reporter`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $name,)+
                }
            }

            /// Reads a stored name.
            pub fn parse(name: &str) -> Option<EventKind> {
                match name {
                    $($name => Some(EventKind::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

event_kinds! {
    /// The case was opened.
    Created => "created",
    /// Fields of the case changed (which, in the detail).
    Update => "update",
    /// An internal note.
    Note => "note",
    /// A message from the team to the reporter.
    MessageToReporter => "message-to-reporter",
    /// A message from the reporter (or an accepted co-reporter).
    ReporterMessage => "reporter-message",
    /// A message from someone else about the case.
    ThirdPartyMessage => "third-party-message",
    /// The case moved to another state.
    Transition => "transition",
    /// The retrospective was recorded.
    Retrospective => "retrospective",
    /// A duplicate was merged into this case.
    Merged => "merged",
    /// The foundation security team was told.
    Notified => "notified",
    /// A stalled case was escalated.
    Escalated => "escalated",
    /// The report arrived forwarded by someone else.
    Forwarded => "forwarded",
    /// The case moved to another project.
    Routed => "routed",
    /// Something happened to the case's CVE ID.
    Cve => "cve",
    /// A mail went out.
    MailSent => "mail-sent",
    /// The disclosure was scheduled.
    DisclosureScheduled => "disclosure-scheduled",
    /// The scheduled disclosure was cancelled.
    DisclosureCancelled => "disclosure-cancelled",
    /// A collaborator was invited.
    CollaboratorInvited => "collaborator-invited",
    /// A collaborator accepted the terms.
    CollaboratorAccepted => "collaborator-accepted",
    /// Distributors were pre-notified.
    PreNotified => "pre-notified",
    /// Someone's access to the case was revoked.
    AccessRevoked => "access-revoked",
    /// A distributor's access was granted again.
    AccessGranted => "access-granted",
    /// A co-reporter was accepted.
    CoReporterAdded => "co-reporter-added",
    /// A message on the case was moved to quarantine.
    MessageQuarantined => "message-quarantined",
    /// How an encrypted or signed message was read.
    Openpgp => "openpgp",
    /// The reporter accepted the embargo date.
    ReporterAgreed => "reporter-agreed",
    /// The reporter proposed another embargo date.
    ReporterProposed => "reporter-proposed",
    /// The reporter chose how to be credited.
    CreditChosen => "credit-chosen",
    /// The reporter agreed, or no longer agrees, that collaborators may know who they are.
    IdentityShared => "identity-shared",
    /// A team member gave their view of what the report is.
    TriageView => "triage-view",
    /// A team member asked others for their view.
    ViewsRequested => "views-requested",
    /// The fix moved on a branch (proposed, merged, released, not affected).
    FixStage => "fix-stage",
    /// Testing evidence was recorded.
    TestingEvidence => "testing-evidence",
    /// A note in the collaborators' thread: written by a collaborator, or by the team for
    /// them to read.
    SharedNote => "shared-note",
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EventKind {
    /// Whether a collaborator sees the entry: their own thread and how the case and its
    /// fix move, never the team's internal notes or the correspondence with the reporter
    /// (which names them).
    pub fn shown_to_collaborators(self) -> bool {
        matches!(
            self,
            EventKind::SharedNote
                | EventKind::Transition
                | EventKind::FixStage
                | EventKind::TestingEvidence
                | EventKind::Cve
                | EventKind::DisclosureScheduled
                | EventKind::DisclosureCancelled
        )
    }

    /// Whether the entry is part of the conversation with the reporter and others.
    pub fn is_correspondence(self) -> bool {
        matches!(
            self,
            EventKind::MessageToReporter
                | EventKind::ReporterMessage
                | EventKind::ThirdPartyMessage
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_and_serialises_as_stored() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(*kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.as_str().into())
            );
        }
        assert_eq!(EventKind::parse("Note"), None);
    }
}
