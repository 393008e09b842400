//! The exported deny list: its file format and how it is built.
//!
//! A list holds no term in clear and no label saying what a hash stands for or how many
//! words it has. It has two parts:
//! - the project's giveaway words ("vulnerability", "security fix"): public words, stored
//!   as SHA-256 over a per-export salt and the word only so the file is not a word list;
//!   every list has them, so a developer's clone blocks them;
//! - on a list exported for the server-side hook and CI only, the embargoed case
//!   references, reserved CVE IDs and sensitive terms, as HMAC-SHA256 under the project's
//!   guard key over the salt and the term, padded with random entries so their number
//!   says little. These can be enumerated or guessed, so a plain hash of them would be
//!   reversed by whoever holds the file; without the key the entries are random bytes.
//!
//! Published CVE IDs are public already and are listed in clear, so naming them stays
//! allowed.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::Mac;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::key::GuardKey;
use crate::matcher::Matcher;
use crate::normalize::normalize_term;

const FORMAT: &str = "embargo-deny-list";
const VERSION: u32 = 2;

pub use crate::normalize::MAX_WORDS;

/// Keyed entries come in multiples of this, the rest random, so the count of embargoed
/// terms is not read off the file.
const PAD: usize = 16;

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
    /// The per-export salt (base64), so two exports share no entry.
    pub salt: String,
    /// Whether any CVE ID other than a published one is refused.
    pub any_cve: bool,
    /// CVE IDs that are public and may be named.
    pub published_cves: Vec<String>,
    /// Hex SHA-256 of the salt and each giveaway word.
    pub giveaways: Vec<String>,
    /// On a list for the server-side hook and CI: the id of the guard key it needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Hex HMAC-SHA256 under the guard key of the salt and each embargoed term, in random
    /// order and padded with random entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keyed: Vec<String>,
}

/// Why a deny list cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DenyListError {
    /// Not JSON of the right shape.
    #[error("the deny list is not readable: {0}")]
    Malformed(String),
    /// Not this format or version.
    #[error(
        "the deny list has format {0} version {1}; this embargo reads {FORMAT} version {VERSION}; export a fresh one with `embargo guard export`"
    )]
    Unsupported(String, u32),
    /// Past its expiry.
    #[error("the deny list expired at {0}; export a fresh one with `embargo guard export`")]
    Expired(String),
    /// A keyed list without its key: it would check nothing embargoed, silently.
    #[error(
        "this deny list is for the server-side hook and CI and needs the project's guard key: give it with --key-file FILE or EMBARGO_GUARD_KEY_FILE"
    )]
    KeyNeeded,
    /// A key that is not the one the list was made with.
    #[error(
        "the guard key (id {key}) is not the one this deny list was exported with (id {list}); export the list again or use the matching key file"
    )]
    KeyMismatch {
        /// The list's key id.
        list: String,
        /// The given key's id.
        key: String,
    },
    /// A key given with a developer's list, which has nothing to check with it: the
    /// server-side hook would pass embargoed terms while looking configured.
    #[error(
        "a guard key was given but this deny list has no keyed entries; the server-side hook and CI need the list exported with --keyed"
    )]
    NotKeyed,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The normalised term, cut to its first [`MAX_WORDS`] words.
fn prepared(term: &str) -> String {
    normalize_term(term)
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .collect::<Vec<_>>()
        .join(" ")
}

/// SHA-256 of the salt, a separator and the term: the open (giveaway) entries.
pub(crate) fn open_state(salt: &[u8]) -> Sha256 {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update([0u8]);
    hasher
}

/// HMAC-SHA256 under the guard key of the salt, a separator and the term: the keyed
/// entries.
pub(crate) fn keyed_state(key: &GuardKey, salt: &[u8]) -> hmac::Hmac<Sha256> {
    let mut mac = key.mac();
    mac.update(salt);
    mac.update(&[0u8]);
    mac
}

impl DenyList {
    /// Builds a deny list valid for `valid_for` from now. With the guard key it is the
    /// server-side list, holding the embargoed terms keyed; without, a developer's list,
    /// holding the giveaway words only.
    pub fn build(
        project: &str,
        inputs: &DenyInputs,
        now: OffsetDateTime,
        valid_for: Duration,
        key: Option<&GuardKey>,
    ) -> DenyList {
        let mut salt = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
        let mut any_cve = false;
        let mut giveaways = BTreeSet::new();
        for g in &inputs.giveaways {
            let normal = prepared(g);
            if normal == "cve" {
                any_cve = true;
            } else if !normal.is_empty() {
                let mut h = open_state(&salt);
                h.update(normal.as_bytes());
                giveaways.insert(hex(&h.finalize()));
            }
        }
        // A BTreeSet of hex digests: sorted, so the order says nothing of the cases.
        let mut keyed = BTreeSet::new();
        if let Some(key) = key {
            let secret = inputs
                .case_refs
                .iter()
                .chain(&inputs.reserved_cves)
                .chain(&inputs.terms);
            for term in secret {
                let normal = prepared(term);
                if !normal.is_empty() {
                    let mut mac = keyed_state(key, &salt);
                    mac.update(normal.as_bytes());
                    keyed.insert(hex(&mac.finalize().into_bytes()));
                }
            }
            let padded = keyed.len().div_ceil(PAD).max(1) * PAD;
            while keyed.len() < padded {
                let mut filler = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut filler);
                keyed.insert(hex(&filler));
            }
        }
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
            giveaways: giveaways.into_iter().collect(),
            key_id: key.map(GuardKey::id),
            keyed: keyed.into_iter().collect(),
        }
    }

    /// Whether this is the server-side list, which needs the guard key.
    pub fn is_keyed(&self) -> bool {
        self.key_id.is_some()
    }

    /// Reads an exported list.
    pub fn from_json(text: &str) -> Result<DenyList, DenyListError> {
        // The version is read first, so an older list is named as such rather than as
        // malformed.
        #[derive(Deserialize)]
        struct Head {
            format: String,
            version: u32,
        }
        let head: Head =
            serde_json::from_str(text).map_err(|e| DenyListError::Malformed(e.to_string()))?;
        if head.format != FORMAT || head.version != VERSION {
            return Err(DenyListError::Unsupported(head.format, head.version));
        }
        serde_json::from_str(text).map_err(|e| DenyListError::Malformed(e.to_string()))
    }

    /// The file form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A matcher for this list, refused when the list has expired at `now`, or when the
    /// key does not fit the list (missing for a keyed list, another project's or an old
    /// one, or given for a list that has no keyed entries).
    pub fn matcher(
        &self,
        now: OffsetDateTime,
        key: Option<&GuardKey>,
    ) -> Result<Matcher, DenyListError> {
        let expires = OffsetDateTime::parse(
            &self.expires_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|_| DenyListError::Malformed("expires_at is not an RFC 3339 time".into()))?;
        if now > expires {
            return Err(DenyListError::Expired(self.expires_at.clone()));
        }
        let key = match (&self.key_id, key) {
            (None, None) => None,
            (None, Some(_)) => return Err(DenyListError::NotKeyed),
            (Some(_), None) => return Err(DenyListError::KeyNeeded),
            (Some(list), Some(key)) if *list != key.id() => {
                return Err(DenyListError::KeyMismatch {
                    list: list.clone(),
                    key: key.id(),
                });
            }
            (Some(_), Some(key)) => Some(key),
        };
        let salt = B64
            .decode(&self.salt)
            .map_err(|_| DenyListError::Malformed("salt is not base64".into()))?;
        let digests = |hexes: &[String]| {
            hexes
                .iter()
                .map(|h| {
                    hex_digest(h).ok_or_else(|| {
                        DenyListError::Malformed("an entry is not 64 hex digits".into())
                    })
                })
                .collect::<Result<_, _>>()
        };
        Ok(Matcher::new(
            open_state(&salt),
            digests(&self.giveaways)?,
            key.map(|k| (keyed_state(k, &salt), digests(&self.keyed)))
                .map(|(state, set)| set.map(|s| (state, s)))
                .transpose()?,
            self.any_cve,
            self.published_cves.iter().cloned().collect(),
        ))
    }
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
