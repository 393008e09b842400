//! The first-run page: opened from the one-time link `embargo serve` prints while nobody
//! can sign in, it does what `embargo init` does (the first administrator, the
//! organisation, the first project) and signs the administrator in.

use axum::extract::State as AxumState;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use embargo_core::reference::ProjectKey;
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::api::session::cookie;
use crate::error::ApiError;
use crate::extract::Path;
use crate::web::PageError;
use crate::web::form::{self, Form};
use crate::web::layout::{self, notice};

/// What the first-run form sends (and shows again after a refusal, password aside).
#[derive(Deserialize, Default)]
pub struct SetupForm {
    form_token: String,
    email: String,
    password: String,
    org: String,
    project: String,
    project_name: String,
}

fn form_page(
    secret: &str,
    typed: &SetupForm,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let (token, cookie) = form::anonymous_token();
    let body = html! {
        h1 { "Set up Embargo" }
        p { "Create the first administrator, your organisation and its first project. You can add more people and projects afterwards." }
        @if let Some(p) = problem { (notice("error", p)) }
        form.stack method="post" action={ "/setup/" (secret) } {
            input type="hidden" name="form_token" value=(token);
            label for="setup-email" { "Your email address (you become the administrator)" }
            input #setup-email type="email" name="email" autocomplete="username" required value=(typed.email);
            label for="setup-password" { "A password of at least 12 characters" }
            input #setup-password type="password" name="password" autocomplete="new-password" required minlength="12";
            label for="setup-org" { "Organisation, e.g. Apache Software Foundation" }
            input #setup-org type="text" name="org" required value=(typed.org);
            label for="setup-project" { "Project key: capitals and digits, e.g. CLOUDSTACK" }
            input #setup-project type="text" name="project" required pattern="[A-Z][A-Z0-9]*" value=(typed.project);
            label for="setup-name" { "Project name shown publicly, e.g. Apache CloudStack" }
            input #setup-name type="text" name="project_name" value=(typed.project_name);
            button type="submit" { "Set up" }
        }
    };
    let mut response = (status, layout::page("Set up Embargo", None, body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

fn not_valid() -> Response {
    let body = html! {
        h1 { "This setup link is not valid" }
        p { "It was used already, has expired (a link lasts an hour), or belongs to an earlier start of the server. Restart `embargo serve` for a new link, or run `embargo init` on the server." }
    };
    (
        StatusCode::NOT_FOUND,
        layout::page("Set up Embargo", None, body),
    )
        .into_response()
}

/// The first-run form, for the live link only.
pub async fn page(AxumState(state): AxumState<AppState>, Path(secret): Path<String>) -> Response {
    if !state.setup.valid(&secret) {
        return not_valid();
    }
    form_page(&secret, &SetupForm::default(), None, StatusCode::OK)
}

/// Sets the installation up, spends the link and signs the administrator in.
pub async fn submit(
    AxumState(state): AxumState<AppState>,
    headers: HeaderMap,
    Path(secret): Path<String>,
    Form(f): Form<SetupForm>,
) -> Result<Response, PageError> {
    if !state.setup.valid(&secret) {
        return Ok(not_valid());
    }
    form::check_anonymous(&headers, &f.form_token)?;
    let refused = |message: String| {
        Ok(form_page(
            &secret,
            &f,
            Some(&message),
            StatusCode::UNPROCESSABLE_ENTITY,
        ))
    };
    let key: ProjectKey = match f.project.trim().parse() {
        Ok(key) => key,
        Err(e) => return refused(format!("{e}")),
    };
    let first = embargo_store::FirstRun {
        email: f.email.trim(),
        password: &f.password,
        org: &f.org,
        project: &key,
        project_name: f.project_name.trim(),
        branches: &[],
    };
    let user = match state.store.initialise(&first).await {
        Ok(user) => user,
        Err(e) => {
            let (status, message) = ApiError::Store(e).public_status_and_message();
            if status.is_client_error() {
                return refused(message);
            }
            return Err(PageError::Api(ApiError::BadRequest(message)));
        }
    };
    state.setup.spend();
    tracing::info!(project = %key, "installation set up from the first-run link");
    let session = state.store.create_session(user.id).await?;
    let mut response = Redirect::to("/desk/account").into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie(&session, 12 * 3600)?);
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_static(form::SPENT_FORM_COOKIE),
    );
    Ok(response)
}
