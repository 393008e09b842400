//! What the team does after the announcement, in the page: record the archived
//! announcement (the advisory reference of the CVE record), publish the CVE record (or
//! download it for a CNA that publishes elsewhere), and copy the CHANGES and NEWS
//! entries. Each step is refused until the one before it is done, by the store.

use embargo_store::ChangesEntry;
use maud::{Markup, html};

use crate::web::layout::notice;

/// What the section shows, gathered by the case page.
pub(super) struct After {
    /// The archived announcement's URL, once recorded.
    pub advisory_url: Option<String>,
    /// The case's CVE ID.
    pub cve_id: Option<String>,
    /// Whether its record is published through CVE Services.
    pub cve_published: bool,
    /// Whether this organisation publishes through CVE Services here.
    pub cve_services: bool,
    /// The CHANGES and NEWS entries, or why not yet.
    pub changes: Result<ChangesEntry, String>,
}

/// The section, for a case that is announced.
pub(super) fn section(r: &str, csrf: &str, after: &After, typed_url: Option<&str>) -> Markup {
    html! {
        section #after aria-labelledby="after-h" {
            h2 #after-h { "After the announcement" }
            p { "The public advisory: " a href={ "/advisories/" (r) } { "/advisories/" (r) } }
            h3 { "1. The archived announcement" }
            @match &after.advisory_url {
                Some(url) => { p { "Recorded: " a href=(url) rel="noreferrer" { (url) } } },
                None => { p { "Record where the list archive keeps the announcement: it becomes the CVE record's advisory reference." } },
            }
            form.stack method="post" action={ "/desk/cases/" (r) "/archive" } {
                input type="hidden" name="csrf" value=(csrf);
                label for="archive-url" { "Archived announcement URL" }
                input #archive-url type="url" name="advisory_url" required
                    placeholder="https://lists.example.org/thread/…"
                    value=(typed_url.map(str::to_owned).or_else(|| after.advisory_url.clone()).unwrap_or_default());
                button type="submit" { "Record the archived announcement" }
            }
            h3 { "2. The CVE record" }
            @match (&after.cve_id, after.cve_services) {
                (None, _) => { p { "The case has no CVE ID: there is no record to publish." } },
                (Some(id), true) => {
                    @if after.cve_published {
                        p { (id) " is published; a correction to the case updates it by itself." }
                    } @else {
                        form.inline method="post" action={ "/desk/cases/" (r) "/cve-publish" } {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Publish " (id) " through CVE Services" }
                        }
                    }
                },
                (Some(id), false) => {
                    p {
                        "This organisation does not publish through CVE Services here. "
                        a href={ "/api/cases/" (r) "/documents/cve" } download={ (id) ".json" } { "Download the record of " (id) }
                        " for the CNA that assigned it."
                    }
                },
            }
            h3 { "3. CHANGES and NEWS" }
            @match &after.changes {
                Ok(entry) => {
                    p { "CHANGES:" }
                    pre.text #changes-entry { (entry.changes) }
                    p { "NEWS:" }
                    pre.text #news-entry { (entry.news) }
                },
                Err(e) => { (notice("error", e)) },
            }
        }
    }
}
