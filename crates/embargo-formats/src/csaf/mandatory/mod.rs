//! The mandatory tests (CSAF 2.0 §6.1) that Embargo implements.

use super::*;

mod revisions;
mod scores;

use revisions::*;
use scores::*;

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
                .map(|(id, path)| finding("6.1.1", path, format!("product {id} is not defined")))
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
                        .filter_map(|k| score.get(*k)?.get("version")?.as_str().map(str::to_owned))
                        .collect();
                    for product in array(score, "/products").iter().filter_map(Value::as_str) {
                        for version in &versions {
                            if !seen.insert((product.to_owned(), version.clone())) {
                                out.push(finding(
                                    "6.1.7",
                                    format!("/vulnerabilities/{v}/scores/{i}"),
                                    format!(
                                        "product {product} has more than one CVSS {version} score"
                                    ),
                                ));
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
                if compare_versions(&pair[0].1, &pair[1].1) == Some(std::cmp::Ordering::Greater) {
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
