//! The private fix, per branch (SPEC §2.5–2.6): on trunk and on each supported release
//! branch the fix moves through stages, and the case is fix-ready only when every
//! branch is merged (or released) or not affected, with testing evidence recorded.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The name of the development line every project has besides its release branches.
pub const TRUNK: &str = "trunk";

/// Where the fix stands on one branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FixStage {
    /// The branch does not carry the vulnerable code.
    NotAffected,
    /// A private patch is on the case, or a private review is open.
    Proposed,
    /// Merged, with its commit id.
    Merged,
    /// In a release, with its version.
    Released,
}

impl FixStage {
    /// Every stage, in the order a form lists them.
    pub const ALL: [FixStage; 4] = [
        FixStage::Proposed,
        FixStage::Merged,
        FixStage::Released,
        FixStage::NotAffected,
    ];

    /// As stored, e.g. `not-affected`.
    pub fn as_str(self) -> &'static str {
        match self {
            FixStage::NotAffected => "not-affected",
            FixStage::Proposed => "proposed",
            FixStage::Merged => "merged",
            FixStage::Released => "released",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<FixStage> {
        FixStage::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the branch needs nothing more before the case is fix-ready.
    pub fn is_done(self) -> bool {
        !matches!(self, FixStage::Proposed)
    }
}

/// What a stage records, sealed together: everything but the branch and the stage.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FixDetail {
    /// A link to the private review (proposed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_url: Option<String>,
    /// The commit that carries the fix on this branch (merged, released).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The release that carries it (released).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Anything else: why not affected, what the review said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The private patch, when one was uploaded: its file and what `git format-patch`
    /// said of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<PatchSummary>,
}

impl std::fmt::Debug for FixDetail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixDetail([redacted])")
    }
}

/// A private patch, as the case shows it without opening the file.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PatchSummary {
    /// The case file holding the patch.
    pub file_id: i64,
    /// The first patch's subject (the commit's summary line).
    pub subject: String,
    /// Its author, as `git format-patch` wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The commit it was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// How many patches the file holds (a series).
    pub patches: usize,
}

/// Why a fix stage was refused. Each message says what to give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    /// The branch is neither trunk nor one of the project's supported branches.
    #[error("'{branch}' is not a branch of this project; its branches are {}", .known.join(", "))]
    UnknownBranch {
        /// What was asked for.
        branch: String,
        /// Trunk and the supported branches.
        known: Vec<String>,
    },
    /// Proposed needs the patch or the review.
    #[error(
        "a proposed fix needs a private patch uploaded to the case or a link to its private review"
    )]
    NothingProposed,
    /// Merged needs the commit.
    #[error("a merged fix needs its commit id")]
    NoCommit,
    /// Released needs the version.
    #[error("a released fix needs the version that carries it")]
    NoVersion,
    /// The commit id is not a hexadecimal object name.
    #[error("a commit id is 7 to 64 hexadecimal digits")]
    BadCommit,
    /// The version is not one word.
    #[error("a version is 1 to 64 characters without spaces or control characters")]
    BadVersion,
    /// The review link is not an http(s) URL.
    #[error("the review link must be an http or https URL of at most 2000 bytes")]
    BadReviewUrl,
    /// The note is too long.
    #[error("a note is at most 10000 bytes")]
    LongNote,
}

/// Trunk, then the project's supported release branches: every line a fix is tracked on.
pub fn branches(supported: &[String]) -> Vec<String> {
    std::iter::once(TRUNK.to_owned())
        .chain(supported.iter().filter(|b| *b != TRUNK).cloned())
        .collect()
}

/// The checklist item a branch's fix ticks.
pub fn checklist_item(branch: &str) -> String {
    format!("fix:{branch}")
}

/// Checks a commit id: a full or abbreviated object name, lower-cased.
pub fn commit_id(s: &str) -> Result<String, FixError> {
    let s = s.trim();
    if (7..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(FixError::BadCommit)
    }
}

/// Checks a release version, e.g. `4.18.2.1`.
pub fn version(s: &str) -> Result<String, FixError> {
    let s = s.trim();
    if !s.is_empty() && s.len() <= 64 && !s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(s.to_owned())
    } else {
        Err(FixError::BadVersion)
    }
}

fn review_url(s: &str) -> Result<String, FixError> {
    let s = s.trim();
    let scheme_ok = s.starts_with("https://") || s.starts_with("http://");
    if scheme_ok && s.len() <= 2000 && !s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(s.to_owned())
    } else {
        Err(FixError::BadReviewUrl)
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks what a stage records and returns it cleaned. `previous` is the branch's last
/// record: a release keeps the merged commit, a merge keeps the patch it came from.
pub fn checked(
    stage: FixStage,
    given: &FixDetail,
    previous: Option<&FixDetail>,
) -> Result<FixDetail, FixError> {
    let mut detail = FixDetail {
        review_url: non_empty(&given.review_url).map(review_url).transpose()?,
        commit: non_empty(&given.commit).map(commit_id).transpose()?,
        version: non_empty(&given.version).map(version).transpose()?,
        note: non_empty(&given.note).map(str::to_owned),
        patch: given.patch.clone(),
    };
    if detail.note.as_ref().is_some_and(|n| n.len() > 10_000) {
        return Err(FixError::LongNote);
    }
    if stage != FixStage::NotAffected
        && let Some(prev) = previous
    {
        detail.patch = detail.patch.or_else(|| prev.patch.clone());
        detail.review_url = detail.review_url.or_else(|| prev.review_url.clone());
        if stage == FixStage::Released {
            detail.commit = detail.commit.or_else(|| prev.commit.clone());
        }
    }
    match stage {
        FixStage::Proposed if detail.patch.is_none() && detail.review_url.is_none() => {
            Err(FixError::NothingProposed)
        }
        FixStage::Merged if detail.commit.is_none() => Err(FixError::NoCommit),
        FixStage::Released if detail.version.is_none() => Err(FixError::NoVersion),
        _ => Ok(detail),
    }
}

/// How a stage reads in one line, on the checklist and the timeline.
pub fn describe(branch: &str, stage: FixStage, detail: &FixDetail) -> String {
    let short = |c: &String| c.chars().take(12).collect::<String>();
    let mut line = match stage {
        FixStage::NotAffected => format!("{branch}: not affected"),
        FixStage::Proposed => match (&detail.patch, &detail.review_url) {
            (Some(p), _) => format!("{branch}: proposed, patch \"{}\"", p.subject),
            (None, Some(url)) => format!("{branch}: proposed, in review at {url}"),
            (None, None) => format!("{branch}: proposed"),
        },
        FixStage::Merged => format!(
            "{branch}: merged as {}",
            detail.commit.as_ref().map(short).unwrap_or_default()
        ),
        FixStage::Released => format!(
            "{branch}: released in {}",
            detail.version.clone().unwrap_or_default()
        ),
    };
    if let Some(note) = &detail.note {
        line.push_str(" (");
        line.push_str(note);
        line.push(')');
    }
    line
}

/// Testing evidence: what was tested, links to runs, and files on the case.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TestingEvidence {
    /// What was tested and how.
    pub text: String,
    /// Links to test runs, reviews, reproductions.
    #[serde(default)]
    pub links: Vec<String>,
}

impl std::fmt::Debug for TestingEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestingEvidence([redacted])")
    }
}

/// Why testing evidence was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// No description.
    #[error("testing evidence says what was tested, in 1 to 100000 bytes")]
    NoText,
    /// A link that is not an http(s) URL.
    #[error("'{0}' is not an http or https link")]
    BadLink(String),
    /// Too many links.
    #[error("at most 50 links")]
    TooManyLinks,
}

impl TestingEvidence {
    /// Checks the evidence and returns it cleaned.
    pub fn checked(&self) -> Result<TestingEvidence, EvidenceError> {
        let text = self.text.trim();
        if text.is_empty() || text.len() > 100_000 {
            return Err(EvidenceError::NoText);
        }
        if self.links.len() > 50 {
            return Err(EvidenceError::TooManyLinks);
        }
        let links = self
            .links
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .map(|l| {
                review_url(l).map_err(|_| EvidenceError::BadLink(l.chars().take(80).collect()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TestingEvidence {
            text: text.to_owned(),
            links,
        })
    }

    /// The timeline line.
    pub fn describe(&self, files: &[String]) -> String {
        let mut s = self.text.clone();
        for link in &self.links {
            s.push_str("\n- ");
            s.push_str(link);
        }
        for file in files {
            s.push_str("\n- file: ");
            s.push_str(file);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail() -> FixDetail {
        FixDetail::default()
    }

    #[test]
    fn each_stage_needs_its_fact() {
        assert_eq!(
            checked(FixStage::Proposed, &detail(), None),
            Err(FixError::NothingProposed)
        );
        assert_eq!(
            checked(FixStage::Merged, &detail(), None),
            Err(FixError::NoCommit)
        );
        assert_eq!(
            checked(FixStage::Released, &detail(), None),
            Err(FixError::NoVersion)
        );
        assert!(checked(FixStage::NotAffected, &detail(), None).is_ok());
        let merged = FixDetail {
            commit: Some("ABCDEF1234".into()),
            ..detail()
        };
        let merged = checked(FixStage::Merged, &merged, None).unwrap();
        assert_eq!(merged.commit.as_deref(), Some("abcdef1234"));
        let released = FixDetail {
            version: Some("4.18.2.1".into()),
            ..detail()
        };
        let released = checked(FixStage::Released, &released, Some(&merged)).unwrap();
        assert_eq!(released.commit.as_deref(), Some("abcdef1234"));
    }

    #[test]
    fn hostile_values_are_refused() {
        for bad in ["xyz1234", "abc", "abcdef1; rm -rf /", "--all"] {
            assert_eq!(commit_id(bad), Err(FixError::BadCommit), "{bad}");
        }
        for bad in ["", "4.18 beta", "4.18\n2", &"9".repeat(65)] {
            assert_eq!(version(bad), Err(FixError::BadVersion), "{bad:?}");
        }
        let review = FixDetail {
            review_url: Some("javascript:alert(1)".into()),
            ..detail()
        };
        assert_eq!(
            checked(FixStage::Proposed, &review, None),
            Err(FixError::BadReviewUrl)
        );
    }

    #[test]
    fn trunk_comes_first_and_once() {
        assert_eq!(
            branches(&["4.18".into(), "trunk".into(), "4.19".into()]),
            ["trunk", "4.18", "4.19"]
        );
        assert!(FixStage::NotAffected.is_done() && !FixStage::Proposed.is_done());
    }

    #[test]
    fn evidence_needs_text_and_good_links() {
        let e = TestingEvidence {
            text: "  ".into(),
            links: vec![],
        };
        assert_eq!(e.checked(), Err(EvidenceError::NoText));
        let e = TestingEvidence {
            text: "ran the suite".into(),
            links: vec!["ftp://x".into()],
        };
        assert!(matches!(e.checked(), Err(EvidenceError::BadLink(_))));
    }
}
