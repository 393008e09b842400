//! CSAF 2.0 documents (profile "CSAF Security Advisory") for published advisories, and
//! the mandatory tests of the CSAF 2.0 specification (§6.1) that such documents could
//! fail. A document that fails a mandatory test is invalid; Embargo checks every document
//! it makes before it publishes it.

use std::collections::{BTreeMap, BTreeSet};

use embargo_core::cvss::{Cvss, Version};
use serde_json::{Value, json};

use crate::advisory::Advisory;
use crate::{FormatError, rfc3339};

/// Who publishes the documents.
#[derive(Debug, Clone)]
pub struct Publisher {
    /// The organisation's name.
    pub name: String,
    /// Its namespace URL, e.g. "https://www.apache.org".
    pub namespace: String,
    /// Where the document is served, ending in its file name ([`file_name`]).
    pub canonical_url: Option<String>,
}

impl Publisher {
    /// The organisation as the publisher of `advisory`, served from `public_url`: its
    /// namespace (the site's URL when it set none), and the document's canonical URL on
    /// the site.
    pub fn of(
        advisory: &Advisory,
        org: &embargo_core::disclosure::OrgSettings,
        public_url: &str,
    ) -> Publisher {
        let base = public_url.trim_end_matches('/');
        Publisher {
            name: advisory.vendor.clone(),
            namespace: org.namespace.clone().unwrap_or_else(|| base.to_owned()),
            canonical_url: Some(format!(
                "{base}/advisories/{}/csaf/{}",
                advisory.reference,
                file_name(advisory.display_id())
            )),
        }
    }
}

/// The file name CSAF gives a document (§5.1): the tracking id in lower case, each run of
/// other characters than `+`, `-`, a–z and 0–9 as `_`, then `.json`.
pub fn file_name(tracking_id: &str) -> String {
    let mut out = String::new();
    let mut run = false;
    for c in tracking_id.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '+' || c == '-' {
            out.push(c);
            run = false;
        } else if !run {
            out.push('_');
            run = true;
        }
    }
    out.push_str(".json");
    out
}

/// The product tree as it grows: leaves under their vendor and product name, each with
/// its product id.
#[derive(Default)]
struct Tree {
    next_id: usize,
    names: Vec<(String, String, Vec<Value>)>,
}

impl Tree {
    /// Adds a leaf (category and branch name) under vendor and product; the product is
    /// named "vendor product label". Returns its product id.
    fn add(
        &mut self,
        (vendor, name): (&str, &str),
        (category, branch): (&str, &str),
        label: &str,
        helper: Option<Value>,
    ) -> String {
        self.next_id += 1;
        let pid = format!("CSAFPID-{:04}", self.next_id);
        let mut product = json!({ "name": format!("{vendor} {name} {label}"), "product_id": pid });
        if let Some(h) = helper {
            product["product_identification_helper"] = h;
        }
        let leaf = json!({ "category": category, "name": branch, "product": product });
        match self
            .names
            .iter_mut()
            .find(|(v, p, _)| v == vendor && p == name)
        {
            Some((_, _, leaves)) => leaves.push(leaf),
            None => self
                .names
                .push((vendor.to_owned(), name.to_owned(), vec![leaf])),
        }
        pid
    }
}

/// The CSAF document of an advisory, checked against the mandatory tests.
pub fn to_csaf(advisory: &Advisory, publisher: &Publisher) -> Result<Value, FormatError> {
    if advisory.references.is_empty() {
        return Err(FormatError::Incomplete(
            "a reference (the archived announcement)".into(),
        ));
    }
    let products = advisory.resolved_products();
    let mut affected_ids = Vec::new();
    let mut fixed_ids = Vec::new();
    let mut vendors: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut tree = Tree::default();
    // The identification helper of a product at one version (or, for a range, of any):
    // the package URL and the CPE name, so that scanners can match it (CSAF 6.2.16).
    let helper = |purl: Option<&str>, version: Option<&str>| -> Option<Value> {
        let mut h = serde_json::Map::new();
        if let Some(purl) = purl {
            let purl = match version {
                Some(v) => crate::package::purl_at(purl, v),
                None => purl.to_owned(),
            };
            h.insert("purl".into(), json!(purl));
        }
        if let Some(cpe) = advisory.coordinates.cpes.first() {
            let cpe = match version {
                Some(v) => crate::package::cpe_at(cpe, v),
                None => cpe.clone(),
            };
            h.insert("cpe".into(), json!(cpe));
        }
        (!h.is_empty()).then_some(Value::Object(h))
    };
    // One product per vendor and name: a second package of the same product adds nothing
    // a reader of the tree needs, and its helper would only repeat the first's versions.
    let mut seen: Vec<(String, String)> = Vec::new();
    let ranged: Vec<_> = products
        .iter()
        .filter(|p| !p.ranges.is_empty())
        .filter(|p| {
            let key = (p.vendor.clone(), p.product.clone());
            let fresh = !seen.contains(&key);
            seen.push(key);
            fresh
        })
        .collect();
    for p in &ranged {
        let (vendor, name) = (p.vendor.as_str(), p.product.as_str());
        let purl = p.package_url.as_deref();
        if !advisory.git.releases.is_empty() {
            // Git named every affected release: each is a product version, which every
            // reader can match without interpreting a range (CSAF 6.3.10).
            for version in &advisory.git.releases {
                affected_ids.push(tree.add(
                    (vendor, name),
                    ("product_version", version),
                    version,
                    helper(purl, Some(version)),
                ));
            }
        } else {
            let scheme = crate::package::vers_scheme(purl);
            for range in &p.ranges {
                let constraint = match (&range.fixed, &range.last_affected) {
                    (Some(fixed), _) => format!(">={}|<{fixed}", range.introduced),
                    (None, Some(last)) => format!(">={}|<={last}", range.introduced),
                    (None, None) => format!(">={}", range.introduced),
                };
                affected_ids.push(tree.add(
                    (vendor, name),
                    (
                        "product_version_range",
                        &format!("vers:{scheme}/{constraint}"),
                    ),
                    &constraint,
                    helper(purl, None),
                ));
            }
        }
        let mut fixed_versions: Vec<&String> = Vec::new();
        for fixed in p.ranges.iter().filter_map(|r| r.fixed.as_ref()) {
            if !fixed_versions.contains(&fixed) {
                fixed_versions.push(fixed);
            }
        }
        // Without a first unaffected release in the ranges, the fixed versions in words.
        if fixed_versions.is_empty() {
            fixed_versions.extend(advisory.fixed.iter());
        }
        for fixed in fixed_versions {
            fixed_ids.push(tree.add(
                (vendor, name),
                ("product_version", fixed),
                fixed,
                helper(purl, Some(fixed)),
            ));
        }
    }
    if ranged.is_empty() {
        // Versions in words: the affected ones as they were given (a range in words is a
        // range, so it is a product_version_range), the fixed ones as versions.
        let whose = (advisory.vendor.as_str(), advisory.product.as_str());
        for text in &advisory.affected {
            affected_ids.push(tree.add(whose, ("product_version_range", text), text, None));
        }
        for text in &advisory.fixed {
            fixed_ids.push(tree.add(whose, ("product_version", text), text, None));
        }
    }
    if affected_ids.is_empty() {
        return Err(FormatError::Incomplete("affected versions".into()));
    }
    for (vendor, product, leaves) in tree.names {
        vendors.entry(vendor).or_default().push(json!({
            "category": "product_name",
            "name": product,
            "branches": leaves,
        }));
    }
    let branches: Vec<Value> = vendors
        .into_iter()
        .map(|(vendor, names)| json!({ "category": "vendor", "name": vendor, "branches": names }))
        .collect();
    let scores: Vec<Value> = advisory
        .cvss
        .iter()
        .filter(|c| matches!(c.version(), Version::V3_0 | Version::V3_1))
        .map(|c| json!({ "products": affected_ids, "cvss_v3": cvss_v3(c) }))
        .collect();
    let mut notes = vec![
        json!({ "category": "description", "title": "Description", "text": advisory.description }),
    ];
    // CSAF's cwe member needs the weakness's name: given from the CWE list, and kept to a
    // note for an id the list does not know (a record imported from elsewhere).
    let cwe = advisory
        .cwe
        .as_deref()
        .map(|id| (id, embargo_core::cwe::lookup(id).ok()));
    if let Some((id, None)) = cwe {
        notes.push(json!({ "category": "other", "title": "Weakness", "text": id }));
    }
    if let Some(v4) = advisory.cvss.iter().find(|c| c.version() == Version::V4_0) {
        // CSAF 2.0 scores CVSS 2 and 3 only.
        notes.push(json!({ "category": "other", "title": "CVSS 4.0", "text": format!("{} ({} {})", v4.vector(), v4.score(), v4.severity()) }));
    }
    let mut remediations = Vec::new();
    if !advisory.mitigation.trim().is_empty() {
        remediations.push(json!({ "category": "vendor_fix", "details": advisory.mitigation, "product_ids": affected_ids }));
    }
    if !advisory.workarounds.trim().is_empty() {
        remediations.push(json!({ "category": "workaround", "details": advisory.workarounds, "product_ids": affected_ids }));
    }
    let mut product_status = json!({ "known_affected": affected_ids });
    if !fixed_ids.is_empty() {
        product_status["fixed"] = json!(fixed_ids);
    }
    // The document's own address first (its canonical URL, CSAF 6.2.11), then the links
    // of the advisory, the announcement first.
    let external: Vec<Value> = advisory
        .references
        .iter()
        .enumerate()
        .map(|(i, r)| json!({
            "category": "external",
            "summary": if i == 0 { "The announcement".to_owned() } else { r.tags.first().cloned().unwrap_or_else(|| "Reference".to_owned()) },
            "url": r.url,
        }))
        .collect();
    let mut references: Vec<Value> = publisher
        .canonical_url
        .iter()
        .map(|url| json!({ "category": "self", "summary": "This document", "url": url }))
        .collect();
    references.extend(external.iter().cloned());
    let mut vulnerability = json!({
        "title": advisory.title,
        "notes": [{ "category": "description", "title": "Description", "text": advisory.description }],
        "product_status": product_status,
        "release_date": rfc3339(advisory.published),
        "references": external,
    });
    if let Some(cve) = &advisory.cve_id {
        vulnerability["cve"] = json!(cve);
    }
    if let Some((_, Some(weakness))) = cwe {
        vulnerability["cwe"] = json!({ "id": weakness.cwe_id(), "name": weakness.name });
    }
    if !scores.is_empty() {
        vulnerability["scores"] = json!(scores);
    }
    if !remediations.is_empty() {
        vulnerability["remediations"] = json!(remediations);
    }
    if !advisory.credits.is_empty() {
        vulnerability["acknowledgments"] = json!(
            advisory
                .credits
                .iter()
                .map(|c| json!({ "names": [c.name], "summary": c.role.cve_type() }))
                .collect::<Vec<_>>()
        );
    }
    let initial = rfc3339(advisory.published);
    let current = rfc3339(advisory.updated.max(advisory.published));
    let mut revisions =
        vec![json!({ "date": initial, "number": "1", "summary": "Initial release." })];
    if current != initial {
        revisions.push(json!({ "date": current, "number": "2", "summary": "Updated." }));
    }
    let version = revisions.len().to_string();
    let doc = json!({
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "title": advisory.title,
            "lang": "en",
            "publisher": { "category": "vendor", "name": publisher.name, "namespace": publisher.namespace },
            "notes": notes,
            "references": references,
            "distribution": { "tlp": { "label": "WHITE" } },
            "tracking": {
                "id": advisory.display_id(),
                "status": "final",
                "version": version,
                "initial_release_date": initial,
                "current_release_date": current,
                "revision_history": revisions,
                "generator": { "engine": { "name": "Embargo", "version": env!("CARGO_PKG_VERSION") } },
            },
        },
        "product_tree": { "branches": branches },
        "vulnerabilities": [vulnerability],
    });
    match mandatory::run(&doc).into_iter().next() {
        Some(finding) => Err(FormatError::Invalid(finding.to_string())),
        None => Ok(doc),
    }
}

/// A 3.x rating as the FIRST CVSS JSON schema writes it: each score with its own
/// severity (the base severity is the base score's, not the overall one's), and every
/// metric the vector sets.
fn cvss_v3(cvss: &Cvss) -> Value {
    let word = |s: embargo_core::cvss::Severity| s.to_string().to_ascii_uppercase();
    let mut object = json!({
        "version": cvss.version().to_string(),
        "vectorString": cvss.vector(),
        "baseScore": cvss.base_score(),
        "baseSeverity": word(cvss.base_severity()),
    });
    let sets = |names: &[&str]| {
        cvss.vector()
            .split('/')
            .filter_map(|c| c.split_once(':'))
            .any(|(name, _)| names.contains(&name))
    };
    if sets(&["E", "RL", "RC"])
        && let (Some(score), Some(severity)) = (cvss.temporal_score(), cvss.temporal_severity())
    {
        object["temporalScore"] = json!(score);
        object["temporalSeverity"] = json!(word(severity));
    }
    if sets(&[
        "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA",
    ]) && let (Some(score), Some(severity)) =
        (cvss.environmental_score(), cvss.environmental_severity())
    {
        object["environmentalScore"] = json!(score);
        object["environmentalSeverity"] = json!(word(severity));
    }
    for (name, value) in embargo_core::cvss::json_properties(cvss.version(), cvss.vector()) {
        object[name] = json!(value);
    }
    object
}

/// The mandatory tests (CSAF 2.0 §6.1) that Embargo implements.
pub mod mandatory;
