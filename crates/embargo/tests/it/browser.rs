//! The web UI in a real browser: `tests/browser/flow.mjs` drives Debian's Chromium with
//! playwright-core against a real `embargo serve` (with an SMTP sink, so the
//! announcement goes out and the case is published). The script checks every page with
//! html-validate and axe-core and saves screenshots under `target/browser-shots/`.

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
    let (status, setup) = alice.post("/api/me/totp", json!({})).await;
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
