//! The case page: what is due and what comes next, the details, the CVSS calculator, the
//! CVE ID, the advisory editor with its preview, the announcement, the checklist, the
//! external thread, notes and timeline, attachments, collaborators, duplicates.
//!
//! Every change is a plain form post. A refused change shows the page again with the
//! refusal above it, and what was typed is kept in the form.

use std::collections::HashMap;

use axum::extract::{Query, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use embargo_core::case::AdvisoryDraft;
use embargo_core::checklist::MarkStatus;
use embargo_core::cvss::Cvss;
use embargo_core::lifecycle::{State, TransitionRequest};
use embargo_core::reference::CaseRef;
use embargo_core::timeline::EventKind;
use embargo_store::{CasePatch, StoreError};
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;
use crate::web::PageError;
use crate::web::advisory;
use crate::web::auth::Member;
use crate::web::calculator;
use crate::web::case_form::{
    advisory_from, credits_text, details_patch, field, kebab, local_input, secret,
    transition_request,
};
use crate::web::form::Form;
use crate::web::layout::{self, clock_badge, notice, short_time, state_badge};
use crate::web::transition::transition_form;

/// The page's query: which calculator version to show.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    calc: Option<String>,
    done: Option<String>,
}

/// What a post adds to the page it shows again.
#[derive(Default)]
struct Extras {
    error: Option<String>,
    info: Option<String>,
    /// The calculator as just submitted, scored.
    calc: Option<(String, String, Result<Cvss, String>)>,
    /// The advisory as just typed, for its preview, unsaved.
    draft: Option<AdvisoryDraft>,
    /// What was typed into a form that was refused, by field.
    typed: HashMap<String, String>,
}

/// The case page.
pub async fn page(
    AxumState(state): AxumState<AppState>,
    member: Member,
    axum::extract::Path(reference): axum::extract::Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let case_ref: CaseRef = reference.parse()?;
    let extras = Extras {
        info: q.done.as_deref().map(done_message),
        ..Extras::default()
    };
    render(
        &state,
        &member,
        &case_ref,
        q.calc.as_deref(),
        extras,
        StatusCode::OK,
    )
    .await
}

fn done_message(action: &str) -> String {
    match action {
        "transition" => "The case moved.",
        "details" => "The details are saved.",
        "cvss" => "The score is saved.",
        "advisory" => "The advisory draft is saved.",
        "note" => "The note is added.",
        "reply" => "The reply is on its way to the reporter.",
        "checklist" => "The checklist is updated.",
        "cve-reserve" => "A CVE ID is reserved.",
        "archive" => "The archived announcement is recorded.",
        "owner" => "The owner is set.",
        "cve-publish" => "The CVE record is published.",
        "distributor" => "The distributor contact is added.",
        "prenotify" => "The distributors are being pre-notified.",
        "schedule" => "The announcement is scheduled.",
        "unschedule" => {
            "The schedule is cancelled: nothing goes out until the case is scheduled again."
        }
        "merge" => "The case is merged as a duplicate.",
        "view" => "Your view is recorded.",
        "fix" => "The fix is recorded.",
        "patch" => "The patch is on the case, and the branch's fix is proposed.",
        "evidence" => "The testing evidence is recorded.",
        "request-views" => "The members are asked for their view.",
        "accept-sender" => {
            "The sender is a co-reporter now: their mail on this case is the reporter's."
        }
        "quarantine-message" => "The message is moved to the project's quarantine.",
        _ => "Done.",
    }
    .to_owned()
}

/// Every change the page makes, by the action in its address.
pub async fn act(
    AxumState(state): AxumState<AppState>,
    member: Member,
    axum::extract::Path((reference, action)): axum::extract::Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    member.check(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let case_ref: CaseRef = reference.parse()?;
    let store = &state.store;
    let viewer = &member.viewer;
    // Who may act is settled before the form is read, so that a refusal of its content
    // never tells someone who may not act that the case exists.
    let need = if action == "note" {
        embargo_core::access::Need::Read
    } else {
        embargo_core::access::Need::Change
    };
    store.check_access(viewer, &case_ref, need).await?;
    let back = |calc: Option<&str>| {
        let calc = calc.map(|c| format!("&calc={c}")).unwrap_or_default();
        Redirect::to(&format!("/desk/cases/{case_ref}?done={action}{calc}")).into_response()
    };
    // Each action either succeeds (and the page is shown afresh) or gives what to show.
    let outcome: Result<Response, Extras> = match action.as_str() {
        "transition" => {
            let to = field(&form, "to").unwrap_or_default();
            match transition_request(&form) {
                Err(e) => Err(refused(e, &form)),
                Ok(req) => match to.parse::<State>() {
                    Err(_) => Err(refused(format!("there is no state called {to}"), &form)),
                    Ok(to) => match store.transition(viewer, &case_ref, to, &req).await {
                        Ok(_) => Ok(back(None)),
                        Err(e) => Err(store_refusal(e, &form)?),
                    },
                },
            }
        }
        "merge" => {
            let req = TransitionRequest {
                duplicate_of: field(&form, "duplicate_of").map(str::parse).transpose()?,
                message_to_reporter: secret(field(&form, "message_to_reporter")),
                reason: secret(Some("merged as a duplicate")),
                ..TransitionRequest::default()
            };
            match store
                .transition(viewer, &case_ref, State::Duplicate, &req)
                .await
            {
                Ok(_) => Ok(back(None)),
                Err(e) => Err(store_refusal(e, &form)?),
            }
        }
        "details" => match details_patch(&form) {
            Err(e) => Err(refused(e, &form)),
            Ok(patch) => match store.update_case(viewer, &case_ref, patch).await {
                Ok(_) => Ok(back(None)),
                Err(e) => Err(store_refusal(e, &form)?),
            },
        },
        "cvss" => {
            let fields = calculator::Fields {
                version: form.get("version").cloned(),
                extra: form.get("extra").cloned(),
                chosen: form.clone(),
            };
            let version = fields.version.clone().unwrap_or_else(|| "3.1".into());
            let scored = calculator::vector_from(&fields)
                .and_then(|v| Cvss::parse(&v).map_err(|e| e.to_string()));
            let save = form.get("intent").is_some_and(|i| i == "save");
            match (save, scored) {
                (true, Ok(cvss)) => {
                    let patch = CasePatch {
                        cvss: Some(cvss.vector().into()),
                        ..CasePatch::default()
                    };
                    match store.update_case(viewer, &case_ref, patch).await {
                        Ok(_) => Ok(back(Some(&version))),
                        Err(e) => Err(store_refusal(e, &form)?),
                    }
                }
                (_, scored) => {
                    let vector = scored
                        .as_ref()
                        .map(|c| c.vector().to_owned())
                        .unwrap_or_default();
                    Err(Extras {
                        error: scored.as_ref().err().filter(|_| save).cloned(),
                        calc: Some((version, vector, scored)),
                        ..Extras::default()
                    })
                }
            }
        }
        "advisory" => {
            let current = store.case(viewer, &case_ref).await?.advisory;
            match advisory_from(&form, &current) {
                Err(e) => Err(refused(e, &form)),
                Ok(draft) if form.get("intent").is_some_and(|i| i == "preview") => Err(Extras {
                    info: Some("This is a preview; the draft is not saved yet.".into()),
                    draft: Some(draft),
                    ..Extras::default()
                }),
                Ok(draft) => {
                    let patch = CasePatch {
                        advisory: Some(draft),
                        ..CasePatch::default()
                    };
                    match store.update_case(viewer, &case_ref, patch).await {
                        Ok(_) => Ok(back(None)),
                        Err(e) => Err(store_refusal(e, &form)?),
                    }
                }
            }
        }
        "note" => {
            let text = field(&form, "text").unwrap_or_default();
            let posted = match field(&form, "shared") {
                Some(_) => store.add_shared_note(viewer, &case_ref, text).await,
                None => store.add_note(viewer, &case_ref, text).await,
            };
            match posted {
                Ok(_) => Ok(back(None)),
                Err(e) => Err(store_refusal(e, &form)?),
            }
        }
        "view" => {
            let disposition =
                field(&form, "disposition").and_then(embargo_core::triage::Disposition::parse);
            let duplicate_of = field(&form, "view_duplicate_of")
                .map(str::parse::<CaseRef>)
                .transpose();
            match (disposition, duplicate_of) {
                (None, _) => Err(refused("choose what you think the report is".into(), &form)),
                (_, Err(e)) => Err(refused(e.to_string(), &form)),
                (Some(d), Ok(dup)) => match store
                    .give_view(
                        viewer,
                        &case_ref,
                        d,
                        field(&form, "view_reason").unwrap_or_default(),
                        dup.as_ref(),
                    )
                    .await
                {
                    Ok(_) => Ok(back(None)),
                    Err(e) => Err(store_refusal(e, &form)?),
                },
            }
        }
        "request-views" => {
            let members: Vec<String> = form
                .iter()
                .filter(|(k, v)| k.starts_with("ask_") && v.as_str() == "on")
                .map(|(k, _)| k.trim_start_matches("ask_").to_owned())
                .collect();
            match store.request_views(viewer, &case_ref, &members).await {
                Ok(_) => Ok(back(None)),
                Err(e) => Err(store_refusal(e, &form)?),
            }
        }
        "fix" => match crate::web::fix::stage_from(&form) {
            Err(e) => Err(refused(e, &form)),
            Ok((branch, stage, detail)) => match store
                .record_fix(viewer, &case_ref, &branch, stage, &detail)
                .await
            {
                Ok(_) => Ok(back(None)),
                Err(e) => Err(store_refusal(e, &form)?),
            },
        },
        "accept-sender" | "quarantine-message" => {
            let event = field(&form, "event")
                .and_then(|e| e.parse::<i64>().ok())
                .unwrap_or_default();
            let done = if action == "accept-sender" {
                store
                    .accept_co_reporter(viewer, &case_ref, event)
                    .await
                    .map(|_| ())
            } else {
                store.quarantine_third_party(viewer, &case_ref, event).await
            };
            match done {
                Ok(()) => Ok(back(None)),
                Err(e) => Err(store_refusal(e, &form)?),
            }
        }
        "reply" => {
            let mut text = field(&form, "text").unwrap_or_default().to_owned();
            if text.is_empty()
                && let Some(name) = field(&form, "canned")
            {
                let project = store.case(viewer, &case_ref).await?.project;
                let canned = store.canned_responses(viewer, &project).await?;
                if let Some(c) = canned.iter().find(|c| c.name == name) {
                    text = c.text.replace("{ref}", &case_ref.to_string());
                }
            }
            match store.reply_to_reporter(viewer, &case_ref, &text).await {
                Ok(_) => Ok(back(None)),
                Err(e) => Err(store_refusal(e, &form)?),
            }
        }
        "checklist" => {
            let status: Option<MarkStatus> =
                kebab("status", field(&form, "status")).map_err(PageError::BadForm)?;
            let status = status.ok_or_else(|| PageError::BadForm("choose a status".into()))?;
            match store
                .mark_checklist(
                    viewer,
                    &case_ref,
                    field(&form, "item").unwrap_or_default(),
                    status,
                    field(&form, "note"),
                )
                .await
            {
                Ok(_) => Ok(back(None)),
                Err(e) => Err(store_refusal(e, &form)?),
            }
        }
        "owner" => {
            let patch = CasePatch {
                owner: Some(field(&form, "owner").unwrap_or_default().to_owned()),
                ..CasePatch::default()
            };
            match store.update_case(viewer, &case_ref, patch).await {
                Ok(_) => Ok(back(None)),
                Err(e) => Err(store_refusal(e, &form)?),
            }
        }
        "archive" => {
            let patch = CasePatch {
                advisory_url: Some(field(&form, "advisory_url").unwrap_or_default().to_owned()),
                ..CasePatch::default()
            };
            match store.update_case(viewer, &case_ref, patch).await {
                Ok(_) => Ok(back(None)),
                Err(e) => Err(store_refusal(e, &form)?),
            }
        }
        "cve-publish" => match crate::actions::cve::publish(&state, viewer, &case_ref).await {
            Ok(_) => Ok(back(None)),
            Err(e) => Err(api_refusal(e, &form)?),
        },
        "cve-reserve" => match crate::actions::cve::reserve(&state, viewer, &case_ref).await {
            Ok(_) => Ok(back(None)),
            Err(e) => Err(api_refusal(e, &form)?),
        },
        "invite" => match store
            .invite_collaborator(viewer, &case_ref, field(&form, "email").unwrap_or_default())
            .await
        {
            Ok(invitation) => Err(Extras {
                info: Some(format!(
                    "{} is invited: the invitation, with the secret they accept the terms with, goes to them by mail.",
                    invitation.email
                )),
                ..Extras::default()
            }),
            Err(e) => Err(store_refusal(e, &form)?),
        },
        "distributor" => {
            let project = store.case(viewer, &case_ref).await?.project;
            match store
                .add_distributor(viewer, &project, field(&form, "email").unwrap_or_default())
                .await
            {
                Ok(_) => Ok(back(None)),
                Err(e) => Err(store_refusal(e, &form)?),
            }
        }
        "prenotify" => match store.prenotify(viewer, &case_ref).await {
            Ok(_) => Ok(back(None)),
            Err(e) => Err(store_refusal(e, &form)?),
        },
        "schedule" => match store
            .schedule_disclosure(viewer, &case_ref, &state.public_url)
            .await
        {
            Ok(_) => Ok(back(None)),
            Err(e) => Err(store_refusal(e, &form)?),
        },
        "unschedule" => match store.cancel_scheduled_disclosure(viewer, &case_ref).await {
            Ok(_) => Ok(back(None)),
            Err(e) => Err(store_refusal(e, &form)?),
        },
        _ => return Err(PageError::Api(ApiError::NoRoute)),
    };
    match outcome {
        Ok(response) => Ok(response),
        Err(extras) => {
            let status = if extras.error.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            let calc = extras.calc.as_ref().map(|(v, _, _)| v.clone());
            render(&state, &member, &case_ref, calc.as_deref(), extras, status).await
        }
    }
}

/// A form's address opened directly: the case page (whose own access check decides
/// what is shown). Only a well-formed reference is redirected to.
pub async fn reopened(
    axum::extract::Path((reference, _)): axum::extract::Path<(String, String)>,
) -> Result<Response, PageError> {
    let case_ref: CaseRef = reference.parse()?;
    Ok(Redirect::to(&format!("/desk/cases/{case_ref}")).into_response())
}

/// The page's file forms (a private patch, testing evidence), sent as multipart.
pub async fn upload(
    AxumState(state): AxumState<AppState>,
    member: Member,
    axum::extract::Path((reference, what)): axum::extract::Path<(String, String)>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let case_ref: CaseRef = reference.parse()?;
    if !matches!(what.as_str(), "patch" | "evidence") {
        return Err(PageError::Api(ApiError::NoRoute));
    }
    // Who may act is settled before the form is read.
    state
        .store
        .check_access(
            &member.viewer,
            &case_ref,
            embargo_core::access::Need::Contribute,
        )
        .await?;
    let (form, files) = match crate::web::fix::read_form(&mut multipart).await {
        Ok(read) => read,
        Err(message) => {
            return show_refusal(&state, &member, &case_ref, message, &HashMap::new()).await;
        }
    };
    member.check(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let done =
        crate::web::fix::apply_upload(&state, &member.viewer, &case_ref, &what, &form, files).await;
    let message = match done {
        Ok(()) => {
            return Ok(
                Redirect::to(&format!("/desk/cases/{case_ref}?done={what}#fix")).into_response(),
            );
        }
        Err(crate::web::fix::UploadRefused::Message(m)) => m,
        Err(crate::web::fix::UploadRefused::Store(e)) => {
            store_refusal(e, &form)?.error.unwrap_or_default()
        }
    };
    show_refusal(&state, &member, &case_ref, message, &form).await
}

/// The case page again with a refusal above it and what was typed kept.
async fn show_refusal(
    state: &AppState,
    member: &Member,
    case_ref: &CaseRef,
    message: String,
    form: &HashMap<String, String>,
) -> Result<Response, PageError> {
    render(
        state,
        member,
        case_ref,
        None,
        refused(message, form),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

fn refused(message: String, form: &HashMap<String, String>) -> Extras {
    Extras {
        error: Some(message),
        typed: form.clone(),
        ..Extras::default()
    }
}

/// A refusal the person can act on becomes a message on the page; anything else (the
/// case is not theirs, the server failed) answers as an error page.
fn store_refusal(e: StoreError, form: &HashMap<String, String>) -> Result<Extras, PageError> {
    api_refusal(ApiError::Store(e), form)
}

fn api_refusal(e: ApiError, form: &HashMap<String, String>) -> Result<Extras, PageError> {
    let (status, message) = e.public_status_and_message();
    // CVE Services' refusals (502) are the person's to act on too.
    let actionable = (status.is_client_error()
        && status != StatusCode::NOT_FOUND
        && status != StatusCode::UNAUTHORIZED)
        || status == StatusCode::BAD_GATEWAY;
    if actionable {
        Ok(refused(message, form))
    } else {
        Err(PageError::Api(e))
    }
}

/// A section of the case page: one this viewer's role does not have is left out; a fault
/// (the database, a seal) is an error page with its request id, never an empty section.
fn section<T: Default>(result: Result<T, StoreError>) -> Result<T, PageError> {
    match result {
        Ok(value) => Ok(value),
        Err(StoreError::NotFound(_) | StoreError::Forbidden(_)) => Ok(T::default()),
        Err(e) => Err(e.into()),
    }
}

async fn render(
    state: &AppState,
    member: &Member,
    case_ref: &CaseRef,
    calc: Option<&str>,
    extras: Extras,
    status: StatusCode,
) -> Result<Response, PageError> {
    let store = &state.store;
    let viewer = &member.viewer;
    let case = store.case(viewer, case_ref).await?;
    // Someone outside the team (a collaborator) gets their own page, with no team form.
    if !viewer.can_see_project(store.project(&case.project).await?.id) {
        return super::collaborator::render(
            state,
            member,
            case_ref,
            extras.info.as_deref(),
            extras.error.as_deref(),
            &extras.typed,
            status,
        )
        .await;
    }
    let timeline = store.timeline(viewer, case_ref).await?;
    let checklist = section(store.checklist(viewer, case_ref).await)?;
    let attachments = section(store.attachments(viewer, case_ref).await)?;
    let project = store.project(&case.project).await?;
    let team = viewer.can_see_project(project.id);
    let (duplicates, canned, collaborators) = if team {
        let project = case.project.clone();
        (
            section(store.duplicates(viewer, case_ref).await)?,
            section(store.canned_responses(viewer, &project).await)?,
            section(store.collaborators(viewer, case_ref).await)?,
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let team_members = section(store.project_members(&case.project).await)?;
    let late_stage = matches!(case.state, State::FixReady | State::ReleasePending);
    let (plan, preview) = if team && late_stage {
        (
            Some(
                store
                    .rehearse_disclosure(viewer, case_ref, &state.public_url)
                    .await
                    .map_err(readable),
            ),
            Some(
                store
                    .announcement_preview(viewer, case_ref, &state.public_url)
                    .await
                    .map_err(readable),
            ),
        )
    } else {
        (None, None)
    };
    let r = case.reference.to_string();
    let csrf = member.csrf.as_str();
    let typed = |name: &str, stored: String| extras.typed.get(name).cloned().unwrap_or(stored);
    let calc_version = calc
        .filter(|v| calculator::known(v))
        .map(str::to_owned)
        .or_else(|| {
            case.cvss
                .as_ref()
                .map(|c| c.version.to_string())
                .filter(|v| calculator::known(v))
        })
        .unwrap_or_else(|| "3.1".into());
    let (calc_vector, calc_outcome) = match &extras.calc {
        Some((_, vector, outcome)) => (Some(vector.clone()), Some(outcome.clone())),
        // The saved rating shows its score, scored by the same code as the calculator.
        None => (
            case.cvss.as_ref().map(|c| c.vector.clone()),
            case.cvss
                .as_ref()
                .map(|c| embargo_core::cvss::Cvss::parse(&c.vector).map_err(|e| e.to_string())),
        ),
    };
    let draft = extras
        .draft
        .clone()
        .unwrap_or_else(|| case.advisory.clone());
    // Reserving an ID is offered only where the organisation can reserve one, to whoever
    // may: the foundation team, or a project team it delegated to.
    let reservation = match team && case.cve_id.is_none() {
        true => section(store.cve_reservation(viewer, case_ref).await.map(Some))?,
        false => None,
    };
    // The fix per branch, once there is a vulnerability to fix.
    let fixes = match case.state.is_confirmed() {
        true => section(store.fixes(viewer, case_ref).await.map(Some))?,
        false => None,
    };
    // Triage: every member's view, while views are given.
    let triage = match team && matches!(case.state, State::Reported | State::Triage) {
        true => section(store.triage_views(viewer, case_ref).await.map(Some))?,
        false => None,
    };
    // The preview is the published page's own rendering, of the draft as typed.
    let published = if team {
        section(
            store
                .advisory_as_published(viewer, case_ref, Some(&draft), &state.public_url)
                .await
                .map(Some),
        )?
    } else {
        None
    };
    let thread: Vec<_> = timeline
        .iter()
        .filter(|e| e.kind.is_correspondence())
        .collect();
    // After the announcement: the archive, the CVE record, CHANGES and NEWS.
    let after = match team && case.state.is_announced() {
        true => Some(super::after::After {
            advisory_url: case.advisory_url.clone(),
            cve_id: case.cve_id.clone(),
            cve_published: case.cve_state.as_ref().is_some_and(|s| s.is_published()),
            cve_services: section(store.cve_reservation(viewer, case_ref).await.map(Some))?
                .is_some_and(|r| r.configured),
            changes: store
                .changes_entry(viewer, case_ref, &state.public_url)
                .await
                .map_err(readable),
        }),
        false => None,
    };
    // The sections of the work at hand are open; the others are a click away (and open
    // by themselves when the sidebar links to them).
    let open_advisory = matches!(
        case.state,
        State::Fixing | State::FixReady | State::ReleasePending
    ) || extras.draft.is_some()
        || extras.typed.keys().any(|k| k.starts_with("a_"));
    let open_fix = matches!(
        case.state,
        State::Confirmed | State::Fixing | State::FixReady
    ) || !extras.typed.is_empty();
    let body = html! {
        nav.breadcrumb aria-label="Breadcrumb" { a href="/desk" { "Queue" } " › " (r) }
        h1 { (r) ": " (case.title) }
        p.summary {
            (state_badge(case.state)) " "
            @if let Some(c) = &case.cvss { span class={ "severity " (c.severity.to_string().to_lowercase()) } { "CVSS " (format!("{:.1}", c.score)) " " (c.severity) } " " }
            @if let Some(at) = &case.embargo_at { "Embargo until " time datetime=(at) { (short_time(at)) } }
            @else { "No embargo date yet" }
        }
        @if let Some(e) = &extras.error { (notice("error", e)) }
        @if let Some(i) = &extras.info { (notice("info", i)) }
        div.case-layout {
        aside.case-side aria-label="The case at a glance" {
            dl.glance {
                dt { "State" } dd { (state_badge(case.state)) }
                dt { "Severity" } dd {
                    @if let Some(c) = &case.cvss { span class={ "severity " (c.severity.to_string().to_lowercase()) } { (format!("{:.1}", c.score)) " " (c.severity) } }
                    @else { "not rated" }
                }
                dt { "CVE" } dd { (case.cve_id.clone().unwrap_or_else(|| "none yet".into())) }
                dt { "Embargo" } dd {
                    @if let Some(at) = &case.embargo_at { time datetime=(at) { (short_time(at)) } }
                    @else { "no date yet" }
                }
                dt { "Owner" } dd { (case.owner.clone().unwrap_or_else(|| "nobody".into())) }
                @if case.state.is_open() {
                    dt { "Clocks" } dd.clocks {
                        (clock_badge("acknowledge", &case.clocks.acknowledgement))
                        @if let Some(m) = &case.clocks.mitigation { br; (clock_badge("mitigate", m)) }
                        @if let Some(a) = &case.clocks.announcement { br; (clock_badge("announce", a)) }
                    }
                }
                dt { "People" } dd {
                    (team_members.len()) " on the team"
                    @if !collaborators.is_empty() { ", " (collaborators.len()) " collaborator" @if collaborators.len() > 1 { "s" } }
                }
            }
        nav.sections aria-label="Sections of the case" {
            ul {
                li { a href="#next" { "Next steps" } }
                li { a href="#details" { "Details" } }
                li { a href="#cvss" { "CVSS" } }
                li { a href="#advisory" { "Advisory" } }
                @if late_stage { li { a href="#announcement" { "Disclosure" } } }
                @if after.is_some() { li { a href="#after" { "After the announcement" } } }
                @if fixes.is_some() { li { a href="#fix" { "Fix" } } }
                li { a href="#checklist" { "Checklist" } }
                li { a href="#thread" { "Thread" } }
                li { a href="#timeline" { "Timeline" } }
            }
        }
        }
        div.case-main {
        section #next aria-labelledby="next-h" {
            h2 #next-h { "Next steps" }
            p.clocks {
                @if case.state.is_open() {
                    (clock_badge("acknowledge", &case.clocks.acknowledgement))
                    @if let Some(m) = &case.clocks.mitigation { " " (clock_badge("mitigate", m)) }
                    @if let Some(a) = &case.clocks.announcement { " " (clock_badge("announce", a)) }
                    @if case.clocks.stalled { " " span.clock.stalled { "stalled: no activity for " (case.clocks.stall_days) " days" } }
                } @else { "No clocks run on a case in this state." }
            }
            @if case.next_states.is_empty() {
                p { "Nothing more to do on this case." }
            }
            @if let Some(t) = &triage {
                section.views aria-labelledby="views-h" {
                    h3 #views-h { "Views" }
                    @if t.views.is_empty() {
                        p { "No view given yet." }
                    } @else {
                        ul #views {
                            @for v in &t.views {
                                li { strong { (v.member) } ": " (v.disposition.label()) @if let Some(d) = &v.duplicate_of { " of " (d) } ". " (v.reason) }
                            }
                        }
                        p #agreement { @match t.agreed { Some(d) => { "All views agree: " (d.label()) "." }, None => { "The views differ." } } }
                    }
                    @if !t.waiting.is_empty() { p #waiting { "Not given yet: " (t.waiting.join(", ")) } }
                    form.stack method="post" action={ "/desk/cases/" (r) "/view" } {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="view-disposition" { "Your view" }
                        select #view-disposition name="disposition" {
                            @for d in embargo_core::triage::Disposition::ALL { option value=(d.as_str()) { (d.label()) } }
                        }
                        label for="view-reason" { "Why" }
                        textarea #view-reason name="view_reason" rows="2" required {}
                        label for="view-dup" { "Duplicate of (for a probable duplicate)" }
                        input #view-dup type="text" name="view_duplicate_of" placeholder="CLOUDSTACK-SEC-1";
                        button type="submit" { "Give your view" }
                    }
                    @if !t.waiting.is_empty() {
                        form.stack method="post" action={ "/desk/cases/" (r) "/request-views" } {
                            input type="hidden" name="csrf" value=(csrf);
                            fieldset {
                                legend { "Ask for their view (by mail, naming the case only)" }
                                @for (i, m) in t.waiting.iter().enumerate() {
                                    input id={ "ask-" (i) } type="checkbox" name={ "ask_" (m) };
                                    label for={ "ask-" (i) } { (m) }
                                }
                            }
                            button type="submit" { "Ask" }
                        }
                    }
                }
            }
            div.transitions {
                @for to in &case.next_states {
                    (transition_form(&r, csrf, *to, &extras.typed))
                }
            }
        }
        section #details aria-labelledby="details-h" {
            h2 #details-h { "Details" }
            dl.facts {
                dt { "Project" } dd { (case.project) }
                dt { "Received" } dd { time datetime=(case.received_at) { (short_time(&case.received_at)) } " by " (case.channel.as_str()) }
                dt { "Reporter" } dd { (case.reporter.name.clone().unwrap_or_else(|| "anonymous".into())) @if let Some(e) = &case.reporter.email { " <" (e) ">" } }
                dt { "Owner" } dd #owner { (case.owner.clone().unwrap_or_else(|| "nobody yet".into())) }
                dt { "CVE ID" } dd {
                    @match (&case.cve_id, &case.cve_state) {
                        (Some(id), Some(s)) => { (id) " (" (s.state) ")" },
                        (Some(id), None) => { (id) " (entered by hand)" },
                        _ => { "none yet" },
                    }
                }
            }
            @if let Some(reservation) = reservation {
                @if reservation.configured && reservation.may_reserve {
                    form.inline method="post" action={ "/desk/cases/" (r) "/cve-reserve" } {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" { "Reserve a CVE ID" }
                    }
                } @else if reservation.configured {
                    p { "CVE IDs are reserved by the foundation security team, the organisation's CNA: ask them for one, or to delegate reservation to this project. An ID they assign goes in the details below." }
                } @else {
                    p { "Reserving a CVE ID here needs the organisation's CVE Services credentials, which an administrator sets up. An ID assigned elsewhere goes in the details below." }
                }
            }
            form.inline method="post" action={ "/desk/cases/" (r) "/owner" } {
                input type="hidden" name="csrf" value=(csrf);
                label for="owner-select" { "Owner" }
                select #owner-select name="owner" {
                    option value="" { "Nobody" }
                    @for m in &team_members {
                        option value=(m.email) selected[case.owner.as_deref() == Some(m.email.as_str())] { (m.email) }
                    }
                }
                button type="submit" { "Set the owner" }
            }
            details.description { summary { "The report" } pre.text { (case.description) } }
            form.stack method="post" action={ "/desk/cases/" (r) "/details" } {
                input type="hidden" name="csrf" value=(csrf);
                label for="d-title" { "Title" }
                input #d-title type="text" name="title" value=(typed("title", case.title.clone()));
                label for="d-embargo" { "Embargo until (UTC)" }
                input #d-embargo type="datetime-local" step="1" name="embargo_at" value=(typed("embargo_at", case.embargo_at.as_deref().map(local_input).unwrap_or_default()));
                label for="d-cve" { "CVE ID" }
                input #d-cve type="text" name="cve_id" placeholder="CVE-2026-12345" value=(typed("cve_id", case.cve_id.clone().unwrap_or_default()));
                label for="d-affected" { "Affected versions (one per line)" }
                textarea #d-affected name="affected" rows="2" { (typed("affected", case.versions.affected.join("\n"))) }
                label for="d-fixed" { "Fixed in (one per line)" }
                textarea #d-fixed name="fixed" rows="2" { (typed("fixed", case.versions.fixed.join("\n"))) }
                label for="d-terms" { "Words the commit guard blocks (one per line)" }
                textarea #d-terms name="sensitive_terms" rows="2" { (typed("sensitive_terms", case.sensitive_terms.join("\n"))) }
                button type="submit" { "Save the details" }
            }
        }
        section #cvss aria-labelledby="cvss-h" {
            h2 #cvss-h { "CVSS" }
            // Both ratings when there are two; the newest is the case's own, and each
            // version's calculator replaces only its own.
            @for c in &case.ratings {
                @let primary = case.cvss.as_ref().is_some_and(|p| p.vector == c.vector);
                p.saved-rating {
                    "Saved (CVSS " (c.version) "): " code { (c.vector) } " scores "
                    @if primary { strong #saved-score { (format!("{:.1}", c.score)) } } @else { strong { (format!("{:.1}", c.score)) } }
                    " (" (c.severity) ")"
                }
            }
            (calculator::render(&r, csrf, &calc_version, calc_vector.as_deref(), calc_outcome.as_ref()))
        }
        section #advisory aria-labelledby="advisory-h" {
            details.part open[open_advisory] {
            summary { h2 #advisory-h { "Advisory" } }
            div.editor {
                form #advisory-editor.stack method="post" action={ "/desk/cases/" (r) "/advisory" } data-preview={ "/desk/cases/" (r) "/advisory" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="a-title" { "Title" }
                    input #a-title type="text" name="a_title" value=(typed("a_title", draft.title.clone()));
                    label for="a-description" { "Description" }
                    textarea #a-description name="a_description" rows="6" { (typed("a_description", draft.description.clone())) }
                    label for="a-mitigation" { "Mitigation" }
                    textarea #a-mitigation name="a_mitigation" rows="3" { (typed("a_mitigation", draft.mitigation.clone())) }
                    label for="a-workarounds" { "Workarounds" }
                    textarea #a-workarounds name="a_workarounds" rows="2" { (typed("a_workarounds", draft.workarounds.clone())) }
                    label for="a-cwe" { "CWE" }
                    input #a-cwe type="text" name="a_cwe" placeholder="CWE-79" value=(typed("a_cwe", draft.cwe.clone().unwrap_or_default()));
                    @if let Some(warning) = draft.cwe.as_deref().and_then(|c| embargo_core::cwe::lookup(c).ok()).and_then(|w| w.warning()) {
                        (notice("warning", &warning))
                    }
                    label for="a-credits" { "Credits, one per line: Name (role)" }
                    textarea #a-credits name="a_credits" rows="2" { (typed("a_credits", credits_text(&draft.credits))) }
                    label for="a-references" { "References, one URL per line" }
                    textarea #a-references name="a_references" rows="2" { (typed("a_references", draft.references.join("\n"))) }
                    div.actions {
                        button type="submit" name="intent" value="preview" { "Preview" }
                        button type="submit" name="intent" value="save" { "Save the draft" }
                    }
                }
                section.preview aria-labelledby="preview-h" {
                    h3 #preview-h { "Preview" }
                    div #advisory-preview aria-live="polite" {
                        @if let Some(a) = &published { (advisory::article(a, advisory::Place::Preview)) }
                    }
                }
            }
            }
        }
        @if late_stage {
            section #announcement aria-labelledby="announcement-h" {
                details.part open {
                summary { h2 #announcement-h { "Disclosure" } }
                @match &plan {
                    Some(Ok(plan)) => {
                        @if plan.scheduled {
                            (notice("info", "The announcement is scheduled."))
                            form.inline method="post" action={ "/desk/cases/" (r) "/unschedule" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" { "Cancel the schedule" }
                            }
                            p { "To move it later, change the embargo date: the mails wait for the new time. To bring it earlier, cancel and schedule again." }
                        }
                        ol.plan {
                            @for step in &plan.steps {
                                li {
                                    strong { (step.kind) } ": " (step.description)
                                    @if let Some(at) = &step.at { " at " time datetime=(at) { (short_time(at)) } }
                                    @if let Some(p) = &step.problem { br; span.problem { "Blocked: " (p) } }
                                }
                            }
                        }
                        @if plan.ready && !plan.scheduled {
                            form.inline method="post" action={ "/desk/cases/" (r) "/schedule" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" { "Schedule the announcement" }
                            }
                        }
                    },
                    Some(Err(e)) => { (notice("error", e)) },
                    None => {},
                }
                @match &preview {
                    Some(Ok(p)) => {
                        p { "To: " (p.lists.join(", ")) }
                        p { "Subject: " strong #announcement-subject { (p.subject) } }
                        pre.text #announcement-text { (p.text) }
                    },
                    Some(Err(e)) => { (notice("error", e)) },
                    None => {},
                }
                form.inline method="post" action={ "/desk/cases/" (r) "/prenotify" } {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { "Pre-notify the distributors" }
                }
                }
            }
        }
        @if let Some(a) = &after {
            (super::after::section(&r, csrf, a, extras.typed.get("advisory_url").map(String::as_str)))
        }
        @if let Some(board) = &fixes {
            (crate::web::fix::section(&r, csrf, board, team, open_fix, &extras.typed))
        }
        section #checklist aria-labelledby="checklist-h" {
            h2 #checklist-h { "Checklist" }
            @if checklist.is_empty() { p { "The checklist starts when the case is confirmed." } }
            ul.checklist {
                @for item in &checklist {
                    li class={ "item " (mark_class(item.status)) } {
                        span.label { (item.label) }
                        " " span.status { (mark_word(item.status)) }
                        @if let Some(by) = &item.by { " by " (by) }
                        @if item.manual && team {
                            form.inline method="post" action={ "/desk/cases/" (r) "/checklist" } {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="item" value=(item.key);
                                @if item.status == MarkStatus::Open {
                                    button type="submit" name="status" value="done" { "Done" }
                                    button type="submit" name="status" value="not-applicable" { "Does not apply" }
                                } @else {
                                    button type="submit" name="status" value="open" { "Reopen" }
                                }
                            }
                        }
                    }
                }
            }
        }
        section #thread aria-labelledby="thread-h" {
            h2 #thread-h { "External thread" }
            ol.thread {
                li.message.reporter { p.meta { "Report, " (short_time(&case.received_at)) } pre.text { (case.description) } }
                @for m in &thread {
                    @if m.kind == EventKind::ThirdPartyMessage {
                        li.message.third-party {
                            p.meta { "A third party, not the reporter, " (short_time(&m.at)) }
                            @match &m.detail {
                                Some(text) => {
                                    pre.text { (text) }
                                    @if team {
                                        div.actions {
                                            form method="post" action={ "/desk/cases/" (r) "/accept-sender" } {
                                                input type="hidden" name="csrf" value=(csrf);
                                                input type="hidden" name="event" value=(m.id);
                                                button type="submit" { "Accept the sender as a co-reporter" }
                                            }
                                            form method="post" action={ "/desk/cases/" (r) "/quarantine-message" } {
                                                input type="hidden" name="csrf" value=(csrf);
                                                input type="hidden" name="event" value=(m.id);
                                                button type="submit" { "Move the message to quarantine" }
                                            }
                                        }
                                    }
                                }
                                None => { p { em { "Moved to the project's quarantine." } } }
                            }
                        }
                    } @else {
                        li class={ "message " @if m.kind == EventKind::ReporterMessage { "reporter" } @else { "team" } } {
                            p.meta { @if m.kind == EventKind::ReporterMessage { "Reporter" } @else { "Team" } ", " (short_time(&m.at)) }
                            pre.text { (m.detail.clone().unwrap_or_default()) }
                        }
                    }
                }
            }
            @if team {
                form #reply-form.stack method="post" action={ "/desk/cases/" (r) "/reply" } {
                    input type="hidden" name="csrf" value=(csrf);
                    @if !canned.is_empty() {
                        label for="canned" { "Canned response (used when the reply is left empty)" }
                        select #canned name="canned" {
                            option value="" { "None" }
                            @for c in &canned { option value=(c.name) data-text=(c.text.replace("{ref}", &r)) { (c.name) } }
                        }
                    }
                    label for="reply-text" { "Reply to the reporter" }
                    textarea #reply-text name="text" rows="4" { (typed("text", String::new())) }
                    button type="submit" { "Send the reply" }
                }
            }
            @if !attachments.is_empty() {
                h3 { "Attachments" }
                ul.attachments {
                    @for a in &attachments {
                        li { a href={ "/api/cases/" (r) "/attachments/" (a.id) } { (a.filename) } " (" (a.size) " bytes" @if a.held_back { ", held back: over the size limit" } ")" }
                    }
                }
            }
        }
        section #timeline aria-labelledby="timeline-h" {
            h2 #timeline-h { "Notes and timeline" }
            @if team {
                form.stack method="post" action={ "/desk/cases/" (r) "/note" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="note-text" { "Internal note (never shown to the reporter)" }
                    textarea #note-text name="text" rows="3" {}
                    @if !collaborators.is_empty() {
                        label.check {
                            input type="checkbox" name="shared" value="yes";
                            " Put it in the collaborators' thread, for the case's collaborators to read"
                        }
                    }
                    button type="submit" { "Add the note" }
                }
            }
            ol.timeline reversed {
                @for e in timeline.iter().rev() {
                    li {
                        p.meta { time datetime=(e.at) { (short_time(&e.at)) } " · " (e.kind) @if let Some(a) = &e.actor { " · " (a) } }
                        @if let (Some(from), Some(to)) = (e.from_state, e.to_state) { p { (from.as_str()) " → " (to.as_str()) } }
                        @if let Some(d) = &e.detail { pre.text { (d) } }
                    }
                }
            }
        }
        @if team {
            section #people aria-labelledby="people-h" {
                h2 #people-h { "Collaborators and distributors" }
                @if !collaborators.is_empty() {
                    ul {
                        @for c in &collaborators {
                            li { (c.email) ": " @if c.revoked_at.is_some() { "access withdrawn" } @else if c.accepted_at.is_some() { "accepted the terms" } @else { "invited" } }
                        }
                    }
                }
                form.stack method="post" action={ "/desk/cases/" (r) "/invite" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="invite-email" { "Invite a collaborator to this case (their address)" }
                    input #invite-email type="email" name="email" required;
                    button type="submit" { "Invite" }
                }
                form.stack method="post" action={ "/desk/cases/" (r) "/distributor" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="distributor-email" { "Add a distributor contact to the project (their address)" }
                    input #distributor-email type="email" name="email" required;
                    button type="submit" { "Add the distributor" }
                }
            }
            section #duplicates aria-labelledby="duplicates-h" {
                h2 #duplicates-h { "Possible duplicates" }
                @if duplicates.is_empty() { p { "None proposed." } }
                ul.duplicates {
                    @for d in &duplicates {
                        li {
                            a href={ "/desk/cases/" (d.reference) } { (d.reference) } ": " (d.title) " " (state_badge(d.state)) " " span.score { "similarity " (format!("{:.0}%", d.score * 100.0)) }
                            @if case.next_states.contains(&State::Duplicate) {
                                form.stack method="post" action={ "/desk/cases/" (r) "/merge" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="duplicate_of" value=(d.reference);
                                    label for={ "merge-" (d.reference) } { "Message to the reporter" }
                                    textarea id={ "merge-" (d.reference) } name="message_to_reporter" rows="2" required { "Thank you: this is already known and tracked as " (d.reference) "; you are credited there too." }
                                    button type="submit" { "Merge into " (d.reference) }
                                }
                            }
                        }
                    }
                }
            }
        }
        }
        }
    };
    let mut response = layout::page(&format!("{r}: {}", case.title), Some(member), body);
    *response.status_mut() = status;
    Ok(response)
}

/// What a person may read of a store error: through the one error mapping, so a server
/// fault shows only its request id.
fn readable(e: StoreError) -> String {
    ApiError::Store(e).public_status_and_message().1
}

fn mark_class(status: MarkStatus) -> &'static str {
    match status {
        MarkStatus::Done => "done",
        MarkStatus::NotApplicable => "na",
        MarkStatus::Open => "open",
    }
}

fn mark_word(status: MarkStatus) -> &'static str {
    match status {
        MarkStatus::Done => "done",
        MarkStatus::NotApplicable => "does not apply",
        MarkStatus::Open => "to do",
    }
}
