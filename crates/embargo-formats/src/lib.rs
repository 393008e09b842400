//! Embargo's published formats, without I/O: the advisory and what is made from it (CVE
//! JSON 5 records, OSV and CSAF 2.0 documents, the announcement email, the Atom feed,
//! security.txt, CHANGES/NEWS entries), and reading published records back.

pub mod advisory;
pub mod announcement;
pub mod csaf;
pub mod cve5;
pub mod mark;
pub mod osv;
pub mod package;
pub mod rehearsal;
pub mod schemas;
pub mod site;

pub use advisory::{Advisory, Coordinates, GitFacts, Reference, TimelineEntry};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Errors of the formats. They name the member at fault, never the content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The advisory lacks something the format requires.
    #[error("the advisory needs {0}")]
    Incomplete(String),
    /// A document read is not valid.
    #[error("{0}")]
    Invalid(String),
}

/// A weakness as people read it: `CWE-79 Improper Neutralization …`, or the id alone when
/// the CWE list does not know it (a record imported from elsewhere).
pub fn cwe_words(id: &str) -> String {
    embargo_core::cwe::lookup(id)
        .map(|w| w.to_string())
        .unwrap_or_else(|_| id.to_owned())
}

/// A time as RFC 3339 in UTC with a `Z`, to the second (what every format accepts).
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Reads an RFC 3339 time (with or without fractional seconds or an offset); a date
/// alone is midnight UTC.
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(at);
    }
    // CVE records often leave out the offset: read those as UTC.
    if let Ok(at) = OffsetDateTime::parse(&format!("{s}Z"), &Rfc3339) {
        return Some(at);
    }
    let date = time::Date::parse(
        s.get(..10)?,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()?;
    Some(date.midnight().assume_utc())
}

#[cfg(test)]
mod tests;
