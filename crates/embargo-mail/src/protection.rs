//! OpenPGP in inbound mail: PGP/MIME (RFC 3156) `multipart/encrypted` and
//! `multipart/signed`, inline armored messages and cleartext signatures in the text, and
//! public keys that reporters attach. The MIME structure is read here; the cryptography is
//! `embargo-openpgp`'s.

use embargo_openpgp::{OpenPgpError, PublicKey, SignatureCheck, TeamKey};
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

/// The keys intake may use on a message.
#[derive(Default, Clone, Copy)]
pub struct Keys<'a> {
    /// The project's team key, which decrypts.
    pub team: Option<&'a TeamKey>,
    /// Keys whose signatures can be checked (the reporter's, when known).
    pub signers: &'a [PublicKey],
}

/// What OpenPGP protected a message.
#[derive(Default, Clone)]
pub struct Protection {
    /// It arrived encrypted, and was decrypted with the team key.
    pub encrypted: bool,
    /// The check of its signature, if it was signed.
    pub signature: Option<SignatureCheck>,
    /// Public keys the sender included (an attachment or a pasted block).
    pub keys: Vec<PublicKey>,
}

impl Protection {
    /// Whether OpenPGP played any part.
    pub fn is_used(&self) -> bool {
        self.encrypted || self.signature.is_some()
    }

    /// A line for the case timeline, naming keys by fingerprint.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.encrypted {
            parts.push("encrypted to the team key (OpenPGP), decrypted on intake".to_owned());
        }
        match &self.signature {
            Some(check) => parts.push(check.describe()),
            None => parts.push("not signed".to_owned()),
        }
        parts.join("; ")
    }
}

fn is_type(part: &MessagePart<'_>, ctype: &str, subtype: &str) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case(subtype))
    })
}

fn protocol_is(part: &MessagePart<'_>, protocol: &str) -> bool {
    part.content_type()
        .and_then(|ct| ct.attribute("protocol"))
        .is_some_and(|p| p.trim().eq_ignore_ascii_case(protocol))
}

fn children<'m>(message: &'m Message<'_>, part: &MessagePart<'_>) -> Vec<&'m MessagePart<'m>> {
    match &part.body {
        PartType::Multipart(ids) => ids.iter().filter_map(|id| message.part(*id)).collect(),
        _ => Vec::new(),
    }
}

/// Whether a part is OpenPGP plumbing that is consumed, not kept as an attachment: the
/// version part of `multipart/encrypted`, and detached signatures.
pub(crate) fn is_plumbing(part: &MessagePart<'_>) -> bool {
    is_type(part, "application", "pgp-encrypted") || is_type(part, "application", "pgp-signature")
}

/// The ciphertext of a PGP/MIME encrypted message, if it is one.
pub(crate) fn pgp_mime_ciphertext(message: &Message<'_>, raw: &[u8]) -> Option<Vec<u8>> {
    let root = message.root_part();
    if !is_type(root, "multipart", "encrypted") {
        return None;
    }
    let parts = children(message, root);
    // RFC 3156 §4: the version part, then the encrypted data; be lenient about the order.
    let data = parts
        .iter()
        .find(|p| !is_type(p, "application", "pgp-encrypted"))
        .or(parts.get(1))?;
    Some(crate::parts::part_bytes(raw, data))
}

/// The decrypted entity as a message of its own: the outer header fields (who, when,
/// threading) with the inner entity's content fields and body. Protected headers inside
/// (a Subject) win over the outer ones.
pub(crate) fn rewrap(message: &Message<'_>, inner: &[u8]) -> Vec<u8> {
    let raw = message.raw_message();
    let header_end = (message.root_part().offset_body as usize).min(raw.len());
    let inner_has_headers = inner
        .iter()
        .position(|&b| b == b'\n')
        .map(|end| {
            let line = &inner[..end];
            line.contains(&b':') && !line.starts_with(b" ") && !line.starts_with(b"\t")
        })
        .unwrap_or(false);
    let inner_head_end = if inner_has_headers {
        find_blank_line(inner).unwrap_or(inner.len())
    } else {
        0
    };
    let inner_has = |name: &str| {
        inner[..inner_head_end]
            .split(|&b| b == b'\n')
            .any(|l| starts_with_field(l, name))
    };
    let drop_subject = inner_has("subject");
    let mut out = Vec::with_capacity(header_end + inner.len() + 2);
    let mut skipping = false;
    for line in raw[..header_end].split_inclusive(|&b| b == b'\n') {
        let continuation = line.starts_with(b" ") || line.starts_with(b"\t");
        if !continuation {
            skipping = ["content-type", "content-transfer-encoding", "mime-version"]
                .iter()
                .any(|f| starts_with_field(line, f))
                || (drop_subject && starts_with_field(line, "subject"));
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if !skipping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    if !inner_has_headers {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(inner);
    out
}

fn starts_with_field(line: &[u8], name: &str) -> bool {
    line.len() > name.len()
        && line[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        && line[name.len()..].trim_ascii_start().starts_with(b":")
}

fn find_blank_line(data: &[u8]) -> Option<usize> {
    data.windows(2)
        .position(|w| w == b"\n\n")
        .map(|p| p + 1)
        .into_iter()
        .chain(
            data.windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|p| p + 2),
        )
        .min()
}

/// Checks a PGP/MIME `multipart/signed` root, if it is one.
pub(crate) fn signed_root(
    message: &Message<'_>,
    raw: &[u8],
    signers: &[PublicKey],
) -> Option<SignatureCheck> {
    let root = message.root_part();
    if !is_type(root, "multipart", "signed") || !protocol_is(root, "application/pgp-signature") {
        return None;
    }
    let parts = children(message, root);
    let (signed, signature) = (parts.first()?, parts.get(1)?);
    let start = (signed.offset_header as usize).min(raw.len());
    let end = (signed.offset_end as usize).clamp(start, raw.len());
    let signature = crate::parts::part_bytes(raw, signature);
    // RFC 3156 §5: the signed entity in canonical form (CRLF), without the line break
    // that belongs to the boundary. Parsers differ on where that break ends, so try both.
    let canonical = crlf(&raw[start..end]);
    let trimmed = canonical
        .strip_suffix(b"\r\n")
        .map(<[u8]>::to_vec)
        .unwrap_or_else(|| canonical.clone());
    let mut unknown = None;
    for candidate in [&trimmed, &canonical] {
        match embargo_openpgp::verify_detached(candidate, &signature, signers) {
            Ok(good @ SignatureCheck::Good { .. }) => return Some(good),
            Ok(other) => unknown = unknown.or(Some(other)),
            Err(_) => {}
        }
    }
    Some(unknown.unwrap_or(SignatureCheck::UnknownKey {
        issuer: "(unreadable signature)".to_owned(),
    }))
}

fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 40);
    let mut prev = 0u8;
    for &b in data {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

const MESSAGE_BEGIN: &str = "-----BEGIN PGP MESSAGE-----";
const MESSAGE_END: &str = "-----END PGP MESSAGE-----";
const SIGNED_BEGIN: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const SIGNATURE_END: &str = "-----END PGP SIGNATURE-----";
const KEY_BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const KEY_END: &str = "-----END PGP PUBLIC KEY BLOCK-----";

/// The armored blocks between `begin` and `end` lines, as byte ranges of `text`.
fn blocks(text: &str, begin: &str, end: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(b) = text[from..].find(begin) {
        let start = from + b;
        let Some(e) = text[start..].find(end) else {
            break;
        };
        let stop = start + e + end.len();
        found.push((start, stop));
        from = stop;
    }
    found
}

/// Public keys in a text (pasted, or an attachment).
pub(crate) fn keys_in(text: &str) -> Vec<PublicKey> {
    blocks(text, KEY_BEGIN, KEY_END)
        .into_iter()
        .filter_map(|(s, e)| PublicKey::from_armored(&text[s..e]).ok())
        .collect()
}

/// Why inline OpenPGP in a message could not be read.
pub(crate) enum InlineError {
    NoTeamKey,
    TooManyBlocks,
    Undecryptable(OpenPgpError),
}

/// Inline encrypted blocks opened in one message; a report has one, a thread a few.
const MAX_INLINE_BLOCKS: usize = 16;

/// Decrypts inline armored messages and checks cleartext signatures in a text, replacing
/// each block by its plaintext.
pub(crate) fn open_inline(
    text: &str,
    keys: Keys<'_>,
    max_plaintext: usize,
    protection: &mut Protection,
) -> Result<String, InlineError> {
    let mut text = text.to_owned();
    let encrypted = blocks(&text, MESSAGE_BEGIN, MESSAGE_END);
    if encrypted.len() > MAX_INLINE_BLOCKS {
        return Err(InlineError::TooManyBlocks);
    }
    if !encrypted.is_empty() {
        let team = keys.team.ok_or(InlineError::NoTeamKey)?;
        // One budget for all the blocks of a message: each block's own limit would let
        // many small bombs add up.
        let mut budget = max_plaintext;
        // Back to front, so earlier ranges stay valid.
        for (start, stop) in encrypted.into_iter().rev() {
            let opened =
                embargo_openpgp::decrypt(&text.as_bytes()[start..stop], team, keys.signers, budget)
                    .map_err(|e| match e {
                        OpenPgpError::TooLarge(_) => {
                            InlineError::Undecryptable(OpenPgpError::TooLarge(max_plaintext))
                        }
                        e => InlineError::Undecryptable(e),
                    })?;
            budget = budget.saturating_sub(opened.data.len());
            protection.encrypted = true;
            if protection.signature.is_none() {
                protection.signature = opened.signature;
            }
            let plain = String::from_utf8_lossy(&opened.data).replace("\r\n", "\n");
            text.replace_range(start..stop, plain.trim_end());
        }
    }
    for (start, stop) in blocks(&text, SIGNED_BEGIN, SIGNATURE_END).into_iter().rev() {
        if let Ok((signed, check)) =
            embargo_openpgp::verify_cleartext(&text[start..stop], keys.signers)
        {
            if protection.signature.is_none() {
                protection.signature = Some(check);
            }
            text.replace_range(start..stop, signed.trim_end());
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use crate::{Inbound, Keys, Limits, Unusable};
    use embargo_openpgp::{SignatureCheck, TeamKey};

    const HEAD: &str = "From: Reporter <rep@example.net>\r\nTo: security@example.org\r\nSubject: report\r\nMessage-ID: <p1@example.net>\r\nMIME-Version: 1.0\r\n";

    #[test]
    fn the_outer_from_says_who_sent_encrypted_mail() {
        let team = TeamKey::generate("Team <security@example.org>").unwrap();
        // Anyone can encrypt to the published team key, and name anyone inside.
        let entity = "From: The Reporter <victim@example.net>\r\nContent-Type: text/plain\r\n\r\nSend the fix to me instead.\r\n";
        let armored = embargo_openpgp::encrypt(entity.as_bytes(), &team.public(), None).unwrap();
        let raw = format!(
            "From: Mallory <mallory@evil.example>\r\nSubject: Re: report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"out\"\r\n\r\n--out\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--out\r\nContent-Type: application/octet-stream\r\n\r\n{armored}\r\n--out--\r\n"
        );
        let keys = Keys {
            team: Some(&team),
            signers: &[],
        };
        let m = Inbound::parse_with(raw.as_bytes(), &Limits::default(), keys).unwrap();
        assert_eq!(m.author.as_deref(), Some("mallory@evil.example"));
        assert_eq!(m.from_email, "mallory@evil.example");
        assert!(m.text.contains("Send the fix"));
    }

    #[test]
    fn inline_blocks_share_one_budget() {
        let team = TeamKey::generate("Team <security@example.org>").unwrap();
        let block = embargo_openpgp::encrypt(&[b'a'; 4000], &team.public(), None).unwrap();
        let keys = Keys {
            team: Some(&team),
            signers: &[],
        };
        let limits = Limits {
            decompressed_bytes: 10_000,
            ..Limits::default()
        };
        let message = |n: usize| {
            format!(
                "From: a@example.net\r\nSubject: blocks\r\n\r\n{}",
                vec![block.as_str(); n].join("\r\n")
            )
        };
        assert!(Inbound::parse_with(message(2).as_bytes(), &limits, keys).is_ok());
        // Each block is under the limit; together they are over it.
        assert_eq!(
            Inbound::parse_with(message(3).as_bytes(), &limits, keys).unwrap_err(),
            Unusable::OverLimit(crate::Limit::DecompressedBytes, 10_000)
        );
        assert!(matches!(
            Inbound::parse_with(message(17).as_bytes(), &Limits::default(), keys).unwrap_err(),
            Unusable::Undecryptable(_)
        ));
    }

    #[test]
    fn pgp_mime_encrypted_and_signed_mail_is_opened_and_checked() {
        let team = TeamKey::generate("Team <security@example.org>").unwrap();
        let reporter = TeamKey::generate("Reporter <rep@example.net>").unwrap();
        let entity = "Content-Type: multipart/mixed; boundary=\"in\"\r\n\r\n--in\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe console name field is not escaped.\r\n--in\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"poc.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC/w==\r\n--in--\r\n";
        let armored =
            embargo_openpgp::encrypt(entity.as_bytes(), &team.public(), Some(&reporter)).unwrap();
        let raw = format!(
            "{HEAD}Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"out\"\r\n\r\n--out\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--out\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\r\n{armored}\r\n--out--\r\n"
        );
        let signers = [reporter.public()];
        let keys = Keys {
            team: Some(&team),
            signers: &signers,
        };
        let m = Inbound::parse_with(raw.as_bytes(), &Limits::default(), keys).unwrap();
        assert_eq!(m.text, "The console name field is not escaped.");
        assert_eq!(m.message_id.as_deref(), Some("p1@example.net"));
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].bytes, [0u8, 1, 2, 255]);
        assert!(m.protection.encrypted);
        assert!(matches!(
            m.protection.signature,
            Some(SignatureCheck::Good { .. })
        ));

        assert_eq!(
            Inbound::parse(raw.as_bytes(), &Limits::default()).unwrap_err(),
            Unusable::NoTeamKey
        );
        let other = TeamKey::generate("Other <o@example.org>").unwrap();
        let keys = Keys {
            team: Some(&other),
            signers: &[],
        };
        assert!(matches!(
            Inbound::parse_with(raw.as_bytes(), &Limits::default(), keys).unwrap_err(),
            Unusable::Undecryptable(_)
        ));
    }

    #[test]
    fn pgp_mime_signatures_cover_the_first_part() {
        let reporter = TeamKey::generate("Reporter <rep@example.net>").unwrap();
        let part = "Content-Type: text/plain; charset=utf-8\r\n\r\nSigned report text.\r\n";
        let sig = embargo_openpgp::sign_detached(part.trim_end().as_bytes(), &reporter).unwrap();
        let make = |body: &str| {
            format!(
                "{HEAD}Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"s\"\r\n\r\n--s\r\n{body}\r\n--s\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n{sig}\r\n--s--\r\n"
            )
        };
        let signers = [reporter.public()];
        let keys = Keys {
            team: None,
            signers: &signers,
        };
        let good = Inbound::parse_with(make(part.trim_end()).as_bytes(), &Limits::default(), keys)
            .unwrap();
        assert_eq!(good.text, "Signed report text.");
        assert!(good.attachments.is_empty(), "the signature is consumed");
        assert!(
            matches!(good.protection.signature, Some(SignatureCheck::Good { .. })),
            "{:?}",
            good.protection.signature
        );
        let altered = part.trim_end().replace("Signed", "Altered");
        let bad = Inbound::parse_with(make(&altered).as_bytes(), &Limits::default(), keys).unwrap();
        assert!(matches!(
            bad.protection.signature,
            Some(SignatureCheck::Bad { .. })
        ));
        let unknown = Inbound::parse(make(part.trim_end()).as_bytes(), &Limits::default()).unwrap();
        assert!(matches!(
            unknown.protection.signature,
            Some(SignatureCheck::UnknownKey { .. })
        ));
    }
}
