//! The admin page: each project the member may see, with its team and their last
//! activity, its mailing lists, canned responses and OpenPGP key. Administrators also
//! add team members and lists here. The same rules as the admin API decide who may.

use std::collections::HashMap;

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use embargo_core::reference::ProjectKey;
use embargo_store::{Project, ProjectUpdate};
use maud::html;

use crate::AppState;
use crate::error::ApiError;
use crate::web::PageError;
use crate::web::auth::Member;
use crate::web::form::Form;
use crate::web::layout::{self, notice, short_time};

fn may_see(member: &Member, project: &Project) -> bool {
    member.viewer.is_admin || member.viewer.can_see_project(project.id)
}

/// The clock settings as the form's fields: name, label, value.
fn clock_fields(
    c: &embargo_core::project::ClockSettings,
) -> [(&'static str, &'static str, i64); 7] {
    [
        (
            "acknowledge_days",
            "Acknowledge the reporter within",
            c.acknowledge_days,
        ),
        (
            "mitigation_days_critical",
            "Mitigation window, critical",
            c.mitigation_days_critical,
        ),
        (
            "mitigation_days_high",
            "Mitigation window, high",
            c.mitigation_days_high,
        ),
        (
            "mitigation_days_other",
            "Mitigation window, medium and low",
            c.mitigation_days_other,
        ),
        (
            "announce_warn_days",
            "Announcement due soon after",
            c.announce_warn_days,
        ),
        (
            "announce_overdue_days",
            "Announcement overdue after",
            c.announce_overdue_days,
        ),
        (
            "stall_days",
            "A case stalls after no activity for",
            c.stall_days,
        ),
    ]
}

/// What the admin page says after a form succeeded.
#[derive(serde::Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// The admin page.
pub async fn page(
    AxumState(state): AxumState<AppState>,
    member: Member,
    axum::extract::Query(done): axum::extract::Query<Done>,
) -> Result<Response, PageError> {
    let info = match done.done.as_deref() {
        Some("member") => Some(
            "They are on the team. Someone new gets a mail with a link to choose their password; someone who was not on the committee is on it now.",
        ),
        Some("committee") => Some("The committee is updated."),
        Some(_) => Some("Saved."),
        None => None,
    };
    render_saying(&state, &member, None, info, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    member: &Member,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    render_saying(state, member, problem, None, status).await
}

async fn render_saying(
    state: &AppState,
    member: &Member,
    problem: Option<String>,
    info: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let store = &state.store;
    let projects: Vec<Project> = store
        .list_projects()
        .await?
        .into_iter()
        .filter(|p| may_see(member, p))
        .collect();
    let mut sections = Vec::new();
    for p in &projects {
        let key: ProjectKey = p.key.parse()?;
        let members = store.project_members(&key).await?;
        let canned = if member.viewer.can_see_project(p.id) {
            store
                .canned_responses(&member.viewer, &key)
                .await
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let team_key = store.team_public_key(&key).await?;
        let committee = store.committee(&key).await?;
        let distributors = if member.viewer.can_see_project(p.id) {
            store.distributors(&member.viewer, &key).await?
        } else {
            Vec::new()
        };
        sections.push((p, members, canned, team_key, committee, distributors));
    }
    let csrf = member.csrf.as_str();
    let body = html! {
        h1 { "Projects and teams" }
        @if let Some(p) = &problem { (notice("error", p)) }
        @if let Some(i) = info { (notice("info", i)) }
        @if projects.is_empty() { p { "You are on no project's team." } }
        @for (p, members, canned, team_key, committee, distributors) in &sections {
            section.project aria-labelledby={ "p-" (p.key) } {
                h2 id={ "p-" (p.key) } { (p.key) ": " (p.name) }
                dl.facts {
                    dt { "Organisation" } dd { (p.org) }
                    dt { "Supported branches" } dd { @if p.branches.is_empty() { "none listed" } @else { (p.branches.join(", ")) } }
                    dt { "Announcement lists" } dd { @if p.disclosure.lists.is_empty() { "none yet" } @else { (p.disclosure.lists.join(", ")) } }
                    dt { "oss-security" } dd { (p.disclosure.oss_security.clone().unwrap_or_else(|| "not set".into())) }
                    dt { "Private list" } dd { (p.private_list.clone().unwrap_or_else(|| "not set".into())) }
                    dt { "OpenPGP key" } dd { @match team_key { Some(k) => { code { (k.fingerprint) } " " a href={ "/api/public/projects/" (p.key) "/openpgp-key" } { "public key" } }, None => { "none: generate one with embargo keys pgp generate" } } }
                    dt { "Product in advisories" } dd { (p.product.vendor.clone().unwrap_or_else(|| "(the organisation's vendor name)".into())) " / " (p.product.product.clone().unwrap_or_else(|| p.name.clone())) }
                    dt { "Packages" } dd { @if p.product.packages.is_empty() { "none: scanners cannot match this project's advisories to a package" } @else { @for (i, purl) in p.product.packages.iter().enumerate() { @if i > 0 { ", " } code { (purl) } } } }
                    dt { "Report form" } dd { a href={ "/projects/" (p.key) "/report" } { "/projects/" (p.key) "/report" } }
                }
                h3 { "Security team" }
                div.table-wrap {
                    table {
                        thead { tr { th scope="col" { "Member" } th scope="col" { "Added" } th scope="col" { "Last active" } } }
                        tbody {
                            @for m in members {
                                tr { td { (m.email) } td { (short_time(&m.added_at)) } td { @if let Some(at) = &m.last_active_at { (short_time(at)) } @else { "never" } } }
                            }
                        }
                    }
                }
                p { "Committee (only its members may join the team): " @if committee.is_empty() { "nobody yet" } @else { (committee.join(", ")) } }
                @if member.viewer.is_admin || member.viewer.can_see_project(p.id) {
                    form.stack method="post" action="/desk/admin/member" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="project" value=(p.key);
                        label for={ "member-" (p.key) } {
                            @if member.viewer.is_admin { "Invite to the team (address; added to the committee if need be)" }
                            @else { "Invite a committee member to the team (address)" }
                        }
                        input id={ "member-" (p.key) } type="email" name="email" required;
                        button type="submit" { "Invite to the team" }
                    }
                }
                @if member.viewer.is_admin {
                    form.stack method="post" action="/desk/admin/committee" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="project" value=(p.key);
                        label for={ "committee-" (p.key) } { "Add to the committee (one address per line)" }
                        textarea id={ "committee-" (p.key) } name="emails" rows="2" required {}
                        button type="submit" { "Add to the committee" }
                    }
                    form.stack method="post" action="/desk/admin/name" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="project" value=(p.key);
                        label for={ "name-" (p.key) } { "Name shown publicly (announcements, the report form, advisories)" }
                        input id={ "name-" (p.key) } type="text" name="name" required value=(p.name);
                        button type="submit" { "Rename" }
                    }
                    form.stack method="post" action="/desk/admin/product" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="project" value=(p.key);
                        label for={ "product-" (p.key) } { "Product name in advisories (empty: the project's name)" }
                        input id={ "product-" (p.key) } type="text" name="product" value=(p.product.product.clone().unwrap_or_default());
                        label for={ "vendor-" (p.key) } { "Vendor (empty: the organisation's)" }
                        input id={ "vendor-" (p.key) } type="text" name="vendor" value=(p.product.vendor.clone().unwrap_or_default());
                        label for={ "purls-" (p.key) } { "Package URLs, one per line, without a version (e.g. pkg:maven/org.example/app)" }
                        textarea id={ "purls-" (p.key) } name="packages" rows="2" { (p.product.packages.join("\n")) }
                        label for={ "cpes-" (p.key) } { "CPE 2.3 names, one per line" }
                        textarea id={ "cpes-" (p.key) } name="cpes" rows="2" { (p.product.cpes.join("\n")) }
                        label for={ "repo-" (p.key) } { "Source repository URL" }
                        input id={ "repo-" (p.key) } type="url" name="repository" value=(p.product.repository.clone().unwrap_or_default());
                        button type="submit" { "Save the product" }
                    }
                    form.stack method="post" action="/desk/admin/contacts" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="project" value=(p.key);
                        label for={ "contacts-" (p.key) } { "Security contacts, one per line (mailto: or https:), for security.txt and the report form" }
                        textarea id={ "contacts-" (p.key) } name="contacts" rows="2" { (p.disclosure.security_contacts.join("\n")) }
                        label for={ "policy-" (p.key) } { "Security policy URL" }
                        input id={ "policy-" (p.key) } type="url" name="policy_url" value=(p.disclosure.policy_url.clone().unwrap_or_default());
                        button type="submit" { "Save the contacts" }
                    }
                    form.stack method="post" action="/desk/admin/clocks" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="project" value=(p.key);
                        fieldset {
                            legend { "Clocks, in days" }
                            @for (name, label, value) in clock_fields(&p.clocks) {
                                label for={ (name) "-" (p.key) } { (label) }
                                input id={ (name) "-" (p.key) } type="number" min="1" max="365" name=(name) required value=(value);
                            }
                        }
                        button type="submit" { "Save the clocks" }
                    }
                    @if team_key.is_none() {
                        form.stack method="post" action="/desk/admin/team-key" {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="project" value=(p.key);
                            label for={ "key-uid-" (p.key) } { "The team key's user ID" }
                            input id={ "key-uid-" (p.key) } type="text" name="user_id" required value={ (p.name) " security team <" (p.disclosure.security_contacts.iter().find_map(|c| c.strip_prefix("mailto:")).unwrap_or("security@example.org")) ">" };
                            button type="submit" { "Generate the team's OpenPGP key" }
                        }
                    }
                    form.stack method="post" action="/desk/admin/lists" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="project" value=(p.key);
                        label for={ "lists-" (p.key) } { "Announcement lists (one address per line)" }
                        textarea id={ "lists-" (p.key) } name="lists" rows="3" { (p.disclosure.lists.join("\n")) }
                        label for={ "private-" (p.key) } { "Private list of the project" }
                        input id={ "private-" (p.key) } type="email" name="private_list" value=(p.private_list.clone().unwrap_or_default());
                        button type="submit" { "Save the lists" }
                    }
                }
                @if member.viewer.can_see_project(p.id) {
                    h3 { "Distributors" }
                    p { "Pre-notified of each case's embargo before the announcement." }
                    @if distributors.is_empty() { p { "None yet." } }
                    ul.distributors {
                        @for d in distributors {
                            li {
                                (d) " "
                                form.inline method="post" action="/desk/admin/distributor-remove" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="project" value=(p.key);
                                    input type="hidden" name="email" value=(d);
                                    button type="submit" aria-label={ "Remove " (d) } { "Remove" }
                                }
                            }
                        }
                    }
                    form.stack method="post" action="/desk/admin/distributor" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="project" value=(p.key);
                        label for={ "distributor-" (p.key) } { "Add a distributor contact (address)" }
                        input id={ "distributor-" (p.key) } type="email" name="email" required;
                        button type="submit" { "Add the distributor" }
                    }
                    h3 { "Canned responses" }
                    @if canned.is_empty() { p { "None yet." } }
                    @for c in canned {
                        details { summary { (c.name) } pre.text { (c.text) } }
                    }
                    form.stack method="post" action="/desk/admin/canned" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="project" value=(p.key);
                        label for={ "canned-name-" (p.key) } { "Name (an existing name replaces its text)" }
                        input id={ "canned-name-" (p.key) } type="text" name="name" required placeholder="needs-more-info";
                        label for={ "canned-text-" (p.key) } { "Text ({ref} stands for the case reference)" }
                        textarea id={ "canned-text-" (p.key) } name="text" rows="4" required {}
                        button type="submit" { "Save the response" }
                    }
                }
            }
        }
    };
    let mut response = layout::page("Admin", Some(member), body);
    *response.status_mut() = status;
    Ok(response)
}

/// The admin page's forms.
pub async fn act(
    AxumState(state): AxumState<AppState>,
    member: Member,
    axum::extract::Path(action): axum::extract::Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    member.check(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let text = |name: &str| form.get(name).map(|v| v.trim()).unwrap_or_default();
    let key: ProjectKey = text("project").parse()?;
    let project = state.store.project(&key).await?;
    if !may_see(&member, &project) {
        return Err(PageError::Api(ApiError::Store(
            embargo_store::StoreError::NotFound("project"),
        )));
    }
    let result = match action.as_str() {
        "member" => {
            crate::api::admin::not_oneself(&state, &member.viewer, &[text("email").to_owned()])
                .await?;
            match state
                .store
                .invite_member(&member.viewer, &key, text("email"))
                .await
            {
                Ok(_) => return Ok(Redirect::to("/desk/admin?done=member").into_response()),
                Err(e) => Err(e),
            }
        }
        "committee" if member.viewer.is_admin => {
            let emails: Vec<String> = text("emails")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            crate::api::admin::not_oneself(&state, &member.viewer, &emails).await?;
            match state.store.add_committee_members(&key, &emails).await {
                Ok(_) => return Ok(Redirect::to("/desk/admin?done=committee").into_response()),
                Err(e) => Err(e),
            }
        }
        "name" if member.viewer.is_admin => {
            let update = ProjectUpdate {
                name: Some(text("name").to_owned()),
                ..ProjectUpdate::default()
            };
            state.store.update_project(&key, update).await.map(|_| ())
        }
        "lists" if member.viewer.is_admin => {
            let mut disclosure = project.disclosure.clone();
            disclosure.lists = text("lists")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            let private = text("private_list");
            let update = ProjectUpdate {
                disclosure: Some(disclosure),
                private_list: (!private.is_empty()).then(|| private.to_owned()),
                ..ProjectUpdate::default()
            };
            state.store.update_project(&key, update).await.map(|_| ())
        }
        "product" if member.viewer.is_admin => {
            let lines = |name: &str| -> Vec<String> {
                text(name)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            let optional = |name: &str| Some(text(name).to_owned()).filter(|v| !v.is_empty());
            let update = ProjectUpdate {
                product: Some(embargo_core::project::ProductSettings {
                    product: optional("product"),
                    vendor: optional("vendor"),
                    packages: lines("packages"),
                    cpes: lines("cpes"),
                    repository: optional("repository"),
                }),
                ..ProjectUpdate::default()
            };
            state.store.update_project(&key, update).await.map(|_| ())
        }
        "contacts" if member.viewer.is_admin => {
            let mut disclosure = project.disclosure.clone();
            disclosure.security_contacts = text("contacts")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            disclosure.policy_url = Some(text("policy_url").to_owned()).filter(|u| !u.is_empty());
            let update = ProjectUpdate {
                disclosure: Some(disclosure),
                ..ProjectUpdate::default()
            };
            state.store.update_project(&key, update).await.map(|_| ())
        }
        "clocks" if member.viewer.is_admin => {
            let day = |name: &str| -> Result<i64, embargo_store::StoreError> {
                text(name).parse().map_err(|_| {
                    embargo_store::StoreError::Invalid(format!(
                        "{name} must be a whole number of days"
                    ))
                })
            };
            let clocks = (|| {
                Ok(embargo_core::project::ClockSettings {
                    acknowledge_days: day("acknowledge_days")?,
                    mitigation_days_critical: day("mitigation_days_critical")?,
                    mitigation_days_high: day("mitigation_days_high")?,
                    mitigation_days_other: day("mitigation_days_other")?,
                    announce_warn_days: day("announce_warn_days")?,
                    announce_overdue_days: day("announce_overdue_days")?,
                    stall_days: day("stall_days")?,
                })
            })();
            match clocks {
                Ok(clocks) => {
                    let update = ProjectUpdate {
                        clocks: Some(clocks),
                        ..ProjectUpdate::default()
                    };
                    state.store.update_project(&key, update).await.map(|_| ())
                }
                Err(e) => Err(e),
            }
        }
        "team-key" if member.viewer.is_admin => {
            let user_id = text("user_id").to_owned();
            // Making the key takes a moment of CPU: off the request threads.
            let team =
                tokio::task::spawn_blocking(move || embargo_openpgp::TeamKey::generate(&user_id))
                    .await
                    .map_err(|_| PageError::BadForm("the key could not be made".into()))?
                    .map_err(|e| PageError::BadForm(e.to_string()))?;
            state
                .store
                .set_team_key(&key, &team, false)
                .await
                .map(|_| ())
        }
        "lists" | "name" | "product" | "committee" | "contacts" | "clocks" | "team-key" => {
            return Err(PageError::Api(ApiError::Forbidden(
                "this needs an administrator",
            )));
        }
        "distributor" => {
            state
                .store
                .add_distributor(&member.viewer, &key, text("email"))
                .await
        }
        "distributor-remove" => {
            state
                .store
                .remove_distributor(&member.viewer, &key, text("email"))
                .await
        }
        "canned" => state
            .store
            .set_canned_response(&member.viewer, &key, text("name"), text("text"))
            .await
            .map(|_| ()),
        _ => return Err(PageError::Api(ApiError::NoRoute)),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/desk/admin?done=saved").into_response()),
        Err(e) => {
            let (status, message) = ApiError::Store(e).public_status_and_message();
            if status.is_client_error() {
                render(
                    &state,
                    &member,
                    Some(message),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            } else {
                Err(PageError::Api(ApiError::BadRequest(message)))
            }
        }
    }
}
