//! CVE JSON 5 records (the CVE Record Format, 5.1): generated from an advisory for
//! publication through CVE Services, and read (for history and duplicate detection) from
//! published records. Reading keeps every member it does not model, so a record read and
//! written again is the same JSON. Records are checked for what the format requires, and
//! a record that fails says which member and why.

use embargo_core::case::{Credit, CreditRole, Product, VersionRange};
use embargo_core::cve_record::CveRecordState;
use embargo_core::cvss::{Cvss, Version};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::advisory::{Advisory, Reference, TimelineEntry};
use crate::{FormatError, rfc3339};

/// The data version Embargo writes.
pub const DATA_VERSION: &str = "5.1";

/// The CNA's identity in CVE Services.
#[derive(Debug, Clone)]
pub struct Cna {
    /// The organisation's UUID.
    pub org_id: String,
    /// Its short name, e.g. "apache".
    pub short_name: String,
}

/// A CVE record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// "CVE_RECORD".
    pub data_type: String,
    /// "5.1", "5.0", …
    pub data_version: String,
    /// Who, which ID, which state.
    pub cve_metadata: Metadata,
    /// The CNA's container (and any ADP containers).
    pub containers: Containers,
    /// Members not modelled here, kept as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `cveMetadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The CVE ID.
    pub cve_id: String,
    /// The assigning CNA's UUID.
    pub assigner_org_id: String,
    /// The assigning CNA's short name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigner_short_name: Option<String>,
    /// PUBLISHED or REJECTED.
    pub state: String,
    /// When it was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_published: Option<String>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_updated: Option<String>,
    /// Members not modelled here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `containers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Containers {
    /// The CNA's container.
    pub cna: CnaContainer,
    /// Members not modelled here (ADP containers).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `containers.cna` of a published record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CnaContainer {
    /// Who provided the container.
    pub provider_metadata: ProviderMetadata,
    /// The headline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Descriptions, one per language.
    #[serde(default)]
    pub descriptions: Vec<Text>,
    /// Affected products.
    #[serde(default)]
    pub affected: Vec<Affected>,
    /// Weaknesses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem_types: Option<Vec<ProblemType>>,
    /// Links.
    #[serde(default)]
    pub references: Vec<RecordReference>,
    /// CVSS and other ratings, kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<Value>>,
    /// Who is credited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<Vec<RecordCredit>>,
    /// What happened when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<RecordTimeline>>,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solutions: Option<Vec<Text>>,
    /// How to be safe without fixing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workarounds: Option<Vec<Text>>,
    /// When it was made public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_public: Option<String>,
    /// Members not modelled here (source, x_generator, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `providerMetadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderMetadata {
    /// The provider's UUID.
    pub org_id: String,
    /// Its short name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    /// When it updated the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_updated: Option<String>,
}

/// A text in a language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Text {
    /// The language, e.g. "en".
    pub lang: String,
    /// The text.
    pub value: String,
    /// Members not modelled here (supportingMedia).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An affected product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Affected {
    /// The vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The versions and their status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<VersionStatus>>,
    /// The status of versions not listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_status: Option<String>,
    /// Members not modelled here (collectionURL, packageName, platforms, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A version, or a range from it, with its status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionStatus {
    /// The version (the start of a range).
    pub version: String,
    /// affected, unaffected or unknown.
    pub status: String,
    /// The kind of version numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_type: Option<String>,
    /// The end of a range, excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub less_than: Option<String>,
    /// The end of a range, included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub less_than_or_equal: Option<String>,
    /// Members not modelled here (changes).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A problem type: a list of descriptions (CWE or text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemType {
    /// Its descriptions.
    pub descriptions: Vec<ProblemDescription>,
}

/// One description of a problem type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProblemDescription {
    /// The language.
    pub lang: String,
    /// The text, e.g. "CWE-79 Improper Neutralization of Input …".
    pub description: String,
    /// The CWE ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwe_id: Option<String>,
    /// "CWE" or "text".
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Members not modelled here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordReference {
    /// The URL.
    pub url: String,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// A credit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordCredit {
    /// The language.
    pub lang: String,
    /// Who.
    pub value: String,
    /// Their role, e.g. "finder".
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Members not modelled here (user).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A timeline entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordTimeline {
    /// When.
    pub time: String,
    /// The language.
    pub lang: String,
    /// What happened.
    pub value: String,
}

/// Whether a text is a UUID as the CVE record format writes them.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
        && groups[2].starts_with(['1', '2', '3', '4', '5'])
        && groups[3].starts_with(['8', '9', 'a', 'b', 'A', 'B'])
}

/// Whether a text is a CVE ID (CVE-YYYY-NNNN…).
pub fn is_cve_id(s: &str) -> bool {
    let mut parts = s.splitn(3, '-');
    parts.next() == Some("CVE")
        && parts
            .next()
            .is_some_and(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
        && parts
            .next()
            .is_some_and(|n| (4..=19).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

fn is_language(s: &str) -> bool {
    let primary = s.split(['-', '_']).next().unwrap_or_default();
    (2..=4).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic())
}

fn is_data_version(s: &str) -> bool {
    let number = |p: &str| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'))
    };
    let parts: Vec<&str> = s.split('.').collect();
    parts.first() == Some(&"5")
        && (2..=3).contains(&parts.len())
        && parts[1..].iter().all(|p| number(p))
}

impl Record {
    /// Reads a record and checks it; a record that is not one says where and why.
    pub fn parse(json: &str) -> Result<Record, FormatError> {
        let record: Record = serde_json::from_str(json)
            .map_err(|e| FormatError::Invalid(format!("not a CVE JSON 5 record: {e}")))?;
        let problems = record.problems();
        if let Some(first) = problems.into_iter().next() {
            return Err(FormatError::Invalid(first));
        }
        Ok(record)
    }

    /// What keeps this from being a valid published record, member by member.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.data_type != "CVE_RECORD" {
            out.push("dataType must be CVE_RECORD".to_owned());
        }
        if !is_data_version(&self.data_version) {
            out.push(format!(
                "dataVersion {} is not a 5.x version",
                self.data_version
            ));
        }
        let meta = &self.cve_metadata;
        if !is_cve_id(&meta.cve_id) {
            out.push("cveMetadata.cveId is not a CVE ID".to_owned());
        }
        if !is_uuid(&meta.assigner_org_id) {
            out.push("cveMetadata.assignerOrgId is not a UUID".to_owned());
        }
        if meta.state != CveRecordState::Published.as_str() {
            out.push(format!(
                "cveMetadata.state is {}: only published records are read",
                meta.state
            ));
        }
        let cna = &self.containers.cna;
        if !is_uuid(&cna.provider_metadata.org_id) {
            out.push("containers.cna.providerMetadata.orgId is not a UUID".to_owned());
        }
        if cna.descriptions.is_empty() {
            out.push("containers.cna.descriptions is empty".to_owned());
        }
        for (i, d) in cna.descriptions.iter().enumerate() {
            if !is_language(&d.lang) || d.value.is_empty() {
                out.push(format!(
                    "containers.cna.descriptions[{i}] needs a language and a text"
                ));
            }
            if d.value.chars().count() > 4096 {
                out.push(format!("containers.cna.descriptions[{i}] is longer than the 4096 characters a CVE record allows"));
            }
        }
        if cna.title.as_ref().is_some_and(|t| t.chars().count() > 256) {
            out.push(
                "containers.cna.title is longer than the 256 characters a CVE record allows"
                    .to_owned(),
            );
        }
        if cna.affected.is_empty() {
            out.push("containers.cna.affected is empty".to_owned());
        }
        for (i, a) in cna.affected.iter().enumerate() {
            let named = a.vendor.is_some() && a.product.is_some()
                || a.extra.contains_key("collectionURL") && a.extra.contains_key("packageName");
            if !named {
                out.push(format!(
                    "containers.cna.affected[{i}] names neither vendor and product nor collectionURL and packageName"
                ));
            }
            if a.versions.is_none() && a.default_status.is_none() {
                out.push(format!(
                    "containers.cna.affected[{i}] has neither versions nor defaultStatus"
                ));
            }
            for (j, v) in a.versions.iter().flatten().enumerate() {
                if !matches!(v.status.as_str(), "affected" | "unaffected" | "unknown") {
                    out.push(format!("containers.cna.affected[{i}].versions[{j}].status is not affected, unaffected or unknown"));
                }
                if (v.less_than.is_some() || v.less_than_or_equal.is_some())
                    && v.version_type.is_none()
                {
                    out.push(format!("containers.cna.affected[{i}].versions[{j}] is a range without a versionType"));
                }
            }
        }
        if cna.references.is_empty() {
            out.push("containers.cna.references is empty".to_owned());
        }
        for (i, r) in cna.references.iter().enumerate() {
            if !r.url.contains("://")
                || r.url.len() > 2048
                || r.url.contains(|c: char| {
                    c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>'
                })
            {
                out.push(format!("containers.cna.references[{i}].url is not a URL"));
            }
        }
        for pt in cna.problem_types.iter().flatten() {
            for d in &pt.descriptions {
                if let Some(cwe) = &d.cwe_id
                    && !embargo_core::case::is_cwe_id(cwe)
                {
                    out.push(format!(
                        "containers.cna.problemTypes: {cwe} is not a CWE ID"
                    ));
                }
            }
        }
        out
    }

    /// The record as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The record Embargo publishes for an advisory; refused when the advisory lacks what
    /// a record requires (a CVE ID, a description, a reference).
    pub fn from_advisory(advisory: &Advisory, cna: &Cna) -> Result<Record, FormatError> {
        let cve_id = advisory
            .cve_id
            .clone()
            .filter(|id| is_cve_id(id))
            .ok_or_else(|| FormatError::Incomplete("a CVE ID".into()))?;
        if advisory.description.trim().is_empty() {
            return Err(FormatError::Incomplete("a description".into()));
        }
        if advisory.references.is_empty() {
            return Err(FormatError::Incomplete(
                "a reference (the archived announcement)".into(),
            ));
        }
        let en = |value: &str| Text {
            lang: "en".into(),
            value: value.to_owned(),
            extra: Map::new(),
        };
        let published = rfc3339(advisory.published);
        let updated = rfc3339(advisory.updated);
        let metrics: Vec<Value> = advisory.cvss.iter().filter_map(cvss_metric).collect();
        let record = Record {
            data_type: "CVE_RECORD".into(),
            data_version: DATA_VERSION.into(),
            cve_metadata: Metadata {
                cve_id,
                assigner_org_id: cna.org_id.clone(),
                assigner_short_name: Some(cna.short_name.clone()),
                state: CveRecordState::Published.as_str().into(),
                date_published: Some(published.clone()),
                date_updated: Some(updated.clone()),
                extra: Map::new(),
            },
            containers: Containers {
                cna: CnaContainer {
                    provider_metadata: ProviderMetadata {
                        org_id: cna.org_id.clone(),
                        short_name: Some(cna.short_name.clone()),
                        date_updated: Some(updated),
                    },
                    title: Some(advisory.title.clone()),
                    descriptions: vec![en(&advisory.description)],
                    affected: affected(advisory),
                    problem_types: advisory.cwe.as_ref().map(|cwe| {
                        vec![ProblemType {
                            descriptions: vec![ProblemDescription {
                                lang: "en".into(),
                                // "CWE-79 Improper Neutralization …", as CVE records
                                // write it; the id alone when the CWE list lacks it.
                                description: crate::cwe_words(cwe),
                                cwe_id: Some(cwe.clone()),
                                kind: Some("CWE".into()),
                                extra: Map::new(),
                            }],
                        }]
                    }),
                    references: advisory
                        .references
                        .iter()
                        .map(|r| RecordReference {
                            url: r.url.clone(),
                            name: None,
                            tags: (!r.tags.is_empty()).then(|| r.tags.clone()),
                        })
                        .collect(),
                    metrics: (!metrics.is_empty()).then_some(metrics),
                    credits: (!advisory.credits.is_empty()).then(|| {
                        advisory
                            .credits
                            .iter()
                            .map(|c| RecordCredit {
                                lang: "en".into(),
                                value: c.name.clone(),
                                kind: Some(c.role.cve_type().into()),
                                extra: Map::new(),
                            })
                            .collect()
                    }),
                    timeline: (!advisory.timeline.is_empty()).then(|| {
                        advisory
                            .timeline
                            .iter()
                            .map(|t| RecordTimeline {
                                time: rfc3339(t.at),
                                lang: "en".into(),
                                value: t.event.clone(),
                            })
                            .collect()
                    }),
                    solutions: (!advisory.mitigation.trim().is_empty())
                        .then(|| vec![en(&advisory.mitigation)]),
                    workarounds: (!advisory.workarounds.trim().is_empty())
                        .then(|| vec![en(&advisory.workarounds)]),
                    date_public: Some(published),
                    extra: [(
                        "x_generator".to_owned(),
                        json!({ "engine": format!("Embargo {}", env!("CARGO_PKG_VERSION")) }),
                    )]
                    .into_iter()
                    .collect(),
                },
                extra: Map::new(),
            },
            extra: Map::new(),
        };
        match record.problems().into_iter().next() {
            Some(problem) => Err(FormatError::Invalid(problem)),
            None => Ok(record),
        }
    }

    /// What the record says, as an advisory (for history and duplicate detection).
    pub fn to_advisory(&self) -> Advisory {
        let cna = &self.containers.cna;
        let english = |texts: &[Text]| {
            texts
                .iter()
                .find(|t| t.lang.starts_with("en"))
                .or(texts.first())
                .map(|t| t.value.clone())
                .unwrap_or_default()
        };
        let when = |s: &Option<String>| {
            s.as_deref()
                .and_then(crate::parse_time)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        };
        let first = cna.affected.first();
        Advisory {
            reference: self.cve_metadata.cve_id.clone(),
            cve_id: Some(self.cve_metadata.cve_id.clone()),
            title: cna
                .title
                .clone()
                .unwrap_or_else(|| self.cve_metadata.cve_id.clone()),
            vendor: first.and_then(|a| a.vendor.clone()).unwrap_or_default(),
            product: first.and_then(|a| a.product.clone()).unwrap_or_default(),
            description: english(&cna.descriptions),
            mitigation: cna.solutions.as_deref().map(english).unwrap_or_default(),
            workarounds: cna.workarounds.as_deref().map(english).unwrap_or_default(),
            cwe: cna
                .problem_types
                .iter()
                .flatten()
                .flat_map(|p| &p.descriptions)
                .find_map(|d| d.cwe_id.clone()),
            cvss: cna
                .metrics
                .iter()
                .flatten()
                .filter_map(|m| {
                    ["cvssV4_0", "cvssV3_1", "cvssV3_0"]
                        .iter()
                        .find_map(|k| m.get(k)?.get("vectorString")?.as_str())
                        .and_then(|v| Cvss::parse(v).ok())
                })
                .collect(),
            products: cna
                .affected
                .iter()
                .map(|a| Product {
                    vendor: a.vendor.clone().unwrap_or_default(),
                    product: a.product.clone().unwrap_or_default(),
                    package_url: None,
                    ranges: a
                        .versions
                        .iter()
                        .flatten()
                        .filter(|v| v.status == "affected")
                        .map(|v| VersionRange {
                            introduced: v.version.clone(),
                            fixed: v.less_than.clone(),
                            last_affected: v.less_than_or_equal.clone(),
                        })
                        .collect(),
                })
                .collect(),
            affected: Vec::new(),
            fixed: Vec::new(),
            coordinates: Default::default(),
            git: Default::default(),
            credits: cna
                .credits
                .iter()
                .flatten()
                .map(|c| Credit {
                    name: c.value.clone(),
                    role: c
                        .kind
                        .as_deref()
                        .and_then(CreditRole::from_cve_type)
                        .unwrap_or(CreditRole::Other),
                })
                .collect(),
            references: cna
                .references
                .iter()
                .map(|r| Reference {
                    url: r.url.clone(),
                    tags: r.tags.clone().unwrap_or_default(),
                })
                .collect(),
            timeline: cna
                .timeline
                .iter()
                .flatten()
                .filter_map(|t| {
                    Some(TimelineEntry {
                        at: crate::parse_time(&t.time)?,
                        event: t.value.clone(),
                    })
                })
                .collect(),
            published: when(&self.cve_metadata.date_published),
            updated: when(&self.cve_metadata.date_updated),
        }
    }
}

fn version_type(versions: &[&str]) -> &'static str {
    let dotted = |v: &&str| {
        !v.is_empty()
            && v.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if versions.iter().all(dotted) {
        "semver"
    } else {
        "custom"
    }
}

fn affected(advisory: &Advisory) -> Vec<Affected> {
    let products = advisory.resolved_products();
    if products.iter().any(|p| !p.ranges.is_empty()) {
        let coordinates = &advisory.coordinates;
        return products
            .iter()
            .map(|p| {
                let mut extra = Map::new();
                if let Some((url, name)) = p
                    .package_url
                    .as_deref()
                    .and_then(crate::package::collection_of)
                {
                    extra.insert("collectionURL".into(), json!(url));
                    extra.insert("packageName".into(), json!(name));
                }
                if let Some(repo) = &coordinates.repository {
                    extra.insert("repo".into(), json!(repo));
                }
                if !coordinates.cpes.is_empty() {
                    extra.insert("cpes".into(), json!(coordinates.cpes));
                }
                Affected {
                    vendor: Some(p.vendor.clone()),
                    product: Some(p.product.clone()),
                    versions: Some(p.ranges.iter().map(version_status).collect()),
                    // The ranges say every affected release: any other is not.
                    default_status: Some("unaffected".into()),
                    extra,
                }
            })
            .collect();
    }
    // Versions in words: listed as they are, status by status.
    let versions: Vec<VersionStatus> = advisory
        .affected
        .iter()
        .map(|v| (v, "affected"))
        .chain(advisory.fixed.iter().map(|v| (v, "unaffected")))
        .map(|(v, status)| VersionStatus {
            version: v.clone(),
            status: status.into(),
            version_type: None,
            less_than: None,
            less_than_or_equal: None,
            extra: Map::new(),
        })
        .collect();
    vec![Affected {
        vendor: Some(advisory.vendor.clone()),
        product: Some(advisory.product.clone()),
        versions: (!versions.is_empty()).then_some(versions),
        default_status: Some("unknown".into()),
        extra: Map::new(),
    }]
}

/// A range as the record writes it: from `version`, before `lessThan` (the first release
/// that is not affected) or through `lessThanOrEqual` (the last that is).
fn version_status(r: &VersionRange) -> VersionStatus {
    let ends: Vec<&str> = [
        Some(r.introduced.as_str()),
        r.fixed.as_deref(),
        r.last_affected.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let ranged = r.fixed.is_some() || r.last_affected.is_some();
    VersionStatus {
        version: r.introduced.clone(),
        status: "affected".into(),
        version_type: ranged.then(|| version_type(&ends).to_owned()),
        less_than: r.fixed.clone(),
        less_than_or_equal: if r.fixed.is_none() {
            r.last_affected.clone()
        } else {
            None
        },
        extra: Map::new(),
    }
}

/// A CVSS rating as the record format's metric.
fn cvss_metric(cvss: &Cvss) -> Option<Value> {
    let key = match cvss.version() {
        Version::V3_0 => "cvssV3_0",
        Version::V3_1 => "cvssV3_1",
        Version::V4_0 => "cvssV4_0",
        Version::V2 => return None,
    };
    let mut object = Map::new();
    object.insert("version".into(), json!(cvss.version().to_string()));
    object.insert("vectorString".into(), json!(cvss.vector()));
    object.insert("baseScore".into(), json!(cvss.base_score()));
    // The base score's own band: the overall score's may differ.
    object.insert(
        "baseSeverity".into(),
        json!(cvss.base_severity().to_string().to_ascii_uppercase()),
    );
    for (name, value) in embargo_core::cvss::json_properties(cvss.version(), cvss.vector()) {
        object.insert(name.into(), json!(value));
    }
    Some(
        json!({ "format": "CVSS", "scenarios": [{ "lang": "en", "value": "GENERAL" }], key: object }),
    )
}
