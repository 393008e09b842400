//! The official validators the generated documents are held to, read in place from
//! `../shared/conformance/`: the CVE JSON 5 schema, the OSV schema, and the CSAF 2.0
//! strict schema (with FIRST's CVSS schemas) plus CSAF's mandatory tests.

use std::path::Path;

use serde_json::Value;

pub(crate) fn conformance(path: &str) -> Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance")
        .join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// What the OSV schema finds wrong with `doc`.
pub(crate) fn osv_errors(doc: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&conformance("osv/validation/schema.json"))
        .unwrap();
    errors(&validator, doc)
}

/// What the CVE JSON 5 schema finds wrong with `doc`.
pub(crate) fn cve_errors(doc: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&conformance("cve5/schema/CVE_JSON_bundled_5.1.1.json"))
        .unwrap();
    errors(&validator, doc)
}

/// What the strict CSAF schema and the mandatory tests find wrong with `doc`.
pub(crate) fn csaf_errors(doc: &Value) -> Vec<String> {
    let cvss = |v: &str| {
        conformance(&format!(
            "csaf/csaf_2.0/referenced_schema/first/cvss-v{v}_strict.json"
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
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_registry(&registry)
        .offline()
        .should_validate_formats(true)
        .build(&conformance("csaf/derived/csaf_strict_schema.json"))
        .unwrap();
    let mut found = errors(&validator, doc);
    found.extend(
        embargo_formats::csaf::mandatory::run(doc)
            .into_iter()
            .map(|f| format!("{f:?}")),
    );
    found
}
