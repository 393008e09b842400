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
    assert_eq!(
        db.query_text("SELECT CAST(schema_version AS TEXT) FROM backup_log")
            .await
            .as_deref(),
        Some("29")
    );
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
        "INSERT INTO backup_log (taken_at, schema_version) VALUES ($1, 29)",
        &[now_ms() - 2 * 24 * 3600 * 1000],
    )
    .await;
    let out = run(&db, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success(), "a backup two days old is not fresh");

    // After a fresh backup (the release before recorded it), the server migrates on
    // start, and the desk works as before, the waiting mail included.
    db.execute(
        "INSERT INTO backup_log (taken_at, schema_version) VALUES ($1, 29)",
        &[now_ms()],
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
