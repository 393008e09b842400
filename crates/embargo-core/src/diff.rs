//! A private patch as the team reads it: each line classed (file header, hunk, added,
//! removed, context) and nothing hidden. The class is all the styling there is; no
//! language is guessed, and characters that render invisibly or reorder text (controls,
//! bidirectional overrides, zero-width characters) are shown by their code point, so a
//! patch cannot look different from what it does.

use serde::Serialize;
use utoipa::ToSchema;

/// What a line of a patch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LineKind {
    /// The commit's headers and message, before the first diff.
    Message,
    /// `diff --git`, `index`, `---`, `+++` and mode lines.
    File,
    /// `@@ -a,b +c,d @@`.
    Hunk,
    /// An added line.
    Added,
    /// A removed line.
    Removed,
    /// An unchanged line.
    Context,
}

/// One line, ready to show once escaped for the page's own syntax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DiffLine {
    /// What it is.
    pub kind: LineKind,
    /// Its text, with invisible characters made visible.
    pub text: String,
    /// Whether something was made visible (the page flags the line).
    pub revealed: bool,
}

/// Characters shown by their code point instead of themselves.
fn hidden(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c,
            '\u{200B}'..='\u{200F}'  // zero-width characters, LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidirectional embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidirectional isolates
            | '\u{FEFF}'               // zero-width no-break space
            | '\u{00AD}'               // soft hyphen
        )
}

/// Makes every hidden character visible as `⟨U+XXXX⟩`.
pub fn reveal(line: &str) -> (String, bool) {
    if !line.chars().any(hidden) {
        return (line.to_owned(), false);
    }
    let mut out = String::with_capacity(line.len() + 16);
    for c in line.chars() {
        if hidden(c) {
            out.push_str(&format!("⟨U+{:04X}⟩", c as u32));
        } else {
            out.push(c);
        }
    }
    (out, true)
}

/// Classes each line of a patch (`git format-patch` output or a plain unified diff).
pub fn lines(patch: &str) -> Vec<DiffLine> {
    let mut in_diff = false;
    let mut in_hunk = false;
    patch
        .lines()
        .map(|raw| {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let kind = if line.starts_with("diff --git ") || line.starts_with("diff -") {
                in_diff = true;
                in_hunk = false;
                LineKind::File
            } else if in_diff && line.starts_with("@@") {
                in_hunk = true;
                LineKind::Hunk
            } else if in_hunk && line.starts_with('+') {
                LineKind::Added
            } else if in_hunk && line.starts_with('-') {
                // The signature separator of format-patch ends the diff.
                if line == "-- " {
                    in_diff = false;
                    in_hunk = false;
                    LineKind::Message
                } else {
                    LineKind::Removed
                }
            } else if in_hunk
                && (line.starts_with(' ') || line.is_empty() || line.starts_with('\\'))
            {
                LineKind::Context
            } else if in_diff {
                in_hunk = false;
                if line.starts_with("From ") {
                    in_diff = false;
                    LineKind::Message
                } else {
                    LineKind::File
                }
            } else {
                LineKind::Message
            };
            let (text, revealed) = reveal(line);
            DiffLine {
                kind,
                text,
                revealed,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_classed() {
        let patch = "Subject: [PATCH] Fix\n---\n a.c | 2 +-\ndiff --git a/a.c b/a.c\nindex 1..2 100644\n--- a/a.c\n+++ b/a.c\n@@ -1,2 +1,2 @@\n int x;\n-bad();\n+good();\n-- \n2.45.0\n";
        let kinds: Vec<LineKind> = lines(patch).iter().map(|l| l.kind).collect();
        use LineKind::*;
        assert_eq!(
            kinds,
            [
                Message, Message, Message, File, File, File, File, Hunk, Context, Removed, Added,
                Message, Message
            ]
        );
    }

    #[test]
    fn trojan_source_is_shown_for_what_it_is() {
        let line = "+    if (access_level != \"user\u{202E} \u{2066}// Check if admin\u{2069} \u{2066}\") {";
        let (text, revealed) = reveal(line);
        assert!(revealed);
        assert!(text.contains("⟨U+202E⟩") && text.contains("⟨U+2066⟩"));
        assert!(!text.contains('\u{202E}'));
        let (text, revealed) = reveal("plain\tline <b>");
        assert_eq!((text.as_str(), revealed), ("plain\tline <b>", false));
        assert!(reveal("a\u{1b}[31mred").0.contains("⟨U+001B⟩"));
    }
}
