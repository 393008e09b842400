//! The announcement email in the conventional plain-text form of open-source security
//! announcements, and the CHANGES/NEWS entries written after it.

use crate::advisory::Advisory;

/// An announcement's subject and text (unsigned; signing wraps the text).
#[derive(Clone, PartialEq, Eq)]
pub struct Announcement {
    /// `CVE-YYYY-NNNN: Product: title`.
    pub subject: String,
    /// The plain text, lines of at most 72 characters where words allow.
    pub body: String,
}

impl std::fmt::Debug for Announcement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Announcement([redacted])")
    }
}

/// Wraps a paragraph at `width`, keeping words whole (a word longer than the width, a
/// URL say, stands on its own line).
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(line);
    }
    out.join("\n")
}

/// The affected versions as lines, from ranges or the words given.
pub fn affected_lines(advisory: &Advisory) -> Vec<String> {
    let mut lines = Vec::new();
    for p in advisory.resolved_products() {
        for r in &p.ranges {
            let line = match (&r.fixed, &r.last_affected) {
                (Some(fixed), _) => format!("{} from {} before {fixed}", p.product, r.introduced),
                (None, Some(last)) => format!("{} {} through {last}", p.product, r.introduced),
                (None, None) => format!("{} {} and later", p.product, r.introduced),
            };
            // Each package of a product has the same ranges: people read them once.
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    if lines.is_empty() {
        lines = advisory
            .affected
            .iter()
            .map(|v| format!("{} {v}", advisory.product))
            .collect();
    }
    lines
}

/// The announcement of an advisory.
pub fn render(advisory: &Advisory) -> Announcement {
    let subject = format!(
        "{}: {}: {}",
        advisory.display_id(),
        advisory.product,
        advisory.title
    );
    let mut body = String::new();
    let mut section = |heading: &str, text: &str| {
        body.push_str(heading);
        body.push_str(":\n\n");
        body.push_str(text.trim_end());
        body.push_str("\n\n");
    };
    let severity = match advisory.headline_cvss() {
        Some(c) => {
            let mut lines = vec![format!(
                "{} (CVSS {} score {})",
                c.severity(),
                c.version(),
                c.score()
            )];
            for other in &advisory.cvss {
                lines.push(format!("CVSS {} {}", other.version(), other.vector()));
            }
            lines.join("\n")
        }
        None => "Not rated".to_owned(),
    };
    section("Severity", &severity);
    section(
        "Affected versions",
        &affected_lines(advisory)
            .iter()
            .map(|l| format!("- {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let mut description = wrap(&advisory.description, 72);
    if let Some(cwe) = &advisory.cwe {
        description.push_str("\n\n");
        description.push_str(&wrap(&format!("Weakness: {}", crate::cwe_words(cwe)), 72));
    }
    section("Description", &description);
    let mut mitigation = wrap(&advisory.mitigation, 72);
    if !advisory.fixed.is_empty() {
        mitigation.push_str(&format!("\n\nFixed in: {}", advisory.fixed.join(", ")));
    }
    if !advisory.workarounds.trim().is_empty() {
        mitigation.push_str("\n\nWorkarounds:\n");
        mitigation.push_str(&wrap(&advisory.workarounds, 72));
    }
    section("Mitigation", &mitigation);
    let credit = if advisory.credits.is_empty() {
        "None given".to_owned()
    } else {
        advisory
            .credits
            .iter()
            .map(|c| format!("{} ({})", c.name, c.role.cve_type()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    section("Credit", &credit);
    section(
        "References",
        &advisory
            .references
            .iter()
            .map(|r| r.url.clone())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    if !advisory.timeline.is_empty() {
        section(
            "Timeline",
            &advisory
                .timeline
                .iter()
                .map(|t| format!("{}: {}", t.at.date(), t.event))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    Announcement {
        subject,
        body: body.trim_end().to_owned() + "\n",
    }
}

/// How a project writes its CHANGES and NEWS entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangesFormat {
    /// `- CVE-…: title (severity). Fixed in …` lines, for CHANGES.md.
    Markdown,
    /// `* [CVE-…] title` lines, for a plain CHANGES file.
    Text,
}

impl ChangesFormat {
    /// Reads a configured name.
    pub fn parse(s: &str) -> Option<ChangesFormat> {
        match s {
            "markdown" => Some(ChangesFormat::Markdown),
            "text" => Some(ChangesFormat::Text),
            _ => None,
        }
    }
}

/// The CHANGES entry and the NEWS paragraph of an announced advisory.
pub fn changes_entries(advisory: &Advisory, format: ChangesFormat) -> (String, String) {
    let severity = advisory
        .headline_cvss()
        .map(|c| format!(" ({})", c.severity()))
        .unwrap_or_default();
    let fixed = if advisory.fixed.is_empty() {
        String::new()
    } else {
        format!(" Fixed in {}.", advisory.fixed.join(", "))
    };
    let link = advisory
        .references
        .first()
        .map(|r| r.url.as_str())
        .unwrap_or_default();
    let changes = match format {
        ChangesFormat::Markdown => format!(
            "- {}: {}{severity}.{fixed} See {link}",
            advisory.display_id(),
            advisory.title
        ),
        ChangesFormat::Text => format!(
            "* [{}] {}{severity}.{fixed}",
            advisory.display_id(),
            advisory.title
        ),
    };
    let news = wrap(
        &format!(
            "Security: {} ({}){severity}. {}{fixed} Details: {link}",
            advisory.title,
            advisory.display_id(),
            advisory.mitigation.trim()
        ),
        72,
    );
    (changes, news)
}
