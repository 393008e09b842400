//! CWE weaknesses by id: their names for advisories and every format, and MITRE's advice
//! on whether a weakness should be chosen for a vulnerability at all.

mod table;

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// MITRE's mapping advice for a weakness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Usage {
    /// Fine to map a vulnerability to.
    Allowed,
    /// Allowed, with care (often an abstract weakness).
    AllowedWithReview,
    /// Too abstract or overused: a more precise weakness usually fits.
    Discouraged,
    /// Not for mapping vulnerabilities (a category, or deprecated).
    Prohibited,
}

impl Usage {
    /// MITRE's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Usage::Allowed => "Allowed",
            Usage::AllowedWithReview => "Allowed-with-Review",
            Usage::Discouraged => "Discouraged",
            Usage::Prohibited => "Prohibited",
        }
    }
}

/// One weakness of the CWE list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weakness {
    /// The number, e.g. 79.
    pub id: u32,
    /// MITRE's mapping advice.
    pub usage: Usage,
    /// The name, e.g. "Improper Neutralization of Input During Web Page Generation
    /// ('Cross-site Scripting')".
    pub name: &'static str,
}

impl Weakness {
    /// `CWE-79`.
    pub fn cwe_id(&self) -> String {
        format!("CWE-{}", self.id)
    }

    /// The warning a team should see when choosing it, if MITRE advises against it.
    pub fn warning(&self) -> Option<String> {
        match self.usage {
            Usage::Allowed | Usage::AllowedWithReview => None,
            Usage::Discouraged => Some(format!(
                "MITRE discourages mapping vulnerabilities to CWE-{} ({}): a more precise weakness usually fits",
                self.id, self.name
            )),
            Usage::Prohibited => Some(format!(
                "MITRE prohibits mapping vulnerabilities to CWE-{} ({}): choose a weakness beneath it",
                self.id, self.name
            )),
        }
    }
}

impl fmt::Display for Weakness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CWE-{} {}", self.id, self.name)
    }
}

/// Why a CWE id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CweError {
    /// Not of the form CWE-NNN.
    #[error("'{0}' is not a CWE ID (expected CWE-NNN)")]
    NotAnId(String),
    /// Of the right form, but no weakness of the CWE list has it.
    #[error("{0} is not a weakness of the CWE list (version {version})", version = table::VERSION)]
    Unknown(String),
}

/// The version of the CWE list Embargo knows.
pub fn version() -> &'static str {
    table::VERSION
}

/// The weakness an id like `CWE-79` names.
pub fn lookup(id: &str) -> Result<&'static Weakness, CweError> {
    let number = id
        .strip_prefix("CWE-")
        .filter(|n| !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or_else(|| CweError::NotAnId(id.to_owned()))?;
    table::WEAKNESSES
        .binary_search_by_key(&number, |w| w.id)
        .map(|i| &table::WEAKNESSES[i])
        .map_err(|_| CweError::Unknown(id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_weaknesses_have_their_names_and_advice() {
        let xss = lookup("CWE-79").unwrap();
        assert_eq!(
            xss.name,
            "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"
        );
        assert_eq!(xss.warning(), None);
        let vague = lookup("CWE-20").unwrap();
        assert_eq!(vague.usage, Usage::Discouraged);
        assert!(vague.warning().unwrap().contains("discourages"));
        assert!(table::WEAKNESSES.windows(2).all(|w| w[0].id < w[1].id));
    }

    #[test]
    fn unknown_and_malformed_ids_are_refused_with_the_reason() {
        assert_eq!(lookup("CWE-1"), Err(CweError::Unknown("CWE-1".into())));
        assert_eq!(lookup("cwe-79"), Err(CweError::NotAnId("cwe-79".into())));
        assert_eq!(lookup("CWE-"), Err(CweError::NotAnId("CWE-".into())));
        assert_eq!(
            lookup("CWE-9999999999"),
            Err(CweError::NotAnId("CWE-9999999999".into()))
        );
        assert!(
            lookup("CWE-1")
                .unwrap_err()
                .to_string()
                .contains("not a weakness of the CWE list")
        );
    }
}
