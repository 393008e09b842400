//! Inbound messages: what intake keeps of an RFC 5322 message, and how it is classified.
//!
//! Text comes from mail-parser (charsets, transfer encodings, HTML converted to text,
//! never rendered). Attachments are taken from the raw message and only transfer-decoded,
//! so they are stored byte for byte as sent, whatever their charset.

use std::borrow::Cow;

use embargo_core::reference::CaseRef;
use mail_parser::{HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType};

use crate::charset;
use crate::forward::{self, Forwarded};
use crate::limits;
pub use crate::limits::{Limit, Limits};
use crate::parts::part_bytes;
use crate::protection::{self, InlineError, Keys, Protection};
use embargo_openpgp::SignatureCheck;

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A person's report (or, when it threads onto a case, a follow-up).
    Report,
    /// Output of an automated scanner or review, sent as is.
    ScanOutput,
    /// An out-of-office or other automatic reply: opens no case.
    AutoReply,
    /// A delivery failure report: opens no case.
    Bounce,
    /// Marked as spam by the receiving mail system.
    Spam,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Report => "report",
            Kind::ScanOutput => "scan-output",
            Kind::AutoReply => "auto-reply",
            Kind::Bounce => "bounce",
            Kind::Spam => "spam",
        }
    }

    /// Whether a message of this kind may open a case.
    pub fn opens_case(self) -> bool {
        matches!(self, Kind::Report | Kind::ScanOutput)
    }
}

/// Why a message cannot be used; it goes to quarantine with this reason. The reasons
/// describe the message's shape and never quote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    /// Not an RFC 5322 message at all.
    #[error("not an email message: no header could be read")]
    NotAMessage,
    /// Nobody to answer.
    #[error("no sender address in From, Sender, Reply-To or Return-Path")]
    NoSender,
    /// Nothing in it: a subject alone is not a report.
    #[error("empty: no text and no attachment")]
    Empty,
    /// Over one of the limits of intake; kept whole, not read further.
    #[error("over the limit {0} ({1})")]
    OverLimit(Limit, usize),
    /// The parser failed on it; kept whole for a person to look at.
    #[error("the message could not be read: the parser failed on it")]
    Unreadable,
    /// Encrypted with OpenPGP, and the project has no team key to decrypt it.
    #[error("encrypted with OpenPGP, and the project has no team key")]
    NoTeamKey,
    /// Encrypted with OpenPGP, but it cannot be decrypted.
    #[error("encrypted with OpenPGP, but it cannot be decrypted: {0}")]
    Undecryptable(&'static str),
}

impl Unusable {
    fn undecryptable(e: embargo_openpgp::OpenPgpError, limits: &Limits) -> Unusable {
        use embargo_openpgp::OpenPgpError as E;
        Unusable::Undecryptable(match e {
            E::TooLarge(_) => {
                return Unusable::OverLimit(Limit::DecompressedBytes, limits.decompressed_bytes);
            }
            E::NotForUs => "it is not encrypted to the team key",
            E::Damaged => "its data is damaged or was altered",
            E::UnsupportedCompression => {
                "it is compressed with an algorithm Embargo does not read (BZip2)"
            }
            _ => "it is not readable OpenPGP",
        })
    }

    fn over(limit: Limit, limits: &Limits) -> Unusable {
        Unusable::OverLimit(limit, limit.of(limits))
    }
}

/// An attachment, as sent.
#[derive(Clone)]
pub struct Attachment {
    /// Its file name, or a made-up one.
    pub filename: String,
    /// Its declared type, e.g. `application/octet-stream`.
    pub content_type: String,
    /// Its bytes after transfer decoding only.
    pub bytes: Vec<u8>,
    /// Over the size limit: kept, but held back.
    pub held_back: bool,
}

// No Debug with content: names and bytes are confidential.
impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Attachment({} bytes, held_back={})",
            self.bytes.len(),
            self.held_back
        )
    }
}

/// An inbound message, parsed.
#[derive(Clone)]
pub struct Inbound {
    /// Its Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// The Message-IDs it answers (In-Reply-To, then References), without brackets.
    pub thread_ids: Vec<String>,
    /// Case references found in the subject.
    pub case_refs: Vec<CaseRef>,
    /// The subject.
    pub subject: String,
    /// The sender's display name.
    pub from_name: Option<String>,
    /// The sender's address: From, else Sender, Reply-To or Return-Path (where replies go).
    pub from_email: String,
    /// The From address alone: who speaks. Only it decides whether mail on a case is the
    /// reporter's (Reply-To and Sender are not authenticated by anything).
    pub author: Option<String>,
    /// The Date header as Unix seconds, when it is valid.
    pub date: Option<i64>,
    /// The text, with HTML converted to text.
    pub text: String,
    /// The message had HTML and no plain text.
    pub html_only: bool,
    /// Attachments, including forwarded messages.
    pub attachments: Vec<Attachment>,
    /// What it is.
    pub kind: Kind,
    /// What OpenPGP did for it: decrypted, signature checked, keys found.
    pub protection: Protection,
    /// A forwarded report's original sender and subject.
    pub forwarded: Option<Forwarded>,
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Inbound(kind={:?}, attachments={}, [redacted])",
            self.kind,
            self.attachments.len()
        )
    }
}

/// Message-IDs of a message's thread that intake looks up (In-Reply-To, then the newest
/// References).
const MAX_THREAD_IDS: usize = 50;
/// Case references in a subject that intake looks up.
const MAX_CASE_REFS: usize = 10;

/// Parses and checks the tree's size and depth. A tree over the limits is not dropped
/// normally: dropping a chain of forwarded messages recurses once per level, and a long
/// enough chain would overflow the stack; its memory is bounded by the message's size.
fn parse_tree<'x>(raw: &'x [u8], limits: &Limits) -> Result<Message<'x>, Unusable> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(Unusable::NotAMessage)?;
    match limits::check_tree(&message, limits) {
        Ok(()) => Ok(message),
        Err(limit) => {
            std::mem::forget(message);
            Err(Unusable::over(limit, limits))
        }
    }
}

/// The From header's address, lower-cased.
fn author(message: &Message<'_>) -> Option<String> {
    message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::trim)
        .filter(|e| e.contains('@'))
        .map(str::to_ascii_lowercase)
}

fn strip_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty()).then(|| id.to_owned())
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => t.split_whitespace().filter_map(strip_id).collect(),
        HeaderValue::TextList(list) => list.iter().filter_map(|t| strip_id(t)).collect(),
        _ => Vec::new(),
    }
}

/// A header field's raw value; the last of several, as mail-parser reads them.
fn header_text<'a>(message: &'a Message<'_>, name: &str) -> Option<&'a str> {
    message
        .headers_raw()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .last()
        .map(|(_, v)| v.trim())
}

/// Case references (`KEY-SEC-N`) anywhere in a subject.
pub fn case_refs_in(subject: &str) -> Vec<CaseRef> {
    let mut found: Vec<CaseRef> = Vec::new();
    for token in subject.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if found.len() == MAX_CASE_REFS {
            break;
        }
        if let Ok(r) = token.to_ascii_uppercase().parse::<CaseRef>()
            && !found.contains(&r)
        {
            found.push(r);
        }
    }
    found
}

fn sender(message: &Message<'_>) -> Option<(Option<String>, String)> {
    for address in [message.from(), message.sender(), message.reply_to()]
        .into_iter()
        .flatten()
    {
        if let Some(addr) = address.first()
            && let Some(email) = addr.address().map(str::trim).filter(|e| e.contains('@'))
        {
            let name = addr
                .name()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            return Some((name, email.to_ascii_lowercase()));
        }
    }
    message
        .return_address()
        .map(str::trim)
        .filter(|e| e.contains('@'))
        .map(|e| (None, e.to_ascii_lowercase()))
}

fn content_type(part: &MessagePart<'_>) -> String {
    part.content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_owned(),
        })
        .unwrap_or_else(|| "application/octet-stream".to_owned())
        .to_ascii_lowercase()
}

fn classify(message: &Message<'_>, from: &str, subject: &str, text: &str) -> Kind {
    let header = |name: &str| header_text(message, name).map(str::to_ascii_lowercase);
    if header("X-Spam-Flag").is_some_and(|v| v.starts_with("yes"))
        || header("X-Spam-Status").is_some_and(|v| v.starts_with("yes"))
    {
        return Kind::Spam;
    }
    let local = from.split('@').next().unwrap_or_default();
    let is_report = message.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
    });
    if is_report
        || local.eq_ignore_ascii_case("mailer-daemon")
        || local.eq_ignore_ascii_case("postmaster")
    {
        return Kind::Bounce;
    }
    let subject = subject.to_ascii_lowercase();
    if header("Auto-Submitted").is_some_and(|v| v != "no")
        || header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
        || header("Precedence")
            .is_some_and(|v| matches!(v.as_str(), "auto_reply" | "bulk" | "junk"))
        || ["auto:", "automatic reply", "out of office", "autoreply"]
            .iter()
            .any(|p| subject.starts_with(p))
    {
        return Kind::AutoReply;
    }
    // Scanner output lists findings field by field; a person's report rarely does.
    let findings = text
        .lines()
        .map(|l| l.trim_start().to_ascii_lowercase())
        .filter(|l| {
            [
                "severity",
                "cwe",
                "rule",
                "finding",
                "confidence",
                "location",
                "file:",
            ]
            .iter()
            .any(|k| l.starts_with(k))
                && l.contains([':', '#', '-', '='])
        })
        .count();
    if findings >= 6 {
        Kind::ScanOutput
    } else {
        Kind::Report
    }
}

impl Inbound {
    /// Parses a raw message that needs no keys (or fails without them).
    pub fn parse(raw: &[u8], limits: &Limits) -> Result<Inbound, Unusable> {
        Inbound::parse_with(raw, limits, Keys::default())
    }

    /// Parses a raw message, decrypting and checking OpenPGP with `keys`. Never panics:
    /// a parser failure is [`Unusable::Unreadable`], so the message is still kept.
    pub fn parse_with(raw: &[u8], limits: &Limits, keys: Keys<'_>) -> Result<Inbound, Unusable> {
        limits::check_raw(raw, limits).map_err(|l| Unusable::over(l, limits))?;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Inbound::parse_checked(raw, limits, keys)
        }))
        .unwrap_or(Err(Unusable::Unreadable))
    }

    fn parse_checked(raw: &[u8], limits: &Limits, keys: Keys<'_>) -> Result<Inbound, Unusable> {
        let message = parse_tree(raw, limits)?;
        if let Some(ciphertext) = protection::pgp_mime_ciphertext(&message, raw) {
            let team = keys.team.ok_or(Unusable::NoTeamKey)?;
            let opened = embargo_openpgp::decrypt(
                &ciphertext,
                team,
                keys.signers,
                limits.decompressed_bytes,
            )
            .map_err(|e| Unusable::undecryptable(e, limits))?;
            let inner = protection::rewrap(&message, &opened.data);
            // What was inside is held to every limit too: a small ciphertext can hold a
            // large flood.
            limits::check_raw(&inner, limits).map_err(|l| Unusable::over(l, limits))?;
            let inner_message = parse_tree(&inner, limits)?;
            let budget = limits.decompressed_bytes.saturating_sub(opened.data.len());
            let mut inbound = Inbound::from_message(&inner_message, &inner, limits, keys, budget)?;
            // Who sent it is what the outer header says: the encrypted part is the
            // sender's to write, and would let anyone name the reporter there.
            let (name, email) = sender(&message).ok_or(Unusable::NoSender)?;
            inbound.from_name = name;
            inbound.from_email = email;
            inbound.author = author(&message);
            let mut signature = opened.signature;
            // The signer's key may be inside the encrypted message itself.
            if matches!(signature, Some(SignatureCheck::UnknownKey { .. }))
                && !inbound.protection.keys.is_empty()
            {
                let signers: Vec<_> = keys
                    .signers
                    .iter()
                    .chain(&inbound.protection.keys)
                    .cloned()
                    .collect();
                if let Ok(again) =
                    embargo_openpgp::decrypt(&ciphertext, team, &signers, limits.decompressed_bytes)
                {
                    signature = again.signature;
                }
            }
            inbound.protection.encrypted = true;
            if inbound.protection.signature.is_none() {
                inbound.protection.signature = signature;
            }
            return Ok(inbound);
        }
        Inbound::from_message(&message, raw, limits, keys, limits.decompressed_bytes)
    }

    fn from_message(
        message: &Message<'_>,
        raw: &[u8],
        limits: &Limits,
        keys: Keys<'_>,
        plaintext_budget: usize,
    ) -> Result<Inbound, Unusable> {
        // mail-parser reads almost anything; a message has at least one field that
        // every mail system writes.
        const FIELDS: [&str; 9] = [
            "from",
            "to",
            "subject",
            "date",
            "message-id",
            "received",
            "sender",
            "return-path",
            "mime-version",
        ];
        let known = message
            .headers_raw()
            .any(|(name, _)| FIELDS.iter().any(|f| name.eq_ignore_ascii_case(f)));
        if !known {
            return Err(Unusable::NotAMessage);
        }
        let (mut from_name, from_email) = sender(message).ok_or(Unusable::NoSender)?;
        let mut subject = message
            .subject()
            .map(str::trim)
            .unwrap_or_default()
            .to_owned();
        if let Some(decoded) = header_text(message, "Subject").and_then(charset::decode_header_kr) {
            subject = decoded;
        }
        if let Some(decoded) = header_text(message, "From").and_then(charset::decode_header_kr) {
            from_name = charset::display_name(&decoded);
        }
        let raw_bytes = message.raw_message();
        let mut texts: Vec<String> = Vec::new();
        let mut html_only = message.text_body_count() > 0;
        for (i, id) in message.text_body.iter().enumerate() {
            let part = message.parts.get(*id as usize);
            if part.is_some_and(|p| !matches!(p.body, PartType::Html(_))) {
                html_only = false;
            }
            if let Some(text) = part.and_then(|p| kr_text(raw_bytes, p)) {
                texts.push(text);
            } else if let Some(text) = message.body_text(i) {
                texts.push(text.into_owned());
            }
        }
        if message.text_body_count() == 0 && message.html_body_count() > 0 {
            html_only = true;
            let part = message
                .html_body
                .first()
                .and_then(|id| message.parts.get(*id as usize));
            if let Some(text) = part.and_then(|p| kr_text(raw_bytes, p)) {
                texts.push(text);
            } else if let Some(text) = message.body_text(0) {
                texts.push(text.into_owned());
            }
        }
        let own_text = texts.join("\n\n");
        let forwarded = forward::original(message, &subject, &own_text);
        let mut attachments = Vec::new();
        let mut found_keys = Vec::new();
        for (n, part) in message.attachments().enumerate() {
            if protection::is_plumbing(part) {
                continue;
            }
            let filename = part
                .attachment_name()
                .map(str::to_owned)
                .unwrap_or_else(|| match &part.body {
                    PartType::Message(_) => format!("forwarded-{}.eml", n + 1),
                    _ => format!("attachment-{}", n + 1),
                });
            if let PartType::Message(nested) = &part.body {
                // A forwarded report: its text is part of what the team reads.
                if let Some(text) = nested.body_text(0) {
                    let from = nested
                        .from()
                        .and_then(|a| a.first())
                        .and_then(|a| a.address())
                        .unwrap_or("unknown sender");
                    texts.push(format!(
                        "---------- Forwarded message from {from} ----------\n{}",
                        text
                    ));
                }
            }
            let bytes = part_bytes(raw_bytes, part);
            if content_type(part) == "application/pgp-keys"
                || bytes.starts_with(b"-----BEGIN PGP PUBLIC KEY BLOCK")
            {
                found_keys.extend(protection::keys_in(&String::from_utf8_lossy(&bytes)));
            }
            attachments.push(Attachment {
                held_back: bytes.len() > limits.attachment_bytes,
                content_type: if matches!(part.body, PartType::Message(_)) {
                    "message/rfc822".to_owned()
                } else {
                    content_type(part)
                },
                filename,
                bytes,
            });
        }
        let text = texts.join("\n\n").trim().to_owned();
        found_keys.extend(protection::keys_in(&text));
        let signers: Vec<_> = keys.signers.iter().chain(&found_keys).cloned().collect();
        let keys = Keys {
            team: keys.team,
            signers: &signers,
        };
        let mut protection = Protection {
            signature: protection::signed_root(message, raw, keys.signers),
            ..Protection::default()
        };
        let text = protection::open_inline(&text, keys, plaintext_budget, &mut protection)
            .map_err(|e| match e {
                InlineError::NoTeamKey => Unusable::NoTeamKey,
                InlineError::TooManyBlocks => {
                    Unusable::Undecryptable("it holds more OpenPGP blocks than intake opens")
                }
                InlineError::Undecryptable(e) => Unusable::undecryptable(e, limits),
            })?
            .trim()
            .to_owned();
        protection.keys = found_keys;
        if text.is_empty() && attachments.is_empty() && subject.is_empty() {
            return Err(Unusable::Empty);
        }
        // A header can name thousands of messages; the nearest few are enough to thread.
        let mut seen = std::collections::HashSet::new();
        let thread_ids: Vec<String> = ids(message.in_reply_to())
            .into_iter()
            .chain(ids(message.references()).into_iter().rev())
            .filter(|id| seen.insert(id.clone()))
            .take(MAX_THREAD_IDS)
            .collect();
        let kind = classify(message, &from_email, &subject, &text);
        Ok(Inbound {
            message_id: message.message_id().and_then(strip_id),
            thread_ids,
            case_refs: case_refs_in(&subject),
            author: author(message),
            date: message
                .date()
                .filter(|d| d.is_valid())
                .map(|d| d.to_timestamp()),
            from_name,
            from_email,
            subject,
            text,
            html_only,
            attachments,
            kind,
            protection,
            forwarded,
        })
    }
}

/// The text of a part in ISO-2022-KR, which mail-parser cannot decode; `None` for any
/// other charset.
fn kr_text(raw: &[u8], part: &MessagePart<'_>) -> Option<String> {
    let charset = part.content_type()?.attribute("charset")?;
    if !charset::is_iso_2022_kr(charset) {
        return None;
    }
    let text = charset::decode_iso_2022_kr(&part_bytes(raw, part));
    Some(if matches!(part.body, PartType::Html(_)) {
        mail_parser::decoders::html::html_to_text(&text)
    } else {
        text
    })
}

/// The From address of a raw message (the outer one of an encrypted message), read from
/// its header fields only.
pub fn author_of(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse_headers(raw)?;
    author(&message)
}

impl Inbound {
    /// Only a subject: no text and no attachment. It opens no case.
    pub fn is_subject_only(&self) -> bool {
        self.text.is_empty() && self.attachments.is_empty()
    }
}

/// The text of a title for a case opened by a message.
pub fn title_for(inbound: &Inbound) -> Cow<'_, str> {
    if inbound.subject.is_empty() {
        Cow::Borrowed("(no subject)")
    } else {
        Cow::Borrowed(inbound.subject.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Inbound, Unusable> {
        Inbound::parse(raw.as_bytes(), &Limits::default())
    }

    #[test]
    fn subject_references_are_found() {
        let refs = case_refs_in("Re: [CLOUDSTACK-SEC-12] more details (see cloudstack-sec-3)");
        let shown: Vec<String> = refs.iter().map(|r| r.to_string()).collect();
        assert_eq!(shown, ["CLOUDSTACK-SEC-12", "CLOUDSTACK-SEC-3"]);
    }

    #[test]
    fn attachments_keep_their_bytes_and_charset() {
        let raw = "From: a@example.net\r\nSubject: poc\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Disposition: attachment; filename=\"latin.txt\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n--XX\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"poc.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC/w==\r\n--XX--\r\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.text, "see attached");
        assert_eq!(m.attachments.len(), 2);
        assert_eq!(m.attachments[0].filename, "latin.txt");
        assert_eq!(
            m.attachments[0].bytes, b"caf\xe9",
            "ISO-8859-1 bytes, not UTF-8"
        );
        assert_eq!(m.attachments[1].bytes, [0u8, 1, 2, 255]);
    }

    #[test]
    fn unusable_messages_say_why_without_quoting() {
        assert_eq!(
            parse("Subject: hi\r\n\r\nbody").unwrap_err(),
            Unusable::NoSender
        );
        assert_eq!(
            parse("From: a@example.net\r\n\r\n").unwrap_err(),
            Unusable::Empty
        );
        assert!(
            parse("From: a@example.net\r\nSubject: RCE in the agent\r\n\r\n  \r\n")
                .unwrap()
                .is_subject_only(),
            "a subject alone is read; intake decides (no case from it, a follow-up on one)"
        );
    }
}
