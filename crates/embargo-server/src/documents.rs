//! The machine-readable documents of an advisory (OSV, CSAF 2.0, CVE JSON 5), made in
//! one place for the public site and for the team's export.

use embargo_store::{PublishedAdvisory, StoreError};
use serde_json::Value;

use crate::error::ApiError;

/// The formats a case's advisory is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OSV.
    Osv,
    /// CSAF 2.0.
    Csaf,
    /// CVE JSON 5 (needs the organisation's CNA identity).
    Cve,
}

impl std::str::FromStr for Format {
    type Err = ApiError;
    fn from_str(s: &str) -> Result<Format, ApiError> {
        match s {
            "osv" => Ok(Format::Osv),
            "csaf" => Ok(Format::Csaf),
            "cve" => Ok(Format::Cve),
            other => Err(ApiError::Store(StoreError::Invalid(format!(
                "'{other}' is not a document format: osv, csaf or cve"
            )))),
        }
    }
}

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::Store(StoreError::Invalid(e.to_string()))
}

/// The advisory in `format`. `public_url` names the publisher where the organisation
/// set no namespace.
pub fn document(
    p: &PublishedAdvisory,
    format: Format,
    public_url: &str,
) -> Result<Value, ApiError> {
    match format {
        Format::Osv => {
            embargo_formats::osv::to_osv(&p.advisory, &p.org.osv_prefix).map_err(invalid)
        }
        Format::Csaf => {
            let publisher = embargo_formats::csaf::Publisher::of(&p.advisory, &p.org, public_url);
            embargo_formats::csaf::to_csaf(&p.advisory, &publisher).map_err(invalid)
        }
        Format::Cve => {
            let cna = match (&p.org.cna_org_id, &p.org.cna_short_name) {
                (Some(id), Some(name)) => embargo_formats::cve5::Cna {
                    org_id: id.clone(),
                    short_name: name.clone(),
                },
                _ => {
                    return Err(invalid("this organisation publishes no CVE records"));
                }
            };
            Ok(
                embargo_formats::cve5::Record::from_advisory(&p.advisory, &cna)
                    .map_err(invalid)?
                    .to_json(),
            )
        }
    }
}
