//! Private patches as developers hand them over: `git format-patch` output (one patch
//! or a series, each a mail message after a `From <commit> Mon Sep 17 00:00:00 2001`
//! line) or a plain unified diff. The headers are read by the mail parser, so encoded
//! subjects and author names come out as git wrote them.

use mail_parser::MessageParser;

/// One patch of a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchHead {
    /// The commit it was made from (format-patch only).
    pub commit: Option<String>,
    /// `From:`, as `Name <address>`.
    pub author: Option<String>,
    /// The summary line, without the `[PATCH n/m]` prefix.
    pub subject: String,
}

/// What an uploaded patch file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchSet {
    /// Each patch of a format-patch series; one untitled entry for a plain diff.
    pub patches: Vec<PatchHead>,
}

/// Why a file is not taken as a patch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// Nothing was sent.
    #[error("the patch is empty")]
    Empty,
    /// Over the limit.
    #[error("the patch is larger than the limit of {0} bytes")]
    TooLarge(usize),
    /// No diff in it.
    #[error(
        "this is not a patch: give the output of git format-patch or a unified diff (git diff)"
    )]
    NotAPatch,
}

/// Whether a line starts a format-patch message: `From ` then a 40 or 64 digit object
/// name. Other `From ` lines (in a commit message) do not.
fn commit_of_separator(line: &[u8]) -> Option<String> {
    let rest = line.strip_prefix(b"From ")?;
    let name: Vec<u8> = rest
        .iter()
        .take_while(|b| b.is_ascii_hexdigit())
        .copied()
        .collect();
    let after = rest.get(name.len()).copied();
    ((name.len() == 40 || name.len() == 64) && after == Some(b' '))
        .then(|| String::from_utf8_lossy(&name).to_ascii_lowercase())
}

fn has_diff(text: &[u8]) -> bool {
    let mut minus = false;
    let mut plus = false;
    for line in text.split(|b| *b == b'\n') {
        if line.starts_with(b"diff --git ") {
            return true;
        }
        if line.starts_with(b"--- ") {
            minus = true;
        } else if minus && line.starts_with(b"+++ ") {
            plus = true;
        } else if plus && line.starts_with(b"@@ ") {
            return true;
        } else {
            minus = false;
            plus = false;
        }
    }
    false
}

fn strip_patch_prefix(subject: &str) -> String {
    let s = subject.trim();
    match s.strip_prefix('[') {
        Some(rest) if rest.to_ascii_uppercase().contains("PATCH") => match rest.find(']') {
            Some(end) => rest[end + 1..].trim().to_owned(),
            None => s.to_owned(),
        },
        _ => s.to_owned(),
    }
}

fn head(commit: Option<String>, message: &[u8]) -> PatchHead {
    let parsed = MessageParser::default().parse_headers(message);
    let subject = parsed
        .as_ref()
        .and_then(|m| m.subject())
        .map(strip_patch_prefix)
        .unwrap_or_default();
    let author = parsed.as_ref().and_then(|m| m.from()).and_then(|from| {
        let addr = from.first()?;
        Some(match (addr.name(), addr.address()) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (None, Some(address)) => address.to_owned(),
            (Some(name), None) => name.to_owned(),
            (None, None) => return None,
        })
    });
    PatchHead {
        commit,
        author,
        subject,
    }
}

/// Reads a patch file: a format-patch series or a plain diff, at most `limit` bytes.
pub fn parse(data: &[u8], limit: usize) -> Result<PatchSet, PatchError> {
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(PatchError::Empty);
    }
    if data.len() > limit {
        return Err(PatchError::TooLarge(limit));
    }
    if !has_diff(data) {
        return Err(PatchError::NotAPatch);
    }
    let mut starts: Vec<(usize, String)> = Vec::new();
    let mut offset = 0;
    for line in data.split_inclusive(|b| *b == b'\n') {
        if let Some(commit) = commit_of_separator(line) {
            starts.push((offset, commit));
        }
        offset += line.len();
    }
    if starts.is_empty() {
        return Ok(PatchSet {
            patches: vec![PatchHead {
                commit: None,
                author: None,
                subject: String::new(),
            }],
        });
    }
    let mut patches = Vec::new();
    for (i, (start, commit)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(data.len(), |(s, _)| *s);
        let message = &data[*start..end];
        // The message's headers begin after the separator line.
        let body = message
            .iter()
            .position(|b| *b == b'\n')
            .map_or(&message[..0], |n| &message[n + 1..]);
        patches.push(head(Some(commit.clone()), body));
    }
    Ok(PatchSet { patches })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERIES: &[u8] =
        b"From 1a2b3c4d5e6f708192a3b4c5d6e7f80910111213 Mon Sep 17 00:00:00 2001\n\
From: =?UTF-8?q?J=C3=B6rg=20Dev?= <joerg@example.org>\n\
Date: Tue, 1 Dec 2026 10:00:00 +0100\n\
Subject: [PATCH 1/2] Check the redirect target\n\
\n\
From the reporter's description.\n\
---\n a.c | 2 +-\n\n\
diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-bad();\n+good();\n-- \n2.45.0\n\n\
From ffffffffffffffffffffffffffffffffffffffff Mon Sep 17 00:00:00 2001\n\
From: Ann <ann@example.org>\n\
Subject: [PATCH 2/2] Add a test\n\
\n---\ndiff --git a/t.c b/t.c\n--- a/t.c\n+++ b/t.c\n@@ -0,0 +1 @@\n+test();\n";

    #[test]
    fn a_series_gives_each_commit_subject_and_author() {
        let set = parse(SERIES, 1 << 20).unwrap();
        assert_eq!(set.patches.len(), 2);
        assert_eq!(set.patches[0].subject, "Check the redirect target");
        assert_eq!(
            set.patches[0].author.as_deref(),
            Some("Jörg Dev <joerg@example.org>")
        );
        assert_eq!(
            set.patches[0].commit.as_deref(),
            Some("1a2b3c4d5e6f708192a3b4c5d6e7f80910111213")
        );
        assert_eq!(set.patches[1].subject, "Add a test");
    }

    #[test]
    fn a_plain_diff_is_a_patch_and_prose_is_not() {
        let diff = b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";
        assert_eq!(parse(diff, 1 << 20).unwrap().patches.len(), 1);
        assert_eq!(parse(b"please fix it", 1 << 20), Err(PatchError::NotAPatch));
        assert_eq!(parse(b"  \n", 1 << 20), Err(PatchError::Empty));
        assert_eq!(parse(diff, 10), Err(PatchError::TooLarge(10)));
    }
}
