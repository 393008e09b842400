//! The generated CWE table is the catalogue in the shared conformance data, entry for
//! entry: run `scripts/cwe-table` when the catalogue changes.

use std::path::Path;

#[test]
fn the_table_is_the_catalogue() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/cwe/cwec_v4.17.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let catalogue: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(catalogue["version"], embargo_core::cwe::version());
    let weaknesses = catalogue["weaknesses"].as_array().unwrap();
    assert_eq!(weaknesses.len(), 968);
    for w in weaknesses {
        let id = w["id"].as_str().unwrap();
        let found = embargo_core::cwe::lookup(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(found.name, w["name"].as_str().unwrap(), "{id}");
        assert_eq!(found.usage.as_str(), w["usage"].as_str().unwrap(), "{id}");
        assert_eq!(found.cwe_id(), id);
    }
}
