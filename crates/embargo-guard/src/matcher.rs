//! Checking text against a deny list: every run of up to [`MAX_WORDS`] normalised words
//! is hashed the way the list's entries were and looked up.

use std::collections::{BTreeSet, HashSet};

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::normalize::{MAX_WORDS, Word, words};

/// What the guard could not check with a developer's list; said with every such check.
pub const NOT_CHECKED_HERE: &str =
    "embargoed references, CVE IDs and sensitive terms are checked by the server-side hook and CI";

/// What kind of term a finding is. The list does not say; a keyed match is named from the
/// shape of the matched words, which the writer of the text knows already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The reference of an embargoed case.
    CaseRef,
    /// A CVE ID reserved for an embargoed case.
    Cve,
    /// A term the team marked as sensitive for an embargoed case.
    Term,
    /// A word that gives any security fix away ("vulnerability", "security fix").
    Giveaway,
    /// Any CVE ID that is not a published one of this project.
    AnyCve,
}

impl Kind {
    /// What the finding means, and whether the matched words may be shown.
    fn describe(self) -> (&'static str, bool) {
        match self {
            Kind::CaseRef => ("names an embargoed case reference", false),
            Kind::Cve => ("names an embargoed CVE ID", false),
            Kind::Term => (
                "contains a term the security team marked as sensitive",
                false,
            ),
            Kind::Giveaway => ("contains a word that gives a security fix away", true),
            Kind::AnyCve => (
                "names a CVE ID; only this project's published CVE IDs may be named",
                false,
            ),
        }
    }
}

/// Something in a text that must not be there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind of term matched.
    pub kind: Kind,
    /// The line of the text it is on, from 1.
    pub line: usize,
    /// The matched words, only where showing them reveals nothing (giveaway words).
    pub shown: Option<String>,
}

impl Finding {
    /// The finding as one line for a person.
    pub fn describe(&self) -> String {
        let (what, _) = self.kind.describe();
        match &self.shown {
            Some(words) => format!("line {}: {what}: \"{words}\"", self.line),
            None => format!("line {}: {what}", self.line),
        }
    }
}

/// Checks texts against a deny list.
pub struct Matcher {
    /// SHA-256 state after the salt and separator, cloned for every run of words.
    open_state: Sha256,
    open: HashSet<[u8; 32]>,
    /// The keyed state and entries, when the guard key was given.
    keyed: Option<(Hmac<Sha256>, HashSet<[u8; 32]>)>,
    any_cve: bool,
    published: BTreeSet<String>,
}

fn is_digits(text: &str, len: std::ops::RangeFrom<usize>) -> bool {
    len.contains(&text.len()) && text.chars().all(|c| c.is_ascii_digit())
}

fn is_cve_at(words: &[Word], i: usize) -> bool {
    matches!(
        (words.get(i), words.get(i + 1), words.get(i + 2)),
        (Some(c), Some(y), Some(n)) if c.text == "cve"
            && y.text.len() == 4 && is_digits(&y.text, 4..)
            && is_digits(&n.text, 4..)
    )
}

/// Names a keyed match from its words: `cve YYYY N…` is a CVE ID, `KEY sec N` a case
/// reference, anything else a sensitive term.
fn keyed_kind(run: &[Word]) -> Kind {
    match run {
        [c, _, _] if c.text == "cve" && is_cve_at(run, 0) => Kind::Cve,
        [_, s, n] if s.text == "sec" && is_digits(&n.text, 1..) => Kind::CaseRef,
        _ => Kind::Term,
    }
}

impl Matcher {
    pub(crate) fn new(
        open_state: Sha256,
        open: HashSet<[u8; 32]>,
        keyed: Option<(Hmac<Sha256>, HashSet<[u8; 32]>)>,
        any_cve: bool,
        published: BTreeSet<String>,
    ) -> Matcher {
        Matcher {
            open_state,
            open,
            keyed,
            any_cve,
            published,
        }
    }

    /// Whether embargoed references, CVE IDs and sensitive terms are checked (the list is
    /// keyed and the key was given); when not, [`NOT_CHECKED_HERE`] says so.
    pub fn checks_embargoed(&self) -> bool {
        self.keyed.is_some()
    }

    /// Every finding in `text`, in order.
    pub fn check(&self, text: &str) -> Vec<Finding> {
        let words = words(text);
        let mut findings = Vec::new();
        for start in 0..words.len() {
            if self.any_cve && is_cve_at(&words, start) {
                let id = format!("cve {} {}", words[start + 1].text, words[start + 2].text);
                if !self.published.contains(&id) {
                    findings.push(Finding {
                        kind: Kind::AnyCve,
                        line: words[start].line,
                        shown: None,
                    });
                    continue;
                }
            }
            // One running hash per start word, extended a word at a time, so each run of
            // words is hashed once per part of the list.
            let mut open = (!self.open.is_empty()).then(|| self.open_state.clone());
            let mut keyed = self.keyed.as_ref().map(|(state, _)| state.clone());
            for n in 1..=MAX_WORDS.min(words.len() - start) {
                let word = words[start + n - 1].text.as_bytes();
                let run = &words[start..start + n];
                if let Some(h) = open.as_mut() {
                    if n > 1 {
                        h.update(b" ");
                    }
                    h.update(word);
                    let digest: [u8; 32] = h.clone().finalize().into();
                    if self.open.contains(&digest) {
                        findings.push(Finding {
                            kind: Kind::Giveaway,
                            line: words[start].line,
                            shown: Some(
                                run.iter()
                                    .map(|w| w.text.as_str())
                                    .collect::<Vec<_>>()
                                    .join(" "),
                            ),
                        });
                    }
                }
                if let (Some(mac), Some((_, entries))) = (keyed.as_mut(), self.keyed.as_ref()) {
                    if n > 1 {
                        mac.update(b" ");
                    }
                    mac.update(word);
                    let digest: [u8; 32] = mac.clone().finalize().into_bytes().into();
                    if entries.contains(&digest) {
                        let kind = match keyed_kind(run) {
                            // An embargoed ID reads like any other, so the message
                            // confirms nothing.
                            Kind::Cve if self.any_cve => Kind::AnyCve,
                            kind => kind,
                        };
                        findings.push(Finding {
                            kind,
                            line: words[start].line,
                            shown: None,
                        });
                    }
                }
            }
        }
        findings
    }
}
