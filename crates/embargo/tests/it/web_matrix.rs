//! The authorisation matrix of the web pages: every page and form that shows or changes
//! case content, tried by every role (signed in with a session, as the browser is) on an
//! embargoed and a public case. A page a role may not see answers 404 and names nothing.

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION};

use crate::matrix::{Kind, ROLES, Role, Role::*, setup};
use crate::support::{Backend, Server, TestDb};

fn email(role: Role) -> Option<&'static str> {
    Some(match role {
        Foundation => "fiona@example.org",
        Team => "alice@example.org",
        OtherTeam => "bob@example.org",
        Invited => "carol@example.org",
        Collaborator => "dave@example.org",
        Distributor => "erin@example.org",
        OtherDistributor => "frank@example.org",
        Admin => "admin@example.org",
        Reporter | OtherReporter | Anonymous => return None,
    })
}

/// What a role should get from a page or form, and whether it may see the case named.
fn expected(role: Role, page: &str) -> (u16, bool) {
    if page == "reporter" {
        return match role {
            Reporter => (200, true),
            // Their own case's page, which must name nothing of this one.
            OtherReporter => (200, false),
            _ => (404, false),
        };
    }
    if page == "form" {
        // The public report form is for everyone, and names no case.
        return (200, false);
    }
    if !role.signed_in() {
        // The desk sends whoever is not signed in to sign in.
        return (303, false);
    }
    match page {
        "queue" => (200, role.reads()),
        "case" => {
            if role.reads() {
                (200, true)
            } else {
                (404, false)
            }
        }
        "note" => {
            if role.reads() {
                (303, true)
            } else {
                (404, false)
            }
        }
        // The team reaches the lifecycle, which refuses a move back to reported.
        "transition" => {
            if role.team() {
                (422, true)
            } else {
                (404, false)
            }
        }
        "intake" => (
            if role.team() || role == Admin {
                200
            } else {
                404
            },
            false,
        ),
        // Every other form of the case page: the team reaches it (refused here, as each
        // form is sent invalid so that nothing changes), everyone else finds nothing.
        action if action.starts_with("action:") => {
            if role.team() {
                (0, true)
            } else {
                (404, false)
            }
        }
        "metrics" => (200, role.reads()),
        // Projects and teams: each sees the projects they may (an empty page for others).
        "admin" => (200, false),
        _ => unreachable!(),
    }
}

async fn web_matrix(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let setup = setup(&store).await;
    let mut sessions = Vec::new();
    for role in ROLES {
        let session = match email(role) {
            Some(e) => {
                let user = store.user_by_email(e).await.unwrap();
                Some(store.create_session(user.id).await.unwrap())
            }
            None => None,
        };
        sessions.push((role, session));
    }
    let server = Server::start(store.clone()).await;
    let http = crate::web::client();
    let mut failures = Vec::new();
    let mut tried = 0;
    for (kind, case, secret) in &setup.cases {
        let r = case.to_string();
        for (role, session) in &sessions {
            let cookie = session
                .as_ref()
                .map(|s| format!("embargo_session={s}"))
                .unwrap_or_default();
            let csrf = session
                .as_ref()
                .map(|s| embargo_server::extract::csrf_token(s))
                .unwrap_or_default();
            let own_secret = match role {
                Reporter => secret.clone(),
                OtherReporter => setup.other_reporter_secret.clone(),
                _ => "rl_not-a-real-secret".to_owned(),
            };
            let mut pages: Vec<(String, reqwest::RequestBuilder)> = vec![
                ("queue".into(), http.get(format!("{}/desk", server.url))),
                (
                    "case".into(),
                    http.get(format!("{}/desk/cases/{r}", server.url)),
                ),
                (
                    "intake".into(),
                    http.get(format!("{}/desk/projects/CLOUDSTACK/intake", server.url)),
                ),
                (
                    "reporter".into(),
                    http.get(format!("{}/reporter/{own_secret}", server.url)),
                ),
                (
                    "metrics".into(),
                    http.get(format!("{}/desk/metrics", server.url)),
                ),
                (
                    "admin".into(),
                    http.get(format!("{}/desk/admin", server.url)),
                ),
                (
                    "form".into(),
                    http.get(format!("{}/projects/CLOUDSTACK/report", server.url)),
                ),
                (
                    "note".into(),
                    http.post(format!("{}/desk/cases/{r}/note", server.url))
                        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(format!("csrf={csrf}&text=web+matrix+note")),
                ),
                (
                    "transition".into(),
                    http.post(format!("{}/desk/cases/{r}/transition", server.url))
                        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(format!("csrf={csrf}&to=reported&reason=matrix")),
                ),
            ];
            // Each sent invalid, so that the team's attempt is refused and changes nothing.
            for (action, body) in [
                ("merge", "duplicate_of=NOT-A-REF"),
                ("details", "embargo_at=not-a-date"),
                ("cvss", "version=3.1&intent=save&extra=AV%3AQ"),
                ("advisory", "cwe=not-a-cwe"),
                ("reply", "text="),
                ("checklist", "item=no-such-item&status=done"),
                ("invite", "email=not-an-address"),
                ("distributor", "email=not-an-address"),
                ("accept-sender", "event=0"),
                ("quarantine-message", "event=0"),
                ("fix", "fix_branch=nope&fix_stage=merged"),
            ] {
                pages.push((
                    format!("action:{action}"),
                    http.post(format!("{}/desk/cases/{r}/{action}", server.url))
                        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(format!("csrf={csrf}&{body}")),
                ));
            }
            for (page, request) in pages {
                tried += 1;
                let resp = request.header(COOKIE, &cookie).send().await.unwrap();
                let status = resp.status().as_u16();
                let location = resp
                    .headers()
                    .get(LOCATION)
                    .map(|l| l.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                let body = resp.text().await.unwrap();
                let (want, may_see) = expected(*role, &page);
                // A public case's reference is public; the queue may list it.
                let may_see = may_see || (*kind == Kind::Public && page == "queue");
                // The team's refused forms: any answer but a server error, and no success.
                let team_form = want == 0;
                if team_form && (status >= 500 || status == 200) {
                    failures.push(format!("{role:?} {kind:?} {page}: got {status}"));
                } else if !team_form && status != want {
                    failures.push(format!(
                        "{role:?} {kind:?} {page}: got {status}, expected {want} ({location})"
                    ));
                }
                // A redirect's Location echoes the path asked for, which named the case already.
                if !may_see && body.contains(&r) {
                    failures.push(format!("{role:?} {kind:?} {page} named {r}"));
                }
                if status >= 500 {
                    failures.push(format!("{role:?} {kind:?} {page}: server error"));
                }
            }
        }
    }
    server.stop().await;
    store.close().await;
    assert!(tried >= 100, "{tried}");
    assert!(
        failures.is_empty(),
        "{} of {tried} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_authorisation_matrix_sqlite() {
    web_matrix(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_authorisation_matrix_postgres() {
    web_matrix(Backend::Postgres).await;
}
