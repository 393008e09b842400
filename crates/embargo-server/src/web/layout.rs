//! The page shell every page shares, and the small pieces pages are made of.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use embargo_core::clocks::{Clock, ClockStatus};
use embargo_core::lifecycle::State;
use maud::{DOCTYPE, Markup, html};

use crate::web::member::Member;

/// A whole page: header with navigation, the body, and the one script.
pub fn page(title: &str, member: Option<&Member>, body: Markup) -> Response {
    html_response(shell(title, member, body))
}

/// A whole page as text, for answers the public site keeps.
pub fn markup(title: &str, member: Option<&Member>, body: Markup) -> String {
    shell(title, member, body).into_string()
}

fn html_response(markup: Markup) -> Response {
    (
        [(CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

fn shell(title: &str, member: Option<&Member>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Embargo" }
                link rel="stylesheet" href="/static/embargo.css";
                link rel="alternate" type="application/atom+xml" href="/advisories.atom" title="Security advisories";
                script src="/static/embargo.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to the content" }
                header.top {
                    a.brand href="/" { "Embargo" }
                    nav aria-label="Main" {
                        ul {
                            @if let Some(m) = member {
                                li { a href="/desk" { "Queue" } }
                                // The review and the admin page are for the teams and the
                                // administrators; a collaborator has nothing there.
                                @if m.viewer.is_admin || !m.viewer.visible_projects.is_empty() {
                                    li { a href="/desk/metrics" { "Review" } }
                                    li { a href="/desk/admin" { "Admin" } }
                                }
                                li { a href="/desk/account" { "Account" } }
                            }
                            li { a href="/advisories" { "Advisories" } }
                            @if member.is_none() {
                                li { a href="/sign-in" { "Team sign-in" } }
                            }
                        }
                    }
                    @if let Some(m) = member {
                        form.signout method="post" action="/sign-out" {
                            input type="hidden" name="csrf" value=(m.csrf);
                            span.who { (m.email) }
                            " "
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main #main {
                    (body)
                }
                footer.bottom {
                    p { a href="/advisories.atom" { "Advisory feed (Atom)" } " · " a href="/.well-known/security.txt" { "security.txt" } }
                }
            }
        }
    }
}

/// The state as a badge.
pub fn state_badge(state: State) -> Markup {
    html! { span class={ "badge state-" (state.as_str()) } { (state.as_str()) } }
}

/// A clock as a badge: due soon, overdue, met, late or running.
pub fn clock_badge(label: &str, clock: &Clock) -> Markup {
    let (class, word) = match clock.status {
        ClockStatus::Running => ("running", "due"),
        ClockStatus::Warning => ("warning", "due soon"),
        ClockStatus::Overdue => ("overdue", "overdue"),
        ClockStatus::Met => ("met", "met"),
        ClockStatus::Late => ("late", "met late"),
    };
    // A met clock shows when it was met; one still running shows when it is due.
    let at = clock.met_at.as_deref().unwrap_or(&clock.due_at);
    html! {
        span class={ "clock " (class) } {
            (label) ": " (word) " " @if clock.met_at.is_some() { "on " } time datetime=(at) { (short_time(at)) }
        }
    }
}

/// An RFC 3339 time as "2026-12-01 14:05 UTC", as mails show it too.
pub fn short_time(rfc3339: &str) -> String {
    match time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339) {
        Ok(t) => embargo_core::clocks::readable_time(t),
        Err(_) => rfc3339.to_owned(),
    }
}

/// A notice above a page's content.
pub fn notice(kind: &str, text: &str) -> Markup {
    let role = if kind == "error" { "alert" } else { "status" };
    html! { p class={ "notice " (kind) } role=(role) { (text) } }
}
