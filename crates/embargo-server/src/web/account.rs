//! The member's own account: password, two-factor sign-in (enrolled with a QR code drawn
//! here, as SVG), recovery codes, API tokens and sign-in sessions. What reveals a secret
//! (a new token, the TOTP secret, recovery codes) is shown once, on the page that made it.

use std::collections::HashMap;

use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, PreEscaped, html};

use crate::AppState;
use crate::error::ApiError;
use crate::web::PageError;
use crate::web::auth::Member;
use crate::web::form::Form;
use crate::web::layout::{self, notice, short_time};

/// What only this response shows.
#[derive(Default)]
struct Once {
    token: Option<String>,
    totp: Option<embargo_store::TotpSetup>,
    recovery: Vec<String>,
    info: Option<String>,
    problem: Option<String>,
}

/// The otpauth URI as a QR code in SVG: drawn here, so the secret never leaves for a
/// QR service, and from a URI Embargo made, so the markup is Embargo's own.
fn qr(uri: &str) -> Markup {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => PreEscaped(
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build(),
        ),
        Err(_) => html! { p { "The QR code could not be drawn; type the secret instead." } },
    }
}

/// The account page.
pub async fn page(
    AxumState(state): AxumState<AppState>,
    member: Member,
    headers: HeaderMap,
    axum::extract::Query(arrival): axum::extract::Query<Arrival>,
) -> Result<Response, PageError> {
    // A newcomer arrives here from their invitation, signed in: the next step is theirs.
    let once = Once {
        info: arrival.welcome.map(|_| {
            "Welcome: your password is set. Now turn on two-factor sign-in below, so that a stolen password alone signs nobody in.".to_owned()
        }),
        ..Once::default()
    };
    render(&state, &member, &headers, once, StatusCode::OK).await
}

/// How the account page was reached.
#[derive(serde::Deserialize)]
pub struct Arrival {
    /// Set when a newcomer has just taken up their invitation.
    welcome: Option<String>,
}

async fn render(
    state: &AppState,
    member: &Member,
    headers: &HeaderMap,
    once: Once,
    status: StatusCode,
) -> Result<Response, PageError> {
    let store = &state.store;
    let user = member.viewer.user_id;
    let totp = store.totp_enabled(user).await?;
    let tokens = store.list_tokens(user).await?;
    let current = crate::extract::session_cookie(headers);
    let sessions = store.list_sessions(user, current.as_deref()).await?;
    let modes = store.notify_modes(&member.viewer).await?;
    let csrf = &member.csrf;
    let body = html! {
        h1 { "Your account" }
        p { "Signed in as " strong { (member.email) } "." }
        @if let Some(p) = &once.problem { (notice("error", p)) }
        @if let Some(i) = &once.info { (notice("info", i)) }
        section aria-labelledby="password-h" {
            h2 #password-h { "Password" }
            p { "Changing it ends every session and revokes every API token: you sign in again." }
            form.stack method="post" action="/desk/account/password" {
                input type="hidden" name="csrf" value=(csrf);
                label for="pw-current" { "Current password" }
                input #pw-current type="password" name="current" autocomplete="current-password" required;
                label for="pw-new" { "New password (12 characters or more)" }
                input #pw-new type="password" name="new" autocomplete="new-password" minlength="12" required;
                label for="pw-again" { "New password again" }
                input #pw-again type="password" name="again" autocomplete="new-password" minlength="12" required;
                button type="submit" { "Change the password" }
            }
        }
        section aria-labelledby="totp-h" {
            h2 #totp-h { "Two-factor sign-in" }
            @if !once.recovery.is_empty() {
                (notice("info", "Two-factor sign-in is on. Keep these recovery codes somewhere safe: each signs you in once without your device, and they are shown only now."))
                ol #recovery-codes { @for c in &once.recovery { li { code { (c) } } } }
            } @else if let Some(setup) = &once.totp {
                p { "Scan this code with an authenticator app, or type the secret, then enter the six-digit code it shows." }
                figure.qr { (qr(&setup.uri)) figcaption { "Secret: " code #totp-secret { (setup.secret) } } }
                form.stack method="post" action="/desk/account/totp-confirm" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="totp-code" { "The code from the app" }
                    input #totp-code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required;
                    button type="submit" { "Turn two-factor sign-in on" }
                }
            } @else if totp {
                p #totp-status { "On: signing in asks for a code from your authenticator app (or a recovery code)." }
            } @else {
                p #totp-status { "Off. With it on, a stolen password alone does not sign anyone in." }
                form.stack method="post" action="/desk/account/totp-start" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="totp-password" { "Your password (asked again)" }
                    input #totp-password type="password" name="password" autocomplete="current-password" required;
                    button type="submit" { "Set up two-factor sign-in" }
                }
            }
        }
        @if !modes.is_empty() {
            section aria-labelledby="notify-h" {
                h2 #notify-h { "Notifications" }
                p { "How you hear of new reports and of messages from reporters and others outside the team, per project. View requests always come by mail." }
                @for m in &modes {
                    form.inline method="post" action="/desk/account/notifications" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="project" value=(m.project);
                        label for={ "notify-" (m.project) } { (m.name) " (" (m.project) ")" }
                        select id={ "notify-" (m.project) } name="mode" {
                            @for mode in embargo_store::NotifyMode::ALL {
                                option value=(mode.as_str()) selected[mode == m.mode] { (mode.label()) }
                            }
                        }
                        button type="submit" { "Save" }
                    }
                }
            }
        }
        section aria-labelledby="tokens-h" {
            h2 #tokens-h { "API tokens" }
            @if let Some(token) = &once.token {
                (notice("info", "Your new token is shown only now; store it in the tool that uses it."))
                p { code #new-token { (token) } }
            }
            @if tokens.is_empty() {
                p { "No tokens." }
            } @else {
                table.tokens {
                    thead { tr { th { "Name" } th { "Scope" } th { "Made" } th { "Last used" } th { "" } } }
                    tbody {
                        @for t in &tokens {
                            tr {
                                td { (t.name) }
                                td { @if t.read_only { "read only" } @else { "read and write" } }
                                td { (short_time(&t.created_at)) }
                                td { @match &t.last_used_at { Some(at) => (short_time(at)), None => "never" } }
                                td {
                                    @if t.revoked { "revoked" } @else {
                                        form.inline method="post" action="/desk/account/token-revoke" {
                                            input type="hidden" name="csrf" value=(csrf);
                                            input type="hidden" name="id" value=(t.id);
                                            button type="submit" { "Revoke " span.visually-hidden { (t.name) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form.stack method="post" action="/desk/account/token-create" {
                input type="hidden" name="csrf" value=(csrf);
                label for="token-name" { "New token: what it is for" }
                input #token-name type="text" name="name" maxlength="100" required;
                label for="token-scope" { "Scope" }
                select #token-scope name="scope" {
                    option value="read" { "read only" }
                    option value="write" { "read and write" }
                }
                label for="token-password" { "Your password (asked again)" }
                input #token-password type="password" name="password" autocomplete="current-password" required;
                button type="submit" { "Make the token" }
            }
        }
        section aria-labelledby="sessions-h" {
            h2 #sessions-h { "Sessions" }
            ul.sessions {
                @for s in &sessions {
                    li {
                        "Started " (short_time(&s.started_at)) ", ends " (short_time(&s.expires_at))
                        @if s.current { " (this one)" } @else {
                            form.inline method="post" action="/desk/account/session-end" {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="handle" value=(s.handle);
                                button type="submit" { "End it" }
                            }
                        }
                    }
                }
            }
        }
    };
    let mut response = layout::page("Your account", Some(member), body);
    *response.status_mut() = status;
    // A page that shows a secret once is not kept by the browser.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// The account page's forms.
pub async fn act(
    AxumState(state): AxumState<AppState>,
    member: Member,
    headers: HeaderMap,
    axum::extract::Path(action): axum::extract::Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    member.check(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let text = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let viewer = &member.viewer;
    let mut once = Once::default();
    let outcome: Result<(), ApiError> = match action.as_str() {
        "password" => {
            if text("new") != text("again") {
                Err(ApiError::BadRequest("the two new passwords differ".into()))
            } else {
                match state
                    .store
                    .change_password(viewer.user_id, text("current"), text("new"))
                    .await
                {
                    // Every session ended with the change, this one too.
                    Ok(true) => {
                        return Ok(Redirect::to("/sign-in?next=/desk/account").into_response());
                    }
                    Ok(false) => Err(ApiError::BadRequest(
                        "the current password is not right".into(),
                    )),
                    Err(e) => Err(e.into()),
                }
            }
        }
        "totp-start" => crate::actions::account::start_totp(&state, viewer, text("password"))
            .await
            .map(|setup| once.totp = Some(setup)),
        "totp-confirm" => state
            .store
            .confirm_totp(viewer.user_id, text("code").trim())
            .await
            .map(|codes| once.recovery = codes)
            .map_err(ApiError::from),
        "token-create" => crate::actions::account::create_token(
            &state,
            viewer,
            text("name"),
            text("scope") != "write",
            text("password"),
        )
        .await
        .map(|token| once.token = Some(token.secret)),
        "notifications" => {
            match (
                text("project").parse::<embargo_core::reference::ProjectKey>(),
                embargo_store::NotifyMode::parse(text("mode")),
            ) {
                (Ok(key), Some(mode)) => state
                    .store
                    .set_notify_mode(viewer, &key, mode)
                    .await
                    .map(|()| once.info = Some("Your notifications are saved.".into()))
                    .map_err(ApiError::from),
                _ => Err(ApiError::BadRequest(
                    "choose a project and one of immediately, digest, never".into(),
                )),
            }
        }
        "token-revoke" => match text("id").parse::<i64>() {
            Ok(id) => state
                .store
                .revoke_token(viewer.user_id, id)
                .await
                .map(|()| once.info = Some("The token is revoked.".into()))
                .map_err(ApiError::from),
            Err(_) => Err(ApiError::BadRequest("no such token".into())),
        },
        "session-end" => state
            .store
            .end_session_of(viewer.user_id, text("handle"))
            .await
            .map(|()| once.info = Some("The session is ended.".into()))
            .map_err(ApiError::from),
        _ => return Err(PageError::Api(ApiError::NoRoute)),
    };
    match outcome {
        Ok(()) => render(&state, &member, &headers, once, StatusCode::OK).await,
        Err(e) => {
            let (status, message) = e.public_status_and_message();
            if status.is_server_error() {
                return Err(PageError::Api(e));
            }
            once.problem = Some(message);
            render(
                &state,
                &member,
                &headers,
                once,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
