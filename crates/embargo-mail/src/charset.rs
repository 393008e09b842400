//! The one charset of real mail that mail-parser leaves undecoded: ISO-2022-KR (RFC 1557),
//! which the WHATWG encoding table maps to U+FFFD. Korean mail from older clients still
//! uses it, in bodies and in RFC 2047 words. Every other charset is mail-parser's (with
//! its `full_encoding` tables from encoding_rs).

use encoding_rs::EUC_KR;
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;

/// Whether a charset label names ISO-2022-KR.
pub(crate) fn is_iso_2022_kr(label: &str) -> bool {
    let label = label.trim().trim_matches('"');
    ["iso-2022-kr", "iso_2022_kr", "csiso2022kr"]
        .iter()
        .any(|l| label.eq_ignore_ascii_case(l))
}

/// Decodes ISO-2022-KR: ASCII with runs of KS X 1001 between SO and SI, after an
/// `ESC $ ) C` designator that carries no text. Those two-byte characters are EUC-KR's
/// with the high bit of each byte cleared.
pub(crate) fn decode_iso_2022_kr(bytes: &[u8]) -> String {
    let mut euc = Vec::with_capacity(bytes.len());
    let mut shifted = false;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\x1b$)C") {
            i += 4;
            continue;
        }
        match bytes[i] {
            0x0e => shifted = true,
            0x0f => shifted = false,
            // A line always ends in ASCII (RFC 1557 section 2).
            b @ (b'\r' | b'\n') => {
                shifted = false;
                euc.push(b);
            }
            b @ 0x21..=0x7e if shifted => euc.push(b | 0x80),
            b => euc.push(b),
        }
        i += 1;
    }
    EUC_KR.decode_without_bom_handling(&euc).0.into_owned()
}

/// One RFC 2047 word's text in its charset.
fn decode_word(charset: &str, encoding: &str, text: &str) -> Option<String> {
    // RFC 2231 allows a language after the charset: `ISO-2022-KR*ko`.
    let charset = charset.split('*').next().unwrap_or(charset);
    let bytes = if encoding.eq_ignore_ascii_case("b") {
        base64_decode(text.as_bytes())?
    } else if encoding.eq_ignore_ascii_case("q") {
        quoted_printable_decode(text.replace('_', " ").as_bytes())?
    } else {
        return None;
    };
    Some(if is_iso_2022_kr(charset) {
        decode_iso_2022_kr(&bytes)
    } else if let Some(decoder) = charset_decoder(charset.as_bytes()) {
        decoder(&bytes)
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Decodes a raw header value whose RFC 2047 words include ISO-2022-KR; `None` when none
/// does (mail-parser's own decoding then stands).
pub(crate) fn decode_header_kr(raw: &str) -> Option<String> {
    let lower = raw.to_ascii_lowercase();
    if !["=?iso-2022-kr", "=?csiso2022kr", "=?iso_2022_kr"]
        .iter()
        .any(|p| lower.contains(p))
    {
        return None;
    }
    let unfolded: String = raw.replace("\r\n", "").replace('\n', "");
    let mut out = String::new();
    let mut rest = unfolded.as_str();
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, word) = rest.split_at(start);
        let parsed = word[2..].split_once('?').and_then(|(charset, after)| {
            let (encoding, after) = after.split_once('?')?;
            let end = after.find("?=")?;
            Some((charset, encoding, &after[..end], &after[end + 2..]))
        });
        let Some((charset, encoding, text, after)) = parsed else {
            break;
        };
        // White space between two encoded words is not part of the text (RFC 2047 6.2).
        if !(last_was_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        match decode_word(charset, encoding, text) {
            Some(decoded) => out.push_str(&decoded),
            None => out.push_str(&word[..word.len() - after.len()]),
        }
        last_was_word = true;
        rest = after;
    }
    out.push_str(rest);
    Some(out.trim().to_owned())
}

/// The display name of a decoded address header value (`Name <addr>`), without quotes.
pub(crate) fn display_name(decoded: &str) -> Option<String> {
    let name = decoded.split('<').next()?.trim().trim_matches('"').trim();
    (!name.is_empty() && !name.contains('@')).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_2022_kr_bodies_and_words_decode() {
        // "안녕하세요" in ISO-2022-KR, as Python's iso2022_kr codec writes it.
        let body = b"\x1b$)C\x0e>H3gGO<<?d\x0f world\r\n";
        assert_eq!(decode_iso_2022_kr(body), "안녕하세요 world\r\n");
        let header = "=?ISO-2022-KR?B?GyQpQw4+SDNnR088PD9kDw==?=\r\n =?ISO-2022-KR?B?GyQpQw4+SDNnR088PD9kDw==?=";
        assert_eq!(decode_header_kr(header).unwrap(), "안녕하세요안녕하세요");
        assert_eq!(decode_header_kr("=?utf-8?q?caf=C3=A9?="), None);
        assert_eq!(
            display_name("\"김 철수\" <kim@example.kr>").as_deref(),
            Some("김 철수")
        );
    }
}
