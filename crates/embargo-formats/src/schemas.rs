//! The official JSON schemas of the published formats, loaded from a folder the operator
//! names (`document_schemas`), so that the rehearsal and corrections check each document
//! as its readers will. Embargo carries no copy of them: they are published by their
//! owners (CVE JSON 5 by the CVE Program, OSV by OpenSSF, CSAF 2.0 by OASIS with FIRST's
//! CVSS schemas) and change on their own schedule.
//!
//! The folder holds, under these names, whichever it has:
//! - `cve5.json`: the bundled CVE JSON 5.1 schema (`CVE_JSON_bundled_5.1.1.json`);
//! - `osv.json`: the OSV schema (`validation/schema.json`);
//! - `csaf.json`: the CSAF 2.0 schema (`csaf_json_schema.json`), with FIRST's
//!   `cvss-v2.0.json`, `cvss-v3.0.json` and `cvss-v3.1.json`, which it refers to.

use std::path::Path;

use serde_json::Value;

/// A format with an official schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// CVE JSON 5.1.
    Cve,
    /// OSV.
    Osv,
    /// CSAF 2.0.
    Csaf,
}

impl Schema {
    fn file(self) -> &'static str {
        match self {
            Schema::Cve => "cve5.json",
            Schema::Osv => "osv.json",
            Schema::Csaf => "csaf.json",
        }
    }

    /// How people name the format.
    pub fn name(self) -> &'static str {
        match self {
            Schema::Cve => "CVE JSON 5",
            Schema::Osv => "OSV",
            Schema::Csaf => "CSAF 2.0",
        }
    }
}

/// Why the schemas could not be loaded. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The folder cannot be read.
    #[error("the document schemas folder {0} cannot be read: {1}")]
    Folder(String, std::io::Error),
    /// The folder holds none of the schemas.
    #[error("the document schemas folder {0} holds none of cve5.json, osv.json, csaf.json")]
    Empty(String),
    /// A file is not JSON.
    #[error("{0} is not JSON: {1}")]
    NotJson(String, String),
    /// A file is not a schema the validator can use.
    #[error("{0} is not a usable JSON schema: {1}")]
    Unusable(String, String),
    /// CSAF's schema without the CVSS schemas it refers to.
    #[error("csaf.json needs cvss-v2.0.json, cvss-v3.0.json and cvss-v3.1.json beside it: {0}")]
    MissingCvss(String),
}

/// The schemas found in the folder, compiled.
pub struct Schemas {
    loaded: Vec<(Schema, jsonschema::Validator)>,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.loaded.iter().map(|(s, _)| s.name()).collect();
        write!(f, "Schemas({})", names.join(", "))
    }
}

fn read(path: &Path) -> Result<Value, SchemaError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SchemaError::Folder(shown.clone(), e))?;
    serde_json::from_str(&text).map_err(|e| SchemaError::NotJson(shown, e.to_string()))
}

/// The CVE schema takes a published or a rejected record (`oneOf`), and a record that
/// fails says only that it is neither. Embargo writes published records: held to that
/// alternative alone, a failure names the member at fault.
fn published_only(mut schema: Value) -> Value {
    let published = schema
        .get("oneOf")
        .and_then(Value::as_array)
        .and_then(|alternatives| {
            alternatives
                .iter()
                .find(|a| a.to_string().contains("cveMetadataPublished"))
                .cloned()
        });
    if let (Some(published), Some(object)) = (published, schema.as_object_mut()) {
        object.remove("oneOf");
        object.insert("allOf".into(), Value::Array(vec![published]));
    }
    schema
}

impl Schemas {
    /// Loads every schema the folder holds.
    pub fn load(dir: &Path) -> Result<Schemas, SchemaError> {
        let shown = dir.display().to_string();
        std::fs::read_dir(dir).map_err(|e| SchemaError::Folder(shown.clone(), e))?;
        let mut loaded = Vec::new();
        for schema in [Schema::Cve, Schema::Osv, Schema::Csaf] {
            let path = dir.join(schema.file());
            if !path.exists() {
                continue;
            }
            let mut contents = read(&path)?;
            if schema == Schema::Cve {
                contents = published_only(contents);
            }
            let unusable = |e: String| SchemaError::Unusable(path.display().to_string(), e);
            let validator = match schema {
                Schema::Cve => jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft7)
                    .should_validate_formats(true)
                    .build(&contents)
                    .map_err(|e| unusable(e.to_string()))?,
                Schema::Osv => jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&contents)
                    .map_err(|e| unusable(e.to_string()))?,
                Schema::Csaf => {
                    let cvss = |v: &str| {
                        let file = dir.join(format!("cvss-v{v}.json"));
                        if file.exists() {
                            read(&file)
                        } else {
                            Err(SchemaError::MissingCvss(file.display().to_string()))
                        }
                    };
                    let (v2, v30, v31) = (cvss("2.0")?, cvss("3.0")?, cvss("3.1")?);
                    // Registered under the addresses the CSAF schema refers to; the
                    // validator fetches nothing.
                    let registry = jsonschema::Registry::new()
                        .add(
                            "https://www.first.org/cvss/cvss-v2.0.json",
                            jsonschema::Draft::Draft4.create_resource(v2),
                        )
                        .and_then(|r| {
                            r.add(
                                "https://www.first.org/cvss/cvss-v3.0.json",
                                jsonschema::Draft::Draft4.create_resource(v30),
                            )
                        })
                        .and_then(|r| {
                            r.add(
                                "https://www.first.org/cvss/cvss-v3.1.json",
                                jsonschema::Resource::from_contents(v31),
                            )
                        })
                        .and_then(|r| r.prepare())
                        .map_err(|e| unusable(e.to_string()))?;
                    jsonschema::options()
                        .with_draft(jsonschema::Draft::Draft202012)
                        .with_registry(&registry)
                        .offline()
                        .should_validate_formats(true)
                        .build(&contents)
                        .map_err(|e| unusable(e.to_string()))?
                }
            };
            loaded.push((schema, validator));
        }
        if loaded.is_empty() {
            return Err(SchemaError::Empty(shown));
        }
        Ok(Schemas { loaded })
    }

    /// The formats whose schema was found.
    pub fn formats(&self) -> Vec<Schema> {
        self.loaded.iter().map(|(s, _)| *s).collect()
    }

    /// What the format's schema finds wrong with `doc` (at most ten): the member and
    /// the rule it breaks, never the member's value (which may be embargoed text).
    /// Nothing when the folder has no schema for it.
    pub fn problems(&self, schema: Schema, doc: &Value) -> Vec<String> {
        self.loaded
            .iter()
            .filter(|(s, _)| *s == schema)
            .flat_map(|(_, v)| v.iter_errors(doc))
            .take(10)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!(
                    "{} breaks the {} schema's rule {}",
                    if at.is_empty() { "the document" } else { &at },
                    schema.name(),
                    e.schema_path()
                )
            })
            .collect()
    }
}
