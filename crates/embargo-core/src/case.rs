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
}

impl std::fmt::Debug for Versions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Versions([redacted])")
    }
}
