//! Affected and fixed versions from git: which release tags contain the commit that
//! introduced the vulnerability but none of the commits that fixed it.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

/// Affected releases from `introduced` up to (not including) `fixed`, or up to and
/// including `last_affected` when no release follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRange {
    /// The first affected version.
    pub introduced: String,
    /// The first version after it that is not affected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The last affected version, when no release follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
}

use crate::git::{GitError, git};

/// Which releases are affected and which carry a fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionReport {
    /// Tags that contain the bug and no fix, in version order.
    pub affected: Vec<String>,
    /// The affected tags as ranges of consecutive releases ("v1.1 through v1.2.1").
    pub affected_ranges: Vec<String>,
    /// For each fixing commit, the first release that carries it.
    pub fixed: Vec<String>,
    /// Tags that predate the bug.
    pub unaffected: Vec<String>,
    /// The affected releases as version ranges, in version order: each from the first
    /// affected release of a run to the release after it (which is not affected), or to
    /// the last affected one when no release follows. Read tag by tag in the same order,
    /// they say exactly what `affected` says.
    pub ranges: Vec<VersionRange>,
    /// The affected releases as versions (the tags without their prefix, e.g. `v`).
    pub releases: Vec<String>,
    /// The introducing commit, in full.
    pub introduced_commit: String,
    /// The fixing commits, in full.
    pub fixed_commits: Vec<String>,
}

/// The version a release tag names: the tag from its first digit on, so `v1.2.0` and
/// `release-1.2.0` are `1.2.0`; a tag without digits is its own version.
pub fn version_of(tag: &str) -> &str {
    match tag.find(|c: char| c.is_ascii_digit()) {
        Some(at) => &tag[at..],
        None => tag,
    }
}

fn lines(bytes: Vec<u8>) -> Vec<String> {
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn tags(
    repo: &Path,
    pattern: Option<&str>,
    contains: Option<&str>,
) -> Result<Vec<String>, GitError> {
    let mut args = vec!["tag", "--list", "--sort=v:refname"];
    if let Some(commit) = contains {
        args.extend(["--contains", commit]);
    }
    if let Some(p) = pattern {
        args.push(p);
    }
    Ok(lines(git(repo, &args)?))
}

fn commit_id(repo: &Path, commit: &str) -> Result<String, GitError> {
    let spec = format!("{commit}^{{commit}}");
    git(repo, &["rev-parse", "--verify", "--quiet", &spec])
        .ok()
        .and_then(|out| lines(out).into_iter().next())
        .ok_or_else(|| GitError::BadInput(format!("'{commit}' is not a commit of this repository")))
}

/// Where a branch of the case lives in a repository: the local branch, else origin's.
/// Trunk is the branch `HEAD` points at unless the repository has one called `trunk`.
pub fn branch_ref(repo: &Path, branch: &str) -> Result<String, GitError> {
    let candidates = [
        format!("refs/heads/{branch}"),
        format!("refs/remotes/origin/{branch}"),
    ];
    for candidate in &candidates {
        let spec = format!("{candidate}^{{commit}}");
        if git(repo, &["rev-parse", "--verify", "--quiet", &spec]).is_ok() {
            return Ok(candidate.clone());
        }
    }
    // The name Embargo gives the development line (embargo_core::fix::TRUNK).
    if branch == "trunk" {
        return Ok("HEAD".to_owned());
    }
    Err(GitError::BadInput(format!(
        "the repository has no branch '{branch}' (looked for {})",
        candidates.join(" and ")
    )))
}

/// Checks that `commit` is on `branch`: an ancestor of (or) its tip.
pub fn check_on_branch(repo: &Path, commit: &str, branch: &str) -> Result<String, GitError> {
    let id = commit_id(repo, commit)?;
    let tip = branch_ref(repo, branch)?;
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["merge-base", "--is-ancestor", &id, &tip])
        .output()
        .map_err(GitError::Spawn)?;
    match out.status.code() {
        Some(0) => Ok(id),
        Some(1) => Err(GitError::BadInput(format!(
            "commit {commit} is not on {branch} ({tip})"
        ))),
        _ => Err(GitError::Failed {
            command: "merge-base".into(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        }),
    }
}

/// Works out affected and fixed releases from the introducing commit and one fixing
/// commit per supported branch. `pattern` limits the tags considered (e.g. `v*`).
pub fn affected_versions(
    repo: &Path,
    introduced: &str,
    fixes: &[String],
    pattern: Option<&str>,
) -> Result<VersionReport, GitError> {
    let introduced = commit_id(repo, introduced)?;
    let fixes = fixes
        .iter()
        .map(|f| commit_id(repo, f))
        .collect::<Result<Vec<_>, _>>()?;
    let all = tags(repo, pattern, None)?;
    let with_bug: BTreeSet<String> = tags(repo, pattern, Some(&introduced))?
        .into_iter()
        .collect();
    let mut with_fix = BTreeSet::new();
    let mut fixed = Vec::new();
    for fix in &fixes {
        let carrying = tags(repo, pattern, Some(fix))?;
        if let Some(first) = carrying
            .iter()
            .find(|t| with_bug.contains(*t))
            .or(carrying.first())
            && !fixed.contains(first)
        {
            fixed.push(first.clone());
        }
        with_fix.extend(carrying);
    }
    let is_affected = |t: &String| with_bug.contains(t) && !with_fix.contains(t);
    let affected: Vec<String> = all.iter().filter(|t| is_affected(t)).cloned().collect();
    let unaffected = all
        .iter()
        .filter(|t| !with_bug.contains(*t))
        .cloned()
        .collect();
    // Ranges run over consecutive tags in version order; any other release breaks them.
    let mut affected_ranges = Vec::new();
    let mut ranges = Vec::new();
    let mut run: Vec<&String> = Vec::new();
    for tag in all.iter().map(Some).chain(std::iter::once(None)) {
        if let Some(tag) = tag
            && is_affected(tag)
        {
            run.push(tag);
            continue;
        }
        if let (Some(first), Some(last)) = (run.first(), run.last()) {
            affected_ranges.push(if run.len() == 1 {
                (*first).clone()
            } else {
                format!("{first} through {last}")
            });
            ranges.push(VersionRange {
                introduced: version_of(first).to_owned(),
                fixed: tag.map(|t| version_of(t).to_owned()),
                last_affected: tag.is_none().then(|| version_of(last).to_owned()),
            });
        }
        run.clear();
    }
    let releases = affected.iter().map(|t| version_of(t).to_owned()).collect();
    Ok(VersionReport {
        affected,
        affected_ranges,
        fixed,
        unaffected,
        ranges,
        releases,
        introduced_commit: introduced,
        fixed_commits: fixes,
    })
}
