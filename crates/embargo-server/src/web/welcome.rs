//! A newcomer's invitation to a project's team, in the browser: the link in their mail
//! opens a page where they choose their own password; then they are signed in on their
//! account page, to turn on two-factor sign-in. Opening the link changes nothing.

use axum::extract::State as AxumState;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use embargo_store::StoreError;
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::api::session::cookie;
use crate::error::ApiError;
use crate::extract::Path;
use crate::web::PageError;
use crate::web::form::{self, Form};
use crate::web::layout::{self, notice};

fn form_page(secret: &str, problem: Option<&str>, status: StatusCode) -> Response {
    let (token, cookie) = form::anonymous_token();
    let body = html! {
        h1 { "Join the security team" }
        p { "Choose the password you will sign in with. Nobody else knows it, the administrator included." }
        @if let Some(p) = problem { (notice("error", p)) }
        form.stack method="post" action={ "/welcome/" (secret) } {
            input type="hidden" name="form_token" value=(token);
            label for="welcome-password" { "Password (12 characters or more)" }
            input #welcome-password type="password" name="password" autocomplete="new-password" minlength="12" required;
            label for="welcome-again" { "The same password again" }
            input #welcome-again type="password" name="again" autocomplete="new-password" minlength="12" required;
            button type="submit" { "Set my password" }
        }
    };
    let mut response = (status, layout::page("Join the security team", None, body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// The form, whatever the secret: whether it is valid shows once it is answered.
pub async fn page(Path(secret): Path<String>) -> Response {
    form_page(&secret, None, StatusCode::OK)
}

/// What the form sends.
#[derive(Deserialize)]
pub struct WelcomeForm {
    form_token: String,
    password: String,
    again: String,
}

/// Sets the newcomer's password and signs them in on their account page.
pub async fn submit(
    AxumState(state): AxumState<AppState>,
    headers: HeaderMap,
    Path(secret): Path<String>,
    Form(f): Form<WelcomeForm>,
) -> Result<Response, PageError> {
    form::check_anonymous(&headers, &f.form_token)?;
    if f.password != f.again {
        return Ok(form_page(
            &secret,
            Some("The two passwords differ; type the same one twice."),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let user = match state
        .store
        .accept_member_invitation(&secret, &f.password)
        .await
    {
        Ok(user) => user,
        Err(StoreError::NotFound(_)) => {
            return Ok(form_page(
                &secret,
                Some(
                    "This link cannot be used: it was used already, has expired (a week), or a newer invitation replaced it. Ask the team for a new one.",
                ),
                StatusCode::NOT_FOUND,
            ));
        }
        Err(e @ StoreError::Invalid(_)) => {
            let (_, message) = ApiError::Store(e).public_status_and_message();
            return Ok(form_page(
                &secret,
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let session = state.store.create_session(user.id).await?;
    let mut response = Redirect::to("/desk/account?welcome=1").into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie(&session, 12 * 3600)?);
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_static(form::SPENT_FORM_COOKIE),
    );
    Ok(response)
}
