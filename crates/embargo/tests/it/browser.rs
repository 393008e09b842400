//! The web UI in a real browser: each script under `tests/browser/` drives Debian's
//! Chromium with playwright-core against a real `embargo serve` (with an SMTP sink, so
//! mail goes out and is read back). `flow.mjs` takes a case from the report form to the
//! public advisory; the others are one flow each: the first run (`first-run.mjs`), a
//! newcomer invited to the team (`newcomer.mjs`), a collaborator (`collaborator.mjs`),
//! the reporter kept informed (`reporter-told.mjs`), the team's steps after the
//! announcement (`after-announcement.mjs`) and the report form filing once
//! (`report-once.mjs`). The scripts check every page with html-validate and axe-core and
//! save screenshots under `target/browser-shots/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::disclosure::configure;
use crate::mail::Sink;
use crate::signin::code_now;
use crate::support::{Api, Backend, Process, TestDb, seed};

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn shots_dir(backend: Backend) -> PathBuf {
    // target/ sits at the workspace root, two levels above this crate.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target
        .join("browser-shots")
        .join(format!("{backend:?}").to_lowercase())
}

fn browser_ready() {
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "Debian's chromium is needed: scripts/test installs it"
    );
    assert!(
        browser_dir().join("node_modules/playwright-core").exists(),
        "the browser tests' npm packages are missing: scripts/test runs npm ci in {}",
        browser_dir().display()
    );
}

/// Runs one flow's script with `vars` (and EMBARGO_URL, SHOTS); fails the test with its
/// output when any of its checks failed.
fn run_flow(script: &str, backend: Backend, url: &str, vars: &[(&str, String)]) {
    browser_ready();
    let name = script.trim_end_matches(".mjs");
    let out = Command::new("node")
        .arg(browser_dir().join(script))
        .current_dir(browser_dir())
        .env("EMBARGO_URL", url)
        .env("SHOTS", shots_dir(backend).join(name))
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the {name} flow failed:\n{stdout}\n{stderr}"
    );
}

/// A server with an SMTP sink, on a seeded store with the disclosure settings.
struct Served {
    db: TestDb,
    people: crate::support::Seed,
    sink: Sink,
    server: Process,
}

/// `before` runs on the store before the server starts (CLI settings, say); what it gives
/// back is returned beside the server.
async fn served_with<T>(backend: Backend, before: impl AsyncFnOnce(&TestDb) -> T) -> (Served, T) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    configure(&db);
    let given = before(&db).await;
    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    )
    .env("EMBARGO_MAIL_FROM", "security@cloudstack.example");
    let server = Process::serve(cmd);
    (
        Served {
            db,
            people,
            sink,
            server,
        },
        given,
    )
}

async fn served(backend: Backend) -> Served {
    served_with(backend, async |_: &TestDb| {}).await.0
}

impl Served {
    fn sink_dir(&self) -> String {
        self.db.dir.path().join("sink").display().to_string()
    }
    fn alice(&self) -> Api {
        Api::new(&self.server.url, Some(&self.people.alice))
    }
    fn alice_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ALICE_EMAIL", "alice@example.org".into()),
            ("ALICE_PASSWORD", self.people.alice_password.into()),
            ("SINK_DIR", self.sink_dir()),
        ]
    }
}

async fn web_ui_end_to_end(backend: Backend) {
    browser_ready();
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    // Olga is on the OTHER project's team only.
    store
        .create_user("olga@example.org", Some("olga password 123"), false)
        .await
        .unwrap();
    let other = "OTHER".parse().unwrap();
    store
        .add_committee_members(&other, &["olga@example.org".to_owned()])
        .await
        .unwrap();
    store
        .add_project_member(&other, "olga@example.org")
        .await
        .unwrap();
    // An administrator who signs in to the web.
    store
        .create_user("root@example.org", Some("root password 123"), true)
        .await
        .unwrap();
    store.close().await;
    configure(&db);
    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    )
    .env("EMBARGO_MAIL_FROM", "security@cloudstack.example");
    let server = Process::serve(cmd);

    // Alice turns two-factor sign-in on; the browser signs in with a later code.
    let alice = Api::new(&server.url, Some(&people.alice));
    let (status, setup) = alice
        .post("/api/me/totp", json!({ "password": people.alice_password }))
        .await;
    assert_eq!(status, 200, "{setup}");
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let (status, body) = alice
        .post("/api/me/totp/confirm", json!({ "code": code_now(&secret) }))
        .await;
    assert_eq!(status, 200, "{body}");

    let shots = shots_dir(backend);
    let out = Command::new("node")
        .arg(browser_dir().join("flow.mjs"))
        .current_dir(browser_dir())
        .env("EMBARGO_URL", &server.url)
        .env("ALICE_EMAIL", "alice@example.org")
        .env("ALICE_PASSWORD", people.alice_password)
        .env("ALICE_TOTP", &secret)
        .env("ALICE_TOKEN", &people.alice)
        .env("OLGA_EMAIL", "olga@example.org")
        .env("OLGA_PASSWORD", "olga password 123")
        .env("SINK_DIR", db.dir.path().join("sink"))
        .env("SHOTS", &shots)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser flow failed:\n{stdout}\n{stderr}"
    );
    for page in [
        "report-form",
        "sign-in",
        "queue",
        "case-release-pending",
        "reporter",
        "advisory",
    ] {
        for width in ["desktop", "phone"] {
            let shot = shots.join(format!("{page}-{width}.png"));
            assert!(shot.exists(), "{} is missing", shot.display());
        }
    }
    // The review page's figures agree with the JSON and CSV exports.
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shots.join("result.json")).unwrap()).unwrap();
    let shown = &result["metrics"];
    let export = |format: &str| {
        let out = db
            .command(&["report", "--project", "CLOUDSTACK", "--format", format])
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
    let json: serde_json::Value = serde_json::from_str(&export("json")).unwrap();
    let figures = &json["figures"];
    assert_eq!(shown["cases"], figures["cases"], "{shown} vs {figures}");
    assert_eq!(shown["overdue"], figures["overdue"]);
    for (step, key) in [
        ("acknowledge", "time_to_acknowledge"),
        ("announce", "time_to_announce"),
    ] {
        assert_eq!(shown[step]["count"], figures[key]["count"], "{step}");
        let median = figures[key]["median_days"]
            .as_f64()
            .map(embargo_core::clocks::span_in_words)
            .unwrap_or_else(|| "–".into());
        assert_eq!(
            shown[step]["median"].as_str(),
            Some(median.as_str()),
            "{step}"
        );
    }
    let csv = export("csv");
    let row = |section: &str, name: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{section},{name},")))
            .map(|l| l.rsplit(',').next().unwrap_or_default().to_owned())
    };
    assert_eq!(row("cases", "all"), Some(shown["cases"].to_string()));
    assert_eq!(
        row("time_to_announce", "count"),
        Some(shown["announce"]["count"].to_string())
    );

    // The announcement went to the lists, and the reporter got the team's reply by mail.
    assert!(!sink.to("dev@cloudstack.example").is_empty());
    assert!(!sink.to("fay@finder.example").is_empty());
}

#[tokio::test]
async fn web_ui_end_to_end_sqlite() {
    web_ui_end_to_end(Backend::Sqlite).await;
}

#[tokio::test]
async fn web_ui_end_to_end_postgres() {
    web_ui_end_to_end(Backend::Postgres).await;
}

/// A new installation set up in the browser, from the link `embargo serve` prints.
async fn first_run(backend: Backend) {
    let db = TestDb::new(backend).await;
    let log = db.dir.path().join("serve.log");
    let server = Process::serve_logged(db.command(&[]), &log);
    let mut setup = None;
    for _ in 0..100 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(at) = text.find("/setup/") {
            setup = text[at..].split_whitespace().next().map(str::to_owned);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let setup = setup.expect("the setup link on the console");
    let out = Command::new("node")
        .arg(browser_dir().join("first-run.mjs"))
        .current_dir(browser_dir())
        .env("EMBARGO_URL", &server.url)
        .env("SETUP_PATH", &setup)
        .env("SHOTS", shots_dir(backend).join("first-run"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the first-run flow failed:\n{stdout}\n{stderr}"
    );
    drop(server);
}

#[tokio::test]
async fn first_run_in_the_browser_sqlite() {
    first_run(Backend::Sqlite).await;
}

#[tokio::test]
async fn first_run_in_the_browser_postgres() {
    first_run(Backend::Postgres).await;
}

/// An administrator invites a newcomer, who enrols a second factor and signs in with it.
async fn newcomer(backend: Backend) {
    let (s, ()) = served_with(backend, async |db: &TestDb| {
        let store = db.store().await;
        store
            .create_user("root@example.org", Some("root password 123"), true)
            .await
            .unwrap();
        store.close().await;
    })
    .await;
    let r = s.alice().report("CLOUDSTACK", "Console XSS").await;
    run_flow(
        "newcomer.mjs",
        backend,
        &s.server.url,
        &[
            ("ROOT_EMAIL", "root@example.org".into()),
            ("ROOT_PASSWORD", "root password 123".into()),
            ("SINK_DIR", s.sink_dir()),
            ("REF", r),
        ],
    );
    let (_, members) = s.alice().get("/api/projects/CLOUDSTACK/members").await;
    assert!(
        members.to_string().contains("newbie@example.org"),
        "{members}"
    );
}

#[tokio::test]
async fn newcomer_enrols_a_second_factor_in_the_browser_sqlite() {
    newcomer(Backend::Sqlite).await;
}

#[tokio::test]
async fn newcomer_enrols_a_second_factor_in_the_browser_postgres() {
    newcomer(Backend::Postgres).await;
}

/// A collaborator invited by mail accepts the terms, adds a note, offers a patch and
/// evidence, and never sees the reporter.
async fn collaborator(backend: Backend) {
    let s = served(backend).await;
    let alice = s.alice();
    let r = alice.report("CLOUDSTACK", "Console XSS").await;
    alice
        .moved(&r, json!({ "to": "triage", "reason": "reproducing" }))
        .await;
    alice.moved(&r, json!({ "to": "confirmed" })).await;
    let mut vars = s.alice_vars();
    vars.push(("REF", r.clone()));
    vars.push(("REPORTER", "finder@example.net".into()));
    run_flow("collaborator.mjs", backend, &s.server.url, &vars);
    let (_, board) = alice.get(&format!("/api/cases/{r}/fixes")).await;
    assert!(
        board.to_string().contains("helper@example.org"),
        "the collaborator's work is on the board: {board}"
    );
}

#[tokio::test]
async fn collaborator_joins_and_contributes_in_the_browser_sqlite() {
    collaborator(Backend::Sqlite).await;
}

#[tokio::test]
async fn collaborator_joins_and_contributes_in_the_browser_postgres() {
    collaborator(Backend::Postgres).await;
}

/// The reporter is told of a moved date and of the announcement, and their page links
/// the advisory.
async fn reporter_told(backend: Backend) {
    let s = served(backend).await;
    let alice = s.alice();
    // A day ahead; the team brings it to the test's minute in the browser.
    let r = crate::disclosure::ready_case(&alice, 86_400).await;
    crate::disclosure::release(&alice, &r).await;
    let secret = alice.reporter_secret(&r).await;
    let mut vars = s.alice_vars();
    vars.push(("REF", r.clone()));
    vars.push(("REPORTER", "fay@finder.example".into()));
    vars.push(("REPORTER_PATH", format!("/reporter/{secret}")));
    run_flow("reporter-told.mjs", backend, &s.server.url, &vars);
    let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
    assert_eq!(case["state"], "announced", "{case}");
    assert!(!s.sink.to("dev@cloudstack.example").is_empty());
}

#[tokio::test]
async fn reporter_is_told_of_a_moved_date_and_the_announcement_sqlite() {
    reporter_told(Backend::Sqlite).await;
}

#[tokio::test]
async fn reporter_is_told_of_a_moved_date_and_the_announcement_postgres() {
    reporter_told(Backend::Postgres).await;
}

/// After the announcement the team does the rest on the case page: the archive, the CVE
/// record published through CVE Services (the stand-in), CHANGES and NEWS, and public.
async fn after_announcement(backend: Backend) {
    let (s, service) = served_with(backend, async |db: &TestDb| {
        crate::cve_services::configured(db, 5).await
    })
    .await;
    let alice = s.alice();
    // The foundation team delegates reservation; the team reserves the case's ID.
    let (status, body) = alice
        .as_user(&s.people.fiona)
        .put(
            "/api/projects/CLOUDSTACK/cve-delegation",
            json!({ "delegated": true }),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let r = alice.report("CLOUDSTACK", "Console XSS").await;
    alice
        .moved(&r, json!({ "to": "triage", "reason": "reproducing" }))
        .await;
    alice.moved(&r, json!({ "to": "confirmed" })).await;
    let (status, body) = alice
        .post(&format!("/api/cases/{r}/cve/reserve"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let embargo = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let (status, body) = alice
        .patch(
            &format!("/api/cases/{r}"),
            json!({
                "cvss": "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:N",
                "embargo_at": embargo.format(&time::format_description::well_known::Rfc3339).unwrap(),
                "versions": { "affected": ["4.0.0 through 4.19.1.1"], "fixed": ["4.19.1.2"] },
                "advisory": { "title": "Stored XSS in the console", "description": "The console showed names unescaped.", "mitigation": "Upgrade to 4.19.1.2.", "cwe": "CWE-79" }
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
    let cve = case["cve_id"].as_str().unwrap().to_owned();
    crate::disclosure::release(&alice, &r).await;
    alice
        .moved(
            &r,
            json!({ "to": "announced", "not_sent_reason": "announced by hand in the test", "override_reason": "the fix is public already" }),
        )
        .await;
    let mut vars = s.alice_vars();
    vars.push(("REF", r.clone()));
    vars.push(("CVE", cve.clone()));
    run_flow("after-announcement.mjs", backend, &s.server.url, &vars);
    assert!(
        service.has_record(&cve),
        "the stand-in holds {cve}'s record"
    );
    let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
    assert_eq!(
        case["advisory_url"], "https://lists.cloudstack.example/thread/abc",
        "{case}"
    );
}

// The stand-in answers on this runtime while the flow runs: a second thread serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_announcement_in_the_browser_sqlite() {
    after_announcement(Backend::Sqlite).await;
}

// The stand-in answers on this runtime while the flow runs: a second thread serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_announcement_in_the_browser_postgres() {
    after_announcement(Backend::Postgres).await;
}

/// The public report form files once: a reload, or the form sent again, files nothing.
async fn report_once(backend: Backend) {
    let s = served(backend).await;
    run_flow("report-once.mjs", backend, &s.server.url, &[]);
    let (_, cases) = s.alice().get("/api/cases?project=CLOUDSTACK").await;
    let titles: Vec<&str> = cases
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["title"].as_str())
        .filter(|t| t.contains("filed once"))
        .collect();
    assert_eq!(titles.len(), 1, "{cases}");
    // The team hears of the report once: its file is part of it, not a new message.
    crate::support::eventually(10, "the new report's mail", || async {
        !s.sink.to("alice@example.org").is_empty()
    })
    .await;
    // Give a second mail, if one were coming, the time the first took.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let team_mails = s.sink.to("alice@example.org");
    assert_eq!(
        team_mails.len(),
        1,
        "{:?}",
        team_mails
            .iter()
            .map(|(_, m)| &m.subject)
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn report_form_files_once_in_the_browser_sqlite() {
    report_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn report_form_files_once_in_the_browser_postgres() {
    report_once(Backend::Postgres).await;
}
