//! Triage (SPEC §2.2): each team member's view of what a report is, the tally of the
//! views, and whether they agree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a member thinks a report is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// A vulnerability: confirm it.
    Valid,
    /// Not a vulnerability, but worth hardening (defence in depth).
    Hardening,
    /// Information only: nothing to fix.
    Information,
    /// Not a vulnerability.
    Invalid,
    /// Probably a duplicate of another case.
    Duplicate,
}

impl Disposition {
    /// Every disposition, in the order a form lists them.
    pub const ALL: [Disposition; 5] = [
        Disposition::Valid,
        Disposition::Hardening,
        Disposition::Information,
        Disposition::Invalid,
        Disposition::Duplicate,
    ];

    /// As stored, e.g. `hardening`.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Valid => "valid",
            Disposition::Hardening => "hardening",
            Disposition::Information => "information",
            Disposition::Invalid => "invalid",
            Disposition::Duplicate => "duplicate",
        }
    }

    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            Disposition::Valid => "valid: a vulnerability",
            Disposition::Hardening => "defence-in-depth hardening",
            Disposition::Information => "information only",
            Disposition::Invalid => "invalid: not a vulnerability",
            Disposition::Duplicate => "probable duplicate",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Disposition> {
        Disposition::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// How many members hold each view, and the view they all hold, if they do.
pub fn tally(views: &[Disposition]) -> (BTreeMap<Disposition, usize>, Option<Disposition>) {
    let mut counts = BTreeMap::new();
    for view in views {
        *counts.entry(*view).or_insert(0) += 1;
    }
    let agreed = match counts.len() {
        1 => counts.keys().next().copied(),
        _ => None,
    };
    (counts, agreed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_agree_only_when_all_are_the_same() {
        use Disposition::*;
        assert_eq!(tally(&[Valid, Valid]).1, Some(Valid));
        assert_eq!(tally(&[Valid, Hardening]).1, None);
        assert_eq!(tally(&[]).1, None);
        assert_eq!(tally(&[Valid, Hardening, Valid]).0[&Valid], 2);
        for d in Disposition::ALL {
            assert_eq!(Disposition::parse(d.as_str()), Some(d));
        }
    }
}
