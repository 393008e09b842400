//! Upgrades: a database written by an earlier release (here, one migration behind) is
//! migrated only when the operator says so: after a backup of the last day, with
//! `--migrate`, or by `embargo migrate`. Until then commands refuse with what to do, the
//! server does not start, and mail waits at the MTA (exit 75).

use crate::support::{Api, BACKENDS, Backend, Process, TestDb, seed};

/// Takes the newest migration back out: the database as the release before wrote it.
async fn as_the_release_before(db: &TestDb) {
    db.execute("DROP TABLE address_events", &[]).await;
    db.execute("DELETE FROM _sqlx_migrations WHERE version = 28", &[])
        .await;
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn run(db: &TestDb, args: &[&str]) -> std::process::Output {
    db.command(args).output().unwrap()
}

async fn an_older_database_waits_for_the_operator(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;

    // A backup records itself at the schema it was taken at.
    let file = db.dir.path().join("before.backup");
    let out = run(&db, &["backup", "--output", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let current = db
        .query_text("SELECT CAST(MAX(version) AS TEXT) FROM _sqlx_migrations")
        .await
        .unwrap();
    assert_eq!(
        db.query_text("SELECT CAST(schema_version AS TEXT) FROM backup_log")
            .await,
        Some(current.clone())
    );
    let current: i64 = current.parse().unwrap();
    db.execute("DELETE FROM backup_log", &[]).await;
    as_the_release_before(&db).await;

    // The dry run lists what would change and changes nothing.
    let out = run(&db, &["--json", "migrate", "--dry-run"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["pending"][0]["version"], 28, "{plan}");
    assert_eq!(plan["pending"][0]["description"], "address events");
    assert_eq!(plan["fresh_backup"], false);
    assert_eq!(plan["applied"], false);
    let out = run(&db, &["--json", "migrate", "--dry-run"]);
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["pending"], plan["pending"], "nothing changed");

    // Commands refuse, saying how to proceed; mail waits at the MTA.
    let out = run(&db, &["jobs", "status"]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(
        said.contains("0028 address events") && said.contains("--migrate"),
        "{said}"
    );
    let (code, _, said) = crate::support::intake(
        &db,
        "CLOUDSTACK",
        b"From: fay@finder.example\r\nSubject: Waits\r\nMessage-ID: <up1@finder.example>\r\n\r\nA report.\r\n",
        &[],
        &[],
    );
    assert_eq!(code, Some(75), "{said}");
    // The server does not start without a backup, nor with a stale one.
    let out = run(&db, &["serve", "--listen", "127.0.0.1:0"]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success() && said.contains("no backup recorded"),
        "{said}"
    );
    db.execute(
        "INSERT INTO backup_log (taken_at, schema_version) VALUES ($1, $2)",
        &[now_ms() - 2 * 24 * 3600 * 1000, current],
    )
    .await;
    let out = run(&db, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success(), "a backup two days old is not fresh");

    // After a fresh backup (the release before recorded it), the server migrates on
    // start, and the desk works as before, the waiting mail included.
    db.execute(
        "INSERT INTO backup_log (taken_at, schema_version) VALUES ($1, $2)",
        &[now_ms(), current],
    )
    .await;
    let log = db.dir.path().join("upgrade.log");
    let server = Process::serve_logged(db.command(&[]), &log);
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.contains("applying migration") && said.contains("address events"),
        "{said}"
    );
    let alice = Api::new(&server.url, Some(&people.alice));
    assert_eq!(alice.get("/readyz").await.0, 200);
    let (code, _, said) = crate::support::intake(
        &db,
        "CLOUDSTACK",
        b"From: fay@finder.example\r\nSubject: Waits\r\nMessage-ID: <up1@finder.example>\r\n\r\nA report.\r\n",
        &[],
        &[],
    );
    assert_eq!(code, Some(0), "{said}");
    drop(server);

    // --migrate, without a backup.
    db.execute("DELETE FROM backup_log", &[]).await;
    as_the_release_before(&db).await;
    let mut cmd = db.command(&[]);
    cmd.env("EMBARGO_MIGRATE", "true");
    let server = Process::serve(cmd);
    assert_eq!(Api::new(&server.url, None).get("/readyz").await.0, 200);
    drop(server);

    // embargo migrate.
    as_the_release_before(&db).await;
    let out = run(&db, &["--json", "migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(done["applied"], true);
    let out = run(&db, &["--json", "migrate", "--dry-run"]);
    let after: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(after["pending"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_database_waits_for_the_operator_sqlite() {
    an_older_database_waits_for_the_operator(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_database_waits_for_the_operator_postgres() {
    an_older_database_waits_for_the_operator(BACKENDS[1]).await;
}

/// The fixtures of `tests/fixtures/schema-*` (written by `scripts/schema-fixture` with the
/// binary of a landed release), oldest first.
fn fixtures() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("schema-"))
        })
        .collect();
    all.sort();
    all
}

/// Loads a fixture's dump into the test's (empty) database.
async fn load(db: &TestDb, dump: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let url = match db.database() {
        embargo_store::Database::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
        embargo_store::Database::Postgres(url) => url,
    };
    if let embargo_store::Database::Sqlite(path) = db.database() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    }
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(dump).execute(&mut conn).await.unwrap();
    conn.close().await.ok();
}

/// Every earlier release's database, on both backends: loaded, migrated by `embargo
/// migrate`, then read back through the API as the release left it, its audit chain
/// intact and its people able to sign in.
async fn earlier_releases_upgrade_cleanly(backend: Backend) {
    let fixtures = fixtures();
    assert!(
        !fixtures.is_empty(),
        "at least one earlier release's fixture"
    );
    for fixture in fixtures {
        let name = fixture.file_name().unwrap().to_string_lossy().to_string();
        let mut db = TestDb::new(backend).await;
        let key = std::fs::read_to_string(fixture.join("master.key")).unwrap();
        db.key = embargo_store::MasterKey::from_base64(&key, "fixture").unwrap();
        let dump = match backend {
            Backend::Sqlite => "sqlite.sql",
            Backend::Postgres => "postgres.sql",
        };
        load(&db, &std::fs::read_to_string(fixture.join(dump)).unwrap()).await;

        let out = run(&db, &["--json", "migrate", "--dry-run"]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            !plan["pending"].as_array().unwrap().is_empty(),
            "{name}: an earlier schema has migrations to take"
        );
        let out = run(&db, &["--json", "migrate"]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let out = run(&db, &["--json", "audit", "verify"]);
        assert!(
            out.status.success(),
            "{name}: the audit chain holds: {}",
            String::from_utf8_lossy(&out.stdout)
        );

        let server = Process::serve(db.command(&[]));
        let api = Api::new(&server.url, None);
        let (status, _) = api
            .post(
                "/api/session",
                serde_json::json!({ "email": "lead@cloudstack.example", "password": "fixture lead password" }),
            )
            .await;
        assert_eq!(
            status, 200,
            "{name}: the lead signs in with the old password"
        );
        let out = run(
            &db,
            &[
                "--json",
                "token",
                "create",
                "--user",
                "lead@cloudstack.example",
            ],
        );
        let token: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let lead = api.as_user(token["token"].as_str().unwrap());
        let (_, cases) = lead.get("/api/cases").await;
        let mut titles: Vec<String> = cases
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["title"].as_str().unwrap().to_owned())
            .collect();
        titles.sort();
        assert_eq!(
            titles,
            [
                "SSRF in the template downloader",
                "XSS in the console name field"
            ],
            "{name}"
        );
        let (_, case) = lead.get("/api/cases/CLOUDSTACK-SEC-1").await;
        assert_eq!(case["state"], "confirmed", "{name}: {case}");
        assert_eq!(case["cvss"]["score"], 7.7, "{name}: {case}");
        let (_, timeline) = lead.get("/api/cases/CLOUDSTACK-SEC-1/timeline").await;
        assert!(
            timeline
                .to_string()
                .contains("Fixed on main by the allow-list change."),
            "{name}: the note: {timeline}"
        );
        let (status, advisory) = lead.get("/api/cases/CLOUDSTACK-SEC-1/advisory").await;
        assert_eq!(status, 200, "{name}: {advisory}");
        assert!(
            advisory.to_string().contains("CWE-918"),
            "{name}: {advisory}"
        );
        drop(server);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earlier_releases_upgrade_cleanly_sqlite() {
    earlier_releases_upgrade_cleanly(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earlier_releases_upgrade_cleanly_postgres() {
    earlier_releases_upgrade_cleanly(BACKENDS[1]).await;
}
