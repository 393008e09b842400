//! Importing published advisories: the corpus of real OSV records (RustSec, GHSA) and the
//! Apache CloudStack CVE records import cleanly and idempotently; an invalid record is
//! refused with its reason; imported advisories are proposed as likely duplicates.

use serde_json::{Value, json};

use crate::support::{Api, BACKENDS, Process, TestDb, seed};

fn conformance(path: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance")
        .join(path)
        .display()
        .to_string()
}

fn import(db: &TestDb, paths: &[&str]) -> (Option<i32>, Value, String) {
    let mut args = vec!["--json", "import"];
    args.extend_from_slice(paths);
    let out = db.command(&args).output().unwrap();
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_advisories_import_for_history_and_duplicates() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        store.close().await;

        let corpus = conformance("corpus");
        let (code, summary, stderr) = import(&db, &[&corpus]);
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(summary["files"], 215, "{summary}");
        assert_eq!(summary["counts"]["imported"], 215);
        assert_eq!(summary["refused"], json!([]));
        assert!(
            summary["not_json"].as_u64().unwrap() > 0,
            "the native RustSec files and indexes are skipped"
        );
        let (code, again, _) = import(&db, &[&corpus]);
        assert_eq!(code, Some(0));
        assert_eq!(
            again["counts"],
            json!({ "imported": 0, "updated": 0, "unchanged": 215 }),
            "idempotent"
        );

        let cloudstack = conformance("cve5/examples/apache-cloudstack");
        let (code, summary, stderr) = import(&db, &[&cloudstack]);
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(summary["counts"]["imported"], 3);
        let invalid = conformance("cve5/examples/invalid/CVE-2022-35741.cve.json");
        let (code, summary, stderr) = import(&db, &[&invalid]);
        assert_eq!(code, Some(1), "{stderr}");
        assert_eq!(
            summary["refused"][0]["reason"],
            "cveMetadata.assignerOrgId is not a UUID"
        );
        assert!(stderr.contains("1 file(s) were refused"), "{stderr}");

        // A new report much like a published advisory is proposed as its duplicate.
        let server = Process::serve(db.command(&[]));
        let alice = Api::new(&server.url, Some(&people.alice));
        let (status, case) = alice
            .post("/api/cases", json!({ "project": "CLOUDSTACK", "title": "RwLock wrong memory orderings violate mutual exclusion", "description": "Wrong memory orderings inside the RwLock implementation allow two writers to acquire the lock at the same time (Ordering::Relaxed on drop)." }))
            .await;
        assert_eq!(status, 201, "{case}");
        let (_, proposals) = alice
            .get(&format!(
                "/api/cases/{}/duplicates",
                case["ref"].as_str().unwrap()
            ))
            .await;
        assert_eq!(proposals[0]["ref"], "RUSTSEC-2019-0013", "{proposals}");
        assert!(proposals[0]["score"].as_f64().unwrap() > 0.5, "{proposals}");
        drop(server);
    }
}
