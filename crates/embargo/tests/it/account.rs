//! The account page: two-factor enrolment with a QR code drawn on the server, recovery
//! codes shown once, API tokens made (after the password) and revoked, sessions listed
//! and ended, and the password changed, which ends every session.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::json;

use crate::support::{BACKENDS, Backend, Server, TestDb, seed};
use crate::web::hidden;

struct Browser {
    http: reqwest::Client,
    url: String,
    cookie: String,
}

impl Browser {
    async fn sign_in(
        url: &str,
        email: &str,
        password: &str,
        code: Option<&str>,
    ) -> Option<Browser> {
        let http = crate::web::client();
        let resp = http
            .post(format!("{url}/api/session"))
            .json(&json!({ "email": email, "password": password, "code": code }))
            .send()
            .await
            .unwrap();
        if resp.status() != StatusCode::OK {
            return None;
        }
        let cookie = crate::web::cookie(&resp, "embargo_session");
        Some(Browser {
            http,
            url: url.to_owned(),
            cookie,
        })
    }

    async fn page(&self) -> (StatusCode, String) {
        let resp = self
            .http
            .get(format!("{}/desk/account", self.url))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    /// Posts one of the page's forms, with the page's CSRF token.
    async fn post(&self, action: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let (_, page) = self.page().await;
        let csrf = hidden(&page, "csrf");
        let mut body: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        body.extend_from_slice(fields);
        let encoded: String = body
            .iter()
            .map(|(k, v)| format!("{k}={}", embargo_server::url::component(v)))
            .collect::<Vec<_>>()
            .join("&");
        let resp = self
            .http
            .post(format!("{}/desk/account/{action}", self.url))
            .header(COOKIE, &self.cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(encoded)
            .send()
            .await
            .unwrap();
        (resp.status(), resp.text().await.unwrap())
    }
}

fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    page.split(start)
        .nth(1)
        .and_then(|rest| rest.split(end).next())
        .unwrap_or_else(|| panic!("{start} in {page}"))
}

fn code_for(secret: &str) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .unwrap()
        .generate_current()
        .unwrap()
}

async fn the_account_page_does_what_the_api_does(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store).await;
    let url = &server.url;
    let email = "alice@example.org";
    let password = people.alice_password;
    let alice = Browser::sign_in(url, email, password, None).await.unwrap();
    let (status, page) = alice.page().await;
    assert_eq!(status, 200);
    for heading in ["Password", "Two-factor sign-in", "API tokens", "Sessions"] {
        assert!(page.contains(heading), "{heading}");
    }
    assert!(page.contains("(this one)"));

    // Two-factor: the password again, then a QR code drawn here and the secret.
    let (status, page) = alice
        .post("totp-start", &[("password", "not the password")])
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("the password is not right"));
    let (status, page) = alice.post("totp-start", &[("password", password)]).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<svg") && page.contains("</svg>"),
        "a QR code on the page"
    );
    let secret = between(&page, "<code id=\"totp-secret\">", "</code>").to_owned();
    let wrong = if code_for(&secret) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, page) = alice.post("totp-confirm", &[("code", wrong)]).await;
    assert_eq!(status, 422, "a wrong code: {page}");
    let (status, page) = alice
        .post("totp-confirm", &[("code", &code_for(&secret))])
        .await;
    assert_eq!(status, 200, "{page}");
    let recovery: Vec<String> = between(&page, "<ol id=\"recovery-codes\">", "</ol>")
        .split("<code>")
        .skip(1)
        .map(|c| c.split("</code>").next().unwrap().to_owned())
        .collect();
    assert!(recovery.len() >= 8, "{recovery:?}");
    let (_, page) = alice.page().await;
    assert!(page.contains("On: signing in asks for a code"), "{page}");
    assert!(!page.contains(&secret), "the secret is shown only once");
    assert!(
        Browser::sign_in(url, email, password, None).await.is_none(),
        "a code is needed now"
    );
    // (The code just used cannot be used again in its 30 seconds: a recovery code.)
    let second = Browser::sign_in(url, email, password, Some(&recovery[0]))
        .await
        .unwrap();

    // A token: the password again, shown once, usable, listed, revoked.
    let (status, _) = alice
        .post(
            "token-create",
            &[("name", "ci"), ("scope", "read"), ("password", "wrong")],
        )
        .await;
    assert_eq!(status, 422);
    let (status, page) = alice
        .post(
            "token-create",
            &[("name", "ci"), ("scope", "read"), ("password", password)],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let token = between(&page, "<code id=\"new-token\">", "</code>").to_owned();
    let api = crate::support::Api::new(url, Some(&token));
    assert_eq!(api.get("/api/cases").await.0, 200);
    let (status, _) = api
        .post(
            "/api/cases",
            json!({ "project": "CLOUDSTACK", "title": "x" }),
        )
        .await;
    assert_eq!(status, 403, "read only");
    let (_, page) = alice.page().await;
    assert!(
        page.contains("read only") && !page.contains(&token),
        "listed, never shown again"
    );
    let id = between(&page, "name=\"id\" value=\"", "\"").to_owned();
    let (status, _) = alice.post("token-revoke", &[("id", &id)]).await;
    assert_eq!(status, 200);
    assert_eq!(api.get("/api/cases").await.0, 401);

    // Sessions: the other one is listed, and ended from here.
    let (_, page) = alice.page().await;
    let handle = between(&page, "name=\"handle\" value=\"", "\"").to_owned();
    let (status, _) = alice.post("session-end", &[("handle", &handle)]).await;
    assert_eq!(status, 200);
    let (status, _) = second.page().await;
    assert_ne!(status, 200, "the ended session is signed out");

    // The password: the two new ones must match; then every session ends.
    let (status, page) = alice
        .post(
            "password",
            &[
                ("current", password),
                ("new", "a brand new password"),
                ("again", "another one entirely"),
            ],
        )
        .await;
    assert_eq!(status, 422, "{page}");
    let (status, _) = alice
        .post(
            "password",
            &[
                ("current", password),
                ("new", "a brand new password"),
                ("again", "a brand new password"),
            ],
        )
        .await;
    assert!(status.is_redirection() || status == 200, "{status}");
    let (status, _) = alice.page().await;
    assert_ne!(status, 200, "this session ended too");
    let back = Browser::sign_in(url, email, "a brand new password", Some(&recovery[1])).await;
    assert!(back.is_some());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_page_does_what_the_api_does_sqlite() {
    the_account_page_does_what_the_api_does(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_page_does_what_the_api_does_postgres() {
    the_account_page_does_what_the_api_does(BACKENDS[1]).await;
}
