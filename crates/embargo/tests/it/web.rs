//! The web pages over plain HTTP, where a browser is not needed to see it: security
//! headers, forged forms refused, the honeypot, an oversized upload refused with nothing
//! kept, the sign-in page sending nobody off-site.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::support::{Api, BACKENDS, Server, TestDb, seed};

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of a hidden field in a page.
pub(crate) fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in the page"))
        + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// `name=value` of a cookie a response sets.
pub(crate) fn cookie(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {name} cookie"))
}

fn multipart(filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "EmbargoTestBoundary7d1";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn pages_refuse_forged_forms_and_keep_nothing_they_refuse() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        let server = Server::start(store).await;
        let url = &server.url;
        let http = client();
        let alice = Api::new(url, Some(&people.alice));

        // Security headers, on a page and on the API alike.
        for path in ["/projects/CLOUDSTACK/report", "/api/openapi.json"] {
            let resp = http.get(format!("{url}{path}")).send().await.unwrap();
            let h = resp.headers();
            let csp = h["content-security-policy"].to_str().unwrap();
            assert!(
                csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
                "{csp}"
            );
            assert!(csp.contains("frame-ancestors 'none'"));
            assert_eq!(h["x-frame-options"], "DENY");
            assert_eq!(h["referrer-policy"], "no-referrer");
            assert_eq!(h["cache-control"], "no-store");
            assert!(
                !h.contains_key("strict-transport-security"),
                "no HSTS over plain HTTP"
            );
        }
        let resp = http
            .get(format!("{url}/advisories"))
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap();
        assert!(resp.headers().contains_key("strict-transport-security"));
        let resp = http
            .get(format!("{url}/static/embargo.css"))
            .send()
            .await
            .unwrap();
        assert!(
            resp.headers()["cache-control"]
                .to_str()
                .unwrap()
                .starts_with("public")
        );

        // The footer's security.txt link, with no contact published: where to report, as
        // text a person can read, still a 404 for tools.
        let txt = http
            .get(format!("{url}/.well-known/security.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(txt.status(), StatusCode::NOT_FOUND);
        assert!(
            txt.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        let txt = txt.text().await.unwrap();
        assert!(
            txt.contains("/projects/CLOUDSTACK/report") && !txt.contains('{'),
            "{txt}"
        );

        // The report form: a post without the form's cookie is refused, and so is a bot.
        let form = http
            .get(format!("{url}/projects/CLOUDSTACK/report"))
            .send()
            .await
            .unwrap();
        let pair = cookie(&form, "embargo_form");
        let token = hidden(&form.text().await.unwrap(), "form_token");
        let post = |extra: &'static str, with_cookie: bool| {
            let mut req = http
                .post(format!("{url}/projects/CLOUDSTACK/report"))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(format!(
                    "form_token={token}&title=Open+redirect&description=The+login+page+redirects+anywhere&email=fay%40finder.example{extra}"
                ));
            if with_cookie {
                req = req.header(COOKIE, pair.clone());
            }
            req.send()
        };
        let resp = post("", false).await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert!(resp.text().await.unwrap().contains("nothing was sent"));
        let resp = post("&website=http%3A%2F%2Fspam.example", true)
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let (_, cases) = alice.get("/api/cases").await;
        assert_eq!(cases.as_array().unwrap().len(), 0, "nothing filed");
        let resp = post("", true).await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        // The form's cookie is spent: a reload (which sends the form without it) files
        // nothing twice.
        let spent = resp
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("embargo_form=;"));
        assert!(spent, "{:?}", resp.headers());
        let page = resp.text().await.unwrap();
        let again = post("", false).await.unwrap();
        assert_eq!(again.status(), StatusCode::FORBIDDEN);
        assert!(again.text().await.unwrap().contains("sent already"));
        let (_, cases) = alice.get("/api/cases").await;
        assert_eq!(cases.as_array().unwrap().len(), 1, "filed once");
        let link = page
            .split("href=\"/reporter/")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let (_, cases) = alice.get("/api/cases").await;
        let reference = cases[0]["ref"].as_str().unwrap().to_owned();

        // An upload over the limit is refused with the limit named, and nothing is kept.
        let big = vec![b'x'; 10 * 1024 * 1024 + 1];
        let (kind, body) = multipart("big.bin", &big);
        let resp = http
            .post(format!("{url}/reporter/{link}/upload"))
            .header(CONTENT_TYPE, kind)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("larger than the limit of 10485760 bytes")
        );
        let (_, files) = alice
            .get(&format!("/api/cases/{reference}/attachments"))
            .await;
        assert_eq!(files, Value::Array(vec![]));
        // One within it is kept byte for byte.
        let proof: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let (kind, body) = multipart("proof.bin", &proof);
        let resp = http
            .post(format!("{url}/reporter/{link}/upload"))
            .header(CONTENT_TYPE, kind)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let (_, files) = alice
            .get(&format!("/api/cases/{reference}/attachments"))
            .await;
        assert_eq!(files[0]["filename"], "proof.bin");
        let id = files[0]["id"].as_i64().unwrap();
        let got = http
            .get(format!("{url}/api/cases/{reference}/attachments/{id}"))
            .bearer_auth(&people.alice)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(got.as_ref(), proof.as_slice());
        // A wrong secret link is a plain 404.
        let resp = http
            .get(format!("{url}/reporter/rl_not-a-link"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);

        // Sign-in never sends anyone off-site, and sets a strict session cookie.
        let form = http.get(format!("{url}/sign-in")).send().await.unwrap();
        let pair = cookie(&form, "embargo_form");
        let token = hidden(&form.text().await.unwrap(), "form_token");
        let resp = http
            .post(format!("{url}/sign-in"))
            .header(COOKIE, pair)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!(
                "form_token={token}&email=alice%40example.org&password=alice+password+123&next=%2F%2Fevil.example%2F"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(resp.headers()[LOCATION], "/desk");
        let set = resp.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Secure")
        );
        let session = set.split(';').next().unwrap().to_owned();

        // A team form without the session's token changes nothing.
        let note = |body: String| {
            http.post(format!("{url}/desk/cases/{reference}/note"))
                .header(COOKIE, session.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let resp = note("text=forged".into()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let page = http
            .get(format!("{url}/desk/cases/{reference}"))
            .header(COOKIE, session.clone())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = hidden(&page, "csrf");
        let resp = note(format!("csrf={csrf}&text=Checked+the+redirect"))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (_, timeline) = alice.get(&format!("/api/cases/{reference}/timeline")).await;
        let notes: Vec<&Value> = timeline
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "note")
            .collect();
        assert_eq!(notes.len(), 1, "{timeline}");
        assert_eq!(notes[0]["detail"], "Checked the redirect");

        // A refused transition shows the page again with the reason, status 422.
        let resp = http
            .post(format!("{url}/desk/cases/{reference}/transition"))
            .header(COOKIE, session.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}&to=closed"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(resp.text().await.unwrap().contains("role=\"alert\""));

        // A case that is not there, or not theirs, is a 404 page naming nothing.
        let resp = http
            .get(format!("{url}/desk/cases/OTHER-SEC-9"))
            .header(COOKIE, session.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        server.stop().await;
    }
}

/// Signs alice in through the sign-in page; returns the session cookie (`name=value`).
pub(crate) async fn sign_in_alice(http: &reqwest::Client, url: &str) -> String {
    let form = http.get(format!("{url}/sign-in")).send().await.unwrap();
    let pair = cookie(&form, "embargo_form");
    let token = hidden(&form.text().await.unwrap(), "form_token");
    let resp = http
        .post(format!("{url}/sign-in"))
        .header(COOKIE, pair)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "form_token={token}&email=alice%40example.org&password=alice+password+123"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    resp.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The case page names the project's own stall period, not a fixed one, and offers to
/// reserve a CVE ID only where the organisation can.
#[tokio::test]
async fn the_case_page_names_the_projects_stall_period() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        let clocks = embargo_core::project::ClockSettings {
            stall_days: 10,
            ..Default::default()
        };
        store
            .update_project(
                &"CLOUDSTACK".parse().unwrap(),
                embargo_store::ProjectUpdate {
                    clocks: Some(clocks),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let server = Server::start(store).await;
        let url = &server.url;
        let alice = Api::new(url, Some(&people.alice));
        let r = alice.report("CLOUDSTACK", "A quiet case").await;
        alice
            .moved(
                &r,
                serde_json::json!({ "to": "triage", "reason": "looking" }),
            )
            .await;
        let long_ago =
            (time::OffsetDateTime::now_utc() - time::Duration::days(11)).unix_timestamp() * 1000;
        db.execute("UPDATE cases SET last_activity_at = $1", &[long_ago])
            .await;
        let http = client();
        let signed_in = http
            .post(format!("{url}/api/session"))
            .json(&serde_json::json!({ "email": "alice@example.org", "password": people.alice_password }))
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), StatusCode::OK);
        let session = cookie(&signed_in, "embargo_session");
        let page = http
            .get(format!("{url}/desk/cases/{r}"))
            .header(COOKIE, session.clone())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("no activity for 10 days"), "{page}");
        assert!(!page.contains("30 days"));
        // Without CVE Services credentials no reservation is offered, only the way to
        // record an ID assigned elsewhere.
        assert!(!page.contains("Reserve a CVE ID"), "{page}");
        assert!(page.contains("CVE Services credentials"), "{page}");
        // With them, the reservation is offered.
        let other = db.store().await;
        let credentials = embargo_store::CveCredentials::new(
            "https://cveawg.example.org/api",
            "apache",
            "u",
            "k",
        )
        .unwrap();
        other
            .set_cve_credentials("ASF", &credentials)
            .await
            .unwrap();
        other.close().await;
        let page = http
            .get(format!("{url}/desk/cases/{r}"))
            .header(COOKIE, session.clone())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // Alice's team reserves only once the foundation team delegated it.
        assert!(!page.contains("Reserve a CVE ID"), "{page}");
        assert!(
            page.contains("reserved by the foundation security team"),
            "{page}"
        );
        let other = db.store().await;
        other
            .set_cve_delegation(&"CLOUDSTACK".parse().unwrap(), true, None)
            .await
            .unwrap();
        other.close().await;
        let page = http
            .get(format!("{url}/desk/cases/{r}"))
            .header(COOKIE, session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Reserve a CVE ID"), "{page}");
        server.stop().await;
    }
}

/// A multipart body of text fields and, if given, one file.
fn form_parts(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "EmbargoTestBoundary9f2";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((filename, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The public form asks what the policy asks for, each part under its heading in the
/// report, and takes a file with it; a file over the limit files nothing.
#[tokio::test]
async fn the_report_form_asks_for_what_the_policy_asks_and_takes_a_file() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        let server = Server::start(store).await;
        let url = &server.url;
        let http = client();
        let alice = Api::new(url, Some(&people.alice));
        let form = http
            .get(format!("{url}/projects/CLOUDSTACK/report"))
            .send()
            .await
            .unwrap();
        let pair = cookie(&form, "embargo_form");
        let page = form.text().await.unwrap();
        for label in [
            "How it might be exploited",
            "Affected versions",
            "Anything else useful",
            "A file (optional",
        ] {
            assert!(page.contains(label), "{label}");
        }
        let token = hidden(&page, "form_token");
        let send = |file: Option<(&str, &[u8])>| {
            let (content_type, body) = form_parts(
                &[
                    ("form_token", &token),
                    ("title", "Open redirect"),
                    ("description", "The login page redirects anywhere."),
                    ("exploitation", "Send a victim /login?next=//evil.example"),
                    ("affected_versions", "4.18.0 to 4.18.2"),
                    ("other", "Default configuration."),
                    ("email", "fay@finder.example"),
                ],
                file,
            );
            http.post(format!("{url}/projects/CLOUDSTACK/report"))
                .header(CONTENT_TYPE, content_type)
                .header(COOKIE, pair.clone())
                .body(body)
                .send()
        };
        // Over the limit: refused whole, nothing filed.
        let big = vec![b'x'; 10 * 1024 * 1024 + 1];
        let resp = send(Some(("big.log", &big))).await.unwrap();
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(resp.text().await.unwrap().contains("nothing was sent"));
        assert_eq!(alice.get("/api/cases").await.1.as_array().unwrap().len(), 0);

        let resp = send(Some((
            "poc.txt",
            b"curl -i 'https://host/login?next=//evil.example'",
        )))
        .await
        .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let page = resp.text().await.unwrap();
        assert!(page.contains("Your file poc.txt is attached"), "{page}");
        let (_, cases) = alice.get("/api/cases").await;
        let r = cases[0]["ref"].as_str().unwrap().to_owned();
        let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
        assert_eq!(
            case["description"],
            "The login page redirects anywhere.\n\nHow it might be exploited:\nSend a victim /login?next=//evil.example\n\nAffected versions:\n4.18.0 to 4.18.2\n\nAnything else:\nDefault configuration.",
            "{case}"
        );
        let (_, files) = alice.get(&format!("/api/cases/{r}/attachments")).await;
        assert!(files.to_string().contains("poc.txt"), "{files}");

        // The API takes the same parts.
        let (status, filed) = alice
            .anonymous()
            .post(
                "/api/public/projects/CLOUDSTACK/reports",
                serde_json::json!({ "title": "XSS", "description": "A name is shown unescaped.",
                                    "affected_versions": "4.19.0", "email": "gil@finder.example" }),
            )
            .await;
        assert_eq!(status, 201, "{filed}");
        let (_, case) = alice
            .get(&format!("/api/cases/{}", filed["ref"].as_str().unwrap()))
            .await;
        assert_eq!(
            case["description"],
            "A name is shown unescaped.\n\nAffected versions:\n4.19.0"
        );
        server.stop().await;
    }
}

/// A fresh installation says how to make the first account; the advisory index, the
/// public front door, links to each project's report form.
#[tokio::test]
async fn newcomers_find_the_first_steps_and_the_report_form() {
    let db = TestDb::new(crate::support::Backend::Sqlite).await;
    let store = db.store().await;
    let server = Server::start(store.clone()).await;
    let url = &server.url;
    let page = client()
        .get(format!("{url}/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Nobody can sign in yet")
            && page.contains("setup link")
            && page.contains("embargo init"),
        "{page}"
    );
    seed(&store).await;
    let page = client()
        .get(format!("{url}/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Nobody can sign in yet"));
    let index = client()
        .get(format!("{url}/advisories"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        index.contains("href=\"/projects/CLOUDSTACK/report\""),
        "{index}"
    );
    assert!(index.contains("Report a vulnerability"), "{index}");
    // The form names the other ways in: the security address and the team's key.
    let key: embargo_core::reference::ProjectKey = "CLOUDSTACK".parse().unwrap();
    let mut disclosure = store.project(&key).await.unwrap().disclosure;
    disclosure.security_contacts = vec!["mailto:security@cloudstack.example".into()];
    store
        .update_project(
            &key,
            embargo_store::ProjectUpdate {
                disclosure: Some(disclosure),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let team =
        embargo_openpgp::TeamKey::generate("CloudStack security <security@cloudstack.example>")
            .unwrap();
    store.set_team_key(&key, &team, false).await.unwrap();
    let form = client()
        .get(format!("{url}/projects/CLOUDSTACK/report"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("href=\"mailto:security@cloudstack.example\""),
        "{form}"
    );
    assert!(
        form.contains("href=\"/api/public/projects/CLOUDSTACK/openpgp-key\""),
        "{form}"
    );
    let fingerprint = store
        .team_public_key(&key)
        .await
        .unwrap()
        .unwrap()
        .fingerprint;
    assert!(form.contains(&fingerprint), "the key's fingerprint: {form}");
    // The project's public page says the same, under the project's name.
    let page = client()
        .get(format!("{url}/projects/CLOUDSTACK/advisories"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Security advisories of Apache CloudStack"),
        "{page}"
    );
    assert!(
        page.contains("href=\"/projects/CLOUDSTACK/report\""),
        "{page}"
    );
    assert!(
        page.contains("mailto:security@cloudstack.example"),
        "{page}"
    );
    assert!(page.contains(&fingerprint), "{page}");
    server.stop().await;
}

/// A project is shown by its name, which an administrator changes after `init` (the key
/// stays); a name with control characters is refused and changes nothing.
#[tokio::test]
async fn a_project_is_renamed_and_shown_by_its_name() {
    let db = TestDb::new(crate::support::Backend::Sqlite).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store).await;
    let admin = Api::new(&server.url, Some(&people.admin));
    let (status, body) = admin
        .patch(
            "/api/projects/CLOUDSTACK",
            serde_json::json!({ "name": "Apache\u{1b}[31m CloudStack" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, project) = admin
        .patch(
            "/api/projects/CLOUDSTACK",
            serde_json::json!({ "name": "Apache CloudStack (IaaS)" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{project}");
    assert_eq!(project["name"], "Apache CloudStack (IaaS)");
    assert_eq!(project["key"], "CLOUDSTACK");
    let form = client()
        .get(format!("{}/projects/CLOUDSTACK/report", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("Apache CloudStack (IaaS)"), "{form}");
    // A team member is not an administrator.
    let alice = admin.as_user(&people.alice);
    let (status, _) = alice
        .patch(
            "/api/projects/CLOUDSTACK",
            serde_json::json!({ "name": "Mine now" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server.stop().await;
}

/// An administrator keeps a project's settings from the admin page: its security
/// contacts and policy, its clocks, its team key. Bad values are refused with the reason
/// and change nothing.
#[tokio::test]
async fn project_settings_from_the_admin_page() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        seed(&store).await;
        let admin = store.user_by_email("admin@example.org").await.unwrap();
        let session = store.create_session(admin.id).await.unwrap();
        let server = Server::start(store.clone()).await;
        let http = client();
        let post = |action: &'static str, fields: Vec<(&'static str, &'static str)>| {
            let csrf = embargo_server::extract::csrf_token(&session);
            let mut form = vec![("csrf", csrf), ("project", "CLOUDSTACK".to_owned())];
            form.extend(fields.into_iter().map(|(k, v)| (k, v.to_owned())));
            http.post(format!("{}/desk/admin/{action}", server.url))
                .header(COOKIE, format!("embargo_session={session}"))
                .form(&form)
                .send()
        };
        let key: embargo_core::reference::ProjectKey = "CLOUDSTACK".parse().unwrap();
        let resp = post("contacts", vec![("contacts", "security at example")])
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let resp = post(
            "contacts",
            vec![
                ("contacts", "mailto:security@cloudstack.example\n\n"),
                ("policy_url", "https://cloudstack.example/security"),
            ],
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let project = store.project(&key).await.unwrap();
        assert_eq!(
            project.disclosure.security_contacts,
            vec!["mailto:security@cloudstack.example".to_owned()]
        );
        let clocks = |warn: &'static str| {
            vec![
                ("acknowledge_days", "2"),
                ("mitigation_days_critical", "10"),
                ("mitigation_days_high", "20"),
                ("mitigation_days_other", "30"),
                ("announce_warn_days", warn),
                ("announce_overdue_days", "28"),
                ("stall_days", "20"),
            ]
        };
        let resp = post("clocks", clocks("40")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(resp.text().await.unwrap().contains("announce_warn_days"));
        let resp = post("clocks", clocks("14")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let project = store.project(&key).await.unwrap();
        assert_eq!(project.clocks.acknowledge_days, 2);
        assert_eq!(project.clocks.stall_days, 20);
        assert!(store.team_public_key(&key).await.unwrap().is_none());
        let resp = post(
            "team-key",
            vec![(
                "user_id",
                "CloudStack security <security@cloudstack.example>",
            )],
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let fingerprint = store
            .team_public_key(&key)
            .await
            .unwrap()
            .expect("the team key")
            .fingerprint;
        let page = http
            .get(format!("{}/desk/admin?done=saved", server.url))
            .header(COOKIE, format!("embargo_session={session}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&fingerprint) && page.contains("Saved."),
            "{page}"
        );
        server.stop().await;
    }
}

/// The team keeps its distributors list on the admin page: added, listed, removed.
#[tokio::test]
async fn distributors_from_the_admin_page() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        seed(&store).await;
        let server = Server::start(store.clone()).await;
        let http = client();
        let session = sign_in_alice(&http, &server.url).await;
        let admin_page = || async {
            http.get(format!("{}/desk/admin", server.url))
                .header(COOKIE, &session)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let csrf = hidden(&admin_page().await, "csrf");
        let post = |action: &'static str, email: &'static str| {
            http.post(format!("{}/desk/admin/{action}", server.url))
                .header(COOKIE, &session)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("project", "CLOUDSTACK"),
                    ("email", email),
                ])
                .send()
        };
        let resp = post("distributor", "not an address").await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let resp = post("distributor", "security@distro.example")
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let page = admin_page().await;
        assert!(page.contains("security@distro.example"), "{page}");
        let resp = post("distributor-remove", "security@distro.example")
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert!(!admin_page().await.contains("security@distro.example"));
        server.stop().await;
    }
}
