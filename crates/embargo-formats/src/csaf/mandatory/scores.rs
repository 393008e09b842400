//! The tests on CVSS ratings: scores computed right (§6.1.9) and properties that agree
//! with the vector (§6.1.10).

use super::*;

pub(super) type CvssCheck = fn(&Value, bool) -> Vec<String>;

pub(super) fn each_cvss(doc: &Value, test: &'static str, check: CvssCheck) -> Vec<Finding> {
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

pub(super) fn number(object: &Value, key: &str) -> Option<f64> {
    object.get(key).and_then(Value::as_f64)
}

pub(super) fn cvss_computation(object: &Value, v3: bool) -> Vec<String> {
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

pub(super) fn cvss_consistency(object: &Value, v3: bool) -> Vec<String> {
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
