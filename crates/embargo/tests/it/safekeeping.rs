//! Backups and master keys: a backup taken during writes restores consistently (into
//! either backend), rotation keeps older backups restorable, and backups cover every column.

use std::path::Path;
use std::process::Command;

use embargo_core::lifecycle::{State, TransitionRequest};
use embargo_core::reference::CaseRef;
use embargo_store::{Database, KeySource, MasterKey, NewReport, Store};
use sqlx::Row;

use crate::support::{Backend, TestDb, seed};

fn report(title: &str) -> NewReport {
    NewReport {
        project: "CLOUDSTACK".parse().unwrap(),
        title: title.into(),
        description: "steps to reproduce".into(),
        reporter: Default::default(),
        channel: embargo_core::case::Channel::Api,
    }
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        cmd.get_args().collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

async fn backup_during_writes(from: Backend, to: Backend) {
    let db = TestDb::new(from).await;
    let store = db.store().await;
    seed(&store).await;
    let alice = store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..3 {
        let (store, alice, stop) = (store.clone(), alice.clone(), stop.clone());
        writers.spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || n < 5 {
                let case = store
                    .create_case(&alice, report(&format!("writer {w} case {n}")))
                    .await
                    .unwrap();
                let r: CaseRef = case.reference.clone();
                store.add_note(&alice, &r, "a note").await.unwrap();
                store
                    .transition(
                        &alice,
                        &r,
                        State::Triage,
                        &TransitionRequest {
                            reason: Some("looking".into()),
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                store.case(&alice, &r).await.unwrap();
                n += 1;
            }
            n
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let file = db.dir.path().join("backup.jsonl");
    let mut cmd = db.command(&["--json", "backup", "--output", file.to_str().unwrap()]);
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut written = 0;
    while let Some(n) = writers.join_next().await {
        written += n.unwrap();
    }
    store.close().await;
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let count = |table: &str| {
        summary["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[0] == table)
            .unwrap()[1]
            .as_i64()
            .unwrap()
    };
    let backed_up = count("cases");
    assert!(backed_up > 0, "the backup ran while writes went on");
    assert!(backed_up <= written as i64);
    // The file holds nothing in clear but its first line.
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(embargo_store::backup::MAGIC));
    let text = String::from_utf8_lossy(&bytes);
    // A case's received time, as the database holds it (states and dates were in clear).
    let stamp = db
        .query_text("SELECT CAST(MIN(received_at) AS TEXT) FROM cases")
        .await
        .unwrap();
    for clear in [
        "writer 0 case",
        "steps to reproduce",
        "a note",
        "alice@example.org",
        "$argon2id$",
        "CLOUDSTACK",
        "cases",
        "reported",
        stamp.as_str(),
    ] {
        assert!(!text.contains(clear), "{clear} is in the backup in clear");
    }

    // Restore into a new database on the other backend, which has its own master key.
    let target = TestDb::new(to).await;
    let key_file = db.dir.path().join("source.key");
    db.key.create_file(&key_file).unwrap();
    let out = run(&mut target.command(&[
        "--json",
        "restore",
        "--input",
        file.to_str().unwrap(),
        "--key-file",
        key_file.to_str().unwrap(),
    ]));
    let restored: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(restored["unwrapped_with"], key_file.display().to_string());
    // Restoring again is refused: the target is no longer empty.
    let again = target
        .command(&[
            "restore",
            "--input",
            file.to_str().unwrap(),
            "--key-file",
            key_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    // Consistent: every case has its creation, note and triage on the timeline, the
    // project counter is past every case, and the audit chain verifies.
    let store = target.store().await;
    let alice = store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap();
    let cases = store.list_cases(&alice, &Default::default()).await.unwrap();
    assert_eq!(cases.len() as i64, backed_up);
    for case in &cases {
        let events = store.timeline(&alice, &case.reference).await.unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert!(kinds.starts_with(&["created"]), "{kinds:?}");
        assert!(
            case.title.starts_with("writer "),
            "opened under the new key"
        );
    }
    let fresh = store
        .create_case(&alice, report("after the restore"))
        .await
        .unwrap();
    let fresh: CaseRef = fresh.reference;
    assert_eq!(fresh.number, backed_up + 1, "numbering continues");
    store.close().await;
    let verify = run(&mut target.command(&["--json", "audit", "verify"]));
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert!(report["first_bad"].is_null(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_writes_sqlite_to_postgres() {
    backup_during_writes(Backend::Sqlite, Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_writes_postgres_to_sqlite() {
    backup_during_writes(Backend::Postgres, Backend::Sqlite).await;
}

fn file_keyed(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_embargo"));
    cmd.args(args)
        .env("EMBARGO_DATA", dir)
        .env(
            "EMBARGO_BACKUP_IDENTITY_FILE",
            &crate::support::backup_keys().0,
        )
        .env(
            "EMBARGO_BACKUP_RECIPIENT_FILE",
            &crate::support::backup_keys().1,
        )
        .env_remove("EMBARGO_MASTER_KEY")
        .env_remove("EMBARGO_MASTER_KEY_FILE")
        .env_remove("EMBARGO_DATABASE_URL");
    cmd
}

async fn open(dir: &Path) -> Store {
    Store::open(
        &Database::Sqlite(embargo_store::sqlite_path(dir)),
        &KeySource::File(dir.join("master.key")),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_older_backups_restorable() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("data");
    let store = open(&dir).await;
    seed(&store).await;
    let alice = store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap();
    let case: CaseRef = store
        .create_case(&alice, report("Before the rotation"))
        .await
        .unwrap()
        .reference;
    store.close().await;
    let before = work.path().join("before.jsonl");
    run(&mut file_keyed(
        &dir,
        &["backup", "--output", before.to_str().unwrap()],
    ));
    let old_key = std::fs::read_to_string(dir.join("master.key")).unwrap();

    // An older copy of the database, as a thief might have it.
    let older_copy = work.path().join("older-copy");
    std::fs::create_dir_all(&older_copy).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, older_copy.join(path.file_name().unwrap())).unwrap();
    }

    let retired_out = work.path().join("retired.key");
    let out = run(&mut file_keyed(
        &dir,
        &[
            "--json",
            "keys",
            "rotate",
            "--retired-key-out",
            retired_out.to_str().unwrap(),
        ],
    ));
    let rotation: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let retired = rotation["retired_key_file"].as_str().unwrap().to_owned();
    assert_eq!(rotation["new_data_key"], 2, "{rotation}");
    assert_eq!(
        std::fs::read_to_string(&retired).unwrap(),
        old_key,
        "the old key is written where the operator said"
    );
    assert!(
        std::fs::read_dir(&dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("retired")),
        "no retired key is left in the data directory"
    );
    assert_ne!(
        std::fs::read_to_string(dir.join("master.key")).unwrap(),
        old_key
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The new key opens everything; what is written now is sealed under data key 2.
    let store = open(&dir).await;
    assert_eq!(
        store.case(&alice, &case).await.unwrap().title,
        "Before the rotation"
    );
    store
        .add_note(&alice, &case, "after the rotation")
        .await
        .unwrap();
    store.close().await;
    let sealed_key_ids = |table: &str, column: &str| {
        let path = embargo_store::sqlite_path(&dir);
        let conn = std::process::Command::new("/usr/bin/python3")
            .args([
                "-c",
                &format!(
                    "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nprint(sorted(set(int.from_bytes(v[1:5],'big') for (v,) in c.execute('SELECT {column} FROM {table} WHERE {column} IS NOT NULL AND length({column}) > 0'))))"
                ),
            ])
            .arg(&path)
            .output()
            .unwrap();
        String::from_utf8(conn.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(
        sealed_key_ids("cases", "title_sealed"),
        "[1]",
        "written before"
    );
    assert_eq!(
        sealed_key_ids("case_events", "detail_sealed"),
        "[2]",
        "written after"
    );
    // Resealed, every value is under data key 2: the data key an older copy holds (with
    // the old master key) opens nothing in the live database.
    let out = run(&mut file_keyed(&dir, &["--json", "keys", "reseal"]));
    let resealed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(resealed["resealed"].as_u64().unwrap() > 0, "{resealed}");
    for (table, column) in [
        ("cases", "title_sealed"),
        ("cases", "reporter_sealed"),
        ("case_events", "detail_sealed"),
    ] {
        assert_eq!(sealed_key_ids(table, column), "[2]", "{table}.{column}");
    }
    let again = run(&mut file_keyed(&dir, &["--json", "keys", "reseal"]));
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["resealed"], 0, "a second run has nothing left to do");
    let old_copy = Store::open(
        &Database::Sqlite(embargo_store::sqlite_path(&older_copy)),
        &KeySource::Given(MasterKey::from_base64(&old_key, "old").unwrap()),
    )
    .await
    .expect("the old key opens the older copy");
    old_copy.close().await;
    let stale = Store::open(
        &Database::Sqlite(embargo_store::sqlite_path(&dir)),
        &KeySource::Given(MasterKey::from_base64(&old_key, "old").unwrap()),
    )
    .await;
    assert!(stale.is_err());

    // The backup from before the rotation needs the retired key, and restores with it.
    let elsewhere = work.path().join("elsewhere");
    let refused = file_keyed(
        &elsewhere,
        &["restore", "--input", before.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("master key does not match"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    run(&mut file_keyed(
        &elsewhere,
        &[
            "restore",
            "--input",
            before.to_str().unwrap(),
            "--key-file",
            &retired,
        ],
    ));
    let store = open(&elsewhere).await;
    let alice = store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap();
    assert_eq!(
        store.case(&alice, &case).await.unwrap().title,
        "Before the rotation"
    );
    store.close().await;

    // A truncated backup, and one with a single byte flipped, are refused and load nothing.
    let bytes = std::fs::read(&before).unwrap();
    let cut = work.path().join("cut.jsonl");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let flipped = work.path().join("flipped.jsonl");
    let mut altered = bytes.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 0x01;
    std::fs::write(&flipped, &altered).unwrap();
    let fourth = work.path().join("fourth");
    let out = file_keyed(
        &fourth,
        &[
            "restore",
            "--input",
            flipped.to_str().unwrap(),
            "--key-file",
            &retired,
        ],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("altered"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = open(&fourth).await;
    assert!(
        store.list_projects().await.unwrap().is_empty(),
        "nothing was written"
    );
    store.close().await;
    let third = work.path().join("third");
    let out = file_keyed(
        &third,
        &[
            "restore",
            "--input",
            cut.to_str().unwrap(),
            "--key-file",
            &retired,
        ],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let store = open(&third).await;
    assert!(
        store.list_projects().await.unwrap().is_empty(),
        "nothing was half-loaded"
    );
    store.close().await;
}

async fn backup_covers_every_column(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    store.close().await;
    sqlx::any::install_default_drivers();
    let url = match db.database() {
        Database::Sqlite(path) => format!("sqlite://{}", path.display()),
        Database::Postgres(url) => url,
    };
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'"
        }
    };
    let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
    let mut missing = Vec::new();
    for row in rows {
        let (t, c): (String, String) = (row.get("t"), row.get("c"));
        if embargo_store::backup::NOT_BACKED_UP.contains(&t.as_str()) {
            continue;
        }
        let covered = embargo_store::backup::TABLES
            .iter()
            .any(|(table, cols)| *table == t && cols.iter().any(|(name, _)| *name == c));
        if !covered {
            missing.push(format!("{t}.{c}"));
        }
    }
    assert!(missing.is_empty(), "backups leave out {missing:?}");
    pool.close().await;
}

#[tokio::test]
async fn backup_covers_every_column_sqlite() {
    backup_covers_every_column(Backend::Sqlite).await;
}

#[tokio::test]
async fn backup_covers_every_column_postgres() {
    backup_covers_every_column(Backend::Postgres).await;
}
