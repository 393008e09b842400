//! What the public site serves besides pages: the Atom feed of advisories (RFC 4287) and
//! security.txt (RFC 9116).

use time::OffsetDateTime;

use crate::advisory::Advisory;
use crate::rfc3339;

/// Escapes text for the feed's XML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The Atom feed of published advisories, newest first; `base` is the site's URL.
pub fn atom(advisories: &[Advisory], base: &str, title: &str) -> String {
    let base = base.trim_end_matches('/');
    let updated = advisories
        .iter()
        .map(|a| a.updated)
        .max()
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n  <title>{}</title>\n  <id>{base}/advisories.atom</id>\n  <link rel=\"self\" href=\"{base}/advisories.atom\"/>\n  <link href=\"{base}/advisories\"/>\n  <updated>{}</updated>\n  <generator>Embargo</generator>\n",
        escape(title),
        rfc3339(updated)
    );
    for a in advisories {
        let url = format!("{base}/advisories/{}", a.reference);
        out.push_str(&format!(
            "  <entry>\n    <title>{}</title>\n    <id>{url}</id>\n    <link href=\"{url}\"/>\n    <published>{}</published>\n    <updated>{}</updated>\n    <author><name>{}</name></author>\n    <summary>{}</summary>\n  </entry>\n",
            escape(&format!("{}: {}: {}", a.display_id(), a.product, a.title)),
            rfc3339(a.published),
            rfc3339(a.updated),
            escape(&a.vendor),
            escape(&a.description),
        ));
    }
    out.push_str("</feed>\n");
    out
}

/// A project's security.txt fields.
#[derive(Debug, Clone, Default)]
pub struct SecurityTxt {
    /// Contact URIs (mailto: or https:), in order of preference; at least one.
    pub contacts: Vec<String>,
    /// When the file stops being valid.
    pub expires: Option<OffsetDateTime>,
    /// Where the team's OpenPGP key is.
    pub encryption: Option<String>,
    /// The security policy.
    pub policy: Option<String>,
    /// Where this file lives.
    pub canonical: Option<String>,
    /// Languages the team reads, e.g. "en".
    pub preferred_languages: Vec<String>,
}

/// Why a security.txt cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecurityTxtError {
    /// RFC 9116 requires a Contact field.
    #[error("security.txt needs at least one contact (RFC 9116 §2.5.3)")]
    NoContact,
    /// RFC 9116 requires an Expires field in the future.
    #[error("security.txt needs an expiry date in the future (RFC 9116 §2.5.5)")]
    Expired,
}

/// The file's text (unsigned), per RFC 9116.
pub fn security_txt(fields: &SecurityTxt, now: OffsetDateTime) -> Result<String, SecurityTxtError> {
    if fields.contacts.is_empty() {
        return Err(SecurityTxtError::NoContact);
    }
    let expires = fields
        .expires
        .filter(|e| *e > now)
        .ok_or(SecurityTxtError::Expired)?;
    let mut out = String::new();
    for contact in &fields.contacts {
        out.push_str(&format!("Contact: {contact}\n"));
    }
    out.push_str(&format!("Expires: {}\n", rfc3339(expires)));
    if let Some(e) = &fields.encryption {
        out.push_str(&format!("Encryption: {e}\n"));
    }
    if let Some(p) = &fields.policy {
        out.push_str(&format!("Policy: {p}\n"));
    }
    if let Some(c) = &fields.canonical {
        out.push_str(&format!("Canonical: {c}\n"));
    }
    if !fields.preferred_languages.is_empty() {
        out.push_str(&format!(
            "Preferred-Languages: {}\n",
            fields.preferred_languages.join(", ")
        ));
    }
    Ok(out)
}
