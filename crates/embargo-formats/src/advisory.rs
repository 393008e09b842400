//! The advisory as it is published: what every format (CVE record, OSV, CSAF, the
//! announcement, the pages) is made from.

use embargo_core::case::{Credit, Product, VersionRange};
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

/// Where the product lives: what scanners match an advisory by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coordinates {
    /// Package URLs without a version.
    pub packages: Vec<String>,
    /// CPE 2.3 names (any version).
    pub cpes: Vec<String>,
    /// The public source repository.
    pub repository: Option<String>,
}

/// What git said of the releases (`embargo versions`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct GitFacts {
    /// The affected releases as ranges, in version order.
    pub ranges: Vec<VersionRange>,
    /// Every affected release.
    pub releases: Vec<String>,
    /// The commit that introduced the vulnerability.
    pub introduced_commit: Option<String>,
    /// The commits that fixed it.
    pub fixed_commits: Vec<String>,
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
    /// Where the product lives.
    pub coordinates: Coordinates,
    /// What git said of the releases.
    pub git: GitFacts,
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
    /// The products with their defaults filled in: the team's own when they gave ranges,
    /// else the project's packages with the ranges git gave, else the team's (without
    /// ranges: the versions in words stand then). A product without a package URL takes
    /// each of the project's packages in turn.
    pub fn resolved_products(&self) -> Vec<Product> {
        let given: Vec<Product> = if self.products.iter().any(|p| !p.ranges.is_empty()) {
            self.products.clone()
        } else if !self.git.ranges.is_empty() {
            vec![Product {
                vendor: String::new(),
                product: String::new(),
                package_url: None,
                ranges: self.git.ranges.clone(),
            }]
        } else {
            self.products.clone()
        };
        let mut out = Vec::new();
        for p in given {
            let p = Product {
                vendor: if p.vendor.trim().is_empty() {
                    self.vendor.clone()
                } else {
                    p.vendor
                },
                product: if p.product.trim().is_empty() {
                    self.product.clone()
                } else {
                    p.product
                },
                ..p
            };
            if p.package_url.is_some() || self.coordinates.packages.is_empty() {
                out.push(p);
                continue;
            }
            for purl in &self.coordinates.packages {
                out.push(Product {
                    package_url: Some(purl.clone()),
                    ..p.clone()
                });
            }
        }
        out
    }

    /// The first version of each range that is not affected, in order, once each.
    pub fn first_fixed(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in self.resolved_products() {
            for fixed in p.ranges.iter().filter_map(|r| r.fixed.clone()) {
                if !out.contains(&fixed) {
                    out.push(fixed);
                }
            }
        }
        out
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
