//! The reporter's side: the public report form of a project, and the page their secret
//! link opens (status, the external thread, a reply, a file upload).

use axum::extract::{Multipart, Path, State as AxumState};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use embargo_core::case::CreditChoice;
use embargo_core::reference::ProjectKey;
use embargo_store::{StoreError, Upload};
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::actions::ReportRefused;
use crate::client::ClientAddr;
use crate::error::ApiError;
use crate::web::PageError;
use crate::web::form::{self, Form, given};
use crate::web::layout::{self, notice, short_time, state_badge};

/// The largest file a reporter may upload on their page.
pub const UPLOAD_LIMIT: usize = 10 * 1024 * 1024;

/// What the report form sends.
#[derive(Deserialize, Default, Clone)]
pub struct ReportForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    exploitation: String,
    #[serde(default)]
    affected_versions: String,
    #[serde(default)]
    other: String,
    email: Option<String>,
    name: Option<String>,
    /// The honeypot: hidden from people, filled in by bots.
    #[serde(default)]
    website: String,
}

/// A file sent with the report form.
struct Attached {
    filename: String,
    content_type: String,
    bytes: axum::body::Bytes,
}

/// Reads the report form (multipart, for its file). A part over the limit is refused
/// whole, with the limit named, and nothing is filed.
async fn read_report(mut multipart: Multipart) -> Result<(ReportForm, Option<Attached>), String> {
    let mut form = ReportForm::default();
    let mut file = None;
    let too_big =
        || format!("the upload could not be read; a file may be up to {UPLOAD_LIMIT} bytes");
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return Err(too_big()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let filename = field.file_name().unwrap_or_default().to_owned();
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let bytes = field.bytes().await.map_err(|_| too_big())?;
            if bytes.len() > UPLOAD_LIMIT {
                return Err(too_big());
            }
            // A file input left empty still sends a part, without a name or bytes.
            if !filename.is_empty() || !bytes.is_empty() {
                file = Some(Attached {
                    filename,
                    content_type,
                    bytes,
                });
            }
            continue;
        }
        let value = field.text().await.map_err(|_| too_big())?;
        match name.as_str() {
            "form_token" => form.form_token = value,
            "title" => form.title = value,
            "description" => form.description = value,
            "exploitation" => form.exploitation = value,
            "affected_versions" => form.affected_versions = value,
            "other" => form.other = value,
            "email" => form.email = Some(value),
            "name" => form.name = Some(value),
            "website" => form.website = value,
            _ => {}
        }
    }
    Ok((form, file))
}

/// The ways in to a project's security team, as the public pages name them: its name,
/// its security contacts, and its team's OpenPGP key's fingerprint, if it has one.
pub(crate) struct Door {
    pub name: String,
    pub contacts: Vec<String>,
    pub fingerprint: Option<String>,
}

pub(crate) async fn door(state: &AppState, key: &ProjectKey) -> Result<Door, StoreError> {
    let project = state.store.project(key).await?;
    Ok(Door {
        name: match project.name.trim() {
            "" => key.to_string(),
            name => name.to_owned(),
        },
        contacts: project.disclosure.security_contacts,
        fingerprint: state
            .store
            .team_public_key(key)
            .await?
            .map(|k| k.fingerprint),
    })
}

/// The other ways in, said on the report form and the project's public page.
pub(crate) fn other_ways(key: &str, door: &Door) -> maud::Markup {
    html! {
        @if door.contacts.is_empty() {
            p { "Prefer email? Write to the project's security address." }
        } @else {
            p {
                "Prefer email? Write to "
                @for (i, c) in door.contacts.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(c) { (c.strip_prefix("mailto:").unwrap_or(c)) }
                }
                "."
            }
        }
        @if let Some(fingerprint) = &door.fingerprint {
            p {
                "Mail encrypted to " a href={ "/api/public/projects/" (key) "/openpgp-key" } { "the team's OpenPGP key" }
                " is welcome. Its fingerprint: " code.fingerprint { (fingerprint) }
            }
        }
    }
}

fn report_page(
    key: &str,
    door: &Door,
    typed: &ReportForm,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let (token, cookie) = form::anonymous_token();
    let body = html! {
        h1 { "Report a security vulnerability in " (door.name) }
        p { "Your report goes to the project's security team only. You get a reference and a private link to follow the case and reply. If you can, say how to reproduce the problem and which versions are affected." }
        (other_ways(key, door))
        @if let Some(p) = problem { (notice("error", p)) }
        form.stack method="post" action={ "/projects/" (key) "/report" } enctype="multipart/form-data" {
            input type="hidden" name="form_token" value=(token);
            label for="r-title" { "Short title" }
            input #r-title type="text" name="title" required maxlength="300" value=(typed.title);
            label for="r-description" { "The vulnerability" }
            textarea #r-description name="description" rows="8" required { (typed.description) }
            label for="r-exploitation" { "How it might be exploited (steps to reproduce, a proof of concept)" }
            textarea #r-exploitation name="exploitation" rows="5" { (typed.exploitation) }
            label for="r-versions" { "Affected versions" }
            input #r-versions type="text" name="affected_versions" maxlength="1000" value=(typed.affected_versions);
            label for="r-other" { "Anything else useful (configuration, logs)" }
            textarea #r-other name="other" rows="3" { (typed.other) }
            label for="r-file" { "A file (optional, up to 10 MiB): a proof of concept, a log" }
            input #r-file type="file" name="file";
            label for="r-email" { "Your email address (for the acknowledgement and replies)" }
            input #r-email type="email" name="email" autocomplete="email" value=(typed.email.clone().unwrap_or_default());
            label for="r-name" { "Your name, for credit (optional)" }
            input #r-name type="text" name="name" autocomplete="name" value=(typed.name.clone().unwrap_or_default());
            div.honeypot aria-hidden="true" {
                label for="r-website" { "Leave this empty" }
                input #r-website type="text" name="website" tabindex="-1" autocomplete="off";
            }
            button type="submit" { "Send the report" }
        }
    };
    let mut response = (
        status,
        layout::page(
            &format!("Report a vulnerability in {}", door.name),
            None,
            body,
        ),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// The public report form of a project.
pub async fn form(
    AxumState(state): AxumState<AppState>,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    let key: ProjectKey = key.parse()?;
    let door = door(&state, &key).await?;
    Ok(report_page(
        key.as_str(),
        &door,
        &ReportForm::default(),
        None,
        StatusCode::OK,
    ))
}

/// Files a report from the form: rate-limited per address, with a honeypot.
pub async fn file(
    AxumState(state): AxumState<AppState>,
    ClientAddr(client): ClientAddr,
    Path(key): Path<String>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Response, PageError> {
    use axum::extract::FromRequest;
    let key: ProjectKey = key.parse()?;
    let door = door(&state, &key).await?;
    // The page sends multipart (for its file); a script may send the plain encoding.
    let multipart = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let read = match multipart {
        true => match Multipart::from_request(request, &state).await {
            Ok(parts) => read_report(parts).await,
            Err(_) => Err("the form could not be read".to_owned()),
        },
        false => {
            let axum::Form(f) = axum::Form::<ReportForm>::from_request(request, &state).await?;
            Ok((f, None))
        }
    };
    let (f, attached) = match read {
        Ok(read) => read,
        Err(message) => {
            return Ok(report_page(
                key.as_str(),
                &door,
                &ReportForm::default(),
                Some(&format!("{message}; nothing was sent.")),
                StatusCode::PAYLOAD_TOO_LARGE,
            ));
        }
    };
    if form::check_anonymous(&headers, &f.form_token).is_err() {
        return Ok(report_page(
            key.as_str(),
            &door,
            &f,
            Some(
                "This form was sent already, or has expired; nothing was sent now. If you sent it before, your reference and private link are on the page you saw then; otherwise please send it again.",
            ),
            StatusCode::FORBIDDEN,
        ));
    }
    let report = crate::actions::PublicReport {
        title: &f.title,
        description: &f.description,
        exploitation: &f.exploitation,
        affected_versions: &f.affected_versions,
        other: &f.other,
        name: given(&f.name),
        email: given(&f.email),
        trap: &f.website,
    };
    match crate::actions::file_public_report(&state, client, &key, report).await {
        Ok(Err(ReportRefused::TooMany)) => Ok(report_page(
            key.as_str(),
            &door,
            &f,
            Some(
                "Too many reports from this address; please try again in an hour or write to the security address.",
            ),
            StatusCode::TOO_MANY_REQUESTS,
        )),
        Ok(Err(ReportRefused::Trap)) => Ok(report_page(
            key.as_str(),
            &door,
            &ReportForm::default(),
            Some("The report could not be accepted."),
            StatusCode::BAD_REQUEST,
        )),
        Ok(Ok(filed)) => {
            // The report is filed first: a file that cannot be kept is said so on the
            // page, with the link to send it again, and loses nothing else.
            let mut attached_note = None;
            if let Some(file) = attached {
                let upload = Upload {
                    filename: &file.filename,
                    content_type: &file.content_type,
                    bytes: &file.bytes,
                    limit: UPLOAD_LIMIT,
                };
                attached_note = Some(
                    match state
                        .store
                        .attach_to_new_report(&filed.secret, upload)
                        .await
                    {
                        Ok(_) => format!("Your file {} is attached to the report.", file.filename),
                        Err(e) => format!(
                            "Your file could not be attached ({}); send it again from your private link.",
                            ApiError::Store(e).public_status_and_message().1
                        ),
                    },
                );
            }
            let link = format!("{}/reporter/{}", state.public_url, filed.secret);
            let body = html! {
                h1 { "Thank you: your report is in" }
                p { "Your reference is " strong #reference { (filed.reference) } "." }
                @if let Some(note) = &attached_note { p #attachment { (note) } }
                p { "Keep this private link to follow the case and reply; it is shown only now:" }
                p { a #secret-link href={ "/reporter/" (filed.secret) } { (link) } }
                p { "The team acknowledges every report within a few working days." }
            };
            Ok((
                StatusCode::CREATED,
                [(axum::http::header::SET_COOKIE, form::SPENT_FORM_COOKIE)],
                layout::page("Report received", None, body),
            )
                .into_response())
        }
        Err(e) => {
            let (status, message) = ApiError::Store(e).public_status_and_message();
            if status.is_server_error() {
                return Ok(report_page(key.as_str(), &door, &f, Some(&message), status));
            }
            Ok(report_page(
                key.as_str(),
                &door,
                &f,
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

async fn reporter_page(
    state: &AppState,
    secret: &str,
    problem: Option<&str>,
    info: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let view = state.store.reporter_view(secret).await?;
    let body = html! {
        h1 { "Your report " (view.reference) }
        p.summary { "Status: " (state_badge(view.state)) " · received " time datetime=(view.received_at) { (short_time(&view.received_at)) } }
        p { (describe(view.state)) }
        @if view.state.is_announced() {
            p { a #advisory-link href={ "/advisories/" (view.reference) } { "Read the published advisory" } }
        }
        @if let Some(p) = problem { (notice("error", p)) }
        @if let Some(i) = info { (notice("info", i)) }
        section aria-labelledby="thread-h" {
            h2 #thread-h { "Messages" }
            ol.thread {
                @for m in &view.thread {
                    li class={ "message " (m.from) } {
                        p.meta { @if m.from == "team" { "Security team" } @else { "You" } ", " (short_time(&m.at)) }
                        pre.text { (m.text) }
                    }
                }
            }
        }
        @if view.state.is_open() && !view.state.is_announced() {
            section #embargo-date aria-labelledby="embargo-h" {
                h2 #embargo-h { "Embargo date" }
                @match (&view.embargo_at, &view.embargo_agreed_at) {
                    (None, _) => { p { "The team has not proposed a date for the announcement yet." } },
                    (Some(at), Some(_)) => {
                        p { "The announcement is planned for " time datetime=(at) { (short_time(at)) } ", as agreed." }
                    },
                    (Some(at), None) => {
                        p { "The team proposes to announce on " time datetime=(at) { (short_time(at)) } "." }
                        form.inline method="post" action={ "/reporter/" (secret) "/embargo" } {
                            button type="submit" name="intent" value="accept" { "Accept this date" }
                        }
                    },
                }
                @if view.embargo_at.is_some() {
                    form.stack method="post" action={ "/reporter/" (secret) "/embargo" } {
                        label for="propose-at" { "Propose another date (UTC)" }
                        input #propose-at type="datetime-local" step="60" name="propose_at" required;
                        label for="propose-note" { "Why (optional)" }
                        textarea #propose-note name="note" rows="2" {}
                        button type="submit" name="intent" value="propose" { "Propose this date" }
                    }
                }
            }
        }
        section aria-labelledby="credit-h" {
            h2 #credit-h { "Credit" }
            p { "How should the advisory credit you?" }
            form.stack method="post" action={ "/reporter/" (secret) "/credit" } {
                @let chosen = |c: &str| matches!(
                    (&view.credit, c),
                    (Some(CreditChoice::Name), "name")
                        | (Some(CreditChoice::Anonymous), "anonymous")
                        | (Some(CreditChoice::Handle { .. }), "handle")
                );
                fieldset {
                    legend { "Credit me" }
                    @if let Some(name) = &view.name_on_file {
                        input #credit-name type="radio" name="choice" value="name" checked[chosen("name")];
                        label for="credit-name" { "by my name: " (name) }
                    }
                    input #credit-handle type="radio" name="choice" value="handle" checked[chosen("handle")];
                    label for="credit-handle" { "by a handle" }
                    input #credit-anonymous type="radio" name="choice" value="anonymous" checked[chosen("anonymous")];
                    label for="credit-anonymous" { "not at all (anonymous)" }
                }
                label for="credit-handle-text" { "The handle (if by a handle)" }
                input #credit-handle-text type="text" name="handle" maxlength="100" value=(match &view.credit { Some(CreditChoice::Handle { handle }) => handle.as_str(), _ => "" });
                button type="submit" { "Save" }
            }
        }
        section #identity aria-labelledby="identity-h" {
            h2 #identity-h { "Who knows who you are" }
            @if view.identity_shared {
                p { "The security team, and the people it brings in to help with the fix (its collaborators, bound by confidentiality terms), may know your name and address." }
                form.inline method="post" action={ "/reporter/" (secret) "/identity" } {
                    input type="hidden" name="share" value="no";
                    button type="submit" { "Keep them with the security team only" }
                }
            } @else {
                p { "Your name and address stay with the security team. The people it brings in to help with the fix (its collaborators, bound by confidentiality terms) are not told who you are, unless you agree here." }
                form.inline method="post" action={ "/reporter/" (secret) "/identity" } {
                    input type="hidden" name="share" value="yes";
                    button type="submit" { "Let collaborators know who I am" }
                }
            }
        }
        section aria-labelledby="reply-h" {
            h2 #reply-h { "Reply" }
            form #reporter-reply.stack method="post" action={ "/reporter/" (secret) "/reply" } {
                label for="reply-text" { "Your message to the security team" }
                textarea #reply-text name="text" rows="5" required {}
                button type="submit" { "Send" }
            }
            form.stack method="post" action={ "/reporter/" (secret) "/upload" } enctype="multipart/form-data" {
                label for="upload-file" { "Attach a file (a proof of concept, a log; up to 10 MiB)" }
                input #upload-file type="file" name="file" required;
                button type="submit" { "Upload" }
            }
        }
    };
    let mut response = layout::page(&format!("Your report {}", view.reference), None, body);
    *response.status_mut() = status;
    Ok(response)
}

fn describe(state: embargo_core::lifecycle::State) -> &'static str {
    use embargo_core::lifecycle::State::*;
    match state {
        Reported => "The team has your report and will look at it soon.",
        Triage => "The team is investigating whether this is a vulnerability.",
        Invalid => "The team concluded this is not a vulnerability; see their message.",
        Duplicate => "This was already known to the team; see their message.",
        Confirmed => "The team confirmed the vulnerability and is planning a fix.",
        Fixing => "A fix is being developed.",
        FixReady => "A fix is ready and being prepared for release.",
        ReleasePending => {
            "A release with the fix is scheduled; please keep the issue private until the announcement."
        }
        Announced | Public | Closed => {
            "The vulnerability has been announced. Thank you for reporting it."
        }
    }
}

/// Which of the page's forms was just answered, after its redirect.
#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// What a form's success says on the page it redirects to.
fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "agreed" => Some("Thank you: the date is agreed."),
        "proposed" => Some("Your proposal is with the team."),
        "credit" => Some("Saved: the advisory will credit you as you chose."),
        "shared" => Some("Saved: the people the team brings in to help may know who you are."),
        "withheld" => Some("Saved: your name and address stay with the security team."),
        _ => None,
    }
}

/// The page a reporter's secret link opens.
pub async fn page(
    AxumState(state): AxumState<AppState>,
    Path(secret): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Done>,
) -> Result<Response, PageError> {
    reporter_page(&state, &secret, None, done_message(&q.done), StatusCode::OK).await
}

/// What the reply form sends.
#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    text: String,
}

/// A reply from the reporter: it joins the same thread as their email. The secret in the
/// address is what a form on another site cannot know, so it guards these forms.
pub async fn reply(
    AxumState(state): AxumState<AppState>,
    Path(secret): Path<String>,
    Form(f): Form<ReplyForm>,
) -> Result<Response, PageError> {
    match state.store.reporter_reply(&secret, &f.text).await {
        Ok(_) => Ok(Redirect::to(&format!("/reporter/{secret}")).into_response()),
        Err(e) => {
            let (status, message) = ApiError::Store(e).public_status_and_message();
            if status == StatusCode::UNPROCESSABLE_ENTITY {
                reporter_page(&state, &secret, Some(&message), None, status).await
            } else {
                Err(PageError::BadForm(message))
            }
        }
    }
}

/// A file from the reporter, kept sealed with the case.
pub async fn upload(
    AxumState(state): AxumState<AppState>,
    Path(secret): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    // The case must exist before anything is read.
    state.store.reporter_view(&secret).await?;
    let mut outcome = Err("choose a file to upload".to_owned());
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                outcome = Err(format!(
                    "the upload could not be read; files may be up to {UPLOAD_LIMIT} bytes"
                ));
                break;
            }
        };
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().unwrap_or("upload").to_owned();
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        match field.bytes().await {
            Ok(bytes) => {
                let file = Upload {
                    filename: &filename,
                    content_type: &content_type,
                    bytes: &bytes,
                    limit: UPLOAD_LIMIT,
                };
                outcome = state
                    .store
                    .reporter_upload(&secret, file)
                    .await
                    .map(|_| ())
                    .map_err(|e| ApiError::Store(e).public_status_and_message().1);
            }
            Err(_) => {
                outcome = Err(format!(
                    "the file is larger than the limit of {UPLOAD_LIMIT} bytes"
                ));
            }
        }
        break;
    }
    match outcome {
        Ok(()) => {
            reporter_page(
                &state,
                &secret,
                None,
                Some("Your file is uploaded."),
                StatusCode::OK,
            )
            .await
        }
        Err(message) => {
            reporter_page(
                &state,
                &secret,
                Some(&message),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// What the embargo form sends.
#[derive(Deserialize)]
pub struct EmbargoForm {
    #[serde(default)]
    intent: String,
    #[serde(default)]
    propose_at: String,
    #[serde(default)]
    note: String,
}

/// The reporter accepts the proposed date, or proposes another.
pub async fn embargo(
    AxumState(state): AxumState<AppState>,
    Path(secret): Path<String>,
    Form(f): Form<EmbargoForm>,
) -> Result<Response, PageError> {
    let outcome = match f.intent.as_str() {
        "accept" => state
            .store
            .reporter_accept_embargo(&secret)
            .await
            .map(|_| "agreed"),
        _ => match super::case_form::embargo_time(f.propose_at.trim()) {
            Ok(at) => state
                .store
                .reporter_propose_embargo(&secret, at, &f.note)
                .await
                .map(|_| "proposed"),
            Err(message) => {
                return reporter_page(
                    &state,
                    &secret,
                    Some(&message),
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        },
    };
    answered(&state, &secret, outcome).await
}

/// What the credit form sends.
#[derive(Deserialize)]
pub struct CreditForm {
    #[serde(default)]
    choice: String,
    #[serde(default)]
    handle: String,
}

/// The reporter chooses how to be credited.
pub async fn credit(
    AxumState(state): AxumState<AppState>,
    Path(secret): Path<String>,
    Form(f): Form<CreditForm>,
) -> Result<Response, PageError> {
    let choice = match f.choice.as_str() {
        "name" => CreditChoice::Name,
        "handle" => CreditChoice::Handle { handle: f.handle },
        _ => CreditChoice::Anonymous,
    };
    let outcome = state
        .store
        .reporter_choose_credit(&secret, choice)
        .await
        .map(|_| "credit");
    answered(&state, &secret, outcome).await
}

/// What the identity form sends: "yes" to share, anything else to withhold.
#[derive(Deserialize)]
pub struct IdentityForm {
    #[serde(default)]
    share: String,
}

/// The reporter agrees, or no longer agrees, that collaborators may know who they are.
pub async fn identity(
    AxumState(state): AxumState<AppState>,
    Path(secret): Path<String>,
    Form(f): Form<IdentityForm>,
) -> Result<Response, PageError> {
    let share = f.share == "yes";
    let outcome = state
        .store
        .reporter_share_identity(&secret, share)
        .await
        .map(|_| if share { "shared" } else { "withheld" });
    answered(&state, &secret, outcome).await
}

/// The outcome of a form: on success the page again by a redirect (a reload sends
/// nothing twice) saying what was done; a refusal the reporter can act on is shown there.
async fn answered(
    state: &AppState,
    secret: &str,
    outcome: Result<&str, embargo_store::StoreError>,
) -> Result<Response, PageError> {
    match outcome {
        Ok(done) => Ok(Redirect::to(&format!("/reporter/{secret}?done={done}")).into_response()),
        Err(e) => {
            let (status, message) = ApiError::Store(e).public_status_and_message();
            if status == StatusCode::UNPROCESSABLE_ENTITY {
                reporter_page(state, secret, Some(&message), None, status).await
            } else {
                Err(PageError::BadForm(message))
            }
        }
    }
}
