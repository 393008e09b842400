//! The web UI in a real browser: `tests/browser/flow.mjs` drives Debian's Chromium with
//! playwright-core against a real `embargo serve` (with an SMTP sink, so the
//! announcement goes out and the case is published), and `first-run.mjs` against a new
//! installation. The scripts check every page with html-validate and axe-core and save
//! screenshots under `target/browser-shots/`.

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

async fn web_ui_end_to_end(backend: Backend) {
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "Debian's chromium is needed: scripts/test installs it"
    );
    assert!(
        browser_dir().join("node_modules/playwright-core").exists(),
        "the browser tests' npm packages are missing: scripts/test runs npm ci in {}",
        browser_dir().display()
    );
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
        .env("ROOT_EMAIL", "root@example.org")
        .env("ROOT_PASSWORD", "root password 123")
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
