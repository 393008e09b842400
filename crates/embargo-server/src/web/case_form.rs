//! Reading the case page's forms: each field as the store wants it, or a message that
//! says what is wrong with it.

use std::collections::HashMap;

use embargo_core::case::{AdvisoryDraft, Credit, Versions};
use embargo_core::confidential::Confidential;
use embargo_core::lifecycle::TransitionRequest;
use embargo_store::CasePatch;
use time::OffsetDateTime;

pub(super) fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn lines(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) fn secret(text: Option<&str>) -> Option<Confidential<String>> {
    text.map(|t| Confidential::new(t.to_owned()))
}

pub(super) fn kebab<T: serde::de::DeserializeOwned>(
    what: &str,
    value: Option<&str>,
) -> Result<Option<T>, String> {
    value
        .map(|v| {
            serde_json::from_value(serde_json::Value::String(v.to_owned()))
                .map_err(|_| format!("{what}: choose one of the listed values"))
        })
        .transpose()
}

/// A `datetime-local` value, taken as UTC, or an RFC 3339 time.
pub(super) fn embargo_time(value: &str) -> Result<OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(t);
    }
    let with_seconds = if value.len() == 16 {
        format!("{value}:00Z")
    } else {
        format!("{value}Z")
    };
    OffsetDateTime::parse(&with_seconds, &Rfc3339)
        .map_err(|_| "the embargo date must look like 2026-12-24T14:00 (UTC)".to_owned())
}

fn credits_from(text: Option<&str>) -> Result<Vec<Credit>, String> {
    lines(text)
        .into_iter()
        .map(|line| {
            let (name, role) = match line.rsplit_once('(') {
                Some((name, role)) if role.ends_with(')') => (
                    name.trim().to_owned(),
                    Some(role.trim_end_matches(')').trim().to_owned()),
                ),
                _ => (line.clone(), None),
            };
            let role = kebab("credit role", role.as_deref())?.unwrap_or_default();
            Ok(Credit { name, role })
        })
        .collect()
}

pub(super) fn credits_text(credits: &[Credit]) -> String {
    credits
        .iter()
        .map(|c| {
            let role = serde_json::to_value(c.role)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{} ({role})", c.name)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn advisory_from(
    form: &HashMap<String, String>,
    current: &AdvisoryDraft,
) -> Result<AdvisoryDraft, String> {
    Ok(AdvisoryDraft {
        title: field(form, "a_title").unwrap_or_default().to_owned(),
        description: field(form, "a_description").unwrap_or_default().to_owned(),
        mitigation: field(form, "a_mitigation").unwrap_or_default().to_owned(),
        workarounds: field(form, "a_workarounds").unwrap_or_default().to_owned(),
        cwe: field(form, "a_cwe").map(str::to_owned),
        credits: credits_from(field(form, "a_credits"))?,
        references: lines(field(form, "a_references")),
        credit: current.credit.clone(),
        products: current.products.clone(),
    })
}

pub(super) fn transition_request(
    form: &HashMap<String, String>,
) -> Result<TransitionRequest, String> {
    let root_cause = kebab("root cause", field(form, "root_cause"))?;
    let found_by = kebab("found by", field(form, "found_by"))?;
    let retrospective_details = match (root_cause, found_by) {
        (Some(root_cause), Some(found_by)) => Some(embargo_core::review::Retrospective {
            root_cause,
            found_by,
            cwe: field(form, "retro_cwe").map(str::to_owned),
            introduced: field(form, "introduced").map(str::to_owned),
            prevention: field(form, "prevention").unwrap_or_default().to_owned(),
        }),
        _ => None,
    };
    Ok(TransitionRequest {
        reason: secret(field(form, "reason")),
        message_to_reporter: secret(field(form, "message_to_reporter")),
        duplicate_of: field(form, "duplicate_of")
            .map(|r| {
                r.parse()
                    .map_err(|e: embargo_core::reference::ReferenceError| e.to_string())
            })
            .transpose()?,
        override_reason: secret(field(form, "override_reason")),
        not_sent_reason: secret(field(form, "not_sent_reason")),
        retrospective: secret(field(form, "prevention")),
        retrospective_details,
    })
}

pub(super) fn details_patch(form: &HashMap<String, String>) -> Result<CasePatch, String> {
    Ok(CasePatch {
        title: field(form, "title").map(str::to_owned),
        cve_id: field(form, "cve_id").map(str::to_owned),
        embargo_at: field(form, "embargo_at").map(embargo_time).transpose()?,
        versions: Some(Versions {
            affected: lines(field(form, "affected")),
            fixed: lines(field(form, "fixed")),
            ..Versions::default()
        }),
        sensitive_terms: Some(lines(field(form, "sensitive_terms"))),
        ..CasePatch::default()
    })
}

/// `YYYY-MM-DDTHH:MM:SS` for a `datetime-local` input, in UTC.
pub(super) fn local_input(rfc3339: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match OffsetDateTime::parse(rfc3339, &Rfc3339) {
        Ok(t) => {
            let t = t.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        }
        Err(_) => String::new(),
    }
}
