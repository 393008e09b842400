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
    if let Some(cwe) = &advisory.cwe {
        // CSAF's cwe member needs the weakness's name, which Embargo does not hold; the
        // number is given in a note instead of a made-up name.
        notes.push(json!({ "category": "other", "title": "Weakness", "text": cwe }));
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
pub mod mandatory {
    use super::*;

    /// The ids of the tests implemented here.
    pub const IMPLEMENTED: &[&str] = &[
        "6.1.1",
        "6.1.2",
        "6.1.6",
        "6.1.7",
        "6.1.9",
        "6.1.10",
        "6.1.13",
        "6.1.14",
        "6.1.16",
        "6.1.17",
        "6.1.18",
        "6.1.19",
        "6.1.20",
        "6.1.21",
        "6.1.22",
        "6.1.23",
        "6.1.24",
        "6.1.27.1",
        "6.1.27.2",
        "6.1.27.3",
        "6.1.27.4",
        "6.1.27.5",
        "6.1.27.6",
        "6.1.27.11",
        "6.1.29",
        "6.1.30",
        "6.1.31",
    ];

    /// A failed test: which, where, why.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Finding {
        /// The test, e.g. "6.1.1".
        pub test: &'static str,
        /// The JSON pointer of the offending member.
        pub path: String,
        /// What is wrong.
        pub message: String,
    }

    impl std::fmt::Display for Finding {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(
                f,
                "CSAF mandatory test {} fails at {}: {}",
                self.test, self.path, self.message
            )
        }
    }

    /// Runs every implemented test.
    pub fn run(doc: &Value) -> Vec<Finding> {
        IMPLEMENTED.iter().flat_map(|t| run_test(t, doc)).collect()
    }

    fn finding(test: &'static str, path: String, message: impl Into<String>) -> Finding {
        Finding {
            test,
            path,
            message: message.into(),
        }
    }

    fn array<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
        v.pointer(pointer)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    fn vulnerabilities(doc: &Value) -> impl Iterator<Item = (usize, &Value)> {
        array(doc, "/vulnerabilities").iter().enumerate()
    }

    /// Every product defined: its id, at its path.
    fn definitions(doc: &Value) -> Vec<(String, String)> {
        fn walk(branches: &[Value], path: &str, out: &mut Vec<(String, String)>) {
            for (i, b) in branches.iter().enumerate() {
                let here = format!("{path}/{i}");
                if let Some(id) = b.pointer("/product/product_id").and_then(Value::as_str) {
                    out.push((id.to_owned(), format!("{here}/product/product_id")));
                }
                walk(array(b, "/branches"), &format!("{here}/branches"), out);
            }
        }
        let mut out = Vec::new();
        walk(
            array(doc, "/product_tree/branches"),
            "/product_tree/branches",
            &mut out,
        );
        for (i, p) in array(doc, "/product_tree/full_product_names")
            .iter()
            .enumerate()
        {
            if let Some(id) = p.get("product_id").and_then(Value::as_str) {
                out.push((
                    id.to_owned(),
                    format!("/product_tree/full_product_names/{i}/product_id"),
                ));
            }
        }
        for (i, r) in array(doc, "/product_tree/relationships").iter().enumerate() {
            if let Some(id) = r
                .pointer("/full_product_name/product_id")
                .and_then(Value::as_str)
            {
                out.push((
                    id.to_owned(),
                    format!("/product_tree/relationships/{i}/full_product_name/product_id"),
                ));
            }
        }
        out
    }

    const STATUSES: [&str; 8] = [
        "first_affected",
        "first_fixed",
        "fixed",
        "known_affected",
        "known_not_affected",
        "last_affected",
        "recommended",
        "under_investigation",
    ];

    /// Every reference to a product id: the id, at its path.
    fn references(doc: &Value) -> Vec<(String, String)> {
        fn ids(out: &mut Vec<(String, String)>, list: &[Value], path: String) {
            for (i, id) in list.iter().enumerate() {
                if let Some(id) = id.as_str() {
                    out.push((id.to_owned(), format!("{path}/{i}")));
                }
            }
        }
        let mut out = Vec::new();
        for (i, g) in array(doc, "/product_tree/product_groups")
            .iter()
            .enumerate()
        {
            ids(
                &mut out,
                array(g, "/product_ids"),
                format!("/product_tree/product_groups/{i}/product_ids"),
            );
        }
        for (i, r) in array(doc, "/product_tree/relationships").iter().enumerate() {
            for key in ["product_reference", "relates_to_product_reference"] {
                if let Some(id) = r.get(key).and_then(Value::as_str) {
                    // A single reference, at the member itself rather than in a list.
                    out.push((
                        id.to_owned(),
                        format!("/product_tree/relationships/{i}/{key}"),
                    ));
                }
            }
        }
        for (v, vuln) in vulnerabilities(doc) {
            for status in STATUSES {
                ids(
                    &mut out,
                    array(vuln, &format!("/product_status/{status}")),
                    format!("/vulnerabilities/{v}/product_status/{status}"),
                );
            }
            for (section, member) in [
                ("remediations", "product_ids"),
                ("scores", "products"),
                ("threats", "product_ids"),
                ("flags", "product_ids"),
            ] {
                for (i, item) in array(vuln, &format!("/{section}")).iter().enumerate() {
                    ids(
                        &mut out,
                        array(item, &format!("/{member}")),
                        format!("/vulnerabilities/{v}/{section}/{i}/{member}"),
                    );
                }
            }
        }
        out
    }

    /// Runs one test by its id; an unknown id finds nothing.
    pub fn run_test(test: &str, doc: &Value) -> Vec<Finding> {
        match test {
            "6.1.1" => {
                let defined: BTreeSet<String> =
                    definitions(doc).into_iter().map(|(id, _)| id).collect();
                references(doc)
                    .into_iter()
                    .filter(|(id, _)| !defined.contains(id))
                    .map(|(id, path)| {
                        finding("6.1.1", path, format!("product {id} is not defined"))
                    })
                    .collect()
            }
            "6.1.2" => {
                let mut seen = BTreeSet::new();
                definitions(doc)
                    .into_iter()
                    .filter(|(id, _)| !seen.insert(id.clone()))
                    .map(|(id, path)| {
                        finding(
                            "6.1.2",
                            path,
                            format!("product {id} is defined more than once"),
                        )
                    })
                    .collect()
            }
            "6.1.6" => contradicting_status(doc),
            "6.1.7" => {
                let mut out = Vec::new();
                for (v, vuln) in vulnerabilities(doc) {
                    let mut seen = BTreeSet::new();
                    for (i, score) in array(vuln, "/scores").iter().enumerate() {
                        let versions: Vec<String> = ["cvss_v2", "cvss_v3"]
                            .iter()
                            .filter_map(|k| {
                                score.get(*k)?.get("version")?.as_str().map(str::to_owned)
                            })
                            .collect();
                        for product in array(score, "/products").iter().filter_map(Value::as_str) {
                            for version in &versions {
                                if !seen.insert((product.to_owned(), version.clone())) {
                                    out.push(finding("6.1.7", format!("/vulnerabilities/{v}/scores/{i}"), format!("product {product} has more than one CVSS {version} score")));
                                }
                            }
                        }
                    }
                }
                out
            }
            "6.1.9" => each_cvss(doc, "6.1.9", cvss_computation),
            "6.1.10" => each_cvss(doc, "6.1.10", cvss_consistency),
            "6.1.13" => {
                let mut out = Vec::new();
                purls(doc, &mut out);
                out
            }
            "6.1.14" => {
                let history = sorted_history(doc);
                let mut out = Vec::new();
                for pair in history.windows(2) {
                    if compare_versions(&pair[0].1, &pair[1].1) == Some(std::cmp::Ordering::Greater)
                    {
                        out.push(finding(
                            "6.1.14",
                            "/document/tracking/revision_history".into(),
                            format!("revision {} comes after {} by date", pair[1].1, pair[0].1),
                        ));
                    }
                }
                out
            }
            "6.1.16" => {
                let history = sorted_history(doc);
                let draft = status(doc) == Some("draft");
                let strip = |v: &str| {
                    let v = v.split('+').next().unwrap_or_default();
                    if draft {
                        v.split('-').next().unwrap_or_default().to_owned()
                    } else {
                        v.to_owned()
                    }
                };
                match (history.last(), version(doc)) {
                    (Some((_, latest)), Some(version)) if strip(latest) != strip(version) => {
                        vec![finding(
                            "6.1.16",
                            "/document/tracking/version".into(),
                            format!("the version {version} is not the latest revision, {latest}"),
                        )]
                    }
                    _ => Vec::new(),
                }
            }
            "6.1.17" => match version(doc) {
                Some(v) if (is_zero(v) || has_prerelease(v)) && status(doc) != Some("draft") => {
                    vec![finding(
                        "6.1.17",
                        "/document/tracking/status".into(),
                        format!("version {v} is a draft version, but the status is not draft"),
                    )]
                }
                _ => Vec::new(),
            },
            "6.1.18" => released(
                doc,
                "6.1.18",
                is_zero,
                "a version 0 entry in a released document",
            ),
            "6.1.19" => released(
                doc,
                "6.1.19",
                has_prerelease,
                "a pre-release entry in a released document",
            ),
            "6.1.20" => match (status(doc), version(doc)) {
                (Some("final" | "interim"), Some(v)) if has_prerelease(v) || is_zero(v) => {
                    vec![finding(
                        "6.1.20",
                        "/document/tracking/version".into(),
                        format!(
                            "a {} document cannot have version {v}",
                            status(doc).unwrap_or_default()
                        ),
                    )]
                }
                _ => Vec::new(),
            },
            "6.1.21" => missing_revisions(doc),
            "6.1.22" => {
                let mut seen = BTreeSet::new();
                array(doc, "/document/tracking/revision_history")
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| {
                        let n = r.get("number")?.as_str()?;
                        (!seen.insert(n.to_owned())).then(|| {
                            finding(
                                "6.1.22",
                                format!("/document/tracking/revision_history/{i}/number"),
                                format!("revision {n} is listed more than once"),
                            )
                        })
                    })
                    .collect()
            }
            "6.1.23" => {
                let mut seen = BTreeSet::new();
                vulnerabilities(doc)
                    .filter_map(|(v, vuln)| {
                        let cve = vuln.get("cve")?.as_str()?;
                        (!seen.insert(cve.to_owned())).then(|| {
                            finding(
                                "6.1.23",
                                format!("/vulnerabilities/{v}/cve"),
                                format!("{cve} is used by more than one vulnerability"),
                            )
                        })
                    })
                    .collect()
            }
            "6.1.24" => {
                let mut out = Vec::new();
                for (v, vuln) in vulnerabilities(doc) {
                    let mut seen = BTreeSet::new();
                    for (i, inv) in array(vuln, "/involvements").iter().enumerate() {
                        let key = (
                            inv.get("party").and_then(Value::as_str).map(str::to_owned),
                            inv.get("date").and_then(Value::as_str).map(str::to_owned),
                        );
                        if !seen.insert(key) {
                            out.push(finding(
                                "6.1.24",
                                format!("/vulnerabilities/{v}/involvements/{i}"),
                                "the same party and date appear twice",
                            ));
                        }
                    }
                }
                out
            }
            "6.1.27.1" | "6.1.27.2" | "6.1.27.3" | "6.1.27.4" | "6.1.27.5" | "6.1.27.6"
            | "6.1.27.11" => {
                let id = IMPLEMENTED
                    .iter()
                    .copied()
                    .find(|t| *t == test)
                    .unwrap_or("6.1.27");
                profile_test(id, doc)
            }
            "6.1.29" => {
                let mut out = Vec::new();
                for (v, vuln) in vulnerabilities(doc) {
                    for (i, r) in array(vuln, "/remediations").iter().enumerate() {
                        if r.get("product_ids").is_none() && r.get("group_ids").is_none() {
                            out.push(finding(
                                "6.1.29",
                                format!("/vulnerabilities/{v}/remediations/{i}"),
                                "the remediation names no product or group",
                            ));
                        }
                    }
                }
                out
            }
            "6.1.30" => {
                let mut numbers: Vec<&str> = array(doc, "/document/tracking/revision_history")
                    .iter()
                    .filter_map(|r| r.get("number")?.as_str())
                    .collect();
                numbers.extend(version(doc));
                let integers = numbers.iter().filter(|n| is_integer(n)).count();
                if integers != 0 && integers != numbers.len() {
                    vec![finding(
                        "6.1.30",
                        "/document/tracking".into(),
                        "integer and semantic versioning are mixed",
                    )]
                } else {
                    Vec::new()
                }
            }
            "6.1.31" => {
                let mut out = Vec::new();
                version_ranges(
                    array(doc, "/product_tree/branches"),
                    "/product_tree/branches",
                    &mut out,
                );
                out
            }
            _ => Vec::new(),
        }
    }

    fn status(doc: &Value) -> Option<&str> {
        doc.pointer("/document/tracking/status")
            .and_then(Value::as_str)
    }

    fn version(doc: &Value) -> Option<&str> {
        doc.pointer("/document/tracking/version")
            .and_then(Value::as_str)
    }

    fn is_integer(v: &str) -> bool {
        !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())
    }

    fn major(v: &str) -> Option<u64> {
        v.split(['.', '-', '+']).next()?.parse().ok()
    }

    fn is_zero(v: &str) -> bool {
        major(v) == Some(0)
    }

    fn has_prerelease(v: &str) -> bool {
        !is_integer(v) && v.split('+').next().is_some_and(|core| core.contains('-'))
    }

    /// Compares two version numbers of the same scheme (integer, or semantic).
    pub(crate) fn compare_versions(a: &str, b: &str) -> Option<std::cmp::Ordering> {
        if is_integer(a) && is_integer(b) {
            return Some(a.parse::<u64>().ok()?.cmp(&b.parse::<u64>().ok()?));
        }
        let parse = |v: &str| -> Option<(Vec<u64>, Option<String>)> {
            let core = v.split('+').next()?;
            let (numbers, pre) = match core.split_once('-') {
                Some((n, p)) => (n, Some(p.to_owned())),
                None => (core, None),
            };
            let numbers: Option<Vec<u64>> = numbers.split('.').map(|n| n.parse().ok()).collect();
            Some((numbers?, pre))
        };
        let (an, ap) = parse(a)?;
        let (bn, bp) = parse(b)?;
        Some(an.cmp(&bn).then(match (ap, bp) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(_), None) => std::cmp::Ordering::Less,
            (Some(x), Some(y)) => x.cmp(&y),
        }))
    }

    /// The revision history sorted by date (stably), as (date, number).
    fn sorted_history(doc: &Value) -> Vec<(time::OffsetDateTime, String)> {
        let mut history: Vec<(time::OffsetDateTime, String)> =
            array(doc, "/document/tracking/revision_history")
                .iter()
                .filter_map(|r| {
                    Some((
                        crate::parse_time(r.get("date")?.as_str()?)?,
                        r.get("number")?.as_str()?.to_owned(),
                    ))
                })
                .collect();
        // Ties of date are ordered by number (the TC's examples read them so).
        history.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(compare_versions(&a.1, &b.1).unwrap_or(std::cmp::Ordering::Equal))
        });
        history
    }

    fn released(
        doc: &Value,
        test: &'static str,
        bad: fn(&str) -> bool,
        what: &str,
    ) -> Vec<Finding> {
        if !matches!(status(doc), Some("final" | "interim")) {
            return Vec::new();
        }
        array(doc, "/document/tracking/revision_history")
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let n = r.get("number")?.as_str()?;
                bad(n).then(|| {
                    finding(
                        test,
                        format!("/document/tracking/revision_history/{i}/number"),
                        format!("{what}: {n}"),
                    )
                })
            })
            .collect()
    }

    fn missing_revisions(doc: &Value) -> Vec<Finding> {
        let history = sorted_history(doc);
        let mut majors: Vec<u64> = history.iter().filter_map(|(_, n)| major(n)).collect();
        let path = "/document/tracking/revision_history".to_owned();
        let Some(&first) = majors.first() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if first > 1 {
            out.push(finding(
                "6.1.21",
                path.clone(),
                format!("the first revision is {first}, not 0 or 1"),
            ));
        }
        let integer = history.iter().all(|(_, n)| is_integer(n));
        if integer {
            majors.sort_unstable();
        }
        for pair in majors.windows(2) {
            if pair[1] > pair[0] + 1 {
                out.push(finding(
                    "6.1.21",
                    path.clone(),
                    format!("revisions between {} and {} are missing", pair[0], pair[1]),
                ));
            }
        }
        out
    }

    fn contradicting_status(doc: &Value) -> Vec<Finding> {
        let groups: [(&str, &[&str]); 4] = [
            (
                "affected",
                &["first_affected", "known_affected", "last_affected"],
            ),
            ("not affected", &["known_not_affected"]),
            ("fixed", &["first_fixed", "fixed"]),
            ("under investigation", &["under_investigation"]),
        ];
        let mut out = Vec::new();
        for (v, vuln) in vulnerabilities(doc) {
            let mut group_of: BTreeMap<String, &str> = BTreeMap::new();
            for (group, statuses) in groups {
                let mut in_group = BTreeSet::new();
                for status in statuses {
                    for id in array(vuln, &format!("/product_status/{status}"))
                        .iter()
                        .filter_map(Value::as_str)
                    {
                        in_group.insert(id.to_owned());
                    }
                }
                for id in in_group {
                    if let Some(other) = group_of.insert(id.clone(), group) {
                        out.push(finding(
                            "6.1.6",
                            format!("/vulnerabilities/{v}/product_status"),
                            format!("product {id} is both {other} and {group}"),
                        ));
                    }
                }
            }
        }
        out
    }

    type CvssCheck = fn(&Value, bool) -> Vec<String>;

    fn each_cvss(doc: &Value, test: &'static str, check: CvssCheck) -> Vec<Finding> {
        let mut out = Vec::new();
        for (v, vuln) in vulnerabilities(doc) {
            for (i, score) in array(vuln, "/scores").iter().enumerate() {
                for (key, v3) in [("cvss_v3", true), ("cvss_v2", false)] {
                    if let Some(object) = score.get(key) {
                        for message in check(object, v3) {
                            out.push(finding(
                                test,
                                format!("/vulnerabilities/{v}/scores/{i}/{key}"),
                                message,
                            ));
                        }
                    }
                }
            }
        }
        out
    }

    fn number(object: &Value, key: &str) -> Option<f64> {
        object.get(key).and_then(Value::as_f64)
    }

    fn cvss_computation(object: &Value, v3: bool) -> Vec<String> {
        let Some(vector) = object.get("vectorString").and_then(Value::as_str) else {
            return Vec::new();
        };
        let Ok(cvss) = Cvss::parse(vector) else {
            return vec![format!("the vector {vector} cannot be scored")];
        };
        let mut out = Vec::new();
        let word = |score: f64| {
            embargo_core::cvss::severity_for(score)
                .to_string()
                .to_ascii_uppercase()
        };
        let mut check = |score_key: &str, severity_key: &str, computed: Option<f64>| {
            if let (Some(given), Some(computed)) = (number(object, score_key), computed)
                && (given - computed).abs() > 0.05
            {
                out.push(format!(
                    "{score_key} is {given}, the vector gives {computed}"
                ));
            }
            if v3
                && let (Some(given), Some(computed)) =
                    (object.get(severity_key).and_then(Value::as_str), computed)
                && given != word(computed)
            {
                out.push(format!(
                    "{severity_key} is {given}, the vector gives {}",
                    word(computed)
                ));
            }
        };
        check("baseScore", "baseSeverity", Some(cvss.base_score()));
        check(
            "temporalScore",
            "temporalSeverity",
            cvss.temporal_score().or(Some(cvss.base_score())),
        );
        check(
            "environmentalScore",
            "environmentalSeverity",
            cvss.environmental_score()
                .or(cvss.temporal_score())
                .or(Some(cvss.base_score())),
        );
        out
    }

    fn cvss_consistency(object: &Value, v3: bool) -> Vec<String> {
        let Some(vector) = object.get("vectorString").and_then(Value::as_str) else {
            return Vec::new();
        };
        let metrics = embargo_core::cvss::metrics(if v3 {
            embargo_core::cvss::Version::V3_1
        } else {
            embargo_core::cvss::Version::V2
        });
        let given: BTreeMap<&str, &str> = vector
            .split('/')
            .filter_map(|p| p.split_once(':'))
            .collect();
        let mut out = Vec::new();
        if v3 {
            let prefix = vector.split('/').next().unwrap_or_default();
            if let Some(version) = object.get("version").and_then(Value::as_str)
                && prefix != format!("CVSS:{version}")
            {
                out.push(format!("version is {version}, the vector is {prefix}"));
            }
        }
        for metric in metrics {
            let Some(property) = object.get(metric.json).and_then(Value::as_str) else {
                continue;
            };
            let expected = match given.get(metric.name) {
                Some(code) => metric.value(code).map(|v| v.json),
                None => Some("NOT_DEFINED"),
            };
            if expected != Some(property) {
                out.push(format!(
                    "{} is {property}, the vector says {}",
                    metric.json,
                    expected.unwrap_or("something else")
                ));
            }
        }
        out
    }

    fn is_purl(purl: &str) -> bool {
        let Some(rest) = purl.strip_prefix("pkg:") else {
            return false;
        };
        let rest = rest.trim_start_matches('/');
        let rest = rest.split('#').next().unwrap_or_default();
        let rest = rest.split('?').next().unwrap_or_default();
        let Some((kind, path)) = rest.split_once('/') else {
            return false;
        };
        let kind_ok = kind.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && kind
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
        let path = path.rsplit_once('@').map(|(p, _)| p).unwrap_or(path);
        let name = path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        kind_ok && !name.is_empty()
    }

    fn purls(doc: &Value, out: &mut Vec<Finding>) {
        fn check(product: &Value, path: String, out: &mut Vec<Finding>) {
            if let Some(purl) = product
                .pointer("/product_identification_helper/purl")
                .and_then(Value::as_str)
                && !is_purl(purl)
            {
                out.push(finding(
                    "6.1.13",
                    format!("{path}/product_identification_helper/purl"),
                    format!("'{purl}' is not a package URL"),
                ));
            }
        }
        fn walk(branches: &[Value], path: &str, out: &mut Vec<Finding>) {
            for (i, b) in branches.iter().enumerate() {
                let here = format!("{path}/{i}");
                if let Some(product) = b.get("product") {
                    check(product, format!("{here}/product"), out);
                }
                walk(array(b, "/branches"), &format!("{here}/branches"), out);
            }
        }
        walk(
            array(doc, "/product_tree/branches"),
            "/product_tree/branches",
            out,
        );
        for (i, p) in array(doc, "/product_tree/full_product_names")
            .iter()
            .enumerate()
        {
            check(p, format!("/product_tree/full_product_names/{i}"), out);
        }
        for (i, r) in array(doc, "/product_tree/relationships").iter().enumerate() {
            if let Some(p) = r.get("full_product_name") {
                check(
                    p,
                    format!("/product_tree/relationships/{i}/full_product_name"),
                    out,
                );
            }
        }
    }

    fn version_ranges(branches: &[Value], path: &str, out: &mut Vec<Finding>) {
        const WORDS: [&str; 7] = [
            "after", "all", "before", "earlier", "later", "prior", "versions",
        ];
        for (i, b) in branches.iter().enumerate() {
            let here = format!("{path}/{i}");
            if b.get("category").and_then(Value::as_str) == Some("product_version")
                && let Some(name) = b.get("name").and_then(Value::as_str)
            {
                let lower = name.to_lowercase();
                // Whole words between spaces: "after-eight" is a name, not a range.
                let worded = lower.split_whitespace().any(|w| WORDS.contains(&w));
                if worded || name.contains(['<', '>']) {
                    out.push(finding(
                        "6.1.31",
                        format!("{here}/name"),
                        format!("'{name}' is a version range, not a version"),
                    ));
                }
            }
            version_ranges(array(b, "/branches"), &format!("{here}/branches"), out);
        }
    }

    fn profile_test(test: &'static str, doc: &Value) -> Vec<Finding> {
        let category = doc
            .pointer("/document/category")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let informational = matches!(
            category,
            "csaf_informational_advisory" | "csaf_security_incident_response"
        );
        let advisory = matches!(category, "csaf_security_advisory" | "csaf_vex");
        let fail = |path: &str, message: &str| vec![finding(test, path.to_owned(), message)];
        match test {
            "6.1.27.1" if informational => {
                let ok = array(doc, "/document/notes").iter().any(|n| {
                    matches!(
                        n.get("category").and_then(Value::as_str),
                        Some("description" | "details" | "general" | "summary")
                    )
                });
                if ok {
                    Vec::new()
                } else {
                    fail(
                        "/document/notes",
                        "the profile needs a note of category description, details, general or summary",
                    )
                }
            }
            "6.1.27.2" if informational => {
                let ok = array(doc, "/document/references")
                    .iter()
                    .any(|r| r.get("category").and_then(Value::as_str) == Some("external"));
                if ok {
                    Vec::new()
                } else {
                    fail(
                        "/document/references",
                        "the profile needs an external reference",
                    )
                }
            }
            "6.1.27.3"
                if category == "csaf_informational_advisory"
                    && doc.get("vulnerabilities").is_some() =>
            {
                fail(
                    "/vulnerabilities",
                    "an informational advisory has no vulnerabilities",
                )
            }
            "6.1.27.4" if advisory && doc.get("product_tree").is_none() => {
                fail("/product_tree", "the profile needs a product tree")
            }
            "6.1.27.5" if advisory => vulnerabilities(doc)
                .filter(|(_, v)| v.get("notes").is_none())
                .map(|(i, _)| {
                    finding(
                        test,
                        format!("/vulnerabilities/{i}"),
                        "the vulnerability has no notes",
                    )
                })
                .collect(),
            "6.1.27.6" if category == "csaf_security_advisory" => vulnerabilities(doc)
                .filter(|(_, v)| v.get("product_status").is_none())
                .map(|(i, _)| {
                    finding(
                        test,
                        format!("/vulnerabilities/{i}"),
                        "the vulnerability has no product status",
                    )
                })
                .collect(),
            "6.1.27.11" if advisory && doc.get("vulnerabilities").is_none() => {
                fail("/vulnerabilities", "the profile needs vulnerabilities")
            }
            _ => Vec::new(),
        }
    }
}
