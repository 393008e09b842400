//! Attacks that once worked, each tried again and each now failing: a read-only token
//! asking for the reporter's link, unaudited reads of the reporter's thread, an open
//! redirect after sign-in, lockout that told accounts apart and locked members out,
//! forwarded addresses believed from anyone, files others could read, escape sequences
//! and spreadsheet formulas from strangers' text, CVE Services over plain http or through
//! a redirect, and a relay's words about the reporter in the log.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION};
use serde_json::{Value, json};

use crate::mail::Sink;
use crate::support::{Api, BACKENDS, Backend, Process, Server, TestDb, seed};
use crate::web::{client, cookie, hidden};

fn audit_log(db: &TestDb, case: &str) -> Vec<Value> {
    let out = db
        .command(&["--json", "audit", "log", "--case", case])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_links_write_nothing_they_should_not() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        let alice_id = store.user_by_email("alice@example.org").await.unwrap().id;
        let reader = store
            .create_scoped_token(alice_id, "dashboard", true)
            .await
            .unwrap()
            .secret;
        let server = Server::start(store.clone()).await;
        let alice = Api::new(&server.url, Some(&people.alice));
        let r = alice.report("CLOUDSTACK", "Reporter link").await;
        let reader = Api::new(&server.url, Some(&reader));

        // The link lets its holder write as the reporter: a read-only token gets nothing.
        let (status, _) = reader.get(&format!("/api/cases/{r}/reporter-link")).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        let (status, body) = reader
            .post(&format!("/api/cases/{r}/reporter-link"), json!({}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, link) = alice
            .post(&format!("/api/cases/{r}/reporter-link"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);

        // Handing the link out and the reporter reading their thread are both audited.
        let secret = link["secret"].as_str().unwrap();
        let (status, _) = Api::new(&server.url, None)
            .get(&format!("/api/reporter/{secret}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        server.stop().await;
        store.close().await;
        let reads: Vec<String> = audit_log(&db, &r)
            .iter()
            .map(|row| {
                format!(
                    "{}/{}",
                    row["what"].as_str().unwrap(),
                    row["via"].as_str().unwrap()
                )
            })
            .collect();
        assert!(reads.contains(&"reporter-link/api".to_owned()), "{reads:?}");
        assert!(
            reads.contains(&"external-thread/reporter-link".to_owned()),
            "{reads:?}"
        );
    }
}

/// Signs in through the page, `next` given; returns where the browser is sent.
async fn sign_in_page(url: &str, next: &str, forwarded: &str) -> (StatusCode, Option<String>) {
    let http = client();
    let form = http
        .get(format!("{url}/sign-in?next={next}"))
        .send()
        .await
        .unwrap();
    let pair = cookie(&form, "embargo_form");
    let page = form.text().await.unwrap();
    let token = hidden(&page, "form_token");
    let next_field = hidden(&page, "next");
    let resp = http
        .post(format!("{url}/sign-in"))
        .header(COOKIE, pair)
        .header("x-forwarded-for", forwarded)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "form_token={token}&email=alice%40example.org&password=alice+password+123&next={}",
            next_field.replace('/', "%2F")
        ))
        .send()
        .await
        .unwrap();
    (
        resp.status(),
        resp.headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_owned()),
    )
}

async fn api_sign_in(url: &str, email: &str, password: &str, client_addr: &str) -> StatusCode {
    client()
        .post(format!("{url}/api/session"))
        .header("x-forwarded-for", client_addr)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
}

async fn sign_in_neither_redirects_off_site_nor_reveals_or_locks_out_accounts(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    store
        .set_password(
            store.user_by_email("fiona@example.org").await.unwrap().id,
            "fiona's real password",
        )
        .await
        .unwrap();
    store.close().await;
    // Behind a proxy on loopback: the forwarded address is the client's.
    let mut behind_proxy = db.command(&[]);
    behind_proxy.env("EMBARGO_TRUSTED_PROXIES", "127.0.0.1");
    let server = Process::serve(behind_proxy);
    let url = &server.url;

    // Browsers drop a tab inside a URL: "/\t/evil.example" would be "//evil.example".
    let (status, to) = sign_in_page(url, "/%09/evil.example/x", "198.51.100.10").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to.as_deref(), Some("/desk"));

    // Five failures for a real account and for an unknown one: the same answers.
    let mut real = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..6 {
        real.push(
            api_sign_in(
                url,
                "fiona@example.org",
                "a wrong password",
                "198.51.100.20",
            )
            .await,
        );
        unknown.push(
            api_sign_in(
                url,
                "nobody@example.org",
                "a wrong password",
                "198.51.100.20",
            )
            .await,
        );
    }
    assert_eq!(real, unknown, "lockout tells no account apart");
    assert_eq!(real[5], StatusCode::TOO_MANY_REQUESTS);
    // The address that failed is held out, even with the right password...
    assert_eq!(
        api_sign_in(
            url,
            "fiona@example.org",
            "fiona's real password",
            "198.51.100.20"
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...but fiona, from where she works, is not locked out.
    assert_eq!(
        api_sign_in(
            url,
            "fiona@example.org",
            "fiona's real password",
            "203.0.113.5"
        )
        .await,
        StatusCode::OK
    );
    drop(server);

    // Without a trusted proxy, a forwarded address is the client's own claim: ignored.
    let server = Process::serve(db.command(&[]));
    for n in 0..5 {
        let claimed = format!("192.0.2.{n}");
        assert_eq!(
            api_sign_in(&server.url, "bob@example.org", "a wrong password", &claimed).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        api_sign_in(
            &server.url,
            "bob@example.org",
            "a wrong password",
            "192.0.2.99"
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS,
        "every attempt came from 127.0.0.1, whatever the header said"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_neither_redirects_off_site_nor_reveals_or_locks_out_accounts_sqlite() {
    sign_in_neither_redirects_off_site_nor_reveals_or_locks_out_accounts(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_neither_redirects_off_site_nor_reveals_or_locks_out_accounts_postgres() {
    sign_in_neither_redirects_off_site_nor_reveals_or_locks_out_accounts(Backend::Postgres).await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_is_its_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("embargo-data");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_embargo"))
        .args([
            "init",
            "--org",
            "ASF",
            "--project",
            "CLOUDSTACK",
            "--admin-email",
            "admin@example.org",
            "--admin-password-stdin",
        ])
        .env("EMBARGO_DATA", &data)
        .env_remove("EMBARGO_DATABASE_URL")
        .env_remove("EMBARGO_MASTER_KEY")
        .env_remove("EMBARGO_MASTER_KEY_FILE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        b"an administrator password\n",
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data directory");
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            mode(&path) & 0o077,
            0,
            "{} is readable by others",
            path.display()
        );
    }
}

async fn strangers_text_reaches_no_terminal_or_spreadsheet_as_code(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store.clone()).await;
    let anonymous = Api::new(&server.url, None);
    let (status, _) = anonymous
        .post(
            "/api/public/projects/CLOUDSTACK/reports",
            json!({
                "title": "XSS\u{1b}]0;pwned\u{7}\u{1b}[2J here \u{202e}fdp.exe",
                "description": "Steps.",
                "name": "=HYPERLINK(\"http://evil.example\",\"click\")",
                "email": "eve@evil.example"
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let cli = |args: &[&str]| {
        let out = db
            .command(args)
            .env("EMBARGO_URL", &server.url)
            .env("EMBARGO_TOKEN", &people.alice)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let listed = cli(&["case", "list"]);
    assert!(listed.contains("XSS"), "{listed}");
    assert!(
        !listed.contains(['\u{1b}', '\u{7}', '\u{202e}']),
        "no escape sequence reaches the terminal: {listed:?}"
    );
    let csv = cli(&["report", "--project", "CLOUDSTACK", "--format", "csv"]);
    if csv.contains("HYPERLINK") {
        assert!(
            csv.contains("'=HYPERLINK"),
            "a formula is shown as text: {csv}"
        );
    }
    assert!(!csv.lines().any(|l| {
        l.split(',')
            .any(|cell| cell.trim_start_matches('"').starts_with('='))
    }));
    server.stop().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_text_reaches_no_terminal_or_spreadsheet_as_code_sqlite() {
    strangers_text_reaches_no_terminal_or_spreadsheet_as_code(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_text_reaches_no_terminal_or_spreadsheet_as_code_postgres() {
    strangers_text_reaches_no_terminal_or_spreadsheet_as_code(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cve_services_key_travels_only_over_https_and_never_follows_a_redirect() {
    // Plain http to a host on the network is refused before anything is sent.
    let refused =
        embargo_store::CveCredentials::new("http://cveawg.example.org/api", "apache", "u", "k");
    assert!(refused.is_err());
    assert!(
        embargo_store::CveCredentials::new("https://cveawg.example.org/api", "apache", "u", "k")
            .is_ok()
    );

    // A service that redirects: the second server must never see the key.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let catcher = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let catcher_url = format!("http://{}", catcher.local_addr().unwrap());
    let log = seen.clone();
    let catch = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let log = log.clone();
        async move {
            let key = headers
                .get("cve-api-key")
                .map(|v| v.to_str().unwrap_or_default().to_owned())
                .unwrap_or_default();
            log.lock().unwrap().push(key);
            "{}"
        }
    });
    let catcher_task = tokio::spawn(async move { axum::serve(catcher, catch).await.unwrap() });
    let redirector = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirector_url = format!("http://{}/api", redirector.local_addr().unwrap());
    let target = catcher_url.clone();
    let redirect =
        axum::Router::new().fallback(move || {
            let target = target.clone();
            async move {
                axum::response::Redirect::temporary(&format!("{target}/api/org/apache/id_quota"))
            }
        });
    let redirector_task =
        tokio::spawn(async move { axum::serve(redirector, redirect).await.unwrap() });
    let credentials =
        embargo_store::CveCredentials::new(&redirector_url, "apache", "user", "secret-key-123")
            .unwrap();
    let client = embargo_server::cve_services::CveServices::new(credentials).unwrap();
    let err = client.quota().await.unwrap_err().to_string();
    assert!(err.contains("redirect"), "{err}");
    assert!(seen.lock().unwrap().is_empty(), "the key went nowhere else");
    catcher_task.abort();
    redirector_task.abort();
}

async fn a_relays_words_about_the_reporter_stay_out_of_the_log(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    store.close().await;
    let sink = Sink::start_rejecting(&db.dir.path().join("sink"));
    let log = db.dir.path().join("server.log");
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    )
    .env("EMBARGO_LOG", "debug");
    let server = Process::serve_logged(cmd, &log);
    let (status, _) = Api::new(&server.url, None)
        .post(
            "/api/public/projects/CLOUDSTACK/reports",
            json!({ "title": "Reflected XSS", "description": "Steps.", "email": "reporter.secret@finder.example" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    crate::support::eventually(20, "the relay refuses", || async {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("sending mail failed")
    })
    .await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("reply code 550"), "{text}");
    assert!(
        !text.contains("reporter.secret"),
        "the relay's text quoted the address: {text}"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relays_words_about_the_reporter_stay_out_of_the_log_sqlite() {
    a_relays_words_about_the_reporter_stay_out_of_the_log(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relays_words_about_the_reporter_stay_out_of_the_log_postgres() {
    a_relays_words_about_the_reporter_stay_out_of_the_log(Backend::Postgres).await;
}

/// Rows moved by SQL to another project's case (or a case moved to another project) do
/// not open there: an error, never the content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_moved_by_sql_open_nowhere_else() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        let server = Server::start(store.clone()).await;
        let alice = Api::new(&server.url, Some(&people.alice));
        let bob = Api::new(&server.url, Some(&people.bob));
        // A CloudStack case with a note and a proof of concept; an OTHER case of bob's.
        let (code, outcome, stderr) = crate::support::intake(
            &db,
            "CLOUDSTACK",
            b"From: Fay <fay@finder.example>\r\nSubject: Secret RCE\r\nMessage-ID: <m1@finder.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe agent runs anything.\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=poc.py\r\n\r\nprint('the secret proof')\r\n--b--\r\n",
            &[],
            &[],
        );
        assert_eq!(code, Some(0), "{stderr}");
        let ours = outcome["ref"].as_str().unwrap().to_owned();
        let (status, _) = alice
            .post(
                &format!("/api/cases/{ours}/notes"),
                json!({ "text": "internal: the secret note" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let theirs = bob.report("OTHER", "Bob's own report").await;
        let id_of = |reference: &str| {
            let number: i64 = reference.rsplit('-').next().unwrap().parse().unwrap();
            let project = reference.split("-SEC-").next().unwrap().to_owned();
            (project, number)
        };
        let case_id = |reference: String| {
            let db = &db;
            async move {
                let (project, number) = id_of(&reference);
                db.query_text(&format!(
                    "SELECT CAST(c.id AS TEXT) FROM cases c JOIN projects p ON p.id = c.project_id WHERE p.key = '{project}' AND c.number = {number}"
                ))
                .await
                .unwrap()
            }
        };
        let (our_id, their_id) = (case_id(ours.clone()).await, case_id(theirs.clone()).await);
        let secrets = [
            "the secret note",
            "the secret proof",
            "Secret RCE",
            "runs anything",
        ];
        let leaks = |body: &Value| secrets.iter().any(|s| body.to_string().contains(s));

        // The note moved onto bob's case.
        db.execute(
            &format!("UPDATE case_events SET case_id = {their_id} WHERE case_id = {our_id} AND kind = 'note'"),
            &[],
        )
        .await;
        let (status, body) = bob.get(&format!("/api/cases/{theirs}/timeline")).await;
        assert!(status.is_server_error(), "{status}: {body}");
        assert!(!leaks(&body), "{body}");
        db.execute(
            &format!("UPDATE case_events SET case_id = {our_id} WHERE case_id = {their_id} AND kind = 'note'"),
            &[],
        )
        .await;
        assert_eq!(
            alice.get(&format!("/api/cases/{ours}/timeline")).await.0,
            StatusCode::OK
        );

        // The proof of concept moved onto bob's case.
        db.execute(
            &format!("UPDATE attachments SET case_id = {their_id} WHERE case_id = {our_id}"),
            &[],
        )
        .await;
        let (_, files) = bob.get(&format!("/api/cases/{theirs}/attachments")).await;
        assert!(!leaks(&files), "{files}");
        let file_id = db
            .query_text(&format!(
                "SELECT CAST(id AS TEXT) FROM attachments WHERE case_id = {their_id}"
            ))
            .await
            .unwrap();
        let (status, body) = bob
            .get(&format!("/api/cases/{theirs}/attachments/{file_id}"))
            .await;
        assert!(status.is_server_error(), "{status}: {body}");
        assert!(!leaks(&body));

        db.execute(
            &format!("UPDATE attachments SET case_id = {our_id} WHERE case_id = {their_id}"),
            &[],
        )
        .await;
        assert_eq!(
            alice
                .get(&format!("/api/cases/{ours}/attachments/{file_id}"))
                .await
                .0,
            StatusCode::OK
        );

        // A quarantined message moved into bob's project's quarantine.
        let (_, held, _) = crate::support::intake(
            &db,
            "CLOUDSTACK",
            b"From: x@example.net\r\nX-Spam-Flag: YES\r\nSubject: the secret proof\r\n\r\nruns anything\r\n",
            &[],
            &[],
        );
        assert_eq!(held["outcome"], "quarantined");
        db.execute(
            "UPDATE messages SET project_id = (SELECT id FROM projects WHERE key = 'OTHER') WHERE kind = 'quarantined'",
            &[],
        )
        .await;
        let (_, listed) = bob.get("/api/projects/OTHER/quarantine").await;
        let moved = listed[0]["id"].clone();
        let (status, body) = bob
            .post(
                &format!("/api/projects/OTHER/quarantine/{moved}/release"),
                json!({}),
            )
            .await;
        assert!(status.is_server_error(), "{status}: {body}");
        assert!(!leaks(&body), "{body}");
        let (_, other_cases) = bob.get("/api/cases").await;
        assert!(!leaks(&other_cases), "{other_cases}");

        // The whole case moved into bob's project.
        db.execute(
            &format!("UPDATE cases SET project_id = (SELECT id FROM projects WHERE key = 'OTHER'), number = 99 WHERE id = {our_id}"),
            &[],
        )
        .await;
        for path in ["", "/timeline", "/attachments"] {
            let (status, body) = bob.get(&format!("/api/cases/OTHER-SEC-99{path}")).await;
            assert!(status.is_server_error(), "{path}: {status}: {body}");
            assert!(!leaks(&body), "{path}: {body}");
        }
        server.stop().await;
        store.close().await;
    }
}
