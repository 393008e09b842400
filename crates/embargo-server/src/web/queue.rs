//! The team's queue: every case the member may see, by state, with its clocks.

use axum::extract::{Query, State as AxumState};
use axum::response::Response;
use embargo_core::lifecycle::{ALL_STATES, State};
use embargo_core::reference::ProjectKey;
use embargo_store::{Attention, CaseFilter, CaseSummary};
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::web::PageError;
use crate::web::auth::Member;
use crate::web::form::given;
use crate::web::layout::{self, clock_badge, state_badge};

/// The queue's filters.
#[derive(Deserialize, Default)]
pub struct Filters {
    project: Option<String>,
    state: Option<String>,
    q: Option<String>,
    /// "overdue", "due", "stalled", "my-view" or "unread".
    attention: Option<String>,
    /// "me" or "none".
    owner: Option<String>,
    /// Where the page starts (the previous page's last case).
    cursor: Option<String>,
}

/// Cases per page of the queue.
const PAGE: i64 = 100;

impl Filters {
    /// The query string of these filters, with `cursor` for the page it names.
    fn query(&self, cursor: &str) -> String {
        [
            ("q", &self.q),
            ("project", &self.project),
            ("state", &self.state),
            ("attention", &self.attention),
            ("owner", &self.owner),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            given(value).map(|v| format!("{name}={}", crate::url::component(v)))
        })
        .chain(std::iter::once(format!(
            "cursor={}",
            crate::url::component(cursor)
        )))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// The queue page.
pub async fn page(
    AxumState(state): AxumState<AppState>,
    member: Member,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let project = given(&filters.project)
        .map(str::parse::<ProjectKey>)
        .transpose()?;
    let wanted_state = match given(&filters.state) {
        Some(s) => Some(
            s.parse::<State>()
                .map_err(|_| PageError::BadForm(format!("there is no state called {s}")))?,
        ),
        None => None,
    };
    let attention = given(&filters.attention).unwrap_or("");
    let filter = CaseFilter {
        project: project.clone(),
        state: wanted_state,
        limit: Some(PAGE),
        after: given(&filters.cursor)
            .map(str::parse::<embargo_store::Cursor>)
            .transpose()?,
        awaiting_view_of: (attention == "my-view").then_some(member.viewer.user_id),
        owner: match given(&filters.owner) {
            Some("me") => Some(embargo_store::OwnerFilter::User(member.viewer.user_id)),
            Some("none") => Some(embargo_store::OwnerFilter::Nobody),
            _ => None,
        },
        text: given(&filters.q).map(str::to_owned),
        unread: attention == "unread",
        attention: Attention::parse(attention),
        ..CaseFilter::default()
    };
    let owner = given(&filters.owner).unwrap_or("");
    let page = state.store.page_cases(&member.viewer, &filter).await?;
    let shown: Vec<&CaseSummary> = page.cases.iter().collect();
    let projects = crate::extract::visible_projects(&state, &member.viewer).await?;
    let chosen_project = project.as_ref().map(|p| p.as_str().to_owned());
    let body = html! {
        h1 { "Queue" }
        form.filters method="get" action="/desk" role="search" {
            div {
                label for="q" { "Search titles, reports, notes, CVE IDs and references" }
                input #q type="search" name="q" value=(filters.q.clone().unwrap_or_default());
            }
            div {
                label for="project" { "Project" }
                select #project name="project" {
                    option value="" { "All projects" }
                    @for p in &projects {
                        option value=(p) selected[chosen_project.as_deref() == Some(p.as_str())] { (p) }
                    }
                }
            }
            div {
                label for="state" { "State" }
                select #state name="state" {
                    option value="" { "Every state" }
                    @for s in ALL_STATES {
                        option value=(s.as_str()) selected[wanted_state == Some(s)] { (s.as_str()) }
                    }
                }
            }
            div {
                label for="attention" { "Needing attention" }
                select #attention name="attention" {
                    option value="" { "All cases" }
                    option value="due" selected[attention == "due"] { "Due soon or overdue" }
                    option value="overdue" selected[attention == "overdue"] { "Overdue" }
                    option value="stalled" selected[attention == "stalled"] { "Stalled" }
                    option value="my-view" selected[attention == "my-view"] { "Waiting for my view" }
                    option value="unread" selected[attention == "unread"] { "With a new message" }
                }
            }
            div {
                label for="owner" { "Owner" }
                select #owner name="owner" {
                    option value="" { "Anyone or nobody" }
                    option value="me" selected[owner == "me"] { "Mine" }
                    option value="none" selected[owner == "none"] { "Nobody's" }
                }
            }
            div { button type="submit" { "Filter" } }
        }
        @if !projects.is_empty() {
            p.intake-links { "Intake log: "
                @for (i, p) in projects.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href={ "/desk/projects/" (p) "/intake" } { (p) }
                }
            }
        }
        @if shown.is_empty() {
            p { @if filter.after.is_some() { "No more cases match." } @else { "No cases match." } }
        }
        @for s in ALL_STATES {
            @let in_state: Vec<&&CaseSummary> = shown.iter().filter(|c| c.state == s).collect();
            @if !in_state.is_empty() {
                section.state-group aria-labelledby={ "state-" (s.as_str()) } {
                    h2 id={ "state-" (s.as_str()) } { (s.as_str()) " " span.count { "(" (in_state.len()) ")" } }
                    div.table-wrap {
                        table.queue {
                            thead {
                                tr {
                                    th scope="col" { "Case" }
                                    th scope="col" { "Title" }
                                    th scope="col" { "Severity" }
                                    th scope="col" { "Owner" }
                                    th scope="col" { "Clocks" }
                                    th scope="col" { "Embargo until" }
                                }
                            }
                            tbody {
                                @for c in in_state {
                                    tr {
                                        td { a href={ "/desk/cases/" (c.reference) } { (c.reference) } " " (state_badge(c.state)) }
                                        td { (c.title) @if c.unread { " " span.badge.unread title="A message arrived since you last opened the case" { "new message" } } }
                                        td { @if let Some(sev) = c.severity { span class={ "severity " (sev.to_string().to_lowercase()) } { (sev) } } @else { "not rated" } }
                                        td.owner { (c.owner.clone().unwrap_or_else(|| "nobody".into())) }
                                        td.clocks {
                                            @if c.state.is_open() {
                                                (clock_badge("acknowledge", &c.clocks.acknowledgement))
                                                @if let Some(m) = &c.clocks.mitigation { " " (clock_badge("mitigate", m)) }
                                                @if let Some(a) = &c.clocks.announcement { " " (clock_badge("announce", a)) }
                                                @if c.clocks.stalled { " " span.clock.stalled { "stalled" } }
                                            }
                                        }
                                        td { @if let Some(at) = &c.embargo_at { time datetime=(at) { (layout::short_time(at)) } } @else { "not set" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = page.next {
            nav.pages aria-label="More cases" {
                a rel="next" href={ "/desk?" (filters.query(&next.to_string())) } { "Older cases" }
            }
        }
    };
    Ok(layout::page("Queue", Some(&member), body))
}
