//! The words a case is found by. Sealed text never reaches the database in the clear, so
//! the search index holds keyed tokens of these terms (see the store's `search`); this
//! module only says which terms a text gives and which a query asks for.
//!
//! A term is a lower-cased word (a run of letters and digits), `w:` followed by the word.
//! Short fields (titles, CVE IDs) are also indexed by the word's prefixes, `p:` followed
//! by its first 3 to [`MAX_PREFIX`] characters, so that typing the start of a word finds
//! it. A query matches a case when every word of it is found.

use std::collections::BTreeSet;

/// Prefixes are indexed up to this many characters; a longer query word is looked up by
/// its first `MAX_PREFIX` characters.
pub const MAX_PREFIX: usize = 12;

/// Prefixes shorter than this are not indexed: a one- or two-letter prefix would match
/// nearly everything and tell a database holder little less than the word itself.
const MIN_PREFIX: usize = 3;

/// At most this many characters of a text are indexed (the start of a long report says
/// what it is about; the rest stays readable in the case).
pub const MAX_INDEXED_CHARS: usize = 64 * 1024;

/// At most this many words are taken from one text.
pub const MAX_WORDS: usize = 2_000;

/// How a field is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Whole words only (descriptions, notes).
    Words,
    /// Whole words and their prefixes (titles, CVE IDs).
    Prefixes,
}

/// The words of a text, lower-cased, as search sees them.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    let end = text
        .char_indices()
        .nth(MAX_INDEXED_CHARS)
        .map_or(text.len(), |(i, _)| i);
    text[..end]
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

fn prefix(word: &str, chars: usize) -> &str {
    word.char_indices()
        .nth(chars)
        .map_or(word, |(i, _)| &word[..i])
}

/// The terms a text is indexed under, each once.
pub fn index_terms(text: &str, depth: Depth) -> BTreeSet<String> {
    let mut terms = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for word in words(text) {
        if seen.len() >= MAX_WORDS {
            break;
        }
        if !seen.insert(word.clone()) {
            continue;
        }
        if depth == Depth::Prefixes {
            let length = word.chars().count();
            for n in MIN_PREFIX..=length.min(MAX_PREFIX) {
                terms.insert(format!("p:{}", prefix(&word, n)));
            }
        }
        terms.insert(format!("w:{word}"));
    }
    terms
}

/// One word of a query: the terms that find it, by how the field was indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWord {
    /// Finds the word in any field: the whole word.
    pub whole: String,
    /// Finds it in a field indexed by prefixes: the word as typed, as a prefix, when it
    /// is long enough to be one.
    pub prefix: Option<String>,
}

/// The words a query asks for, each once, at most `MAX_QUERY_WORDS`.
pub fn query_words(query: &str) -> Vec<QueryWord> {
    let mut seen = BTreeSet::new();
    words(query)
        .filter(|w| seen.insert(w.clone()))
        .take(MAX_QUERY_WORDS)
        .map(|word| {
            let length = word.chars().count();
            QueryWord {
                prefix: (length >= MIN_PREFIX)
                    .then(|| format!("p:{}", prefix(&word, length.min(MAX_PREFIX)))),
                whole: format!("w:{word}"),
            }
        })
        .collect()
}

/// A query of more words than this is cut there: each word is one more lookup.
pub const MAX_QUERY_WORDS: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_runs_of_letters_and_digits() {
        let w: Vec<String> =
            words("Heap overflow in NTLM-auth, CVE-2026-12345; Ünïcode ok").collect();
        assert_eq!(
            w,
            [
                "heap",
                "overflow",
                "in",
                "ntlm",
                "auth",
                "cve",
                "2026",
                "12345",
                "ünïcode",
                "ok"
            ]
        );
    }

    #[test]
    fn titles_are_found_by_the_start_of_a_word() {
        let terms = index_terms("CloudStack console proxy", Depth::Prefixes);
        for t in ["p:clo", "p:cloudstack", "w:cloudstack", "p:con", "w:proxy"] {
            assert!(terms.contains(t), "{t}");
        }
        assert!(
            !terms.contains("p:cl"),
            "two letters are too few for a prefix"
        );
        let q = query_words("cloudst");
        assert_eq!(q[0].prefix.as_deref(), Some("p:cloudst"));
        assert!(terms.contains(q[0].prefix.as_deref().unwrap_or_default()));
    }

    #[test]
    fn long_words_are_found_by_their_first_characters() {
        let terms = index_terms("deserialisation", Depth::Prefixes);
        let q = query_words("Deserialisation");
        assert_eq!(q[0].prefix.as_deref(), Some("p:deserialisat"));
        assert!(terms.contains(q[0].prefix.as_deref().unwrap_or_default()));
        assert!(terms.contains(&q[0].whole));
    }

    #[test]
    fn descriptions_give_whole_words_only() {
        let terms = index_terms("the proxy the proxy", Depth::Words);
        assert_eq!(terms.into_iter().collect::<Vec<_>>(), ["w:proxy", "w:the"]);
    }

    #[test]
    fn a_huge_text_gives_a_bounded_index() {
        let text: String = (0..100_000).map(|i| format!("w{i} ")).collect();
        assert!(index_terms(&text, Depth::Words).len() <= MAX_WORDS);
        assert!(query_words(&text).len() <= MAX_QUERY_WORDS);
    }
}
