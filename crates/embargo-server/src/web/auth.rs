//! Signing in and out of the web UI, and the signed-in member every team page needs.

use axum::extract::{FromRequestParts, Query, State as AxumState};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::actions::SignInRefused;
use crate::api::session::cookie;
use crate::client::ClientAddr;
use crate::extract::{session_cookie, session_viewer};
use crate::web::PageError;
use crate::web::form::{self, Form};
use crate::web::layout;
pub use crate::web::member::Member;

/// The member a session cookie belongs to, if it is a live session.
pub async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<Member>, PageError> {
    let Some(session) = session_viewer(state, headers).await? else {
        return Ok(None);
    };
    let email = state.store.user_by_id(session.user_id).await?.email;
    Ok(Some(Member {
        viewer: session.viewer,
        email,
        csrf: session.csrf,
    }))
}

impl FromRequestParts<AppState> for Member {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        match signed_in(state, &parts.headers).await? {
            Some(member) => Ok(member),
            None => Err(PageError::SignIn {
                next: parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "/desk".into()),
            }),
        }
    }
}

/// Where to go after signing in.
#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
    /// Set when an invitation was just accepted.
    accepted: Option<String>,
}

/// Only a path of this site, so the sign-in page cannot send anyone elsewhere. Browsers
/// drop tabs and line breaks anywhere in a URL (`/\t/evil.example` becomes
/// `//evil.example`) and read `\\` as `/`, so neither may appear at all.
fn local(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains(|c: char| c == '\\' || c.is_control() || c.is_whitespace()) =>
        {
            n.to_owned()
        }
        _ => "/desk".to_owned(),
    }
}

fn form_page(next: &str, email: &str, problem: Option<&str>, status: StatusCode) -> Response {
    form_page_saying(next, email, problem, None, status)
}

fn form_page_saying(
    next: &str,
    email: &str,
    problem: Option<&str>,
    info: Option<&str>,
    status: StatusCode,
) -> Response {
    let (token, cookie) = form::anonymous_token();
    let body = html! {
        h1 { "Sign in" }
        @if let Some(problem) = problem {
            p.notice.error role="alert" { (problem) }
        }
        @if let Some(info) = info {
            p.notice.info role="status" { (info) }
        }
        form.stack method="post" action="/sign-in" {
            input type="hidden" name="form_token" value=(token);
            input type="hidden" name="next" value=(next);
            label for="email" { "Email address" }
            input #email type="email" name="email" autocomplete="username" required value=(email);
            label for="password" { "Password" }
            input #password type="password" name="password" autocomplete="current-password" required;
            label for="code" { "Code from your authenticator app (or a recovery code)" }
            input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code";
            button type="submit" { "Sign in" }
        }
    };
    let mut response = (status, layout::page("Sign in", None, body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// The sign-in form.
pub async fn page(
    AxumState(state): AxumState<AppState>,
    headers: HeaderMap,
    Query(next): Query<Next>,
) -> Result<Response, PageError> {
    let next_path = local(next.next.as_deref());
    if signed_in(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(&next_path).into_response());
    }
    // A fresh installation has nobody to sign in: say how to make the first account.
    if !state.store.has_users().await? {
        return Ok(form_page(
            &next_path,
            "",
            Some(
                "Nobody can sign in yet: open the setup link `embargo serve` printed on its console (valid for an hour), or run `embargo init` on the server, to make the first administrator, an organisation and a project.",
            ),
            StatusCode::OK,
        ));
    }
    let info = next
        .accepted
        .is_some()
        .then_some("You accepted the confidentiality terms. Sign in to open the case.");
    Ok(form_page_saying(&next_path, "", None, info, StatusCode::OK))
}

/// What the sign-in form sends.
#[derive(Deserialize)]
pub struct SignInForm {
    form_token: String,
    email: String,
    password: String,
    code: Option<String>,
    next: Option<String>,
}

/// Signs in: password, then the TOTP code once two-factor sign-in is on.
pub async fn submit(
    AxumState(state): AxumState<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Result<Response, PageError> {
    form::check_anonymous(&headers, &f.form_token)?;
    let next = local(f.next.as_deref());
    let signed_in =
        crate::actions::sign_in(&state, client, &f.email, &f.password, form::given(&f.code))
            .await?;
    let refused = |problem: &str, status| Ok(form_page(&next, &f.email, Some(problem), status));
    let secret = match signed_in {
        Ok(session) => session.secret,
        Err(SignInRefused::TooManyFromAddress) => {
            return refused(
                "Too many failed sign-ins from this address; wait ten minutes.",
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Err(SignInRefused::CodeRequired) => {
            return refused(
                "Enter the code from your authenticator app, or a recovery code.",
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(SignInRefused::Wrong) => {
            return refused(
                "That address, password or code is not right.",
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(SignInRefused::Locked) => {
            return refused(
                "Too many failed sign-ins with this address from here; try again in 15 minutes.",
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
    };
    let mut response = Redirect::to(&next).into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie(&secret, 12 * 3600)?);
    Ok(response)
}

/// What the sign-out button sends.
#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
}

/// Ends the session.
pub async fn sign_out(
    AxumState(state): AxumState<AppState>,
    member: Member,
    headers: HeaderMap,
    Form(f): Form<SignOutForm>,
) -> Result<Response, PageError> {
    member.check(&f.csrf)?;
    if let Some(secret) = session_cookie(&headers) {
        state.store.end_session(&secret).await?;
    }
    let mut response = Redirect::to("/sign-in").into_response();
    response.headers_mut().insert(SET_COOKIE, cookie("", 0)?);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::local;

    #[test]
    fn sign_in_sends_nobody_off_site() {
        for bad in [
            "//evil.example/x",
            "/\t/evil.example/x",
            "/\n/evil.example",
            "/\\evil.example",
            "/ /evil.example",
            "https://evil.example",
            "/\u{0b}/evil.example",
        ] {
            assert_eq!(local(Some(bad)), "/desk", "{bad:?}");
        }
        assert_eq!(
            local(Some("/desk/cases/X-SEC-1?tab=1")),
            "/desk/cases/X-SEC-1?tab=1"
        );
    }
}
