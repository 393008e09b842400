//! Forwarded reports: a report that reaches the desk forwarded (by the foundation address,
//! a team member, a list moderator) belongs to its original sender. A message counts as a
//! forward when its subject says so and it carries the original, either attached as
//! `message/rfc822` or quoted inline under a client's forward separator; a message whose
//! only content is one attached message counts too.

use mail_parser::{Message, PartType};

/// The original sender and subject of a forwarded report.
#[derive(Clone, PartialEq, Eq)]
pub struct Forwarded {
    /// The original sender's display name.
    pub name: Option<String>,
    /// The original sender's address, lower-cased.
    pub email: String,
    /// The original subject, when it is known.
    pub subject: Option<String>,
}

impl std::fmt::Debug for Forwarded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Forwarded([redacted])")
    }
}

const PREFIXES: [&str; 8] = [
    "fwd:", "fw:", "wg:", "tr:", "rv:", "doorst:", "[fwd:", "enc:",
];

/// The subject without a forward prefix, when it has one.
pub fn strip_forward_prefix(subject: &str) -> Option<&str> {
    let lower = subject.trim_start().to_ascii_lowercase();
    let prefix = PREFIXES.iter().find(|p| lower.starts_with(*p))?;
    let rest = subject.trim_start()[prefix.len()..].trim();
    Some(if prefix.starts_with('[') {
        rest.strip_suffix(']').unwrap_or(rest).trim()
    } else {
        rest
    })
}

/// Lines that clients put above a forwarded message's quoted header fields.
fn is_separator(line: &str) -> bool {
    let line = line.trim().trim_matches('*').trim();
    let lower = line.to_ascii_lowercase();
    (lower.starts_with("----")
        && (lower.contains("forwarded") || lower.contains("original message")))
        || lower.starts_with("begin forwarded message")
        || (line.len() >= 10 && line.chars().all(|c| c == '_'))
}

/// Reads `Name <addr>`, `addr`, or Outlook's `Name [mailto:addr]`.
fn parse_address(value: &str) -> Option<(Option<String>, String)> {
    let value = value.trim();
    let (name, email) = if let Some((name, rest)) = value.split_once('<') {
        (name, rest.split('>').next().unwrap_or_default())
    } else if let Some((name, rest)) = value.split_once("[mailto:") {
        (name, rest.split(']').next().unwrap_or_default())
    } else {
        ("", value)
    };
    let email = email.trim().trim_start_matches("mailto:").trim();
    let (local, domain) = email.split_once('@')?;
    if local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || email.contains(|c: char| c.is_whitespace() || c.is_control() || ",;<>\"".contains(c))
    {
        return None;
    }
    let name = name.trim().trim_matches('"').trim();
    Some((
        (!name.is_empty()).then(|| name.to_owned()),
        email.to_ascii_lowercase(),
    ))
}

/// The original sender of an inline forward: the first `From:` line within a few lines
/// after a separator, and the `Subject:` line near it.
fn inline(text: &str) -> Option<Forwarded> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| is_separator(l))?;
    let block = &lines[start + 1..lines.len().min(start + 10)];
    let field = |names: &[&str]| {
        block.iter().find_map(|l| {
            // Some clients quote the forwarded header fields with '>'.
            let l = l.trim().trim_start_matches(['>', '*', ' ']);
            let (name, value) = l.split_once(':')?;
            let name = name.trim().trim_matches('*').trim();
            names
                .iter()
                .any(|n| name.eq_ignore_ascii_case(n))
                .then(|| value.trim().trim_start_matches('*').trim().to_owned())
        })
    };
    let (name, email) = parse_address(&field(&["From", "Von", "De", "Van"])?)?;
    Some(Forwarded {
        name,
        email,
        subject: field(&["Subject", "Betreff", "Objet", "Asunto", "Onderwerp"])
            .filter(|s| !s.is_empty()),
    })
}

/// The original of a message attached as `message/rfc822`.
fn attached(nested: &Message<'_>) -> Option<Forwarded> {
    let address = nested.from()?.first()?;
    let email = address.address()?.trim();
    if !email.contains('@') {
        return None;
    }
    Some(Forwarded {
        name: address
            .name()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        email: email.to_ascii_lowercase(),
        subject: nested
            .subject()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    })
}

/// The original of a forwarded report, when `message` is one. `own_text` is the
/// forwarder's text (without the attached message's).
pub(crate) fn original(message: &Message<'_>, subject: &str, own_text: &str) -> Option<Forwarded> {
    let nested: Vec<&Message<'_>> = message
        .attachments()
        .filter_map(|p| match &p.body {
            PartType::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    let says_forward = strip_forward_prefix(subject).is_some();
    if nested.len() == 1 && (says_forward || own_text.trim().is_empty()) {
        return attached(nested[0]);
    }
    if says_forward {
        return inline(own_text);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_forwards_of_common_clients_name_the_original_sender() {
        let gmail = "FYI\n\n---------- Forwarded message ---------\nFrom: Fay Finder <Fay@Finder.example>\nDate: Mon, 30 Nov 2026\nSubject: XSS in the console\nTo: <security@example.org>\n\nThe name field...";
        let f = inline(gmail).unwrap();
        assert_eq!(f.email, "fay@finder.example");
        assert_eq!(f.name.as_deref(), Some("Fay Finder"));
        assert_eq!(f.subject.as_deref(), Some("XSS in the console"));
        let outlook = "________________________________\nFrom: Kim Lee [mailto:kim@example.kr]\nSent: Monday\nSubject: RCE\n";
        assert_eq!(inline(outlook).unwrap().email, "kim@example.kr");
        let apple = "Begin forwarded message:\n\n> From: \"Ana\" <ana@example.es>\n";
        assert_eq!(inline(apple).unwrap().name.as_deref(), Some("Ana"));
        assert_eq!(
            strip_forward_prefix("[Fwd: RCE in agent]"),
            Some("RCE in agent")
        );
        assert_eq!(strip_forward_prefix("Re: RCE"), None);
    }
}
