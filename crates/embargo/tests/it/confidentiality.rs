//! Confidentiality: the audit log of reads and its tamper evidence.

use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyPoolOptions;

use crate::support::{Api, Backend, Server, TestDb, seed};

fn database_url(db: &TestDb) -> String {
    match db.database() {
        embargo_store::Database::Sqlite(path) => format!("sqlite://{}", path.display()),
        embargo_store::Database::Postgres(url) => url,
    }
}

/// `embargo audit verify`: its exit code and report.
fn verify(db: &TestDb) -> (Option<i32>, Value) {
    let out = db.command(&["--json", "audit", "verify"]).output().unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), report)
}

fn first_bad(report: &Value) -> (i64, String) {
    let bad = &report["first_bad"];
    (
        bad["seq"].as_i64().unwrap(),
        bad["reason"].as_str().unwrap().to_owned(),
    )
}

async fn audit_log(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store.clone()).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let fiona = Api::new(&server.url, Some(&people.fiona));
    let bob = Api::new(&server.url, Some(&people.bob));
    let r = alice.report("CLOUDSTACK", "Audited report").await;
    alice.get(&format!("/api/cases/{r}")).await;
    fiona.get(&format!("/api/cases/{r}")).await;
    alice.get(&format!("/api/cases/{r}/timeline")).await;
    alice.get("/api/cases").await;
    // A refused read is not a read.
    let (status, _) = bob.get(&format!("/api/cases/{r}")).await;
    assert_eq!(status, 404);

    let out = db
        .command(&["--json", "audit", "log", "--case", &r])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let seen: Vec<(String, String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            assert_eq!(row["case"], r.as_str());
            (
                row["actor"].as_str().unwrap().to_owned(),
                row["what"].as_str().unwrap().to_owned(),
                row["via"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("alice", "case"), // the report as created, returned to its author
        ("alice", "case"),
        ("fiona", "case"),
        ("alice", "timeline"),
        ("alice", "summary"),
    ]
    .iter()
    .map(|(who, what)| {
        (
            format!("{who}@example.org"),
            (*what).to_owned(),
            "api".to_owned(),
        )
    })
    .collect();
    assert_eq!(seen, expected);
    // Reads that happen concurrently are all chained.
    let mut reads = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (alice, path) = (alice.clone(), format!("/api/cases/{r}"));
        reads.spawn(async move { alice.get(&path).await.0 });
    }
    while let Some(status) = reads.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    // A read through the CLI is recorded as such.
    let out = db
        .command(&["case", "show", &r])
        .env("EMBARGO_URL", &server.url)
        .env("EMBARGO_TOKEN", &people.alice)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = store.audit_rows(None, 1).await.unwrap();
    assert_eq!(
        (last[0].what.as_str(), last[0].via.as_str()),
        ("case", "cli")
    );
    server.stop().await;
    store.close().await;

    let (code, report) = verify(&db);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["rows"], 46);
    assert!(report["first_bad"].is_null());

    // Tamper with the rows directly in the database; each kind is found and named.
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&database_url(&db))
        .await
        .unwrap();
    let original = sqlx::query(
        "SELECT seq, at, actor_id, case_id, what, via, mac FROM audit_log ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let restore = || async {
        sqlx::query("DELETE FROM audit_log")
            .execute(&pool)
            .await
            .unwrap();
        for row in &original {
            sqlx::query("INSERT INTO audit_log (seq, at, actor_id, case_id, what, via, mac) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(row.get::<i64, _>("seq"))
                .bind(row.get::<i64, _>("at"))
                .bind(row.get::<i64, _>("actor_id"))
                .bind(row.get::<i64, _>("case_id"))
                .bind(row.get::<String, _>("what"))
                .bind(row.get::<String, _>("via"))
                .bind(row.get::<Vec<u8>, _>("mac"))
                .execute(&pool)
                .await
                .unwrap();
        }
        assert_eq!(verify(&db).0, Some(0), "restored");
    };
    let exec = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
    };

    // An edited row: who read it.
    exec("UPDATE audit_log SET actor_id = actor_id + 1 WHERE seq = 3").await;
    let (code, report) = verify(&db);
    assert_eq!(code, Some(1));
    assert_eq!(first_bad(&report).0, 3, "{report}");
    assert!(first_bad(&report).1.contains("row 3"));
    restore().await;

    // A deleted row in the middle.
    exec("DELETE FROM audit_log WHERE seq = 7").await;
    let (code, report) = verify(&db);
    assert_eq!(code, Some(1));
    assert_eq!(
        first_bad(&report),
        (7, "row 7 is missing: the row was deleted".to_owned())
    );
    restore().await;

    // A deleted row, and the later ones renumbered to hide the gap.
    exec("DELETE FROM audit_log WHERE seq = 10").await;
    exec("UPDATE audit_log SET seq = seq - 1 WHERE seq > 10").await;
    let (_, report) = verify(&db);
    assert_eq!(first_bad(&report).0, 10, "{report}");
    restore().await;

    // Two rows swapped, macs and all.
    exec("UPDATE audit_log SET seq = -1 WHERE seq = 4").await;
    exec("UPDATE audit_log SET seq = 4 WHERE seq = 5").await;
    exec("UPDATE audit_log SET seq = 5 WHERE seq = -1").await;
    let (_, report) = verify(&db);
    assert_eq!(first_bad(&report).0, 4, "{report}");
    restore().await;

    // The newest rows deleted: the head still remembers them.
    exec("DELETE FROM audit_log WHERE seq > 44").await;
    let (code, report) = verify(&db);
    assert_eq!(code, Some(1));
    assert_eq!(first_bad(&report).0, 45, "{report}");
    restore().await;

    // A forged row appended with a made-up mac.
    sqlx::query("INSERT INTO audit_log (seq, at, actor_id, case_id, what, via, mac) VALUES (47, 0, 1, 1, 'case', 'api', $1)")
        .bind(vec![0u8; 32])
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(first_bad(&verify(&db).1).0, 47);
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_sqlite() {
    audit_log(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_postgres() {
    audit_log(Backend::Postgres).await;
}
