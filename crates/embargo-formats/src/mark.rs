//! The per-recipient mark of a pre-notification: a number written in zero-width
//! characters, invisible in ordinary reading and kept by copy and paste, so a leaked copy
//! names the recipient it was sent to.

const START: char = '\u{2060}'; // WORD JOINER
const ZERO: char = '\u{200B}'; // ZERO WIDTH SPACE
const ONE: char = '\u{200C}'; // ZERO WIDTH NON-JOINER
const BITS: u32 = 40;

/// The invisible form of a mark (40 bits).
pub fn encode(mark: u64) -> String {
    let mut out = String::with_capacity(3 * (BITS as usize + 2));
    out.push(START);
    for bit in (0..BITS).rev() {
        out.push(if mark >> bit & 1 == 1 { ONE } else { ZERO });
    }
    out.push(START);
    out
}

/// Writes the mark into a text, after its first line and after each paragraph, so that
/// an excerpt carries it too. A space comes first, so that a link ending a line stays a
/// link.
pub fn embed(text: &str, mark: u64) -> String {
    let code = format!(" {}", encode(mark));
    let mut out = String::with_capacity(text.len() + 8 * code.len());
    for (i, paragraph) in text.split("\n\n").enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        match paragraph.split_once('\n') {
            Some((first, rest)) => {
                out.push_str(first);
                out.push_str(&code);
                out.push('\n');
                out.push_str(rest);
            }
            None => {
                out.push_str(paragraph);
                out.push_str(&code);
            }
        }
    }
    out
}

/// Every mark found in a text (a leaked copy, perhaps edited).
pub fn find(text: &str) -> Vec<u64> {
    let mut found = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != START {
            continue;
        }
        let mut value = 0u64;
        let mut bits = 0;
        while let Some(&next) = chars.peek() {
            match next {
                ZERO | ONE => {
                    value = value << 1 | u64::from(next == ONE);
                    bits += 1;
                    chars.next();
                }
                _ => break,
            }
        }
        if bits == BITS && chars.peek() == Some(&START) {
            chars.next();
            if !found.contains(&value) {
                found.push(value);
            }
        }
    }
    found
}

/// The text without any mark (what ordinary reading shows).
pub fn strip(text: &str) -> String {
    text.chars()
        .filter(|c| ![START, ZERO, ONE].contains(c))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn marks_survive_excerpts_and_stay_invisible() {
        let text = "Severity:\n\nHigh\n\nDescription:\n\nThe console shows names unescaped.";
        let marked = super::embed(text, 0xAB_CDEF_0123);
        let shown: Vec<String> = super::strip(&marked)
            .split('\n')
            .map(|l| l.trim_end().to_owned())
            .collect();
        assert_eq!(
            shown.join("\n"),
            text,
            "nothing visible but a trailing space"
        );
        assert_eq!(super::find(&marked), [0xAB_CDEF_0123]);
        let excerpt: String = marked
            .split("\n\n")
            .skip(3)
            .collect::<Vec<_>>()
            .join("\n\n");
        assert_eq!(
            super::find(&excerpt),
            [0xAB_CDEF_0123],
            "a pasted paragraph carries it"
        );
        assert!(super::find(text).is_empty());
        assert!(
            super::find("\u{2060}\u{200B}\u{2060}").is_empty(),
            "too short is no mark"
        );
    }
}
