//! A case as a collaborator sees it: what they need to help with the vulnerability (the
//! report, the fix on each branch, how the case moves) and their thread with the team,
//! where they add notes. They may propose a private patch and add testing evidence; the
//! team records what is merged and released. No team form shows, and the reporter's
//! identity is withheld unless the reporter agreed (the store decides; this page says so).

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use embargo_core::reference::CaseRef;
use embargo_core::timeline::EventKind;
use maud::html;

use crate::AppState;
use crate::web::PageError;
use crate::web::auth::Member;
use crate::web::layout::{self, notice, short_time, state_badge};

/// The collaborator's page of a case, with `info` or `error` from their last action.
pub(super) async fn render(
    state: &AppState,
    member: &Member,
    case_ref: &CaseRef,
    info: Option<&str>,
    error: Option<&str>,
    typed: &HashMap<String, String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let store = &state.store;
    let viewer = &member.viewer;
    let case = store.case(viewer, case_ref).await?;
    let timeline = store.timeline(viewer, case_ref).await?;
    let fixes = match case.state.is_confirmed() {
        true => Some(store.fixes(viewer, case_ref).await?),
        false => None,
    };
    let r = case.reference.to_string();
    let csrf = member.csrf.as_str();
    let thread: Vec<_> = timeline
        .iter()
        .filter(|e| e.kind == EventKind::SharedNote)
        .collect();
    let body = html! {
        nav.breadcrumb aria-label="Breadcrumb" { a href="/desk" { "Queue" } " › " (r) }
        h1 { (r) ": " (case.title) }
        p.summary {
            (state_badge(case.state)) " "
            @if let Some(at) = &case.embargo_at { "Embargo until " time datetime=(at) { (short_time(at)) } }
            @else { "No embargo date yet" }
        }
        @if let Some(e) = error { (notice("error", e)) }
        @if let Some(i) = info { (notice("info", i)) }
        p.role-note {
            "You help with this case as a collaborator, under the confidentiality terms you accepted. "
            "The security team leads it; the reporter's identity stays with them."
        }
        section #details aria-labelledby="details-h" {
            h2 #details-h { "Details" }
            dl.facts {
                dt { "Project" } dd { (case.project) }
                dt { "Received" } dd { time datetime=(case.received_at) { (short_time(&case.received_at)) } }
                dt { "Reporter" } dd {
                    @if case.reporter_withheld { "withheld from collaborators" }
                    @else {
                        (case.reporter.name.clone().unwrap_or_else(|| "anonymous".into()))
                        @if let Some(e) = &case.reporter.email { " <" (e) ">" }
                        " (the reporter agreed that collaborators may know)"
                    }
                }
                dt { "CVE ID" } dd { (case.cve_id.clone().unwrap_or_else(|| "none yet".into())) }
            }
            details.description open { summary { "The report" } pre.text { (case.description) } }
        }
        @if let Some(board) = &fixes {
            section #fix aria-labelledby="fix-h" {
                h2 #fix-h { "Fix per branch" }
                ul #fix-branches {
                    @for b in &board.branches {
                        li data-branch=(b.branch) {
                            strong { (b.branch) } ": "
                            @match &b.current { Some(c) => { (c.stage.as_str()) }, None => { "nothing recorded yet" } }
                        }
                    }
                }
                (crate::web::fix::files(&r, board))
                h3 { "Offer a patch or testing evidence" }
                p { "A patch you upload is proposed on the branch you choose; the team reviews it, and records when it is merged and released." }
                (crate::web::fix::contribution_forms(&r, csrf, board, typed))
            }
        }
        section #thread aria-labelledby="thread-h" {
            h2 #thread-h { "Thread with the security team" }
            @if thread.is_empty() { p { "No note yet." } }
            ol.thread {
                @for n in &thread {
                    li.message {
                        p.meta { (n.actor.clone().unwrap_or_default()) ", " time datetime=(n.at) { (short_time(&n.at)) } }
                        pre.text { (n.detail.clone().unwrap_or_default()) }
                    }
                }
            }
            form.stack method="post" action={ "/desk/cases/" (r) "/note" } {
                input type="hidden" name="csrf" value=(csrf);
                label for="note-text" { "A note for the security team (and the case's other collaborators)" }
                textarea #note-text name="text" rows="3" required {}
                button type="submit" { "Add the note" }
            }
        }
        section #timeline aria-labelledby="timeline-h" {
            h2 #timeline-h { "How the case moved" }
            ol.timeline reversed {
                @for e in timeline.iter().rev().filter(|e| e.kind != EventKind::SharedNote) {
                    li {
                        p.meta { time datetime=(e.at) { (short_time(&e.at)) } " · " (e.kind) }
                        @if let (Some(from), Some(to)) = (e.from_state, e.to_state) { p { (from.as_str()) " → " (to.as_str()) } }
                        @if let Some(d) = &e.detail { pre.text { (d) } }
                    }
                }
            }
        }
    };
    let mut response = layout::page(&format!("{r}: {}", case.title), Some(member), body);
    *response.status_mut() = status;
    Ok(response)
}
