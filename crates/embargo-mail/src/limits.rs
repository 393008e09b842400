//! The limits of intake, and the checks that keep a hostile message from costing more
//! than its own size: the size of the whole message and of its header section are checked
//! before parsing, the number of MIME parts is bounded from the raw bytes before the
//! parser allocates a record per part, and the depth of the tree is checked after.

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
    /// Decrypted and decompressed OpenPGP data is read up to this many bytes; beyond it
    /// the message is quarantined (a decompression bomb stops here).
    pub decompressed_bytes: usize,
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

/// The boundaries a message declares, from every `boundary=` parameter in the raw bytes;
/// `None` when there are more than `max` of them (each multipart declares one).
fn declared_boundaries(raw: &[u8], max: usize) -> Option<Vec<&[u8]>> {
    const NEEDLE: &[u8] = b"boundary=";
    let mut found: Vec<&[u8]> = Vec::new();
    let mut at = 0;
    while let Some(pos) = raw[at..]
        .windows(NEEDLE.len())
        .position(|w| w.eq_ignore_ascii_case(NEEDLE))
    {
        let value = &raw[at + pos + NEEDLE.len()..];
        let boundary = match value.first() {
            Some(b'"') => value[1..].split(|b| *b == b'"').next().unwrap_or_default(),
            _ => value
                .split(|b| b.is_ascii_whitespace() || *b == b';')
                .next()
                .unwrap_or_default(),
        };
        if !boundary.is_empty() && !found.contains(&boundary) {
            if found.len() == max {
                return None;
            }
            found.push(boundary);
        }
        at += pos + NEEDLE.len();
    }
    Some(found)
}

/// An upper bound on the MIME parts the parser would make: one per delimiter line of a
/// declared boundary, counted on the raw bytes before anything is allocated per part.
fn delimiter_lines(raw: &[u8], boundaries: &[&[u8]]) -> usize {
    if boundaries.is_empty() {
        return 0;
    }
    raw.split(|b| *b == b'\n')
        .filter(|line| {
            line.strip_prefix(b"--")
                .is_some_and(|rest| boundaries.iter().any(|b| rest.starts_with(b)))
        })
        .count()
}

/// The checks made on the raw bytes, before parsing.
pub(crate) fn check_raw(raw: &[u8], limits: &Limits) -> Result<(), Limit> {
    if raw.len() > limits.message_bytes {
        return Err(Limit::MessageBytes);
    }
    if header_len(raw) > limits.header_bytes {
        return Err(Limit::HeaderBytes);
    }
    let boundaries = declared_boundaries(raw, limits.mime_parts).ok_or(Limit::MimeParts)?;
    // Each multipart has an opening delimiter per part and one closing delimiter.
    if delimiter_lines(raw, &boundaries) > limits.mime_parts.saturating_mul(2) + boundaries.len() {
        return Err(Limit::MimeParts);
    }
    Ok(())
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
        let big_header = [b"X-A: ".as_slice(), &vec![b'a'; 300_000], b"\r\n\r\nbody"].concat();
        assert_eq!(
            check_raw(&big_header, &Limits::default()),
            Err(Limit::HeaderBytes)
        );
    }
}
