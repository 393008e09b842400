//! Seal contexts: the associated data each sealed value is bound to. A value opens only
//! under the context it was sealed with, so binding it to its project, its case and its
//! column means a row moved by SQL (to another case, or its case to another project)
//! fails to open instead of showing up in someone else's case. Every context is made
//! here; a typo elsewhere would make data unreadable.

/// A timeline entry's detail (reason, note, message text).
pub(crate) fn event(project_id: i64, case_id: i64, kind: &str) -> String {
    format!("event:{project_id}:{case_id}:{kind}")
}

/// A checklist mark's note.
pub(crate) fn mark(project_id: i64, case_id: i64, item: &str) -> String {
    format!("mark:{project_id}:{case_id}:{item}")
}

/// An attachment's metadata or bytes (`part` is `meta` or `data`).
pub(crate) fn attachment(project_id: i64, case_id: i64, id: i64, part: &str) -> String {
    format!("attachment:{project_id}:{case_id}:{id}:{part}")
}

/// A kept message's raw bytes or Message-ID (`part` is `raw` or `message-id`), bound to
/// the project whose desk holds it (0 for mail to no project).
pub(crate) fn message(project_id: Option<i64>, id: i64, part: &str) -> String {
    format!("message:{}:{id}:{part}", project_id.unwrap_or(0))
}

/// The contexts before values were bound to their project and case, read once when a
/// database is upgraded (see `crate::bind`).
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
