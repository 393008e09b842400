//! Conformance: every document made here validates against the official schemas in
//! `../shared/conformance/`, read in place, and published records read back unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use embargo_core::case::{Credit, CreditRole, Product, VersionRange};
use embargo_core::cvss::Cvss;
use serde_json::Value;
use time::macros::datetime;

use crate::cve5::{Cna, Record};
use crate::{Advisory, Reference, TimelineEntry};

pub(crate) fn conformance(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance")
        .join(path)
}

pub(crate) fn json(path: &str) -> Value {
    let text = std::fs::read_to_string(conformance(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn cve_validator() -> jsonschema::Validator {
    let schema = json("cve5/schema/CVE_JSON_bundled_5.1.1.json");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

pub(crate) fn sample() -> Advisory {
    Advisory {
        reference: "CLOUDSTACK-SEC-7".into(),
        cve_id: Some("CVE-2026-41234".into()),
        title: "Stored XSS in the instance console".into(),
        vendor: "Apache Software Foundation".into(),
        product: "Apache CloudStack".into(),
        description: "The console shows an instance's name without escaping it, so a user who may name instances can run script in an administrator's browser.".into(),
        mitigation: "Upgrade to 4.19.1.2 or 4.20.0.1.".into(),
        workarounds: "Restrict who may rename instances.".into(),
        cwe: Some("CWE-79".into()),
        cvss: vec![
            Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:N").unwrap(),
            Cvss::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:P/VC:H/VI:H/VA:N/SC:L/SI:L/SA:N").unwrap(),
        ],
        products: vec![Product {
            vendor: String::new(),
            product: String::new(),
            package_url: Some("pkg:maven/org.apache.cloudstack/cloud-server".into()),
            ranges: vec![
                VersionRange { introduced: "4.0.0".into(), fixed: Some("4.19.1.2".into()), last_affected: None },
                VersionRange { introduced: "4.20.0.0".into(), fixed: Some("4.20.0.1".into()), last_affected: None },
            ],
        }],
        affected: vec!["4.0.0 through 4.19.1.1".into(), "4.20.0.0".into()],
        fixed: vec!["4.19.1.2".into(), "4.20.0.1".into()],
        coordinates: Default::default(),
        git: Default::default(),
        credits: vec![
            Credit { name: "Fay Finder".into(), role: CreditRole::Finder },
            Credit { name: "Rui Remedy".into(), role: CreditRole::RemediationDeveloper },
        ],
        references: vec![
            Reference { url: "https://lists.apache.org/thread/abc123".into(), tags: vec!["vendor-advisory".into(), "mailing-list".into()] },
            Reference { url: "https://github.com/apache/cloudstack/commit/4d5e6f".into(), tags: vec!["patch".into()] },
        ],
        timeline: vec![
            TimelineEntry { at: datetime!(2026-11-02 09:00 UTC), event: "Reported to the security team".into() },
            TimelineEntry { at: datetime!(2026-12-01 14:00 UTC), event: "Announced".into() },
        ],
        published: datetime!(2026-12-01 14:00 UTC),
        updated: datetime!(2026-12-01 14:00 UTC),
    }
}

pub(crate) fn cna() -> Cna {
    Cna {
        org_id: "f0158376-9dc2-43b6-827c-5f631a4d8d09".into(),
        short_name: "apache".into(),
    }
}

#[test]
fn generated_cve_records_validate_against_the_official_schema() {
    let validator = cve_validator();
    let record = Record::from_advisory(&sample(), &cna()).unwrap().to_json();
    assert_eq!(
        errors(&validator, &record),
        Vec::<String>::new(),
        "{record:#}"
    );
    let cna = &record["containers"]["cna"];
    assert_eq!(cna["metrics"][0]["cvssV3_1"]["baseScore"], 8.7);
    assert_eq!(cna["metrics"][0]["cvssV3_1"]["attackVector"], "NETWORK");
    assert_eq!(cna["affected"][0]["versions"][0]["lessThan"], "4.19.1.2");
    assert_eq!(cna["credits"][1]["type"], "remediation developer");
    assert_eq!(
        cna["problemTypes"][0]["descriptions"][0]["description"],
        "CWE-79 Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
        "the name from the CWE list"
    );
    assert_eq!(cna["problemTypes"][0]["descriptions"][0]["cweId"], "CWE-79");

    // Versions in words only, no CVSS, no CWE, no credits: still a valid record.
    let mut plain = sample();
    plain.products.clear();
    plain.cvss.clear();
    plain.cwe = None;
    plain.credits.clear();
    plain.timeline.clear();
    let record = Record::from_advisory(&plain, &crate::tests::cna())
        .unwrap()
        .to_json();
    assert_eq!(
        errors(&validator, &record),
        Vec::<String>::new(),
        "{record:#}"
    );

    // What a record cannot go without is named.
    let mut bare = sample();
    bare.references.clear();
    assert_eq!(
        Record::from_advisory(&bare, &crate::tests::cna())
            .unwrap_err()
            .to_string(),
        "the advisory needs a reference (the archived announcement)"
    );
    bare = sample();
    bare.cve_id = None;
    assert_eq!(
        Record::from_advisory(&bare, &crate::tests::cna())
            .unwrap_err()
            .to_string(),
        "the advisory needs a CVE ID"
    );
}

#[test]
fn apache_cloudstack_records_round_trip() {
    let validator = cve_validator();
    let dir = conformance("cve5/examples/apache-cloudstack");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let original: Value = serde_json::from_str(&text).unwrap();
        let record = Record::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            record.to_json(),
            original,
            "{} reads and writes back the same",
            path.display()
        );
        assert!(errors(&validator, &record.to_json()).is_empty());
        let advisory = record.to_advisory();
        assert!(advisory.cve_id.as_deref().unwrap().starts_with("CVE-"));
        assert_eq!(advisory.product, "Apache CloudStack");
        assert!(!advisory.description.is_empty());
        assert!(!advisory.products[0].ranges.is_empty());
        // Written again from the advisory: still a valid record.
        let again = Record::from_advisory(&advisory, &crate::tests::cna()).unwrap();
        assert!(
            errors(&validator, &again.to_json()).is_empty(),
            "{}",
            path.display()
        );
        seen += 1;
    }
    assert_eq!(seen, 3);
    for full in [
        "full-record-basic-example.json",
        "full-record-advanced-example.json",
    ] {
        let text = std::fs::read_to_string(conformance(&format!(
            "cve5/examples/cve-schema/full-records/{full}"
        )))
        .unwrap();
        let record = Record::parse(&text).unwrap_or_else(|e| panic!("{full}: {e}"));
        assert_eq!(
            record.to_json(),
            serde_json::from_str::<Value>(&text).unwrap(),
            "{full}"
        );
    }
}

#[test]
fn the_invalid_record_is_refused_with_the_reason() {
    let text =
        std::fs::read_to_string(conformance("cve5/examples/invalid/CVE-2022-35741.cve.json"))
            .unwrap();
    assert!(!errors(&cve_validator(), &serde_json::from_str(&text).unwrap()).is_empty());
    assert_eq!(
        Record::parse(&text).unwrap_err().to_string(),
        "cveMetadata.assignerOrgId is not a UUID"
    );
    let record: Record = serde_json::from_str(&text).unwrap();
    assert_eq!(
        record.problems(),
        [
            "cveMetadata.assignerOrgId is not a UUID",
            "containers.cna.providerMetadata.orgId is not a UUID"
        ]
    );
    assert!(
        Record::parse("{\"dataType\": \"CVE_RECORD\"}")
            .unwrap_err()
            .to_string()
            .starts_with("not a CVE JSON 5 record: missing field")
    );
}

fn osv_validator() -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&json("osv/validation/schema.json"))
        .unwrap()
}

#[test]
fn generated_osv_documents_validate_against_the_official_schema() {
    let validator = osv_validator();
    let doc = crate::osv::to_osv(&sample(), "x_").unwrap();
    assert_eq!(errors(&validator, &doc), Vec::<String>::new(), "{doc:#}");
    assert_eq!(doc["id"], "x_CLOUDSTACK-SEC-7");
    assert_eq!(doc["aliases"][0], "CVE-2026-41234");
    assert_eq!(doc["affected"][0]["package"]["ecosystem"], "Maven");
    assert_eq!(
        doc["affected"][0]["package"]["name"],
        "org.apache.cloudstack:cloud-server"
    );
    assert_eq!(
        doc["affected"][0]["ranges"][0]["events"][1]["fixed"],
        "4.19.1.2"
    );
    assert_eq!(doc["severity"][1]["type"], "CVSS_V4");
    // A registered prefix works the same; an unregistered one without x_ fails the schema.
    let registered = crate::osv::to_osv(&sample(), "ASB-A-").unwrap();
    assert!(errors(&validator, &registered).is_empty());
    let mut bad = doc.clone();
    bad["id"] = "CLOUDSTACK-SEC-7".into();
    assert!(
        !errors(&validator, &bad).is_empty(),
        "the schema refuses an unregistered prefix"
    );
    assert!(crate::osv::to_osv(&sample(), "ASF").is_err());
    // Without a package URL: no package, ranges kept for people.
    let mut plain = sample();
    plain.products[0].package_url = None;
    let doc = crate::osv::to_osv(&plain, "x_").unwrap();
    assert!(errors(&validator, &doc).is_empty(), "{doc:#}");
    plain.products.clear();
    plain.cvss.clear();
    plain.credits.clear();
    let doc = crate::osv::to_osv(&plain, "x_").unwrap();
    assert!(errors(&validator, &doc).is_empty(), "{doc:#}");
}

#[test]
fn published_osv_records_read_as_advisories() {
    let dir = conformance("corpus/rustsec/osv/crates");
    let validator = osv_validator();
    let mut read = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let advisory =
            crate::osv::from_osv(&doc).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(advisory.reference.starts_with("RUSTSEC-"));
        assert!(!advisory.title.is_empty());
        // And written out again by Embargo: valid OSV.
        let again = crate::osv::to_osv(&advisory, "x_").unwrap();
        assert!(errors(&validator, &again).is_empty(), "{}", path.display());
        read += 1;
    }
    assert_eq!(read, 200);
}

/// The CSAF schema (plain or strict) with FIRST's CVSS schemas registered under the URLs
/// the CSAF schema uses (without their query strings).
fn csaf_validator(strict: bool) -> jsonschema::Validator {
    let suffix = if strict { "_strict" } else { "" };
    let cvss = |v: &str| {
        json(&format!(
            "csaf/csaf_2.0/referenced_schema/first/cvss-v{v}{suffix}.json"
        ))
    };
    let registry = jsonschema::Registry::new()
        .add(
            "https://www.first.org/cvss/cvss-v2.0.json",
            jsonschema::Draft::Draft4.create_resource(cvss("2.0")),
        )
        .unwrap()
        .add(
            "https://www.first.org/cvss/cvss-v3.0.json",
            jsonschema::Draft::Draft4.create_resource(cvss("3.0")),
        )
        .unwrap()
        .add(
            "https://www.first.org/cvss/cvss-v3.1.json",
            jsonschema::Resource::from_contents(cvss("3.1")),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let schema = if strict {
        json("csaf/derived/csaf_strict_schema.json")
    } else {
        json("csaf/csaf_2.0/json_schema/csaf_json_schema.json")
    };
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_registry(&registry)
        .offline()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn publisher() -> crate::csaf::Publisher {
    crate::csaf::Publisher {
        name: "Apache Software Foundation".into(),
        namespace: "https://www.apache.org".into(),
        canonical_url: Some(
            "https://security.example.org/advisories/CLOUDSTACK-SEC-12/csaf/cve-2024-45219.json"
                .into(),
        ),
    }
}

#[test]
fn generated_csaf_documents_validate_strictly_and_pass_the_mandatory_tests() {
    let plain = csaf_validator(false);
    let strict = csaf_validator(true);
    let mut variants = vec![sample()];
    let mut words = sample();
    words.products.clear();
    words.credits.clear();
    words.workarounds.clear();
    variants.push(words);
    let mut later = sample();
    later.updated = time::macros::datetime!(2026-12-08 09:00 UTC);
    later
        .cvss
        .retain(|c| c.version() == embargo_core::cvss::Version::V4_0);
    variants.push(later);
    for advisory in &variants {
        let doc = crate::csaf::to_csaf(advisory, &publisher()).unwrap();
        assert_eq!(errors(&plain, &doc), Vec::<String>::new(), "{doc:#}");
        assert_eq!(
            errors(&strict, &doc),
            Vec::<String>::new(),
            "strict: {doc:#}"
        );
        assert_eq!(crate::csaf::mandatory::run(&doc), Vec::new(), "{doc:#}");
    }
    let doc = crate::csaf::to_csaf(&sample(), &publisher()).unwrap();
    assert_eq!(doc["document"]["tracking"]["id"], "CVE-2026-41234");
    assert_eq!(
        doc["vulnerabilities"][0]["cwe"],
        serde_json::json!({ "id": "CWE-79", "name": "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')" })
    );
    // An id the CWE list does not know (an imported record) stays a note, never a
    // made-up name.
    let mut unknown = sample();
    unknown.cwe = Some("CWE-1".into());
    let doc_unknown = crate::csaf::to_csaf(&unknown, &publisher()).unwrap();
    assert!(doc_unknown["vulnerabilities"][0].get("cwe").is_none());
    assert_eq!(
        doc["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"],
        8.7
    );
    let mut none = sample();
    none.references.clear();
    assert!(crate::csaf::to_csaf(&none, &publisher()).is_err());
}

/// Each implemented mandatory test, driven by the TC's index: every file listed as a
/// failure fails it, every file listed as valid passes it.
#[test]
fn csaf_mandatory_tests_follow_the_tc_test_files() {
    let index = json("csaf/csaf_2.0/test/validator/data/testcases.json");
    let mut checked = 0;
    let mut wrong = Vec::new();
    let mut covered = Vec::new();
    for case in index["tests"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        if !crate::csaf::mandatory::IMPLEMENTED.contains(&id) {
            continue;
        }
        covered.push(id.to_owned());
        for (list, must_fail) in [("failures", true), ("valid", false)] {
            for file in case[list].as_array().into_iter().flatten() {
                let name = file["name"].as_str().unwrap();
                let doc = json(&format!("csaf/csaf_2.0/test/validator/data/{name}"));
                let found = crate::csaf::mandatory::run_test(id, &doc);
                if found.is_empty() == must_fail {
                    wrong.push(format!("test {id} on {name}: {found:?}"));
                }
                checked += 1;
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        covered.len(),
        crate::csaf::mandatory::IMPLEMENTED.len(),
        "every implemented test has TC files: {covered:?}"
    );
    // 27 tests, 100 of the TC's files (failing and passing examples).
    assert!(checked >= 100, "{checked}");
}

#[test]
fn published_csaf_documents_pass_the_implemented_tests() {
    // Real advisories (BSI, Cisco, Red Hat): valid documents that must not be flagged.
    let dir = conformance("csaf/csaf_2.0/examples/csaf");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            crate::csaf::mandatory::run(&doc),
            Vec::new(),
            "{}",
            path.display()
        );
    }
}

#[test]
fn the_announcement_has_the_conventional_form() {
    let a = crate::announcement::render(&sample());
    assert_eq!(
        a.subject,
        "CVE-2026-41234: Apache CloudStack: Stored XSS in the instance console"
    );
    let headings: Vec<&str> = a
        .body
        .lines()
        .filter(|l| l.ends_with(':') && !l.starts_with(' '))
        .collect();
    assert_eq!(
        headings,
        [
            "Severity:",
            "Affected versions:",
            "Description:",
            "Mitigation:",
            "Workarounds:",
            "Credit:",
            "References:",
            "Timeline:"
        ]
    );
    assert!(
        a.body
            .contains("- Apache CloudStack from 4.0.0 before 4.19.1.2"),
        "{}",
        a.body
    );
    assert!(a.body.contains("Fay Finder (finder)"));
    assert!(
        a.body
            .lines()
            .all(|l| l.chars().count() <= 72 || !l.contains(' ')),
        "{}",
        a.body
    );
    let (changes, news) = crate::announcement::changes_entries(
        &sample(),
        crate::announcement::ChangesFormat::Markdown,
    );
    assert!(
        changes.starts_with("- CVE-2026-41234: Stored XSS in the instance console (High)."),
        "{changes}"
    );
    assert!(news.starts_with("Security: Stored XSS"));
}

#[test]
fn security_txt_follows_rfc_9116() {
    use crate::site::{SecurityTxt, SecurityTxtError, security_txt};
    let now = time::macros::datetime!(2026-12-01 00:00 UTC);
    let mut fields = SecurityTxt {
        contacts: vec!["mailto:security@cloudstack.example".into()],
        expires: Some(now + time::Duration::days(180)),
        encryption: Some(
            "https://embargo.example/api/public/projects/CLOUDSTACK/openpgp-key".into(),
        ),
        policy: Some("https://cloudstack.example/security".into()),
        canonical: Some("https://embargo.example/projects/CLOUDSTACK/security.txt".into()),
        preferred_languages: vec!["en".into()],
    };
    let text = security_txt(&fields, now).unwrap();
    assert!(
        text.starts_with(
            "Contact: mailto:security@cloudstack.example\nExpires: 2027-05-30T00:00:00Z\n"
        ),
        "{text}"
    );
    for field in [
        "Encryption: ",
        "Policy: ",
        "Canonical: ",
        "Preferred-Languages: en",
    ] {
        assert!(text.contains(field), "{field}");
    }
    fields.expires = Some(now - time::Duration::days(1));
    assert_eq!(
        security_txt(&fields, now).unwrap_err(),
        SecurityTxtError::Expired
    );
    fields.contacts.clear();
    assert_eq!(
        security_txt(&fields, now).unwrap_err(),
        SecurityTxtError::NoContact
    );
}

#[test]
fn the_feed_is_atom() {
    let feed = crate::site::atom(
        &[sample()],
        "https://embargo.example/",
        "Apache security advisories",
    );
    assert!(feed.starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
    ));
    assert!(feed.contains("<id>https://embargo.example/advisories/CLOUDSTACK-SEC-7</id>"));
    assert!(feed.contains("<updated>2026-12-01T14:00:00Z</updated>"));
    assert!(feed.contains("an administrator&#39;s browser"), "escaped");
}

/// Every conformance vector with temporal, threat or environmental metrics (a sample of
/// each file, all of the small ones) gives CSAF and CVE documents that validate, whose
/// base severity is the base score's, and that pass CSAF's test 6.1.9.
#[test]
fn ratings_beyond_the_base_keep_each_score_with_its_own_severity() {
    let cve = cve_validator();
    let csaf = csaf_validator(false);
    let base_metrics = |version| {
        embargo_core::cvss::metrics(version)
            .iter()
            .filter(|m| m.required)
            .count()
    };
    let mut vectors = vec!["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U".to_owned()];
    for file in [
        "cvss/v3/first_calc31_random.tsv",
        "cvss/v3/first_calc30_random.tsv",
        "cvss/v4/rh_vectors_threat4.tsv",
        "cvss/v4/first_macro_scores.tsv",
        "cvss/v4/rh_vectors_supplemental4.tsv",
    ] {
        let text = std::fs::read_to_string(conformance(file)).unwrap();
        let mut taken = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let vector = line.split('\t').next().unwrap_or_default();
            let Ok(parsed) = embargo_core::cvss::Cvss::parse(vector) else {
                continue;
            };
            let components = vector.split('/').count() - 1;
            if components > base_metrics(parsed.version()) && taken < 150 {
                vectors.push(vector.to_owned());
                taken += 1;
            }
        }
        assert!(taken > 0, "{file} has vectors beyond the base");
    }
    let mut checked = 0;
    for vector in &vectors {
        let cvss = embargo_core::cvss::Cvss::parse(vector).unwrap();
        let mut advisory = sample();
        advisory.cvss = vec![cvss.clone()];
        let record = Record::from_advisory(&advisory, &cna()).unwrap().to_json();
        assert_eq!(
            errors(&cve, &record),
            Vec::<String>::new(),
            "{vector}: {record:#}"
        );
        let metric = record["containers"]["cna"]["metrics"][0]
            .as_object()
            .and_then(|m| m.values().find(|v| v.get("vectorString").is_some()))
            .cloned()
            .unwrap();
        assert_eq!(
            metric["baseSeverity"],
            cvss.base_severity().to_string().to_ascii_uppercase(),
            "{vector}"
        );
        let doc = crate::csaf::to_csaf(&advisory, &publisher()).unwrap();
        assert_eq!(
            errors(&csaf, &doc),
            Vec::<String>::new(),
            "{vector}: {doc:#}"
        );
        let findings: Vec<_> = crate::csaf::mandatory::run(&doc)
            .into_iter()
            .filter(|f| f.to_string().contains("6.1.9"))
            .collect();
        assert!(findings.is_empty(), "{vector}: {findings:?}");
        checked += 1;
    }
    assert!(checked > 300, "only {checked} vectors");
    // The example: base 9.8 Critical, overall 7.8 High.
    let cvss = embargo_core::cvss::Cvss::parse(
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U",
    )
    .unwrap();
    let mut advisory = sample();
    advisory.cvss = vec![cvss];
    let doc = crate::csaf::to_csaf(&advisory, &publisher()).unwrap();
    let v3 = &doc["vulnerabilities"][0]["scores"][0]["cvss_v3"];
    assert_eq!(v3["baseScore"], 9.8);
    assert_eq!(v3["baseSeverity"], "CRITICAL");
    assert_eq!(v3["temporalScore"], 7.8, "{v3:#}");
    assert_eq!(v3["temporalSeverity"], "HIGH");
}
