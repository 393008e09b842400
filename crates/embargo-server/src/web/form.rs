//! Reading forms. A form a page posts carries a token only Embargo's pages know: the
//! session's CSRF token for the team, and for forms without a session (sign-in, the
//! public report form) a random value that must match a cookie set with the form.

use axum::extract::FromRequest;
use axum::extract::rejection::FormRejection;
use axum::http::HeaderMap;
use rand::RngCore;

use crate::extract::{constant_time_eq, cookie_value};
use crate::web::PageError;

/// A URL-encoded form body.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(PageError))]
pub struct Form<T>(pub T);

impl From<FormRejection> for PageError {
    fn from(rejection: FormRejection) -> Self {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            PageError::BadForm(format!(
                "the form is larger than the limit of {} bytes",
                crate::BODY_LIMIT
            ))
        } else {
            // The parser's text may quote what was typed; say only what to do.
            PageError::BadForm("the form could not be read; reload the page and try again".into())
        }
    }
}

/// The cookie that pairs with the token of a form shown without a session.
pub const FORM_COOKIE: &str = "embargo_form";

/// A fresh token for a form shown without a session, and the cookie that pairs with it.
pub fn anonymous_token() -> (String, String) {
    use base64::Engine;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let cookie =
        format!("{FORM_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=7200");
    (token, cookie)
}

/// Spends the form's cookie once what it sent is filed: a reload, or the back button and
/// a second send, then carries a token no cookie matches, and files nothing twice.
pub const SPENT_FORM_COOKIE: &str =
    "embargo_form=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0";

/// Checks a form shown without a session: its token must equal the cookie's, which a
/// page on another site can neither read nor set.
pub fn check_anonymous(headers: &HeaderMap, sent: &str) -> Result<(), PageError> {
    let cookie = cookie_value(headers, FORM_COOKIE);
    match cookie {
        Some(value) if !sent.is_empty() && constant_time_eq(value.as_bytes(), sent.as_bytes()) => {
            Ok(())
        }
        _ => Err(PageError::Csrf),
    }
}

/// Empty or blank form fields mean "not given".
pub fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}
