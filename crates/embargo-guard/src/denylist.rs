//! The exported deny list and the matcher built from it.
//!
//! The list holds no term in clear: each is normalised, then stored as SHA-256 over a
//! per-export salt and the term, with its word count so the matcher knows which runs of
//! words to hash. Case references and CVE IDs have little entropy, so someone holding the
//! file can still confirm a guess: it is meant for CI runners and hook hosts, not for
//! publication. Published CVE IDs are public already and are listed in clear, so that
//! naming them stays allowed.

use std::collections::{BTreeSet, HashMap};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::normalize::{normalize_term, words};

const FORMAT: &str = "embargo-deny-list";
const VERSION: u32 = 1;

/// What kind of term an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// One hashed term.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// What it is.
    pub kind: Kind,
    /// How many words the normalised term has.
    pub words: usize,
    /// Hex SHA-256 of the salt and the normalised term.
    pub hash: String,
}

/// What an export is made from; the store supplies it.
#[derive(Default)]
pub struct DenyInputs {
    /// References of cases still under embargo.
    pub case_refs: Vec<String>,
    /// CVE IDs reserved for cases still under embargo.
    pub reserved_cves: Vec<String>,
    /// The team's sensitive terms for cases still under embargo.
    pub terms: Vec<String>,
    /// The project's giveaway words; "CVE-" stands for any CVE ID.
    pub giveaways: Vec<String>,
    /// CVE IDs of the project's announced cases, which may be named.
    pub published_cves: Vec<String>,
}

impl std::fmt::Debug for DenyInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DenyInputs([redacted])")
    }
}

/// A project's deny list, as exported.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenyList {
    /// Always "embargo-deny-list".
    pub format: String,
    /// The format version.
    pub version: u32,
    /// The project key.
    pub project: String,
    /// When it was exported (RFC 3339).
    pub generated_at: String,
    /// After this it is refused, so a stale list cannot silently let things through.
    pub expires_at: String,
    /// The per-export salt (base64).
    pub salt: String,
    /// Whether any CVE ID other than a published one is refused.
    pub any_cve: bool,
    /// CVE IDs that are public and may be named.
    pub published_cves: Vec<String>,
    /// The hashed terms.
    pub entries: Vec<Entry>,
}

/// Why a deny list cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DenyListError {
    /// Not JSON of the right shape.
    #[error("the deny list is not readable: {0}")]
    Malformed(String),
    /// Not this format or version.
    #[error(
        "the deny list has format {0} version {1}; this embargo reads {FORMAT} version {VERSION}"
    )]
    Unsupported(String, u32),
    /// Past its expiry.
    #[error("the deny list expired at {0}; export a fresh one with `embargo guard export`")]
    Expired(String),
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn digest(salt: &[u8], normalized: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update([0u8]);
    hasher.update(normalized.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hex_digest(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

impl DenyList {
    /// Builds a deny list valid for `valid_for` from now.
    pub fn build(
        project: &str,
        inputs: &DenyInputs,
        now: OffsetDateTime,
        valid_for: Duration,
    ) -> DenyList {
        let mut salt = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
        let mut seen = BTreeSet::new();
        let mut entries = Vec::new();
        let mut any_cve = false;
        let mut add = |kind: Kind, term: &str| {
            let normal = normalize_term(term);
            if normal.is_empty() || !seen.insert((kind, normal.clone())) {
                return;
            }
            entries.push(Entry {
                kind,
                words: normal.split(' ').count(),
                hash: digest(&salt, &normal),
            });
        };
        for r in &inputs.case_refs {
            add(Kind::CaseRef, r);
        }
        for c in &inputs.reserved_cves {
            add(Kind::Cve, c);
        }
        for t in &inputs.terms {
            add(Kind::Term, t);
        }
        for g in &inputs.giveaways {
            if normalize_term(g) == "cve" {
                any_cve = true;
            } else {
                add(Kind::Giveaway, g);
            }
        }
        // Hash order must not reveal the order of cases.
        entries.sort_by(|a, b| a.hash.cmp(&b.hash));
        DenyList {
            format: FORMAT.to_owned(),
            version: VERSION,
            project: project.to_owned(),
            generated_at: rfc3339(now),
            expires_at: rfc3339(now + valid_for),
            salt: B64.encode(salt),
            any_cve,
            published_cves: inputs
                .published_cves
                .iter()
                .map(|c| normalize_term(c))
                .collect(),
            entries,
        }
    }

    /// Reads an exported list.
    pub fn from_json(text: &str) -> Result<DenyList, DenyListError> {
        let list: DenyList =
            serde_json::from_str(text).map_err(|e| DenyListError::Malformed(e.to_string()))?;
        if list.format != FORMAT || list.version != VERSION {
            return Err(DenyListError::Unsupported(list.format, list.version));
        }
        Ok(list)
    }

    /// The file form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A matcher for this list, refused when the list has expired at `now`.
    pub fn matcher(&self, now: OffsetDateTime) -> Result<Matcher, DenyListError> {
        let expires = OffsetDateTime::parse(
            &self.expires_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|_| DenyListError::Malformed("expires_at is not an RFC 3339 time".into()))?;
        if now > expires {
            return Err(DenyListError::Expired(self.expires_at.clone()));
        }
        let salt = B64
            .decode(&self.salt)
            .map_err(|_| DenyListError::Malformed("salt is not base64".into()))?;
        let mut by_length: HashMap<usize, HashMap<[u8; 32], Kind>> = HashMap::new();
        for e in &self.entries {
            let hash = hex_digest(&e.hash).ok_or_else(|| {
                DenyListError::Malformed("an entry's hash is not 64 hex digits".into())
            })?;
            by_length.entry(e.words).or_default().insert(hash, e.kind);
        }
        let mut lengths: Vec<usize> = by_length.keys().copied().collect();
        lengths.sort_unstable();
        let mut salted = Sha256::new();
        salted.update(&salt);
        salted.update([0u8]);
        Ok(Matcher {
            salted,
            by_length,
            lengths,
            any_cve: self.any_cve,
            published: self.published_cves.iter().cloned().collect(),
        })
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
    salted: Sha256,
    by_length: HashMap<usize, HashMap<[u8; 32], Kind>>,
    lengths: Vec<usize>,
    any_cve: bool,
    published: BTreeSet<String>,
}

fn is_cve_at(words: &[crate::normalize::Word], i: usize) -> bool {
    matches!(
        (words.get(i), words.get(i + 1), words.get(i + 2)),
        (Some(c), Some(y), Some(n)) if c.text == "cve"
            && y.text.len() == 4 && y.text.chars().all(|ch| ch.is_ascii_digit())
            && n.text.len() >= 4 && n.text.chars().all(|ch| ch.is_ascii_digit())
    )
}

impl Matcher {
    /// Every finding in `text`, in order.
    pub fn check(&self, text: &str) -> Vec<Finding> {
        let words = words(text);
        let mut findings = Vec::new();
        let longest = self.lengths.last().copied().unwrap_or(0);
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
            // words is hashed once whatever the lengths of the terms.
            let mut hasher = self.salted.clone();
            for n in 1..=longest.min(words.len() - start) {
                if n > 1 {
                    hasher.update(b" ");
                }
                hasher.update(words[start + n - 1].text.as_bytes());
                let Some(by_hash) = self.by_length.get(&n) else {
                    continue;
                };
                let hash: [u8; 32] = hasher.clone().finalize().into();
                let Some(&kind) = by_hash.get(&hash) else {
                    continue;
                };
                let kind = if kind == Kind::Cve && self.any_cve {
                    Kind::AnyCve
                } else {
                    kind
                };
                let shown = kind.describe().1.then(|| {
                    words[start..start + n]
                        .iter()
                        .map(|w| w.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                });
                findings.push(Finding {
                    kind,
                    line: words[start].line,
                    shown,
                });
            }
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(any_cve: bool) -> DenyList {
        let mut giveaways = vec!["vulnerability".to_owned(), "security fix".to_owned()];
        if any_cve {
            giveaways.push("CVE-".to_owned());
        }
        let inputs = DenyInputs {
            case_refs: vec!["CLOUDSTACK-SEC-42".into()],
            reserved_cves: vec!["CVE-2026-1234".into()],
            terms: vec!["console name field".into()],
            giveaways,
            published_cves: vec!["CVE-2025-0001".into()],
        };
        DenyList::build(
            "CLOUDSTACK",
            &inputs,
            OffsetDateTime::now_utc(),
            Duration::days(7),
        )
    }

    #[test]
    fn matches_every_form_and_respects_word_boundaries() {
        let m = list(false).matcher(OffsetDateTime::now_utc()).unwrap();
        for text in [
            "Fix CVE-2026-1234",
            "fix cve_2026_1234 in parser",
            "Refs: CVE 2026 1234",
            "see cloudstack-sec-42",
        ] {
            assert_eq!(m.check(text).len(), 1, "{text}");
        }
        assert!(m.check("CVE-2026-12345 and CLOUDSTACK-SEC-421").is_empty());
        assert!(m.check("Tidy the console name fields").is_empty());
        assert_eq!(m.check("Tidy the Console  Name Field")[0].kind, Kind::Term);
        let giveaway = &m.check("Line one\nA Security-Fix for x")[0];
        assert_eq!(giveaway.line, 2);
        assert_eq!(giveaway.shown.as_deref(), Some("security fix"));
        assert!(
            m.check("Mention CVE-2025-0001 and CVE-2020-9999")
                .is_empty()
        );
    }

    #[test]
    fn any_cve_allows_only_published_ones() {
        let m = list(true).matcher(OffsetDateTime::now_utc()).unwrap();
        assert!(m.check("Backport of CVE-2025-0001").is_empty());
        assert_eq!(m.check("Upgrade for CVE-2020-9999")[0].kind, Kind::AnyCve);
        // An embargoed ID reads like any other, so the message confirms nothing.
        assert_eq!(m.check("Fix CVE-2026-1234")[0].kind, Kind::AnyCve);
    }

    #[test]
    fn the_file_holds_no_term_in_clear_and_expires() {
        let l = list(false);
        let json = l.to_json().to_lowercase();
        for term in [
            "cloudstack-sec-42",
            "sec 42",
            "2026-1234",
            "2026 1234",
            "console",
            "vulnerability",
            "security",
        ] {
            assert!(!json.contains(term), "{term} in {json}");
        }
        let back = DenyList::from_json(&l.to_json()).unwrap();
        assert!(matches!(
            back.matcher(OffsetDateTime::now_utc() + Duration::days(8)),
            Err(DenyListError::Expired(_))
        ));
    }
}
