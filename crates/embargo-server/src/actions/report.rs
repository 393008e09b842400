//! Filing a report without an account, from the public form or the public API.

use std::net::IpAddr;

use embargo_core::case::Reporter;
use embargo_core::reference::ProjectKey;
use embargo_store::{FiledReport, StoreError};

use crate::AppState;

/// A report from the public form or the public API.
pub struct PublicReport<'a> {
    /// The title.
    pub title: &'a str,
    /// The report.
    pub description: &'a str,
    /// How it might be exploited.
    pub exploitation: &'a str,
    /// The versions affected.
    pub affected_versions: &'a str,
    /// Anything else useful (configuration, logs, a proof of concept).
    pub other: &'a str,
    /// The reporter's name, if given.
    pub name: Option<&'a str>,
    /// The reporter's address, if given.
    pub email: Option<&'a str>,
    /// The field people never see and bots fill in.
    pub trap: &'a str,
}

/// Why a public report was not filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportRefused {
    /// Too many reports from this client address this hour.
    TooMany,
    /// The hidden field was filled in.
    Trap,
}

fn given(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Files a report without an account; gives the reference and the reporter's secret link.
pub async fn file_public_report(
    state: &AppState,
    client: IpAddr,
    project: &ProjectKey,
    report: PublicReport<'_>,
) -> Result<Result<FiledReport, ReportRefused>, StoreError> {
    let limit = crate::limiter::Limit::Report;
    let address = client.to_string();
    if !state
        .store
        .address_allows(limit.scope(), &address, limit.max(), limit.window_ms())
        .await?
    {
        return Ok(Err(ReportRefused::TooMany));
    }
    if !report.trap.trim().is_empty() {
        return Ok(Err(ReportRefused::Trap));
    }
    state
        .store
        .record_address_event(limit.scope(), &address)
        .await?;
    let reporter = Reporter {
        name: given(report.name),
        email: given(report.email),
    };
    let filed = state
        .store
        .file_public_report(project, report.title.trim(), &report.text(), reporter)
        .await?;
    Ok(Ok(filed))
}

impl PublicReport<'_> {
    /// The report as the team reads it: the description, then each part the policy asks
    /// for under its own heading, the empty ones left out.
    pub fn text(&self) -> String {
        let mut text = self.description.trim().to_owned();
        for (heading, part) in [
            ("How it might be exploited", self.exploitation),
            ("Affected versions", self.affected_versions),
            ("Anything else", self.other),
        ] {
            let part = part.trim();
            if !part.is_empty() {
                text.push_str(&format!("\n\n{heading}:\n{part}"));
            }
        }
        text
    }
}
