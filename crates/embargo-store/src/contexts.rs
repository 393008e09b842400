//! Seal contexts: the associated data each sealed value is bound to. A value opens only
//! under the context it was sealed with, so binding it to its project, its case and its
//! column means a row moved by SQL (to another case, or its case to another project)
//! fails to open instead of showing up in someone else's case. Every context is made
//! here, from [`SealContext`]; a typo elsewhere would make data unreadable, and the
//! strings are pinned by a test.

use std::fmt;

/// What a sealed value is, and whose: its associated data is this, written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SealContext<'a> {
    /// A field of a case (`cases.{field}_sealed`).
    CaseField {
        project_id: i64,
        number: i64,
        field: &'a str,
    },
    /// A timeline entry's detail (reason, note, message text).
    Event {
        project_id: i64,
        case_id: i64,
        kind: &'a str,
    },
    /// A checklist mark's note.
    Mark {
        project_id: i64,
        case_id: i64,
        item: &'a str,
    },
    /// An attachment's metadata or bytes (`part` is `meta` or `data`).
    Attachment {
        project_id: i64,
        case_id: i64,
        id: i64,
        part: &'a str,
    },
    /// A file the team added to a case (a private patch, testing evidence): its
    /// metadata or bytes (`part` is `meta` or `data`).
    CaseFile {
        project_id: i64,
        case_id: i64,
        id: i64,
        part: &'a str,
    },
    /// A fix stage's details (commit, version, review link, note) on one branch.
    Fix {
        project_id: i64,
        case_id: i64,
        branch: &'a str,
    },
    /// A kept message's raw bytes or Message-ID (`part` is `raw` or `message-id`), bound
    /// to the project whose desk holds it (0 for mail to no project).
    Message {
        project_id: Option<i64>,
        id: i64,
        part: &'a str,
    },
    /// An organisation's CVE Services credentials.
    CveCredentials { org_id: i64 },
    /// A forwarder's address in a job's payload.
    Forwarder { case_id: i64 },
    /// An invitation's address or secret (`what`) in a job's payload.
    Invitation { case_id: i64, what: &'a str },
    /// A team invitation's address or secret (`what`) in a job's payload.
    Welcome { invitation_id: i64, what: &'a str },
    /// A project team's OpenPGP secret key.
    TeamKeySecret { project_id: i64 },
    /// A distributor's acknowledgement secret for a pre-notification.
    PrenotificationAck { case_id: i64, user_id: i64 },
    /// The invisible mark of a distributor's copy.
    PrenotificationMark { case_id: i64, user_id: i64 },
    /// A user's TOTP secret.
    Totp { user_id: i64 },
    /// An accepted co-reporter's address.
    CoReporter { id: i64 },
    /// A data key wrapped by the master key.
    WrappedDataKey { id: i64 },
    /// The kept figures of one block of a project's cases, bound to the count, id sum
    /// and revision sum they were made from: an old block put back with today's marks
    /// does not open.
    FigureBlock {
        project_id: i64,
        block: i64,
        cases: i64,
        id_sum: i64,
        revisions: i64,
    },
    /// A published advisory's stored render, in one of its forms (page, OSV, …).
    PublicRender {
        project_id: i64,
        case_id: i64,
        form: &'a str,
    },
}

impl fmt::Display for SealContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SealContext::CaseField {
                project_id,
                number,
                field,
            } => write!(f, "case:{project_id}-{number}:{field}"),
            SealContext::Event {
                project_id,
                case_id,
                kind,
            } => write!(f, "event:{project_id}:{case_id}:{kind}"),
            SealContext::Mark {
                project_id,
                case_id,
                item,
            } => write!(f, "mark:{project_id}:{case_id}:{item}"),
            SealContext::Attachment {
                project_id,
                case_id,
                id,
                part,
            } => write!(f, "attachment:{project_id}:{case_id}:{id}:{part}"),
            SealContext::CaseFile {
                project_id,
                case_id,
                id,
                part,
            } => write!(f, "case-file:{project_id}:{case_id}:{id}:{part}"),
            SealContext::Fix {
                project_id,
                case_id,
                branch,
            } => write!(f, "fix:{project_id}:{case_id}:{branch}"),
            SealContext::Message {
                project_id,
                id,
                part,
            } => write!(f, "message:{}:{id}:{part}", project_id.unwrap_or(0)),
            SealContext::CveCredentials { org_id } => write!(f, "org:{org_id}:cve-services"),
            SealContext::Forwarder { case_id } => write!(f, "job:forwarder:{case_id}"),
            SealContext::Invitation { case_id, what } => {
                write!(f, "job:invitation:{case_id}:{what}")
            }
            SealContext::Welcome {
                invitation_id,
                what,
            } => write!(f, "job:welcome:{invitation_id}:{what}"),
            SealContext::TeamKeySecret { project_id } => {
                write!(f, "team-key:{project_id}:secret")
            }
            SealContext::PrenotificationAck { case_id, user_id } => {
                write!(f, "prenotification:{case_id}:{user_id}:ack")
            }
            SealContext::PrenotificationMark { case_id, user_id } => {
                write!(f, "prenotification:{case_id}:{user_id}:mark")
            }
            SealContext::Totp { user_id } => write!(f, "user:{user_id}:totp"),
            SealContext::CoReporter { id } => write!(f, "co-reporter:{id}"),
            SealContext::WrappedDataKey { id } => write!(f, "embargo data key {id}"),
            SealContext::FigureBlock {
                project_id,
                block,
                cases,
                id_sum,
                revisions,
            } => write!(
                f,
                "figures:{project_id}:{block}:{cases}:{id_sum}:{revisions}"
            ),
            SealContext::PublicRender {
                project_id,
                case_id,
                form,
            } => write!(f, "render:{project_id}:{case_id}:{form}"),
        }
    }
}

/// A case field's context.
pub(crate) fn case_field(project_id: i64, number: i64, field: &str) -> String {
    SealContext::CaseField {
        project_id,
        number,
        field,
    }
    .to_string()
}

/// A timeline entry's detail.
pub(crate) fn event(project_id: i64, case_id: i64, kind: &str) -> String {
    SealContext::Event {
        project_id,
        case_id,
        kind,
    }
    .to_string()
}

/// A checklist mark's note.
pub(crate) fn mark(project_id: i64, case_id: i64, item: &str) -> String {
    SealContext::Mark {
        project_id,
        case_id,
        item,
    }
    .to_string()
}

/// An attachment's metadata or bytes.
pub(crate) fn attachment(project_id: i64, case_id: i64, id: i64, part: &str) -> String {
    SealContext::Attachment {
        project_id,
        case_id,
        id,
        part,
    }
    .to_string()
}

/// A team file's metadata or bytes.
pub(crate) fn case_file(project_id: i64, case_id: i64, id: i64, part: &str) -> String {
    SealContext::CaseFile {
        project_id,
        case_id,
        id,
        part,
    }
    .to_string()
}

/// A fix stage's details.
pub(crate) fn fix(project_id: i64, case_id: i64, branch: &str) -> String {
    SealContext::Fix {
        project_id,
        case_id,
        branch,
    }
    .to_string()
}

/// A kept message's raw bytes or Message-ID.
pub(crate) fn message(project_id: Option<i64>, id: i64, part: &str) -> String {
    SealContext::Message {
        project_id,
        id,
        part,
    }
    .to_string()
}

/// An organisation's CVE Services credentials.
pub(crate) fn cve_credentials(org_id: i64) -> String {
    SealContext::CveCredentials { org_id }.to_string()
}

/// A forwarder's address in a job's payload.
pub(crate) fn forwarder(case_id: i64) -> String {
    SealContext::Forwarder { case_id }.to_string()
}

/// An invitation's address or secret in its mail job.
pub(crate) fn invitation(case_id: i64, what: &str) -> String {
    SealContext::Invitation { case_id, what }.to_string()
}

/// A team invitation's address or secret in a job's payload.
pub(crate) fn welcome(invitation_id: i64, what: &str) -> String {
    SealContext::Welcome {
        invitation_id,
        what,
    }
    .to_string()
}

/// A project team's OpenPGP secret key.
pub(crate) fn team_key_secret(project_id: i64) -> String {
    SealContext::TeamKeySecret { project_id }.to_string()
}

/// A distributor's acknowledgement secret.
pub(crate) fn prenotification_ack(case_id: i64, user_id: i64) -> String {
    SealContext::PrenotificationAck { case_id, user_id }.to_string()
}

/// The invisible mark of a distributor's copy.
pub(crate) fn prenotification_mark(case_id: i64, user_id: i64) -> String {
    SealContext::PrenotificationMark { case_id, user_id }.to_string()
}

/// A user's TOTP secret.
pub(crate) fn totp(user_id: i64) -> String {
    SealContext::Totp { user_id }.to_string()
}

/// An accepted co-reporter's address.
pub(crate) fn co_reporter(id: i64) -> String {
    SealContext::CoReporter { id }.to_string()
}

/// A data key wrapped by the master key.
pub(crate) fn wrapped_data_key(id: i64) -> String {
    SealContext::WrappedDataKey { id }.to_string()
}

/// The kept figures of one block of a project's cases, made from `cases` cases whose ids
/// sum to `id_sum` and revisions to `revisions`.
pub(crate) fn figure_block(
    project_id: i64,
    block: i64,
    cases: i64,
    id_sum: i64,
    revisions: i64,
) -> String {
    SealContext::FigureBlock {
        project_id,
        block,
        cases,
        id_sum,
        revisions,
    }
    .to_string()
}

/// A published advisory's stored render.
pub(crate) fn public_render(project_id: i64, case_id: i64, form: &str) -> String {
    SealContext::PublicRender {
        project_id,
        case_id,
        form,
    }
    .to_string()
}

/// The contexts before values were bound to their project and case, read once when a
/// database is upgraded (see the `bind` module).
pub(crate) mod legacy {
    pub(crate) fn event(case_id: i64, kind: &str) -> String {
        format!("event:{case_id}:{kind}")
    }
    pub(crate) fn mark(case_id: i64, item: &str) -> String {
        format!("mark:{case_id}:{item}")
    }
    pub(crate) fn attachment(id: i64, part: &str) -> String {
        format!("attachment:{id}:{part}")
    }
    pub(crate) fn message(id: i64, part: &str) -> String {
        format!("message:{id}:{part}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Changing any of these makes every value sealed under it unreadable.
    #[test]
    fn contexts_are_the_strings_data_was_sealed_with() {
        let pinned = [
            (
                SealContext::CaseField {
                    project_id: 1,
                    number: 2,
                    field: "title",
                },
                "case:1-2:title",
            ),
            (
                SealContext::Event {
                    project_id: 1,
                    case_id: 3,
                    kind: "note",
                },
                "event:1:3:note",
            ),
            (
                SealContext::Mark {
                    project_id: 1,
                    case_id: 3,
                    item: "cvss",
                },
                "mark:1:3:cvss",
            ),
            (
                SealContext::Attachment {
                    project_id: 1,
                    case_id: 3,
                    id: 4,
                    part: "data",
                },
                "attachment:1:3:4:data",
            ),
            (
                SealContext::CaseFile {
                    project_id: 1,
                    case_id: 3,
                    id: 4,
                    part: "meta",
                },
                "case-file:1:3:4:meta",
            ),
            (
                SealContext::Fix {
                    project_id: 1,
                    case_id: 3,
                    branch: "4.18",
                },
                "fix:1:3:4.18",
            ),
            (
                SealContext::Message {
                    project_id: None,
                    id: 5,
                    part: "raw",
                },
                "message:0:5:raw",
            ),
            (
                SealContext::CveCredentials { org_id: 6 },
                "org:6:cve-services",
            ),
            (SealContext::Forwarder { case_id: 3 }, "job:forwarder:3"),
            (
                SealContext::Invitation {
                    case_id: 3,
                    what: "to",
                },
                "job:invitation:3:to",
            ),
            (
                SealContext::Welcome {
                    invitation_id: 4,
                    what: "secret",
                },
                "job:welcome:4:secret",
            ),
            (
                SealContext::TeamKeySecret { project_id: 1 },
                "team-key:1:secret",
            ),
            (
                SealContext::PrenotificationAck {
                    case_id: 3,
                    user_id: 7,
                },
                "prenotification:3:7:ack",
            ),
            (
                SealContext::PrenotificationMark {
                    case_id: 3,
                    user_id: 7,
                },
                "prenotification:3:7:mark",
            ),
            (SealContext::Totp { user_id: 7 }, "user:7:totp"),
            (SealContext::CoReporter { id: 8 }, "co-reporter:8"),
            (SealContext::WrappedDataKey { id: 9 }, "embargo data key 9"),
            (
                SealContext::PublicRender {
                    project_id: 1,
                    case_id: 2,
                    form: "page",
                },
                "render:1:2:page",
            ),
            (
                SealContext::FigureBlock {
                    project_id: 1,
                    block: 3,
                    cases: 1024,
                    id_sum: 3670528,
                    revisions: 5000,
                },
                "figures:1:3:1024:3670528:5000",
            ),
        ];
        for (context, text) in pinned {
            assert_eq!(context.to_string(), text, "{context:?}");
        }
    }
}
