//! What the team records about a case while it is embargoed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How a report reached the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// Filed through the API by a team member or a script.
    Api,
    /// Received by email.
    Email,
    /// Submitted on the public report form.
    WebForm,
    /// Created from a bulk import of findings.
    Import,
}

impl Channel {
    /// The stored name of the channel.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Api => "api",
            Channel::Email => "email",
            Channel::WebForm => "web-form",
            Channel::Import => "import",
        }
    }

    /// Reads a stored channel name.
    pub fn parse(s: &str) -> Option<Channel> {
        Some(match s {
            "api" => Channel::Api,
            "email" => Channel::Email,
            "web-form" => Channel::WebForm,
            "import" => Channel::Import,
            _ => return None,
        })
    }
}

/// Who reported the vulnerability; confidential until they agree to be credited.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reporter {
    /// The reporter's name, if they gave one.
    #[serde(default)]
    pub name: Option<String>,
    /// The address replies go to.
    #[serde(default)]
    pub email: Option<String>,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reporter([redacted])")
    }
}

/// The advisory as the team drafts it before the announcement.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryDraft {
    /// The advisory's headline; the case title is used when empty.
    #[serde(default)]
    pub title: String,
    /// What the vulnerability is and what an attacker can do with it.
    #[serde(default)]
    pub description: String,
    /// What users should do: upgrade, or the workaround.
    #[serde(default)]
    pub mitigation: String,
    /// Who found and reported it, as they wish to be credited.
    #[serde(default)]
    pub credit: String,
    /// Links to the fix, the release notes and related material.
    #[serde(default)]
    pub references: Vec<String>,
    /// The weakness, e.g. "CWE-79".
    #[serde(default)]
    pub cwe: Option<String>,
    /// How to be safe without upgrading, if there is a way.
    #[serde(default)]
    pub workarounds: String,
    /// Who is credited, each with their role, as the CVE record lists them.
    #[serde(default)]
    pub credits: Vec<Credit>,
    /// Affected products or packages with their version ranges; when empty, the project
    /// with the case's affected and fixed versions.
    #[serde(default)]
    pub products: Vec<Product>,
}

/// A person or organisation credited in the advisory.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credit {
    /// The name as they wish to be credited.
    pub name: String,
    /// What they did.
    #[serde(default)]
    pub role: CreditRole,
}

/// The roles of the CVE record format's credits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CreditRole {
    /// Found the vulnerability.
    #[default]
    Finder,
    /// Reported it to the project.
    Reporter,
    /// Analysed it.
    Analyst,
    /// Coordinated its disclosure.
    Coordinator,
    /// Wrote the fix.
    RemediationDeveloper,
    /// Reviewed the fix.
    RemediationReviewer,
    /// Verified the fix.
    RemediationVerifier,
    /// A tool that found it.
    Tool,
    /// Supported the work.
    Sponsor,
    /// Anything else.
    Other,
}

impl CreditRole {
    /// The name the CVE record format uses.
    pub fn cve_type(self) -> &'static str {
        match self {
            CreditRole::Finder => "finder",
            CreditRole::Reporter => "reporter",
            CreditRole::Analyst => "analyst",
            CreditRole::Coordinator => "coordinator",
            CreditRole::RemediationDeveloper => "remediation developer",
            CreditRole::RemediationReviewer => "remediation reviewer",
            CreditRole::RemediationVerifier => "remediation verifier",
            CreditRole::Tool => "tool",
            CreditRole::Sponsor => "sponsor",
            CreditRole::Other => "other",
        }
    }

    /// Reads the CVE record format's name.
    pub fn from_cve_type(s: &str) -> Option<CreditRole> {
        [
            CreditRole::Finder,
            CreditRole::Reporter,
            CreditRole::Analyst,
            CreditRole::Coordinator,
            CreditRole::RemediationDeveloper,
            CreditRole::RemediationReviewer,
            CreditRole::RemediationVerifier,
            CreditRole::Tool,
            CreditRole::Sponsor,
            CreditRole::Other,
        ]
        .into_iter()
        .find(|r| r.cve_type() == s)
    }
}

/// An affected product or package.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// The vendor; the organisation when empty.
    #[serde(default)]
    pub vendor: String,
    /// The product's name; the project's when empty.
    #[serde(default)]
    pub product: String,
    /// The package URL (without a version), e.g. "pkg:maven/org.apache.cloudstack/cloud-server".
    #[serde(default)]
    pub package_url: Option<String>,
    /// Affected version ranges.
    #[serde(default)]
    pub ranges: Vec<VersionRange>,
}

/// A range of affected versions: from `introduced` up to (not including) `fixed`, or up to
/// and including `last_affected` when no release fixes it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionRange {
    /// The first affected version.
    pub introduced: String,
    /// The first version with the fix.
    #[serde(default)]
    pub fixed: Option<String>,
    /// The last affected version, when there is no fixed one.
    #[serde(default)]
    pub last_affected: Option<String>,
}

/// Whether a text is a CWE ID such as "CWE-79".
pub fn is_cwe_id(text: &str) -> bool {
    text.strip_prefix("CWE-")
        .is_some_and(|n| !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit()))
}

impl std::fmt::Debug for AdvisoryDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdvisoryDraft([redacted])")
    }
}

impl AdvisoryDraft {
    /// The sections an announcement cannot go out without, that are still empty.
    pub fn missing_sections(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.description.trim().is_empty() {
            missing.push("description");
        }
        if self.mitigation.trim().is_empty() {
            missing.push("mitigation");
        }
        missing
    }
}

/// Which releases are affected and which carry the fix.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Versions {
    /// Affected versions or ranges, e.g. "4.0.0 through 4.18.1".
    #[serde(default)]
    pub affected: Vec<String>,
    /// Versions that carry the fix, e.g. "4.18.2".
    #[serde(default)]
    pub fixed: Vec<String>,
    /// What git says, from `embargo versions`: the affected releases as ranges, in
    /// version order, each from the first affected release to the next release that is
    /// not (or to the last affected one when none follows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<VersionRange>,
    /// Every affected release, enumerated from the tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub releases: Vec<String>,
    /// The commit that introduced the vulnerability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced_commit: Option<String>,
    /// The commits that fixed it, one per branch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_commits: Vec<String>,
}

/// Why versions were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionsError {
    /// A version with spaces or control characters, empty or too long.
    #[error("a version is 1 to 64 characters without spaces or control characters")]
    BadVersion,
    /// A commit that is not a hexadecimal object name.
    #[error("a commit id is 7 to 64 hexadecimal digits")]
    BadCommit,
    /// Too many entries.
    #[error("at most 500 versions, ranges or commits")]
    TooMany,
}

/// Whether `v` can be a version in a range: one word of at most 64 characters.
pub fn is_version_word(v: &str) -> bool {
    !v.is_empty() && v.len() <= 64 && !v.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Whether `c` is a commit's object name (abbreviated to 7 or more digits).
pub fn is_commit_id(c: &str) -> bool {
    (7..=64).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Versions {
    /// Whether git's facts are given (ranges, releases or commits), not only words.
    pub fn has_git_facts(&self) -> bool {
        !self.ranges.is_empty()
            || !self.releases.is_empty()
            || self.introduced_commit.is_some()
            || !self.fixed_commits.is_empty()
    }

    /// The affected versions in words read as ranges, when every entry is a version
    /// ("4.18.1") or a range written "4.0.0 through 4.18.2.0" (as `embargo versions`
    /// and earlier releases wrote them): each becomes a range to its last affected
    /// version. None when any entry is other prose; the words stand then.
    pub fn ranges_from_words(&self) -> Option<Vec<VersionRange>> {
        if self.affected.is_empty() {
            return None;
        }
        self.affected
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                let (first, last) = match entry.split_once(" through ") {
                    Some((a, b)) => (a.trim(), b.trim()),
                    None => (entry, entry),
                };
                let version =
                    |v: &str| is_version_word(v) && v.starts_with(|c: char| c.is_ascii_digit());
                (version(first) && version(last)).then(|| VersionRange {
                    introduced: first.to_owned(),
                    fixed: None,
                    last_affected: Some(last.to_owned()),
                })
            })
            .collect()
    }

    /// Refuses what git could not have said: versions with spaces, commits that are not
    /// object names. The versions in words are free text and are not checked here.
    pub fn validate(&self) -> Result<(), VersionsError> {
        if self.ranges.len() > 500 || self.releases.len() > 500 || self.fixed_commits.len() > 500 {
            return Err(VersionsError::TooMany);
        }
        let versions = self
            .ranges
            .iter()
            .flat_map(|r| {
                [
                    Some(&r.introduced),
                    r.fixed.as_ref(),
                    r.last_affected.as_ref(),
                ]
                .into_iter()
                .flatten()
            })
            .chain(&self.releases);
        for v in versions {
            if !is_version_word(v) {
                return Err(VersionsError::BadVersion);
            }
        }
        if self
            .introduced_commit
            .iter()
            .chain(&self.fixed_commits)
            .any(|c| !is_commit_id(c))
        {
            return Err(VersionsError::BadCommit);
        }
        Ok(())
    }
}

impl std::fmt::Debug for Versions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Versions([redacted])")
    }
}

/// How the reporter wishes to be credited, as they say on their page.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "choice", rename_all = "kebab-case")]
pub enum CreditChoice {
    /// By the name they reported under.
    Name,
    /// By a handle of their choosing.
    Handle {
        /// The handle.
        handle: String,
    },
    /// Not at all.
    Anonymous,
}

impl std::fmt::Debug for CreditChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CreditChoice([redacted])")
    }
}

/// The reporter's choice as kept with the case: what they chose, the text it credits
/// (none for anonymous), and the name they reported under, which the advisory then
/// never shows against their wish.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReporterCredit {
    /// What they chose.
    pub choice: CreditChoice,
    /// The credit it gives; none when anonymous.
    pub credited_as: Option<String>,
    /// The name they reported under, if any.
    pub reporter_name: Option<String>,
}

impl std::fmt::Debug for ReporterCredit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReporterCredit([redacted])")
    }
}

impl ReporterCredit {
    /// The advisory's credits with the reporter's wish applied: their entry (by the name
    /// they reported under or the credit they chose) replaced by what they chose, first.
    pub fn apply(&self, credits: &[Credit]) -> Vec<Credit> {
        let same = |a: &str, b: &Option<String>| {
            b.as_deref()
                .is_some_and(|b| a.trim().eq_ignore_ascii_case(b.trim()))
        };
        let mut out: Vec<Credit> = credits
            .iter()
            .filter(|c| !same(&c.name, &self.reporter_name) && !same(&c.name, &self.credited_as))
            .cloned()
            .collect();
        if let Some(name) = &self.credited_as {
            out.insert(
                0,
                Credit {
                    name: name.clone(),
                    role: CreditRole::Finder,
                },
            );
        }
        out
    }
}

#[cfg(test)]
mod credit_tests {
    use super::*;

    fn credit(name: &str, role: CreditRole) -> Credit {
        Credit {
            name: name.into(),
            role,
        }
    }

    #[test]
    fn the_reporters_wish_replaces_their_entry() {
        let team = vec![
            credit("Fay Finder", CreditRole::Finder),
            credit("Rae Reviewer", CreditRole::Other),
        ];
        let anonymous = ReporterCredit {
            choice: CreditChoice::Anonymous,
            credited_as: None,
            reporter_name: Some("Fay Finder".into()),
        };
        let names: Vec<String> = anonymous.apply(&team).into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["Rae Reviewer"]);
        let handle = ReporterCredit {
            choice: CreditChoice::Handle {
                handle: "fayf".into(),
            },
            credited_as: Some("fayf".into()),
            reporter_name: Some("fay finder".into()),
        };
        let names: Vec<String> = handle.apply(&team).into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["fayf", "Rae Reviewer"]);
        assert!(!format!("{handle:?}").contains("fayf"));
    }
}
