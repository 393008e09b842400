//! The checklist shown on every confirmed case (SPEC §2), each item with who and when.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::state::State;

/// How an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MarkStatus {
    /// Done.
    Done,
    /// Does not apply to this case (e.g. a branch that is not affected).
    NotApplicable,
    /// Not done (a mark taken back).
    Open,
}

impl MarkStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MarkStatus::Done => "done",
            MarkStatus::NotApplicable => "not-applicable",
            MarkStatus::Open => "open",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<MarkStatus> {
        Some(match s {
            "done" => MarkStatus::Done,
            "not-applicable" => MarkStatus::NotApplicable,
            "open" => MarkStatus::Open,
            _ => return None,
        })
    }
}

/// One item of the checklist, as defined for a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDef {
    /// The stable key, e.g. `cvss` or `fix:4.18`.
    pub key: String,
    /// What the item asks for.
    pub label: String,
    /// Whether Embargo ticks it by itself when the corresponding thing happens.
    pub automatic: bool,
    /// Whether people tick it by hand (also true of an automatic item whose action can
    /// happen outside Embargo, such as distributors told by other means).
    pub manual: bool,
    /// Whether the item may only be ticked after the announcement.
    pub after_announcement: bool,
}

fn item(key: &str, label: &str, automatic: bool) -> ItemDef {
    ItemDef {
        key: key.to_owned(),
        label: label.to_owned(),
        automatic,
        manual: !automatic,
        after_announcement: false,
    }
}

/// Key of the item ticked when the foundation team is notified.
pub const FOUNDATION_NOTIFIED: &str = "foundation-notified";
/// Key of the item ticked when the reporter accepts the embargo date on their page (or
/// by a team member who says, in a note, how the reporter agreed).
pub const EMBARGO_AGREED: &str = "embargo-agreed";
/// Key of the item ticked when testing evidence is recorded.
pub const TESTING: &str = "testing";
/// Key of the item ticked when a CVSS vector is set.
pub const CVSS: &str = "cvss";
/// Key of the item ticked when a CVE ID is recorded.
pub const CVE_RESERVED: &str = "cve-reserved";
/// Key of the item ticked when the advisory has every required section.
pub const ADVISORY: &str = "advisory";
/// Key of the item ticked when each pre-notification has been sent.
pub const DISTRIBUTORS_NOTIFIED: &str = "distributors-notified";
/// Key of the announcement item of a project without lists (ticked by hand), and of the
/// single item that stood for every list before each list had its own.
pub const ANNOUNCEMENT: &str = "announcement-sent";

/// Key of the item ticked when the announcement to `list` is sent.
pub fn announcement_to(list: &str) -> String {
    format!("announcement:{list}")
}
/// Key of the item ticked when the case is made public.
pub const CASE_PUBLIC: &str = "case-public";
/// Key of the item ticked when the retrospective is recorded.
pub const RETROSPECTIVE: &str = "retrospective";
/// Key of the CHANGES/NEWS item, which only makes sense after the announcement.
pub const CHANGES_NEWS: &str = "changes-news";

/// The checklist items for a project with these supported release branches and these
/// announcement lists.
pub fn items(branches: &[String], lists: &[String]) -> Vec<ItemDef> {
    let mut items = vec![
        item(
            FOUNDATION_NOTIFIED,
            "Foundation security team notified",
            true,
        ),
        item(CVSS, "CVSS rating", true),
        item(CVE_RESERVED, "CVE reserved", true),
        ItemDef {
            manual: true,
            ..item(
                EMBARGO_AGREED,
                "Embargo date agreed with the reporter",
                true,
            )
        },
    ];
    // Ticked by the fix records: merged or released is done, not affected does not apply.
    for branch in crate::fix::branches(branches) {
        items.push(item(
            &crate::fix::checklist_item(&branch),
            &format!("Fix merged on {branch} (or not affected)"),
            true,
        ));
    }
    items.extend([
        item(TESTING, "Testing evidence recorded", true),
        item(ADVISORY, "Advisory drafted", true),
        item("release-ready", "Release or hotfix ready", false),
        // Ticked when Embargo's pre-notifications go out, or by hand for distributors
        // told by other means.
        ItemDef {
            manual: true,
            ..item(DISTRIBUTORS_NOTIFIED, "Distributors notified", true)
        },
    ]);
    if lists.is_empty() {
        items.push(item(
            ANNOUNCEMENT,
            "Announcement sent (the project names no lists)",
            false,
        ));
    }
    for list in lists {
        items.push(item(
            &announcement_to(list),
            &format!("Announcement sent to {list}"),
            true,
        ));
    }
    items.extend([
        item("cve-published", "CVE published", false),
        ItemDef {
            after_announcement: true,
            ..item(CHANGES_NEWS, "CHANGES and NEWS updated", false)
        },
        ItemDef {
            after_announcement: true,
            ..item(CASE_PUBLIC, "Case made public", true)
        },
        item(RETROSPECTIVE, "Retrospective", true),
    ]);
    items
}

/// Why a checklist mark was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecklistError {
    /// The item is not on this project's checklist.
    #[error("'{0}' is not a checklist item of this project")]
    UnknownItem(String),
    /// The checklist applies to confirmed vulnerabilities only.
    #[error("the checklist applies once the case is confirmed (it is {0})")]
    NotConfirmed(State),
    /// CHANGES/NEWS and the public view come only after the announcement.
    #[error("'{0}' can only be ticked after the announcement (the case is {1})")]
    BeforeAnnouncement(String, State),
    /// The fix lines and testing evidence follow their records, not a tick.
    #[error("'{0}' follows the fix records: record the fix on the branch, or the testing evidence")]
    FollowsFixRecords(String),
}

/// Checks whether an item may be marked on a case in `state`.
pub fn check_mark(
    branches: &[String],
    lists: &[String],
    key: &str,
    state: State,
) -> Result<ItemDef, ChecklistError> {
    let def = items(branches, lists)
        .into_iter()
        .find(|i| i.key == key)
        .ok_or_else(|| ChecklistError::UnknownItem(key.to_owned()))?;
    if !state.is_confirmed() {
        return Err(ChecklistError::NotConfirmed(state));
    }
    if def.key.starts_with("fix:") || def.key == TESTING {
        return Err(ChecklistError::FollowsFixRecords(def.key));
    }
    if def.after_announcement && !state.is_announced() {
        return Err(ChecklistError::BeforeAnnouncement(key.to_owned(), state));
    }
    Ok(def)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_branch_gets_its_own_fix_item() {
        let items = items(&["4.18".to_owned(), "4.19".to_owned()], &[]);
        assert!(items.iter().any(|i| i.key == "fix:4.18"));
        assert!(items.iter().any(|i| i.key == "fix:4.19"));
    }

    #[test]
    fn each_list_gets_its_own_announcement_line() {
        let lists = [
            "dev@cloudstack.example".to_owned(),
            "oss-security@lists.openwall.com".to_owned(),
        ];
        let items = items(&[], &lists);
        for list in &lists {
            let line = items
                .iter()
                .find(|i| i.key == announcement_to(list))
                .unwrap();
            assert!(line.automatic && !line.manual, "{list}: ticked by the send");
        }
        assert!(!items.iter().any(|i| i.key == ANNOUNCEMENT));
        let by_hand = super::items(&[], &[]);
        assert!(by_hand.iter().any(|i| i.key == ANNOUNCEMENT && i.manual));
    }

    #[test]
    fn changes_news_waits_for_the_announcement() {
        let err = check_mark(&[], &[], CHANGES_NEWS, State::ReleasePending).unwrap_err();
        assert_eq!(
            err,
            ChecklistError::BeforeAnnouncement(CHANGES_NEWS.into(), State::ReleasePending)
        );
        assert!(check_mark(&[], &[], CHANGES_NEWS, State::Announced).is_ok());
        assert!(matches!(
            check_mark(&[], &[], "cvss", State::Triage),
            Err(ChecklistError::NotConfirmed(_))
        ));
    }
}
