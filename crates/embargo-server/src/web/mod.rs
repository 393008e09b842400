//! The web UI: server-rendered pages for the team (sign-in, queue, case, admin), the
//! reporter (their secret-link page) and the public (the report form; the advisory pages
//! live in `api::site`). Every page works without JavaScript; one small script of our own
//! adds live updates. Pages are not part of the OpenAPI document: they call the same
//! store functions as the API, so access is still decided in the store alone.

mod account;
mod admin;
pub mod advisory;
mod after;
mod auth;
mod calculator;
mod case;
mod case_form;
mod charts;
mod collaborator;
mod error;
mod fix;
mod form;
mod intake;
mod invitation;
pub(crate) mod layout;
mod member;
mod metrics;
mod queue;
pub(crate) mod reporter;
mod setup;
mod transition;
mod welcome;

use axum::Router;
use axum::extract::{Request, State as AxumState};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::AppState;

pub use error::PageError;

const STYLE: &str = include_str!("../../static/embargo.css");
const SCRIPT: &str = include_str!("../../static/embargo.js");

/// The page routes, merged into the application router beside the API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/embargo.css", get(style))
        .route("/static/embargo.js", get(script))
        .route("/sign-in", get(auth::page).post(auth::submit))
        .route("/sign-out", post(auth::sign_out))
        .route("/desk", get(queue::page))
        .route("/desk/cvss", get(calculator::score))
        .route("/desk/cases/{ref}", get(case::page))
        // A form's address opened directly (a reload after a refusal, a bookmark) shows
        // the page the form is on, never a bare 405.
        .route(
            "/desk/cases/{ref}/{action}",
            post(case::act).get(case::reopened),
        )
        .route(
            "/desk/cases/{ref}/upload/{what}",
            post(case::upload).layer(axum::extract::DefaultBodyLimit::max(fix::UPLOAD_LIMIT)),
        )
        .route("/desk/cases/{ref}/files/{id}", get(fix::file))
        .route("/desk/metrics", get(metrics::page))
        .route("/desk/projects/{key}/intake", get(intake::page))
        .route("/desk/admin", get(admin::page))
        .route("/desk/account", get(account::page))
        .route(
            "/desk/account/{action}",
            post(account::act).get(|| async { Redirect::to("/desk/account") }),
        )
        .route(
            "/desk/admin/{action}",
            post(admin::act).get(|| async { Redirect::to("/desk/admin") }),
        )
        .route(
            "/projects/{key}/report",
            get(reporter::form)
                .post(reporter::file)
                .layer(axum::extract::DefaultBodyLimit::max(
                    reporter::UPLOAD_LIMIT + 64 * 1024,
                )),
        )
        .route("/setup/{secret}", get(setup::page).post(setup::submit))
        .route(
            "/invitations/{secret}",
            get(invitation::page).post(invitation::submit),
        )
        .route(
            "/welcome/{secret}",
            get(welcome::page).post(welcome::submit),
        )
        .route("/reporter/{secret}", get(reporter::page))
        .route("/reporter/{secret}/reply", post(reporter::reply))
        .route("/reporter/{secret}/embargo", post(reporter::embargo))
        .route("/reporter/{secret}/credit", post(reporter::credit))
        .route("/reporter/{secret}/identity", post(reporter::identity))
        .route(
            "/reporter/{secret}/upload",
            post(reporter::upload).layer(axum::extract::DefaultBodyLimit::max(
                reporter::UPLOAD_LIMIT + 64 * 1024,
            )),
        )
}

async fn home(AxumState(state): AxumState<AppState>, headers: axum::http::HeaderMap) -> Response {
    match auth::signed_in(&state, &headers).await {
        Ok(Some(_)) => Redirect::to("/desk").into_response(),
        _ => Redirect::to("/advisories").into_response(),
    }
}

async fn style() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// No inline script or style anywhere, so the policy can forbid both; nothing may frame
/// a page; no page's address (a reporter's secret link, say) leaves in a Referer.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Security headers on every response, pages and API alike.
pub async fn security_headers(
    AxumState(state): AxumState<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let behind_tls = state.public_url.starts_with("https://")
        || request
            .headers()
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes() == b"https");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    };
    set(headers, "content-security-policy", CSP);
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "cross-origin-opener-policy", "same-origin");
    if behind_tls {
        set(
            headers,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    // Case content must not linger in caches; only the static assets may be kept.
    if !headers.contains_key(CACHE_CONTROL) {
        set(headers, "cache-control", "no-store");
    }
    response
}
