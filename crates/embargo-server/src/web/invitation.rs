//! An invitation to a case, in the browser: the link in the invitee's mail opens the
//! confidentiality terms, which they accept with their password (or a new one); then they
//! sign in and the case opens. Opening the link accepts nothing, so a mail scanner that
//! follows it does no harm.

use axum::extract::State as AxumState;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use embargo_store::StoreError;
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Path;
use crate::web::PageError;
use crate::web::form::{self, Form};
use crate::web::layout::{self, notice};

fn terms_page(secret: &str, problem: Option<&str>, status: StatusCode) -> Response {
    let (token, cookie) = form::anonymous_token();
    let body = html! {
        h1 { "You are invited to help with a security case" }
        p { "The security team asks for your help with an embargoed case. You will see it once you accept these terms." }
        @if let Some(p) = problem { (notice("error", p)) }
        h2 { "Confidentiality terms (version " (embargo_store::TERMS_VERSION) ")" }
        blockquote.terms { p { (embargo_store::TERMS) } }
        form.stack method="post" action={ "/invitations/" (secret) } {
            input type="hidden" name="form_token" value=(token);
            label.check {
                input type="checkbox" name="accept_terms" value="yes" required;
                " I accept the confidentiality terms"
            }
            label for="invite-password" { "Your password; if you have no account yet, choose one of at least 12 characters" }
            input #invite-password type="password" name="password" autocomplete="current-password" required minlength="12";
            button type="submit" { "Accept and continue" }
        }
    };
    let mut response = (status, layout::page("Invitation", None, body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// The terms and the form, whatever the secret: whether an invitation exists shows only
/// once someone answers it.
pub async fn page(Path(secret): Path<String>) -> Response {
    terms_page(&secret, None, StatusCode::OK)
}

/// What the invitation form sends.
#[derive(Deserialize)]
pub struct AcceptForm {
    form_token: String,
    accept_terms: Option<String>,
    password: Option<String>,
}

/// Accepts the terms; then the invitee signs in, and the case opens.
pub async fn submit(
    AxumState(state): AxumState<AppState>,
    headers: HeaderMap,
    Path(secret): Path<String>,
    Form(f): Form<AcceptForm>,
) -> Result<Response, PageError> {
    form::check_anonymous(&headers, &f.form_token)?;
    let accepted = state
        .store
        .accept_invitation(
            &secret,
            f.accept_terms.as_deref() == Some("yes"),
            form::given(&f.password),
        )
        .await;
    match accepted {
        Ok(case) => {
            let mut response =
                Redirect::to(&format!("/sign-in?next=/desk/cases/{case}&accepted=1"))
                    .into_response();
            response.headers_mut().insert(
                SET_COOKIE,
                HeaderValue::from_static(form::SPENT_FORM_COOKIE),
            );
            Ok(response)
        }
        Err(StoreError::NotFound(_)) => Ok(terms_page(
            &secret,
            Some(
                "This invitation cannot be used: it was accepted already, withdrawn, or replaced by a newer one. Ask the security team for a new invitation.",
            ),
            StatusCode::NOT_FOUND,
        )),
        Err(e @ StoreError::Invalid(_)) => {
            let (_, message) = ApiError::Store(e).public_status_and_message();
            Ok(terms_page(
                &secret,
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
