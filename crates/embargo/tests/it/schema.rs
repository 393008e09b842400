//! API property tests: schemathesis (installed by scripts/test) generates requests from
//! the served OpenAPI document, signed in as a team member, against a real server with
//! cases in it. Nothing may answer 5xx, and every response must match its schema.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Api, Backend, Process, TestDb, seed};

fn schemathesis() -> PathBuf {
    std::env::var_os("EMBARGO_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/schemathesis/bin/st")
        })
}

async fn schemathesis_run(backend: Backend) {
    let st = schemathesis();
    assert!(
        st.exists(),
        "{} is missing: scripts/test installs schemathesis",
        st.display()
    );
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let server = Process::serve(db.command(&[]));
    let alice = Api::new(&server.url, Some(&people.alice));
    for title in ["Console XSS", "Open redirect"] {
        alice.report("CLOUDSTACK", title).await;
    }
    // Real identifiers, so requests reach the handlers' logic rather than a 404.
    let config = db.dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        "[parameters]\n\"path.ref\" = \"CLOUDSTACK-SEC-1\"\n\"path.key\" = \"CLOUDSTACK\"\n\"path.name\" = \"ASF\"\n",
    )
    .unwrap();
    let out = Command::new(&st)
        .arg("--config-file")
        .arg(&config)
        .args([
            "run",
            &format!("{}/api/openapi.json", server.url),
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--header",
            &format!("Authorization: Bearer {}", people.alice),
            "--max-examples",
            "12",
            "--phases",
            "examples,coverage,fuzzing",
            // One worker: with two, Hypothesis' source cache races between threads and
            // reports its own runtime error now and then.
            "--workers",
            "1",
            "--seed",
            "1",
            "--no-color",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn schemathesis_finds_nothing_sqlite() {
    schemathesis_run(Backend::Sqlite).await;
}

#[tokio::test]
async fn schemathesis_finds_nothing_postgres() {
    schemathesis_run(Backend::Postgres).await;
}
