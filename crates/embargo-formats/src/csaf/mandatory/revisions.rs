//! The tests on versions and the revision history (§6.1.14 to §6.1.22).

use super::*;

pub(super) fn status(doc: &Value) -> Option<&str> {
    doc.pointer("/document/tracking/status")
        .and_then(Value::as_str)
}

pub(super) fn version(doc: &Value) -> Option<&str> {
    doc.pointer("/document/tracking/version")
        .and_then(Value::as_str)
}

pub(super) fn is_integer(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())
}

pub(super) fn major(v: &str) -> Option<u64> {
    v.split(['.', '-', '+']).next()?.parse().ok()
}

pub(super) fn is_zero(v: &str) -> bool {
    major(v) == Some(0)
}

pub(super) fn has_prerelease(v: &str) -> bool {
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
pub(super) fn sorted_history(doc: &Value) -> Vec<(time::OffsetDateTime, String)> {
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

pub(super) fn released(
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

pub(super) fn missing_revisions(doc: &Value) -> Vec<Finding> {
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

pub(super) fn contradicting_status(doc: &Value) -> Vec<Finding> {
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
