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
    // The head as it stands now: an attacker with an older copy of the database has it.
    sqlx::any::install_default_drivers();
    let early_pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&database_url(&db))
        .await
        .unwrap();
    let old_head = sqlx::query("SELECT seq, mac, auth FROM audit_head WHERE id = 1")
        .fetch_one(&early_pool)
        .await
        .unwrap();
    let old_head: (i64, Vec<u8>, Vec<u8>) = (
        old_head.get("seq"),
        old_head.get("mac"),
        old_head.get("auth"),
    );
    early_pool.close().await;
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
    let total = report["rows"].as_i64().unwrap();
    assert!(total >= 46, "{report}");
    assert!(report["first_bad"].is_null());
    // A checkpoint, kept outside the database.
    let checkpoints = db.dir.path().join("audit-checkpoints.jsonl");
    let out = db
        .command(&[
            "audit",
            "checkpoint",
            "--append",
            checkpoints.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verify_with_checkpoints = || {
        let out = db
            .command(&[
                "--json",
                "audit",
                "verify",
                "--checkpoints",
                checkpoints.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), report)
    };
    assert_eq!(verify_with_checkpoints().0, Some(0));

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
    let orig_head = sqlx::query("SELECT seq, mac, auth FROM audit_head WHERE id = 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let orig_head: (i64, Vec<u8>, Vec<u8>) = (
        orig_head.get("seq"),
        orig_head.get("mac"),
        orig_head.get("auth"),
    );
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
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(total - 2)
        .execute(&pool)
        .await
        .unwrap();
    let (code, report) = verify(&db);
    assert_eq!(code, Some(1));
    assert_eq!(first_bad(&report).0, total - 1, "{report}");
    // ...and the head set to match: it is not authentic.
    sqlx::query("UPDATE audit_head SET seq = $1, mac = (SELECT mac FROM audit_log WHERE seq = $1) WHERE id = 1")
        .bind(total - 2)
        .execute(&pool)
        .await
        .unwrap();
    let (code, report) = verify(&db);
    assert_eq!(code, Some(1));
    assert!(first_bad(&report).1.contains("not authentic"), "{report}");
    // ...and rewound to an authentic head from an older copy: only the checkpoint, kept
    // outside the database, tells.
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(old_head.0)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, mac = $2, auth = $3 WHERE id = 1")
        .bind(old_head.0)
        .bind(old_head.1.clone())
        .bind(old_head.2.clone())
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        verify(&db).0,
        Some(0),
        "the rewound log is consistent in itself"
    );
    let (code, report) = verify_with_checkpoints();
    assert_eq!(code, Some(1), "{report}");
    let (_, reason) = first_bad(&report);
    assert!(
        reason.contains("checkpoint of") && reason.contains(&format!("recorded row {total}")),
        "{reason}"
    );
    // A checkpoint altered by hand is refused as such.
    let text = std::fs::read_to_string(&checkpoints).unwrap();
    std::fs::write(&checkpoints, text.replacen("\"seq\":", "\"seq\":1", 1)).unwrap();
    let out = db
        .command(&[
            "audit",
            "verify",
            "--checkpoints",
            checkpoints.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checkpoint 1 is not authentic"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&checkpoints, text).unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, mac = $2, auth = $3 WHERE id = 1")
        .bind(orig_head.0)
        .bind(orig_head.1.clone())
        .bind(orig_head.2.clone())
        .execute(&pool)
        .await
        .unwrap();
    restore().await;

    // A forged row appended with a made-up mac.
    sqlx::query("INSERT INTO audit_log (seq, at, actor_id, case_id, what, via, mac) VALUES ($1, 0, 1, 1, 'case', 'api', $2)")
        .bind(total + 1)
        .bind(vec![0u8; 32])
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(first_bad(&verify(&db).1).0, total + 1);
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
