//! The limits of intake, and the checks that keep a hostile message from costing more
//! than its own size: the size of the whole message and of its header section are checked
//! before parsing, the number of MIME parts is bounded from the raw bytes before the
//! parser allocates a record per part, and the depth of the tree is checked after.

use std::collections::HashSet;

use mail_parser::{Message, PartType};

/// Size limits of intake. Every one is a setting; the defaults suit a project desk.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Attachments larger than this are held back (kept, but not offered for download).
    pub attachment_bytes: usize,
    /// A whole message larger than this is quarantined (kept whole, not parsed).
    pub message_bytes: usize,
    /// A header section larger than this is quarantined.
    pub header_bytes: usize,
    /// MIME trees deeper than this (counting forwarded messages) are quarantined.
    pub mime_depth: usize,
    /// Messages of more MIME parts than this are quarantined.
    pub mime_parts: usize,
    /// Decrypted and decompressed OpenPGP data is read up to this many bytes, all blocks
    /// of a message together; beyond it the message is quarantined (a decompression bomb
    /// stops here).
    pub decompressed_bytes: usize,
    /// Messages with more lines that look like header fields than this are quarantined:
    /// each field the parser reads costs a record, in every part.
    pub header_fields: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            attachment_bytes: 10 * 1024 * 1024,
            message_bytes: 25 * 1024 * 1024,
            header_bytes: 256 * 1024,
            mime_depth: 20,
            mime_parts: 500,
            decompressed_bytes: 25 * 1024 * 1024,
            header_fields: 50_000,
        }
    }
}

/// Which limit a message went over; its name is the setting's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`Limits::message_bytes`].
    MessageBytes,
    /// [`Limits::header_bytes`].
    HeaderBytes,
    /// [`Limits::mime_depth`].
    MimeDepth,
    /// [`Limits::mime_parts`].
    MimeParts,
    /// [`Limits::decompressed_bytes`].
    DecompressedBytes,
    /// [`Limits::header_fields`].
    HeaderFields,
}

impl Limit {
    /// The setting's name, as the CLI and the configuration spell it.
    pub fn name(self) -> &'static str {
        match self {
            Limit::MessageBytes => "max_message_bytes",
            Limit::HeaderBytes => "max_header_bytes",
            Limit::MimeDepth => "max_mime_depth",
            Limit::MimeParts => "max_mime_parts",
            Limit::DecompressedBytes => "max_decompressed_bytes",
            Limit::HeaderFields => "max_header_fields",
        }
    }

    /// The limit's value in `limits`.
    pub fn of(self, limits: &Limits) -> usize {
        match self {
            Limit::MessageBytes => limits.message_bytes,
            Limit::HeaderBytes => limits.header_bytes,
            Limit::MimeDepth => limits.mime_depth,
            Limit::MimeParts => limits.mime_parts,
            Limit::DecompressedBytes => limits.decompressed_bytes,
            Limit::HeaderFields => limits.header_fields,
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The length of the header section: up to the first empty line, or all of it.
fn header_len(raw: &[u8]) -> usize {
    let mut start = 0;
    for line in raw.split_inclusive(|b| *b == b'\n') {
        if line == b"\n" || line == b"\r\n" {
            return start;
        }
        start += line.len();
    }
    raw.len()
}

/// The boundaries a message declares in `boundary=` parameters, as a set and the lengths
/// found; `None` when they cannot be known cheaply (an RFC 2231 `boundary*` form) or
/// there are more than `max` of them (each multipart declares one).
fn declared_boundaries(raw: &[u8], max: usize) -> Option<(HashSet<&[u8]>, Vec<usize>)> {
    const NEEDLE: &[u8] = b"boundary";
    let mut found: HashSet<&[u8]> = HashSet::new();
    let mut lengths: Vec<usize> = Vec::new();
    let lower = raw.to_ascii_lowercase();
    for pos in memchr::memmem::find_iter(&lower, NEEDLE) {
        let value = &raw[pos + NEEDLE.len()..];
        let value = match value.first() {
            Some(b'=') => &value[1..],
            Some(b'*') => return None,
            _ => continue,
        };
        let boundary = match value.first() {
            Some(b'"') => value[1..].split(|b| *b == b'"').next().unwrap_or_default(),
            _ => value
                .split(|b| b.is_ascii_whitespace() || *b == b';')
                .next()
                .unwrap_or_default(),
        };
        if boundary.is_empty() || !found.insert(boundary) {
            continue;
        }
        if found.len() > max {
            return None;
        }
        if !lengths.contains(&boundary.len()) {
            lengths.push(boundary.len());
        }
    }
    Some((found, lengths))
}

/// An upper bound on the MIME parts the parser would make. mail-parser takes `--` and a
/// boundary anywhere in a line as a delimiter, so every such place counts; when the
/// boundaries cannot be known, every `--` counts.
fn delimiters(raw: &[u8], boundaries: Option<&(HashSet<&[u8]>, Vec<usize>)>) -> usize {
    let mut count = 0;
    for i in memchr::memchr_iter(b'-', raw) {
        if raw.get(i + 1) != Some(&b'-') {
            continue;
        }
        let rest = &raw[i + 2..];
        count += match boundaries {
            None => 1,
            Some((set, lengths)) => usize::from(
                lengths
                    .iter()
                    .any(|len| rest.get(..*len).is_some_and(|b| set.contains(b))),
            ),
        };
    }
    count
}

/// Lines that look like header fields (`Name:` at the start of a line): an upper bound
/// on the header records the parser makes, in every part and forwarded message.
fn field_lines(raw: &[u8]) -> usize {
    std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', raw).map(|i| i + 1))
        .filter(|start| {
            let line = &raw[(*start).min(raw.len())..];
            let name_len = line
                .iter()
                .take(80)
                .take_while(|b| b.is_ascii_graphic() && **b != b':')
                .count();
            name_len > 0 && line.get(name_len) == Some(&b':')
        })
        .count()
}

/// Forwarded messages (`message/rfc822` and the like) declared in the raw bytes: each is a
/// level deeper, and a long chain costs the parser a record per level.
fn forwarded_messages(raw: &[u8]) -> usize {
    memchr::memmem::find_iter(&raw.to_ascii_lowercase(), b"message/").count()
}

/// mail-parser reads a forwarded message sent in base64 or quoted-printable by decoding
/// it and parsing it in turn (three levels at most), and copies what it parsed
/// recursively: a long chain hidden in such a part overflows the stack however the rest
/// is bounded. Each such part is decoded here and held to the same checks.
fn encoded_forwards(raw: &[u8], limits: &Limits, level: usize) -> Result<(), Limit> {
    let lower = raw.to_ascii_lowercase();
    let blank = |from: usize| {
        let rest = &raw[from.min(raw.len())..];
        memchr::memmem::find(rest, b"\n\r\n")
            .map(|p| from + p + 3)
            .into_iter()
            .chain(memchr::memmem::find(rest, b"\n\n").map(|p| from + p + 2))
            .min()
    };
    let mut checked_to = 0;
    for pos in memchr::memmem::find_iter(&lower, b"message/") {
        if pos < checked_to {
            continue;
        }
        let Some(body) = blank(pos) else {
            break;
        };
        // The part's header block: from the blank line before it.
        let head_start = [b"\n\n".as_slice(), b"\n\r\n"]
            .iter()
            .filter_map(|blank| memchr::memmem::rfind(&lower[..pos], blank))
            .max()
            .unwrap_or(0);
        let head = &lower[head_start..body];
        let Some(cte) = memchr::memmem::find(head, b"content-transfer-encoding") else {
            continue;
        };
        let value = head[cte..]
            .splitn(2, |b| *b == b':')
            .nth(1)
            .unwrap_or_default()
            .trim_ascii_start();
        let end = memchr::memmem::find(&raw[body..], b"\n--").map_or(raw.len(), |p| body + p);
        checked_to = end;
        let decoded = if value.starts_with(b"base64") {
            mail_parser::decoders::base64::base64_decode(&raw[body..end])
        } else if value.starts_with(b"quoted-printable") {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(&raw[body..end])
        } else {
            continue;
        };
        let Some(decoded) = decoded else {
            continue;
        };
        if level >= 3 {
            return Err(Limit::MimeDepth);
        }
        check_raw_at(&decoded, limits, level + 1)?;
    }
    Ok(())
}

/// The checks made on the raw bytes, before parsing: each bounds what the parser would
/// allocate, so no input costs memory (or stack) out of proportion to its size.
pub(crate) fn check_raw(raw: &[u8], limits: &Limits) -> Result<(), Limit> {
    check_raw_at(raw, limits, 0)
}

fn check_raw_at(raw: &[u8], limits: &Limits, level: usize) -> Result<(), Limit> {
    if raw.len() > limits.message_bytes {
        return Err(Limit::MessageBytes);
    }
    if header_len(raw) > limits.header_bytes {
        return Err(Limit::HeaderBytes);
    }
    if field_lines(raw) > limits.header_fields {
        return Err(Limit::HeaderFields);
    }
    if forwarded_messages(raw) > limits.mime_parts {
        return Err(Limit::MimeParts);
    }
    let boundaries = declared_boundaries(raw, limits.mime_parts);
    let declared = boundaries.as_ref().map_or(0, |(set, _)| set.len());
    // Each multipart has an opening delimiter per part and one closing delimiter.
    if delimiters(raw, boundaries.as_ref()) > limits.mime_parts.saturating_mul(2) + declared {
        return Err(Limit::MimeParts);
    }
    encoded_forwards(raw, limits, level)
}

/// The checks made on the parsed tree: parts (forwarded messages' included) and depth.
pub(crate) fn check_tree(message: &Message<'_>, limits: &Limits) -> Result<(), Limit> {
    let mut parts = 0usize;
    // (message, part id, depth); forwarded messages count one level deeper.
    let mut stack: Vec<(&Message<'_>, u32, usize)> = vec![(message, 0, 1)];
    while let Some((m, id, depth)) = stack.pop() {
        if depth > limits.mime_depth {
            return Err(Limit::MimeDepth);
        }
        parts += 1;
        if parts > limits.mime_parts {
            return Err(Limit::MimeParts);
        }
        match m.parts.get(id as usize).map(|p| &p.body) {
            Some(PartType::Multipart(children)) => {
                stack.extend(children.iter().map(|c| (m, *c, depth + 1)));
            }
            Some(PartType::Message(nested)) => stack.push((nested, 0, depth + 1)),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> Vec<u8> {
        let mut raw = b"From: a@example.net\r\nSubject: deep\r\nMIME-Version: 1.0\r\n".to_vec();
        for level in 0..depth {
            raw.extend(
                format!(
                    "Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n"
                )
                .as_bytes(),
            );
        }
        raw.extend(b"Content-Type: text/plain\r\n\r\ndeep text\r\n");
        for level in (0..depth).rev() {
            raw.extend(format!("--b{level}--\r\n").as_bytes());
        }
        raw
    }

    #[test]
    fn limits_are_named_after_their_settings() {
        let limits = Limits {
            mime_depth: 20,
            ..Limits::default()
        };
        let raw = nested(30);
        assert_eq!(check_raw(&raw, &limits), Ok(()));
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(check_tree(&parsed, &limits), Err(Limit::MimeDepth));
        assert_eq!(Limit::MimeDepth.to_string(), "max_mime_depth");
        let shallow = nested(5);
        let parsed = mail_parser::MessageParser::default()
            .parse(&shallow)
            .unwrap();
        assert_eq!(check_tree(&parsed, &limits), Ok(()));
    }

    #[test]
    fn a_chain_hidden_in_base64_is_found_before_parsing() {
        use std::fmt::Write;
        let chain = b"Content-Type: message/rfc822\r\n\r\n".repeat(20_000);
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut encoded = String::new();
        for (i, c) in chain.chunks(3).enumerate() {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for k in 0..4 {
                let ch = if k <= c.len() {
                    T[((n >> (18 - 6 * k)) & 63) as usize] as char
                } else {
                    '='
                };
                encoded.push(ch);
            }
            if i % 19 == 18 {
                encoded.push_str("\r\n");
            }
        }
        let mut raw = String::from(
            "From: a@example.net\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        );
        let _ = write!(raw, "{encoded}\r\n--b--\r\n");
        assert!(check_raw(raw.as_bytes(), &Limits::default()).is_err());
    }

    #[test]
    fn too_many_parts_are_counted_before_parsing() {
        let limits = Limits {
            mime_parts: 10,
            ..Limits::default()
        };
        let mut raw =
            b"From: a@example.net\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n".to_vec();
        for _ in 0..50 {
            raw.extend(b"--x\r\n\r\npart\r\n");
        }
        raw.extend(b"--x--\r\n");
        assert_eq!(check_raw(&raw, &limits), Err(Limit::MimeParts));
        // mail-parser finds a delimiter anywhere in a line, so those count too.
        let mut mid_line =
            b"From: a@example.net\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n".to_vec();
        for _ in 0..50 {
            mid_line.extend(b"\r\n\r\na--x\r\n");
        }
        assert_eq!(check_raw(&mid_line, &limits), Err(Limit::MimeParts));
        // An RFC 2231 boundary cannot be read cheaply: every `--` counts.
        let mut starred =
            b"From: a@example.net\r\nContent-Type: multipart/mixed; boundary*=utf-8''x\r\n\r\n"
                .to_vec();
        starred.extend(b"--x\r\n\r\n".repeat(50));
        assert_eq!(check_raw(&starred, &limits), Err(Limit::MimeParts));
        // A flood of header fields inside a part, and a chain of forwarded messages.
        let mut fields =
            b"From: a@example.net\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
                .to_vec();
        fields.extend(b"a:b\n".repeat(60_000));
        assert_eq!(
            check_raw(&fields, &Limits::default()),
            Err(Limit::HeaderFields)
        );
        let chain = b"Content-Type: message/rfc822\r\n\r\n".repeat(600);
        assert_eq!(check_raw(&chain, &Limits::default()), Err(Limit::MimeParts));
        let big_header = [b"X-A: ".as_slice(), &vec![b'a'; 300_000], b"\r\n\r\nbody"].concat();
        assert_eq!(
            check_raw(&big_header, &Limits::default()),
            Err(Limit::HeaderBytes)
        );
    }
}
