//! The intake log page: every message a project's intake took in, newest first, with
//! what it became. References and reasons only, never content.

use axum::extract::{Query, State as AxumState};
use axum::response::Response;
use embargo_core::reference::ProjectKey;
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::web::PageError;
use crate::web::auth::Member;
use crate::web::layout::{self, short_time};

const PAGE: i64 = 50;

/// Which page of the log.
#[derive(Deserialize, Default)]
pub struct Paging {
    before: Option<i64>,
}

fn describe(classification: &str) -> &'static str {
    match classification {
        "report" => "a new report",
        "scan-output" => "scanner output (a new case)",
        "follow-up" => "the reporter's follow-up",
        "third-party" => "a third party's message on a case",
        "auto-reply" => "an automatic reply (no case)",
        "bounce" => "a delivery failure (no case)",
        "duplicate" => "a second delivery of a message already taken in",
        "quarantined" => "quarantined",
        _ => "other",
    }
}

/// The page.
pub async fn page(
    AxumState(state): AxumState<AppState>,
    member: Member,
    axum::extract::Path(key): axum::extract::Path<String>,
    Query(paging): Query<Paging>,
) -> Result<Response, PageError> {
    let key: ProjectKey = key.parse()?;
    let entries = state
        .store
        .intake_log(&member.viewer, &key, paging.before, PAGE)
        .await?;
    let next = (entries.len() as i64 == PAGE)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let body = html! {
        nav.breadcrumb aria-label="Breadcrumb" { a href="/desk" { "Queue" } " › " "Intake of " (key) }
        h1 { "Intake of " (key) }
        p { "Every message taken in for the project, newest first, with what it became." }
        @if entries.is_empty() {
            p { "No messages on this page." }
        } @else {
            div.table-wrap {
                table.intake {
                    thead { tr { th scope="col" { "Received" } th scope="col" { "What it was" } th scope="col" { "Case or quarantine" } } }
                    tbody {
                        @for e in &entries {
                            tr {
                                td { time datetime=(e.received_at) { (short_time(&e.received_at)) } }
                                td { (describe(&e.classification)) }
                                td {
                                    @if let Some(r) = &e.reference { a href={ "/desk/cases/" (r) } { (r) } }
                                    @else if let Some(reason) = &e.reason {
                                        (reason)
                                        @if let Some(id) = e.quarantine_id { " (quarantine entry " (id) ")" }
                                    }
                                    @else { "—" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(before) = next {
            p { a href={ "/desk/projects/" (key) "/intake?before=" (before) } { "Older messages" } }
        }
    };
    Ok(layout::page(
        &format!("Intake of {key}"),
        Some(&member),
        body,
    ))
}
