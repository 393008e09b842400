//! Text normalisation for matching: Unicode NFKC, lower case, and words split at every
//! character that is not a letter or digit. So `CVE-2026-1234`, `CVE 2026 1234` and
//! `cve_2026_1234` all read as the words `cve 2026 1234`, fullwidth and compatibility
//! forms read as their plain letters, and matches respect word boundaries.

use unicode_normalization::UnicodeNormalization;

/// The longest run of words matched. The file carries no word counts, so the matcher
/// hashes every run up to this length; a longer term is kept as its first words, which
/// blocks at least everything the whole term would.
pub const MAX_WORDS: usize = 8;

/// A word of the text, with where it starts in the original (byte offset, 1-based line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The normalised word.
    pub text: String,
    /// The line it is on, from 1.
    pub line: usize,
}

/// Normalises a term the same way as text, into its words joined by single spaces.
pub fn normalize_term(term: &str) -> String {
    words(term)
        .into_iter()
        .map(|w| w.text)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits text into normalised words.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let normal: String = line.nfkc().collect::<String>().to_lowercase();
        out.extend(
            normal
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| Word {
                    text: w.to_owned(),
                    line: index + 1,
                }),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_forms_read_alike() {
        for form in [
            "CVE-2026-1234",
            "CVE 2026 1234",
            "cve_2026_1234",
            "ＣＶＥ－２０２６－１２３４",
            "(CVE-2026-1234).",
        ] {
            assert_eq!(normalize_term(form), "cve 2026 1234", "{form}");
        }
    }

    #[test]
    fn words_keep_their_lines() {
        let w = words("Fix parser\n\nsee CLOUDSTACK-SEC-4");
        assert_eq!(w.last().map(|w| w.line), Some(3));
        assert_eq!(normalize_term("Security  Fix"), "security fix");
    }
}
