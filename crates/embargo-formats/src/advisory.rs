//! The advisory as it is published: what every format (CVE record, OSV, CSAF, the
//! announcement, the pages) is made from.

use embargo_core::case::{Credit, Product};
use embargo_core::cvss::Cvss;
use time::OffsetDateTime;

/// A link, with the CVE record format's tags (e.g. "vendor-advisory", "patch").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The URL.
    pub url: String,
    /// Its tags.
    pub tags: Vec<String>,
}

/// One line of the advisory's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// When.
    pub at: OffsetDateTime,
    /// What happened, e.g. "Reported to the security team".
    pub event: String,
}

/// A published advisory.
#[derive(Clone)]
pub struct Advisory {
    /// The case reference, e.g. CLOUDSTACK-SEC-12.
    pub reference: String,
    /// The CVE ID, once reserved.
    pub cve_id: Option<String>,
    /// The headline.
    pub title: String,
    /// The vendor: the organisation, e.g. "Apache Software Foundation".
    pub vendor: String,
    /// The product: the project, e.g. "Apache CloudStack".
    pub product: String,
    /// What the vulnerability is.
    pub description: String,
    /// What users should do.
    pub mitigation: String,
    /// How to be safe without upgrading.
    pub workarounds: String,
    /// The weakness, e.g. "CWE-79".
    pub cwe: Option<String>,
    /// The CVSS ratings (3.x and/or 4.0).
    pub cvss: Vec<Cvss>,
    /// Affected products with version ranges; vendor and product filled in.
    pub products: Vec<Product>,
    /// Affected versions in words, when no ranges are given.
    pub affected: Vec<String>,
    /// Fixed versions in words.
    pub fixed: Vec<String>,
    /// Who is credited.
    pub credits: Vec<Credit>,
    /// Links; the archived announcement first.
    pub references: Vec<Reference>,
    /// What happened when.
    pub timeline: Vec<TimelineEntry>,
    /// When it was announced.
    pub published: OffsetDateTime,
    /// When it last changed.
    pub updated: OffsetDateTime,
}

impl Advisory {
    /// The products with their defaults filled in; one from the free-text versions when
    /// the team gave no ranges.
    pub fn resolved_products(&self) -> Vec<Product> {
        self.products
            .iter()
            .map(|p| Product {
                vendor: if p.vendor.trim().is_empty() {
                    self.vendor.clone()
                } else {
                    p.vendor.clone()
                },
                product: if p.product.trim().is_empty() {
                    self.product.clone()
                } else {
                    p.product.clone()
                },
                ..p.clone()
            })
            .collect()
    }

    /// The highest-rated CVSS score, for the headline severity.
    pub fn headline_cvss(&self) -> Option<&Cvss> {
        self.cvss.iter().max_by(|a, b| {
            a.version()
                .to_string()
                .cmp(&b.version().to_string())
                .then(a.score().total_cmp(&b.score()))
        })
    }

    /// The id shown in headings: the CVE ID once there is one, else the reference.
    pub fn display_id(&self) -> &str {
        self.cve_id.as_deref().unwrap_or(&self.reference)
    }
}
