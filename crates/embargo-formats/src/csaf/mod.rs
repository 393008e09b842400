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
}

/// The CSAF document of an advisory, checked against the mandatory tests.
pub fn to_csaf(advisory: &Advisory, publisher: &Publisher) -> Result<Value, FormatError> {
    if advisory.references.is_empty() {
        return Err(FormatError::Incomplete(
            "a reference (the archived announcement)".into(),
        ));
    }
    let products = advisory.resolved_products();
    let mut next_id = 0;
    let mut id = || {
        next_id += 1;
        format!("CSAFPID-{next_id:04}")
    };
    let mut affected_ids = Vec::new();
    let mut fixed_ids = Vec::new();
    let mut vendors: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut product_names: Vec<(String, String, Vec<Value>)> = Vec::new();
    let mut leaf = |vendor: &str, product: &str, branch: Value| match product_names
        .iter_mut()
        .find(|(v, p, _)| v == vendor && p == product)
    {
        Some((_, _, leaves)) => leaves.push(branch),
        None => product_names.push((vendor.to_owned(), product.to_owned(), vec![branch])),
    };
    let helper =
        |purl: &Option<String>| -> Option<Value> { purl.as_ref().map(|p| json!({ "purl": p })) };
    if products.iter().any(|p| !p.ranges.is_empty()) {
        for p in &products {
            for range in &p.ranges {
                let constraint = match (&range.fixed, &range.last_affected) {
                    (Some(fixed), _) => format!(">={}|<{fixed}", range.introduced),
                    (None, Some(last)) => format!(">={}|<={last}", range.introduced),
                    (None, None) => format!(">={}", range.introduced),
                };
                let pid = id();
                let mut product = json!({ "name": format!("{} {} {constraint}", p.vendor, p.product), "product_id": pid });
                if let Some(h) = helper(&p.package_url) {
                    product["product_identification_helper"] = h;
                }
                leaf(
                    &p.vendor,
                    &p.product,
                    json!({
                        "category": "product_version_range",
                        "name": format!("vers:generic/{constraint}"),
                        "product": product,
                    }),
                );
                affected_ids.push(pid);
                if let Some(fixed) = &range.fixed {
                    let pid = id();
                    leaf(
                        &p.vendor,
                        &p.product,
                        json!({
                            "category": "product_version",
                            "name": fixed,
                            "product": { "name": format!("{} {} {fixed}", p.vendor, p.product), "product_id": pid },
                        }),
                    );
                    fixed_ids.push(pid);
                }
            }
        }
    } else {
        // Versions in words: the affected ones as they were given (a range in words is a
        // range, so it is a product_version_range), the fixed ones as versions.
        for text in &advisory.affected {
            let pid = id();
            leaf(
                &advisory.vendor,
                &advisory.product,
                json!({
                    "category": "product_version_range",
                    "name": text,
                    "product": { "name": format!("{} {} {text}", advisory.vendor, advisory.product), "product_id": pid },
                }),
            );
            affected_ids.push(pid);
        }
        for text in &advisory.fixed {
            let pid = id();
            leaf(
                &advisory.vendor,
                &advisory.product,
                json!({
                    "category": "product_version",
                    "name": text,
                    "product": { "name": format!("{} {} {text}", advisory.vendor, advisory.product), "product_id": pid },
                }),
            );
            fixed_ids.push(pid);
        }
    }
    if affected_ids.is_empty() {
        return Err(FormatError::Incomplete("affected versions".into()));
    }
    for (vendor, product, leaves) in product_names {
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
    let references: Vec<Value> = advisory
        .references
        .iter()
        .enumerate()
        .map(|(i, r)| json!({
            "category": if i == 0 { "self" } else { "external" },
            "summary": if i == 0 { "The announcement".to_owned() } else { r.tags.first().cloned().unwrap_or_else(|| "Reference".to_owned()) },
            "url": r.url,
        }))
        .collect();
    let mut vulnerability = json!({
        "title": advisory.title,
        "notes": [{ "category": "description", "title": "Description", "text": advisory.description }],
        "product_status": product_status,
        "release_date": rfc3339(advisory.published),
        "references": references,
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
