//! OSV documents (the Open Source Vulnerability format, 1.7): one per published advisory,
//! and reading published OSV records (RustSec, GHSA, …) for history and duplicates.
//!
//! OSV ids must start with a registered database prefix or `x_` (a local database); the
//! prefix is the organisation's choice, `x_` unless it has registered one. The CVE ID goes
//! in `aliases`.

use embargo_core::case::{Credit, CreditRole, Product, VersionRange};
use embargo_core::cvss::{Cvss, Version};
use serde_json::{Map, Value, json};

use crate::advisory::{Advisory, Reference};
use crate::{FormatError, parse_time, rfc3339};

/// The OSV schema version written.
pub const SCHEMA_VERSION: &str = "1.7.0";

pub use crate::package::ecosystem_of;

fn credit_type(role: CreditRole) -> &'static str {
    match role {
        CreditRole::Finder => "FINDER",
        CreditRole::Reporter => "REPORTER",
        CreditRole::Analyst => "ANALYST",
        CreditRole::Coordinator => "COORDINATOR",
        CreditRole::RemediationDeveloper => "REMEDIATION_DEVELOPER",
        CreditRole::RemediationReviewer => "REMEDIATION_REVIEWER",
        CreditRole::RemediationVerifier => "REMEDIATION_VERIFIER",
        CreditRole::Tool => "TOOL",
        CreditRole::Sponsor => "SPONSOR",
        CreditRole::Other => "OTHER",
    }
}

fn reference_type(reference: &Reference) -> &'static str {
    let has = |t: &str| reference.tags.iter().any(|x| x == t);
    if has("vendor-advisory") || has("third-party-advisory") {
        "ADVISORY"
    } else if has("patch") {
        "FIX"
    } else if has("issue-tracking") {
        "REPORT"
    } else if has("mailing-list") {
        "DISCUSSION"
    } else {
        "WEB"
    }
}

fn events(range: &VersionRange) -> Vec<Value> {
    let mut events = vec![json!({ "introduced": range.introduced })];
    match (&range.fixed, &range.last_affected) {
        (Some(fixed), _) => events.push(json!({ "fixed": fixed })),
        (None, Some(last)) => events.push(json!({ "last_affected": last })),
        (None, None) => {}
    }
    events
}

/// Whether an id carries a prefix the OSV schema accepts: `x_`, or a registered one.
pub fn valid_prefix(prefix: &str) -> bool {
    prefix == "x_"
        || (prefix.ends_with('-')
            && prefix.len() > 1
            && prefix[..prefix.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// The OSV document of an advisory, its id `prefix` + the case reference.
pub fn to_osv(advisory: &Advisory, prefix: &str) -> Result<Value, FormatError> {
    if !valid_prefix(prefix) {
        return Err(FormatError::Invalid(format!(
            "'{prefix}' is not an OSV id prefix: use x_ or a registered prefix ending in '-'"
        )));
    }
    let severity: Vec<Value> = advisory
        .cvss
        .iter()
        .map(|c| {
            let kind = match c.version() {
                Version::V3_0 | Version::V3_1 => "CVSS_V3",
                Version::V4_0 => "CVSS_V4",
                Version::V2 => "CVSS_V2",
            };
            json!({ "type": kind, "score": c.vector() })
        })
        .collect();
    let mut affected = Vec::new();
    // The GIT range: from the introducing commit to each fixing one, in the project's
    // repository; what a scanner of source trees matches.
    let git_range = match (
        &advisory.coordinates.repository,
        &advisory.git.introduced_commit,
    ) {
        (Some(repo), Some(introduced)) => {
            let mut events = vec![json!({ "introduced": introduced })];
            events.extend(
                advisory
                    .git
                    .fixed_commits
                    .iter()
                    .map(|c| json!({ "fixed": c })),
            );
            Some(json!({ "type": "GIT", "repo": repo, "events": events }))
        }
        _ => None,
    };
    for product in advisory.resolved_products() {
        let mut entry = Map::new();
        let mut ranges = Vec::new();
        let mut specific = json!({ "vendor": product.vendor, "product": product.product });
        if let Some((ecosystem, name)) = product.package_url.as_deref().and_then(ecosystem_of) {
            let mut package = json!({ "ecosystem": ecosystem, "name": name });
            if let Some(purl) = &product.package_url {
                package["purl"] = json!(purl);
            }
            entry.insert("package".into(), package);
            // SEMVER where every version is one, else the package's own version scheme.
            let semver = product.ranges.iter().all(|r| {
                [
                    Some(&r.introduced),
                    r.fixed.as_ref(),
                    r.last_affected.as_ref(),
                ]
                .into_iter()
                .flatten()
                .all(|v| crate::package::is_semver(v))
            });
            let kind = if semver { "SEMVER" } else { "ECOSYSTEM" };
            ranges.extend(
                product
                    .ranges
                    .iter()
                    .map(|r| json!({ "type": kind, "events": events(r) })),
            );
            if !advisory.git.releases.is_empty() {
                entry.insert("versions".into(), json!(advisory.git.releases));
            }
        } else if !product.ranges.is_empty() {
            // Without a package OSV has no version scheme to read ranges in; they are
            // kept for people, not for matching.
            specific["ranges"] = json!(product
                .ranges
                .iter()
                .map(|r| json!({ "introduced": r.introduced, "fixed": r.fixed, "last_affected": r.last_affected }))
                .collect::<Vec<_>>());
        }
        ranges.extend(git_range.clone());
        if !ranges.is_empty() {
            entry.insert("ranges".into(), json!(ranges));
        }
        entry.insert("database_specific".into(), specific);
        affected.push(Value::Object(entry));
    }
    if affected.is_empty()
        && let Some(range) = git_range
    {
        affected.push(json!({
            "ranges": [range],
            "database_specific": { "vendor": advisory.vendor, "product": advisory.product },
        }));
    }
    if affected.is_empty() {
        affected.push(json!({
            "database_specific": {
                "vendor": advisory.vendor,
                "product": advisory.product,
                "affected_versions": advisory.affected,
                "fixed_versions": advisory.fixed,
            }
        }));
    }
    let mut details = advisory.description.trim().to_owned();
    if !advisory.mitigation.trim().is_empty() {
        details.push_str("\n\nMitigation: ");
        details.push_str(advisory.mitigation.trim());
    }
    if !advisory.workarounds.trim().is_empty() {
        details.push_str("\n\nWorkarounds: ");
        details.push_str(advisory.workarounds.trim());
    }
    let mut doc = json!({
        "schema_version": SCHEMA_VERSION,
        "id": format!("{prefix}{}", advisory.reference),
        "modified": rfc3339(advisory.updated),
        "published": rfc3339(advisory.published),
        "aliases": advisory.cve_id.iter().collect::<Vec<_>>(),
        "summary": advisory.title,
        "details": details,
        "affected": affected,
        "references": advisory.references.iter().map(|r| json!({ "type": reference_type(r), "url": r.url })).collect::<Vec<_>>(),
        "credits": advisory.credits.iter().map(|c| json!({ "name": c.name, "type": credit_type(c.role) })).collect::<Vec<_>>(),
    });
    if !severity.is_empty() {
        doc["severity"] = json!(severity);
    }
    if let Some(cwe) = &advisory.cwe {
        doc["database_specific"] = json!({ "cwe_ids": [cwe] });
        if let Ok(weakness) = embargo_core::cwe::lookup(cwe) {
            doc["database_specific"]["cwe_names"] = json!([weakness.name]);
        }
    }
    Ok(doc)
}

/// Reads a published OSV record as an advisory (for history and duplicate detection).
pub fn from_osv(doc: &Value) -> Result<Advisory, FormatError> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let id = doc
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| FormatError::Invalid("not an OSV record: no id".into()))?;
    let modified = doc
        .get("modified")
        .and_then(Value::as_str)
        .and_then(parse_time)
        .ok_or_else(|| FormatError::Invalid(format!("{id}: modified is not an RFC 3339 time")))?;
    let published = doc
        .get("published")
        .and_then(Value::as_str)
        .and_then(parse_time)
        .unwrap_or(modified);
    let aliases: Vec<String> = doc
        .get("aliases")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(text).collect())
        .unwrap_or_default();
    let cve_id = std::iter::once(id.to_owned())
        .chain(aliases)
        .find(|a| crate::cve5::is_cve_id(a));
    let products: Vec<Product> = doc
        .get("affected")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|a| {
                    let package = a.get("package");
                    Product {
                        vendor: String::new(),
                        product: package
                            .and_then(|p| p.get("name"))
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        package_url: package.and_then(|p| p.get("purl")).and_then(text),
                        ranges: a
                            .get("ranges")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .flat_map(ranges_of)
                            .collect(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let credits = doc
        .get("credits")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|c| {
                    Some(Credit {
                        name: c.get("name")?.as_str()?.to_owned(),
                        role: c
                            .get("type")
                            .and_then(Value::as_str)
                            .and_then(|t| {
                                CreditRole::from_cve_type(&t.to_ascii_lowercase().replace('_', " "))
                            })
                            .unwrap_or(CreditRole::Other),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Advisory {
        reference: id.to_owned(),
        cve_id,
        title: doc
            .get("summary")
            .and_then(text)
            .unwrap_or_else(|| id.to_owned()),
        vendor: String::new(),
        product: products
            .first()
            .map(|p| p.product.clone())
            .unwrap_or_default(),
        description: doc.get("details").and_then(text).unwrap_or_default(),
        mitigation: String::new(),
        workarounds: String::new(),
        cwe: doc.pointer("/database_specific/cwe_ids/0").and_then(text),
        cvss: doc
            .get("severity")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| Cvss::parse(s.get("score")?.as_str()?).ok())
            .collect(),
        products,
        affected: Vec::new(),
        fixed: Vec::new(),
        coordinates: Default::default(),
        git: Default::default(),
        credits,
        references: doc
            .get("references")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| {
                Some(Reference {
                    url: r.get("url")?.as_str()?.to_owned(),
                    tags: Vec::new(),
                })
            })
            .collect(),
        timeline: Vec::new(),
        published,
        updated: modified,
    })
}

/// The introduced/fixed pairs of one OSV range.
fn ranges_of(range: &Value) -> Vec<VersionRange> {
    let mut out: Vec<VersionRange> = Vec::new();
    for event in range
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(v) = event.get("introduced").and_then(Value::as_str) {
            out.push(VersionRange {
                introduced: v.to_owned(),
                fixed: None,
                last_affected: None,
            });
        } else if let Some(last) = out.last_mut() {
            if let Some(v) = event.get("fixed").and_then(Value::as_str) {
                last.fixed = Some(v.to_owned());
            } else if let Some(v) = event.get("last_affected").and_then(Value::as_str) {
                last.last_affected = Some(v.to_owned());
            }
        }
    }
    out
}
