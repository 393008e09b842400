//! Joining Embargo in the browser: a new installation set up through the one-time link
//! `embargo serve` prints, and a collaborator invited by mail who accepts the terms on a
//! page, signs in, sees a case without the reporter's identity, the team's notes or any
//! team form, and writes in the collaborators' thread.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::json;

use crate::mail::Sink;
use crate::support::{Api, BACKENDS, Backend, Process, TestDb, eventually, seed};
use crate::web::{client, cookie, hidden};

/// The anonymous form's token and the cookie that pairs with it, from a page.
async fn form_of(resp: reqwest::Response) -> (String, String, String) {
    let pair = cookie(&resp, "embargo_form");
    let page = resp.text().await.unwrap();
    let token = hidden(&page, "form_token");
    (pair, token, page)
}

async fn first_run(backend: Backend) {
    let db = TestDb::new(backend).await;
    let log = db.dir.path().join("serve.log");
    let server = Process::serve_logged(db.command(&[]), &log);
    let http = client();

    // The sign-in page says where to start.
    let page = http
        .get(format!("{}/sign-in", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("setup link"), "{page}");
    // The console has the link; the log file is the console here.
    let mut link = None;
    for _ in 0..100 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("/setup/")) {
            let at = line.find("/setup/").unwrap();
            link = Some(line[at..].split_whitespace().next().unwrap().to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let link = link.expect("the setup link on the console");
    let resp = http
        .get(format!("{}/setup/not-the-secret", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let resp = http
        .get(format!("{}{link}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (pair, token, _) = form_of(resp).await;
    let send = |fields: Vec<(&'static str, String)>| {
        let mut form = vec![("form_token", token.clone())];
        form.extend(fields);
        http.post(format!("{}{link}", server.url))
            .header(COOKIE, &pair)
            .form(&form)
            .send()
    };
    // A refusal keeps what was typed, the password aside.
    let resp = send(vec![
        ("email", "lead@example.org".into()),
        ("password", "lead password 123".into()),
        ("org", "Example Foundation".into()),
        ("project", "not a key".into()),
        ("project_name", "Example".into()),
    ])
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(page.contains("lead@example.org") && page.contains("Example Foundation"));
    assert!(!page.contains("lead password 123"));
    let resp = send(vec![
        ("email", "lead@example.org".into()),
        ("password", "lead password 123".into()),
        ("org", "Example Foundation".into()),
        ("project", "EXAMPLE".into()),
        ("project_name", "Example Server".into()),
    ])
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/desk/account");
    let session = cookie(&resp, "embargo_session");

    // Signed in as the administrator, on the project's team.
    let page = http
        .get(format!("{}/desk/admin", server.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("EXAMPLE: Example Server"), "{page}");
    // The link is spent.
    let resp = http
        .get(format!("{}{link}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    drop(server);
    // The CLI's init now refuses: the installation exists.
    let out = db
        .command(&[
            "init",
            "--admin-email",
            "other@example.org",
            "--admin-password-stdin",
            "--org",
            "Other",
            "--project",
            "OTHER",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    // A server over an installation with people prints no link.
    let log = db.dir.path().join("serve-again.log");
    let server = Process::serve_logged(db.command(&[]), &log);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("/setup/"), "{text}");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_through_the_setup_link_sqlite() {
    first_run(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_through_the_setup_link_postgres() {
    first_run(BACKENDS[1]).await;
}

async fn collaborator(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    );
    let server = Process::serve(cmd);
    let alice = Api::new(&server.url, Some(&people.alice));
    let r = alice.report("CLOUDSTACK", "Console XSS").await;
    let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
    let reporter = case["reporter"]["email"].as_str().unwrap().to_owned();
    let (status, _) = alice
        .post(
            &format!("/api/cases/{r}/notes"),
            json!({ "text": "TEAM ONLY: the reporter works for a competitor" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = alice
        .post(
            &format!("/api/cases/{r}/notes"),
            json!({ "text": "Welcome: the proof of concept is in the report.", "shared": true }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = alice
        .post(
            &format!("/api/cases/{r}/collaborators"),
            json!({ "email": "helper@example.org" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    eventually(20, "the invitation mail", || async {
        !sink.to("helper@example.org").is_empty()
    })
    .await;
    let (_, mail) = sink.to("helper@example.org").remove(0);
    let at = mail
        .text
        .find("/invitations/")
        .expect("the link in the mail");
    let link = mail.text[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();

    // The terms, on a page; acceptance needs the box ticked and a password.
    let http = client();
    let resp = http
        .get(format!("{}{link}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (pair, token, page) = form_of(resp).await;
    assert!(page.contains(embargo_store::TERMS_VERSION), "{page}");
    let accept = |fields: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("form_token", token.as_str())];
        form.extend(fields);
        http.post(format!("{}{link}", server.url))
            .header(COOKIE, &pair)
            .form(&form)
            .send()
    };
    let resp = accept(vec![("password", "helper password 12")])
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("accept the confidentiality terms")
    );
    let resp = accept(vec![
        ("accept_terms", "yes"),
        ("password", "helper password 12"),
    ])
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let next = resp.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(next.starts_with("/sign-in?next=/desk/cases/"), "{next}");

    // Signed in, the case opens.
    let resp = http
        .get(format!("{}{next}", server.url))
        .send()
        .await
        .unwrap();
    let (pair, token, page) = form_of(resp).await;
    assert!(
        page.contains("You accepted the confidentiality terms"),
        "{page}"
    );
    let resp = http
        .post(format!("{}/sign-in", server.url))
        .header(COOKIE, &pair)
        .form(&[
            ("form_token", token.as_str()),
            ("email", "helper@example.org"),
            ("password", "helper password 12"),
            ("next", &format!("/desk/cases/{r}")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let session = cookie(&resp, "embargo_session");
    let open = || async {
        let resp = http
            .get(format!("{}/desk/cases/{r}", server.url))
            .header(COOKIE, &session)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.text().await.unwrap()
    };
    let page = open().await;
    assert!(page.contains("withheld from collaborators"), "{page}");
    assert!(!page.contains(&reporter), "the reporter's address: {page}");
    assert!(!page.contains("TEAM ONLY"), "a team note: {page}");
    assert!(page.contains("Welcome: the proof of concept"), "{page}");
    assert!(
        !page.contains("href=\"/desk/metrics\"") && !page.contains("href=\"/desk/admin\""),
        "a collaborator is offered no team page: {page}"
    );
    for team_form in [
        "/transition",
        "/details",
        "/advisory",
        "/reply",
        "/checklist",
    ] {
        assert!(
            !page.contains(&format!("action=\"/desk/cases/{r}{team_form}\"")),
            "{team_form}: {page}"
        );
    }
    // The API says the same.
    let resp = http
        .get(format!("{}/api/cases/{r}", server.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    let shown: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        shown["reporter"]["email"],
        serde_json::Value::Null,
        "{shown}"
    );
    assert_eq!(shown["reporter_withheld"], true);
    let resp = http
        .get(format!("{}/api/cases/{r}/timeline", server.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    let timeline = resp.text().await.unwrap();
    assert!(
        !timeline.contains("TEAM ONLY") && !timeline.contains(&reporter),
        "{timeline}"
    );

    // They write in the thread, and the team reads it there.
    let csrf = hidden(&page, "csrf");
    let resp = http
        .post(format!("{}/desk/cases/{r}/note", server.url))
        .header(COOKIE, &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("text", "Reproduced on 4.19 with the PoC."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(open().await.contains("Reproduced on 4.19"));
    let (_, timeline) = alice.get(&format!("/api/cases/{r}/timeline")).await;
    assert!(
        timeline.as_array().unwrap().iter().any(
            |e| e["kind"] == "shared-note" && e["detail"] == "Reproduced on 4.19 with the PoC."
        ),
        "{timeline}"
    );
    // Any team form answers as for a case they cannot see.
    let resp = http
        .post(format!("{}/desk/cases/{r}/details", server.url))
        .header(COOKIE, &session)
        .form(&[("csrf", csrf.as_str()), ("title", "Renamed")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // The reporter may agree that collaborators know who they are, and take it back.
    let secret = alice.reporter_secret(&r).await;
    let share = |yes: bool| {
        let reporter = alice.anonymous();
        let path = format!("/api/reporter/{secret}/identity");
        async move { reporter.post(&path, json!({ "share": yes })).await }
    };
    let (status, view) = share(true).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["identity_shared"], true, "{view}");
    let page = open().await;
    assert!(
        page.contains(&reporter) && !page.contains("withheld from collaborators"),
        "shared: {page}"
    );
    assert!(!page.contains("TEAM ONLY"), "still no team note: {page}");
    let (status, _) = share(false).await;
    assert_eq!(status, StatusCode::OK);
    let page = open().await;
    assert!(
        !page.contains(&reporter) && page.contains("withheld from collaborators"),
        "withdrawn: {page}"
    );
    let resp = http
        .get(format!("{}/api/cases/{r}", server.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert!(!resp.text().await.unwrap().contains(&reporter));

    // Once the case is confirmed they offer a patch and testing evidence from their page;
    // the team records what becomes of it.
    alice
        .moved(&r, json!({ "to": "triage", "reason": "looking" }))
        .await;
    alice
        .moved(&r, json!({ "to": "confirmed", "reason": "reproduced" }))
        .await;
    let page = open().await;
    for form in ["/upload/patch", "/upload/evidence"] {
        assert!(
            page.contains(&format!("action=\"/desk/cases/{r}{form}\"")),
            "{form}: {page}"
        );
    }
    assert!(
        !page.contains(&format!("action=\"/desk/cases/{r}/fix\"")),
        "no stage form: {page}"
    );
    let upload = |what: &'static str, fields: Vec<(&'static str, String)>| {
        let boundary = "embargo-test-boundary";
        let mut body = String::new();
        for (name, value) in [("csrf", csrf.clone())].into_iter().chain(fields) {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        http.post(format!("{}/desk/cases/{r}/upload/{what}", server.url))
            .header(COOKIE, &session)
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
    };
    let patch = "From: Helper <helper@example.org>\nSubject: [PATCH] Escape the name\n\n---\ndiff --git a/c.js b/c.js\n--- a/c.js\n+++ b/c.js\n@@ -1 +1 @@\n-show(n);\n+show(esc(n));\n";
    let resp = upload(
        "patch",
        vec![("branch", "trunk".into()), ("pasted", patch.into())],
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = upload(
        "evidence",
        vec![("text", "The PoC no longer fires with the patch.".into())],
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, board) = alice.get(&format!("/api/cases/{r}/fixes")).await;
    let trunk = board["branches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["branch"] == "trunk")
        .unwrap();
    assert_eq!(trunk["current"]["stage"], "proposed", "{board}");
    assert_eq!(trunk["current"]["by"], "helper@example.org", "{board}");
    assert!(
        board["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["by"] == "helper@example.org"),
        "{board}"
    );
    // Recording a stage is the team's: the form answers as for a case they cannot see.
    let resp = http
        .post(format!("{}/desk/cases/{r}/fix", server.url))
        .header(COOKIE, &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("fix_branch", "trunk"),
            ("fix_stage", "merged"),
            ("fix_commit", "a1b2c3d4"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // Once the team records the merge, a collaborator's patch cannot undo it; what they
    // typed stays in the form.
    let (status, body) = alice
        .put(
            &format!("/api/cases/{r}/fixes"),
            json!({ "branch": "trunk", "stage": "merged", "commit": "a1b2c3d4" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let resp = upload(
        "patch",
        vec![("branch", "trunk".into()), ("pasted", patch.into())],
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("already recorded as merged") && page.contains("show(esc(n));"),
        "{page}"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collaborator_joins_in_the_browser_sqlite() {
    collaborator(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collaborator_joins_in_the_browser_postgres() {
    collaborator(BACKENDS[1]).await;
}

/// The text between two markers of a page.
fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let at = page
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {page}"))
        + start.len();
    page[at..].split(end).next().unwrap()
}

/// An administrator invites someone new to a project's team from the admin page: they
/// join the committee and the team, get a link by mail, choose their own password, and
/// turn on two-factor sign-in. A team member may invite only committee members.
async fn newcomer(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let admin = store.user_by_email("admin@example.org").await.unwrap();
    let admin_session = store.create_session(admin.id).await.unwrap();
    let alice = store.user_by_email("alice@example.org").await.unwrap();
    let alice_session = store.create_session(alice.id).await.unwrap();
    store.close().await;
    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    );
    let server = Process::serve(cmd);
    let http = client();
    let invite = |session: &str, email: &'static str| {
        http.post(format!("{}/desk/admin/member", server.url))
            .header(COOKIE, format!("embargo_session={session}"))
            .form(&[
                (
                    "csrf",
                    embargo_server::extract::csrf_token(session).as_str(),
                ),
                ("project", "CLOUDSTACK"),
                ("email", email),
            ])
            .send()
    };
    // A team member cannot bring in someone off the committee; the page says who can.
    let resp = invite(&alice_session, "newbie@example.org").await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("not on the CLOUDSTACK management committee")
            && page.contains("an administrator can add them"),
        "{page}"
    );
    // An administrator cannot put themselves on the committee or the team.
    let resp = invite(&admin_session, "admin@example.org").await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = http
        .post(format!("{}/desk/admin/committee", server.url))
        .header(COOKIE, format!("embargo_session={admin_session}"))
        .form(&[
            (
                "csrf",
                embargo_server::extract::csrf_token(&admin_session).as_str(),
            ),
            ("project", "CLOUDSTACK"),
            ("emails", "admin@example.org"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = invite(&admin_session, "newbie@example.org").await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/desk/admin?done=member");
    let alice_api = Api::new(&server.url, Some(&people.admin));
    let (_, committee) = alice_api.get("/api/projects/CLOUDSTACK/committee").await;
    assert!(
        committee
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "newbie@example.org"),
        "{committee}"
    );
    eventually(20, "the invitation mail", || async {
        !sink.to("newbie@example.org").is_empty()
    })
    .await;
    let (_, mail) = sink.to("newbie@example.org").remove(0);
    assert!(!mail.text.contains("CLOUDSTACK-SEC"), "no case in it");
    let at = mail.text.find("/welcome/").expect("the link in the mail");
    let link = mail.text[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();

    let resp = http
        .get(format!("{}{link}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (pair, token, _) = form_of(resp).await;
    let choose = |password: &'static str, again: &'static str| {
        http.post(format!("{}{link}", server.url))
            .header(COOKIE, &pair)
            .form(&[
                ("form_token", token.as_str()),
                ("password", password),
                ("again", again),
            ])
            .send()
    };
    let resp = choose("newbie password 1", "newbie password 2")
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = choose("short", "short").await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("at least 12 characters")
    );
    let resp = choose("newbie password 1", "newbie password 1")
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/desk/account?welcome=1");
    let session = cookie(&resp, "embargo_session");
    // The link works once.
    let resp = choose("newbie password 3", "newbie password 3")
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // Signed in, they turn on two-factor sign-in.
    let page = http
        .get(format!("{}/desk/account?welcome=1", server.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Welcome: your password is set"), "{page}");
    let csrf = hidden(&page, "csrf");
    let post = |action: &'static str, field: &'static str, value: String| {
        http.post(format!("{}/desk/account/{action}", server.url))
            .header(COOKIE, &session)
            .form(&[("csrf".to_owned(), csrf.clone()), (field.to_owned(), value)])
            .send()
    };
    let page = post("totp-start", "password", "newbie password 1".into())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let secret = between(&page, "<code id=\"totp-secret\">", "</code>").to_owned();
    let resp = post("totp-confirm", "code", crate::signin::code_now(&secret))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("recovery-codes"));
    // On the team: the queue opens.
    let resp = http
        .get(format!("{}/desk", server.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, members) = alice_api.get("/api/projects/CLOUDSTACK/members").await;
    assert!(
        members.to_string().contains("newbie@example.org"),
        "{members}"
    );

    // The same invitation through the API and the CLI. A team member's token may invite
    // committee members only, and says who can do more; a read-only token none.
    let alice_api = Api::new(&server.url, Some(&people.alice));
    let (status, body) = alice_api
        .post(
            "/api/projects/CLOUDSTACK/invitations",
            json!({ "email": "second@example.org" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("an administrator can add them"),
        "{body}"
    );
    let (status, body) = Api::new(&server.url, Some(&people.bob))
        .post(
            "/api/projects/CLOUDSTACK/invitations",
            json!({ "email": "second@example.org" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another project's team: {body}"
    );
    let (status, _) = Api::new(&server.url, Some(&people.admin))
        .post(
            "/api/projects/CLOUDSTACK/invitations",
            json!({ "email": "admin@example.org" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not oneself");
    let invited = crate::support::cli_json(
        &db,
        &server.url,
        &people.admin,
        &[
            "team",
            "invite",
            "--project",
            "CLOUDSTACK",
            "--email",
            "second@example.org",
        ],
    );
    assert_eq!(invited["email"], "second@example.org", "{invited}");
    assert_eq!(invited["added_to_committee"], true, "{invited}");
    assert_eq!(invited["invited_by_mail"], true, "{invited}");
    eventually(20, "the second invitation mail", || async {
        sink.to("second@example.org")
            .iter()
            .any(|(_, m)| m.text.contains("/welcome/"))
    })
    .await;
    // Once on the committee, a team member may invite them again: no second mail is
    // needed for someone who has not chosen a password yet, but the link is renewed.
    let (status, body) = alice_api
        .post(
            "/api/projects/CLOUDSTACK/invitations",
            json!({ "email": "second@example.org" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["added_to_committee"], false, "{body}");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_is_invited_to_the_team_sqlite() {
    newcomer(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_is_invited_to_the_team_postgres() {
    newcomer(BACKENDS[1]).await;
}

/// Two first runs at once (two posts of the setup form, `init` beside a server) make one
/// administrator and one organisation: the other is told a first run is under way.
async fn first_runs_at_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let key: embargo_core::reference::ProjectKey = "CLOUDSTACK".parse().unwrap();
    let other: embargo_core::reference::ProjectKey = "OTHER".parse().unwrap();
    let first = |email, org, project| embargo_store::FirstRun {
        email,
        password: "a long first password",
        org,
        project,
        project_name: "",
        branches: &[],
    };
    let (a, b) = (
        first("one@example.org", "ASF", &key),
        first("two@example.org", "Elsewhere", &other),
    );
    let (a, b) = tokio::join!(store.initialise(&a), store.initialise(&b));
    assert!(
        a.is_ok() != b.is_ok(),
        "exactly one first run succeeds: {:?} / {:?}",
        a.as_ref().map(|u| &u.email),
        b.as_ref().map(|u| &u.email)
    );
    let refusal = a.err().or(b.err()).unwrap().to_string();
    assert!(
        refusal.contains("under way") || refusal.contains("initialised already"),
        "{refusal}"
    );
    let count = |table: &'static str| {
        let db = &db;
        async move {
            db.query_text(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
                .await
        }
    };
    assert_eq!(count("users").await.as_deref(), Some("1"));
    assert_eq!(count("organisations").await.as_deref(), Some("1"));
    // A refused first run leaves nothing behind: bad branches write no administrator.
    let db2 = TestDb::new(backend).await;
    let fresh = db2.store().await;
    let bad = ["not a branch!".to_owned()];
    let refused = fresh
        .initialise(&embargo_store::FirstRun {
            branches: &bad,
            ..first("one@example.org", "ASF", &key)
        })
        .await;
    assert!(refused.is_err());
    fresh
        .initialise(&first("one@example.org", "ASF", &key))
        .await
        .expect("the corrected first run");
    fresh.close().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_runs_at_once_make_one_administrator_sqlite() {
    first_runs_at_once(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_runs_at_once_make_one_administrator_postgres() {
    first_runs_at_once(BACKENDS[1]).await;
}
