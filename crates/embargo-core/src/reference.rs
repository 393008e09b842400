//! Case references (`CLOUDSTACK-SEC-42`) and project keys (`CLOUDSTACK`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a project key or case reference was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// A project key must be 2 to 32 letters or digits, starting with a letter.
    #[error(
        "project key '{0}' is not valid: use 2 to 32 letters or digits, starting with a letter"
    )]
    BadProjectKey(String),
    /// A case reference must read PROJECT-SEC-NUMBER.
    #[error("case reference '{0}' is not valid: expected the form PROJECT-SEC-42")]
    BadCaseRef(String),
}

/// The short upper-case key of a project, e.g. `CLOUDSTACK`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProjectKey(String);

impl ProjectKey {
    /// The key as stored and shown, always upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ProjectKey {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (2..=32).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric());
        if ok {
            Ok(ProjectKey(s.to_ascii_uppercase()))
        } else {
            Err(ReferenceError::BadProjectKey(s.to_owned()))
        }
    }
}

impl Serialize for ProjectKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ProjectKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for ProjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The reference a case is known by, e.g. `CLOUDSTACK-SEC-42`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseRef {
    /// The project the case belongs to.
    pub project: ProjectKey,
    /// The case number, counted per project from 1.
    pub number: i64,
}

impl FromStr for CaseRef {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ReferenceError::BadCaseRef(s.to_owned());
        let upper = s.to_ascii_uppercase();
        let (key, number) = upper.rsplit_once("-SEC-").ok_or_else(bad)?;
        let project = key.parse::<ProjectKey>().map_err(|_| bad())?;
        if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let number = number.parse::<i64>().map_err(|_| bad())?;
        if number < 1 {
            return Err(bad());
        }
        Ok(CaseRef { project, number })
    }
}

/// A case's reference from its project's key and number as stored, e.g.
/// `CLOUDSTACK-SEC-42`: the one spelling of a reference.
pub fn case_reference(project: &str, number: i64) -> String {
    format!("{project}-SEC-{number}")
}

impl fmt::Display for CaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&case_reference(self.project.as_str(), self.number))
    }
}

impl Serialize for CaseRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CaseRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Checks the form of a CVE identifier, `CVE-YYYY-NNNN` with four or more digits.
pub fn is_cve_id(s: &str) -> bool {
    let mut parts = s.split('-');
    let (Some("CVE"), Some(year), Some(seq), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && seq.len() >= 4
        && seq.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_refs_round_trip() {
        let r: CaseRef = "cloudstack-sec-42".parse().unwrap();
        assert_eq!(r.to_string(), "CLOUDSTACK-SEC-42");
        for bad in [
            "CLOUDSTACK-42",
            "CLOUDSTACK-SEC-",
            "CLOUDSTACK-SEC-0",
            "-SEC-1",
            "X-SEC-1",
            "A B-SEC-1",
            "CS-SEC-+1",
        ] {
            assert!(bad.parse::<CaseRef>().is_err(), "{bad}");
        }
    }

    #[test]
    fn cve_ids() {
        assert!(is_cve_id("CVE-2026-1234"));
        assert!(is_cve_id("CVE-2026-123456"));
        assert!(!is_cve_id("CVE-2026-123"));
        assert!(!is_cve_id("cve-2026-1234"));
        assert!(!is_cve_id("CVE-26-1234"));
    }
}
