//! The guard's git side: commit messages of a range, the ref updates of a push, diffs,
//! and installing the hooks. It runs the real `git`, so it sees exactly what git sees.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::matcher::{Finding, Matcher};

/// Why a git operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git could not be started.
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    /// git refused.
    #[error("git {command} failed: {stderr}")]
    Failed {
        /// The command.
        command: String,
        /// What git said.
        stderr: String,
    },
    /// Input that is not what was expected.
    #[error("{0}")]
    BadInput(String),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// Runs git in `repo` and returns its standard output.
pub fn git(repo: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(GitError::Spawn)?;
    if !out.status.success() {
        return Err(GitError::Failed {
            command: args.first().copied().unwrap_or_default().to_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(out.stdout)
}

/// What was found in one commit or ref.
#[derive(Debug, Clone)]
pub struct Offence {
    /// The commit id, or the ref name for a branch.
    pub subject: String,
    /// Where: "commit message", "diff" or "branch name".
    pub place: &'static str,
    /// What matched.
    pub findings: Vec<Finding>,
}

impl Offence {
    /// The offence as lines for a person.
    pub fn describe(&self) -> String {
        let mut text = format!("{} ({}):", self.subject, self.place);
        for f in &self.findings {
            text.push_str(&format!("\n  {}", f.describe()));
        }
        text
    }
}

/// What to do instead; printed after any refusal.
pub const ADVICE: &str = "The commit should not refer to a particular vulnerability. Describe the change \
(what the code does now), not the vulnerability, and leave case references and CVE IDs out until the advisory is published.";

/// A commit message as git will record it: comment lines and everything below the
/// scissors line dropped.
pub fn commit_message(raw: &str) -> String {
    let mut out = Vec::new();
    for line in raw.lines() {
        if line.starts_with("# ------------------------ >8 ------------------------") {
            break;
        }
        if !line.starts_with('#') {
            out.push(line);
        }
    }
    out.join("\n")
}

/// The lines a diff adds.
fn added_lines(patch: &str) -> String {
    patch
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .map(|l| &l[1..])
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks every commit of `range` (anything `git log` takes), optionally with diffs.
/// `progress` is called with the number of commits checked so far.
pub fn scan(
    repo: &Path,
    matcher: &Matcher,
    range: &[&str],
    diffs: bool,
    progress: impl FnMut(usize),
) -> Result<Vec<Offence>, GitError> {
    // A range from the command line could otherwise be read as an option.
    let mut revs = vec!["--end-of-options"];
    revs.extend(range);
    scan_revs(repo, matcher, &revs, diffs, progress)
}

fn scan_revs(
    repo: &Path,
    matcher: &Matcher,
    revs: &[&str],
    diffs: bool,
    mut progress: impl FnMut(usize),
) -> Result<Vec<Offence>, GitError> {
    // \x01 starts a commit, \x00 ends its id and its message; the patch (if any) follows.
    let mut args = vec!["log", "--no-color", "--format=%x01%H%x00%B%x00"];
    if diffs {
        args.extend(["-p", "--unified=0", "--no-ext-diff"]);
    }
    args.extend(revs);
    let out = git(repo, &args)?;
    let text = String::from_utf8_lossy(&out);
    let mut offences = Vec::new();
    for (n, record) in text.split('\u{1}').filter(|r| !r.is_empty()).enumerate() {
        let mut parts = record.splitn(3, '\0');
        let (Some(sha), Some(message)) = (parts.next(), parts.next()) else {
            continue;
        };
        let findings = matcher.check(message);
        if !findings.is_empty() {
            offences.push(Offence {
                subject: sha.to_owned(),
                place: "commit message",
                findings,
            });
        }
        if diffs {
            let findings = matcher.check(&added_lines(parts.next().unwrap_or_default()));
            if !findings.is_empty() {
                offences.push(Offence {
                    subject: sha.to_owned(),
                    place: "diff",
                    findings,
                });
            }
        }
        if (n + 1) % 1000 == 0 {
            progress(n + 1);
        }
    }
    Ok(offences)
}

fn is_zero(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c == '0')
}

/// Checks a push as a `pre-receive` hook sees it: `old new ref` lines on stdin
/// (githooks(5)). New branch names and the messages of every commit new to the
/// repository are checked.
pub fn pre_receive(
    repo: &Path,
    matcher: &Matcher,
    updates: &str,
    diffs: bool,
) -> Result<Vec<Offence>, GitError> {
    let mut offences = Vec::new();
    for line in updates.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [old, new, name] = fields.as_slice() else {
            return Err(GitError::BadInput(format!(
                "unexpected pre-receive line: {line}"
            )));
        };
        if is_zero(new) {
            continue;
        }
        if is_zero(old) {
            let short = name
                .strip_prefix("refs/heads/")
                .or_else(|| name.strip_prefix("refs/tags/"))
                .unwrap_or(name);
            let findings = matcher.check(short);
            if !findings.is_empty() {
                offences.push(Offence {
                    subject: (*name).to_owned(),
                    place: "branch name",
                    findings,
                });
            }
        }
        if !new.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(GitError::BadInput(format!(
                "unexpected object id in pre-receive line: {line}"
            )));
        }
        // Commits reachable from the new tip that no existing ref already has.
        offences.extend(scan_revs(
            repo,
            matcher,
            &[new, "--not", "--all"],
            diffs,
            |_| {},
        )?);
    }
    Ok(offences)
}

/// The hooks `embargo guard install` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Checks each commit message as it is written.
    CommitMsg,
    /// Checks each push on the receiving (public) repository.
    PreReceive,
}

/// Writes hook scripts into the repository's hooks directory, calling `exe` with the
/// deny list at `deny_list` and, on the server side, the guard key at `key_file`.
/// Existing hooks that Embargo did not write are kept aside.
pub fn install(
    repo: &Path,
    exe: &Path,
    deny_list: &Path,
    key_file: Option<&Path>,
    hooks: &[Hook],
    diffs: bool,
) -> Result<Vec<PathBuf>, GitError> {
    let git_dir = String::from_utf8_lossy(&git(repo, &["rev-parse", "--absolute-git-dir"])?)
        .trim()
        .to_owned();
    let dir = PathBuf::from(git_dir).join("hooks");
    std::fs::create_dir_all(&dir).map_err(|source| GitError::Io {
        path: dir.clone(),
        source,
    })?;
    let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
    let mut written = Vec::new();
    for hook in hooks {
        let (name, command) = match hook {
            Hook::CommitMsg => ("commit-msg", "commit-msg \"$1\""),
            Hook::PreReceive => (
                "pre-receive",
                if diffs {
                    "pre-receive --diffs"
                } else {
                    "pre-receive"
                },
            ),
        };
        let path = dir.join(name);
        let io = |source| GitError::Io {
            path: path.clone(),
            source,
        };
        if path.exists() {
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            if !current.contains("# installed by embargo guard") {
                std::fs::rename(&path, dir.join(format!("{name}.before-embargo"))).map_err(io)?;
            }
        }
        let key = key_file
            .map(|k| format!(" --key-file {}", quote(k)))
            .unwrap_or_default();
        let script = format!(
            "#!/bin/sh\n# installed by embargo guard\nexec {} guard --deny-list {}{key} {command}\n",
            quote(exe),
            quote(deny_list)
        );
        let mut file = std::fs::File::create(&path).map_err(io)?;
        file.write_all(script.as_bytes()).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(io)?;
        }
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_the_scissors_are_dropped() {
        let raw = "Fix parser\n\n# Please enter the commit message\nBody\n# ------------------------ >8 ------------------------\ndiff --git CVE-2026-1";
        assert_eq!(commit_message(raw), "Fix parser\n\nBody");
        assert_eq!(
            added_lines("+++ b/x\n+new line\n-old\n context"),
            "new line"
        );
    }
}
