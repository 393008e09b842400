//! The advisory as people read it: one renderer for the public page and for the team's
//! preview, so the preview shows exactly the sections, order and wording that will be
//! published.

use embargo_formats::Advisory;
use maud::{Markup, html};

/// Where the advisory is drawn: its own page, or inside the case page's editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The public page: the title is the page's heading, with the downloads.
    Page,
    /// The team's preview, under the editor's headings; nothing is published yet.
    Preview,
}

fn heading(level: u8, content: Markup) -> Markup {
    match level {
        1 => html! { h1 { (content) } },
        2 => html! { h2 { (content) } },
        3 => html! { h3 { (content) } },
        4 => html! { h4 { (content) } },
        5 => html! { h5 { (content) } },
        _ => html! { h6 { (content) } },
    }
}

fn paragraphs(text: &str) -> Markup {
    html! {
        @for p in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            p { (p.trim()) }
        }
    }
}

/// The advisory's sections, in the published order.
pub fn article(a: &Advisory, place: Place) -> Markup {
    let top = match place {
        Place::Page => 1,
        Place::Preview => 4,
    };
    let section = |text: &str| heading(top + 1, html! { (text) });
    let reference = &a.reference;
    html! {
        article.advisory {
            (heading(top, html! { (a.display_id()) ": " (a.product) ": " (a.title) }))
            (section("Severity"))
            @match a.headline_cvss() {
                Some(c) => {
                    p { (c.severity()) " (CVSS " (c.version()) " score " (c.score()) ")" }
                    ul { @for v in &a.cvss { li { code { (v.vector()) } } } }
                }
                None => p { "Not rated" },
            }
            (section("Affected versions"))
            ul { @for line in embargo_formats::announcement::affected_lines(a) { li { (line) } } }
            (section("Description"))
            (paragraphs(&a.description))
            @if let Some(cwe) = &a.cwe { p { "Weakness: " (embargo_formats::cwe_words(cwe)) } }
            (section("Mitigation"))
            (paragraphs(&a.mitigation))
            @if !a.fixed.is_empty() { p { "Fixed in: " (a.fixed.join(", ")) } }
            @if !a.workarounds.trim().is_empty() {
                (heading(top + 2, html! { "Workarounds" }))
                (paragraphs(&a.workarounds))
            }
            (section("Credit"))
            ul { @for c in &a.credits { li { (c.name) " (" (c.role.cve_type()) ")" } } }
            (section("References"))
            ul { @for r in &a.references { li { a href=(r.url) { (r.url) } } } }
            (section("Timeline"))
            ul {
                @for t in &a.timeline {
                    li { time datetime=(embargo_formats::rfc3339(t.at)) { (t.at.date()) } ": " (t.event) }
                }
            }
            @if place == Place::Page {
                (section("Downloads"))
                ul {
                    li { a href={ "/advisories/" (reference) "/osv.json" } { "OSV" } }
                    li { a href={ "/advisories/" (reference) "/csaf.json" } { "CSAF 2.0" } }
                    li { a href={ "/advisories/" (reference) "/cve.json" } { "CVE JSON 5.1" } }
                }
            }
        }
    }
}
