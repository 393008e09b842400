//! The real binary: start-up in an empty folder, `init` and the CLI, and restarts.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Api, BACKENDS, Backend, Process, TestDb, seed};

fn embargo(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_embargo"));
    cmd.current_dir(dir);
    for var in [
        "EMBARGO_DATA",
        "EMBARGO_DATABASE_URL",
        "EMBARGO_MASTER_KEY",
        "EMBARGO_MASTER_KEY_FILE",
        "EMBARGO_URL",
        "EMBARGO_TOKEN",
        "EMBARGO_LISTEN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn run_ok(cmd: &mut Command, stdin: Option<&str>) -> String {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn serve_starts_in_an_empty_folder_and_init_makes_it_usable() {
    let dir = tempfile::tempdir().unwrap();
    // No flags, no configuration: only a free port instead of the default 8080.
    let mut serve = embargo(dir.path());
    serve.arg("serve").env("EMBARGO_LISTEN", "127.0.0.1:0");
    let server = Process::start(serve);
    let anon = Api::new(&server.url, None);
    let (status, health) = anon.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
    assert!(dir.path().join("embargo-data/master.key").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("embargo-data/master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // init on the same data directory, non-interactively.
    let out = run_ok(
        embargo(dir.path()).args([
            "init",
            "--admin-email",
            "lead@example.org",
            "--admin-password-stdin",
            "--org",
            "ASF",
            "--project",
            "cloudstack",
            "--branch",
            "4.18",
        ]),
        Some("a long enough password\n"),
    );
    assert!(out.contains("CLOUDSTACK"), "{out}");
    // A second init refuses rather than doubling up.
    let second = embargo(dir.path())
        .args([
            "init",
            "--admin-email",
            "x@example.org",
            "--admin-password-stdin",
            "--org",
            "B",
            "--project",
            "B1",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!second.status.success());

    let token = run_ok(
        embargo(dir.path()).args(["token", "create", "--user", "lead@example.org"]),
        None,
    )
    .trim()
    .to_owned();
    assert!(token.starts_with("emb_"));
    let cli = |args: &[&str]| {
        let mut cmd = embargo(dir.path());
        cmd.env("EMBARGO_URL", &server.url)
            .env("EMBARGO_TOKEN", &token)
            .arg("case")
            .args(args);
        cmd
    };
    let created: Value = serde_json::from_str(&run_ok(
        &mut cli(&[
            "new",
            "--project",
            "CLOUDSTACK",
            "--title",
            "Report from CLI",
            "--description",
            "-",
            "--json",
        ]),
        Some("steps to reproduce"),
    ))
    .unwrap();
    assert_eq!(created["ref"], "CLOUDSTACK-SEC-1");
    assert_eq!(created["description"], "steps to reproduce");
    run_ok(
        &mut cli(&[
            "transition",
            "CLOUDSTACK-SEC-1",
            "triage",
            "--reason",
            "looking",
        ]),
        None,
    );
    run_ok(
        &mut cli(&["note", "CLOUDSTACK-SEC-1", "reproduced on 4.18"]),
        None,
    );
    let listed: Value = serde_json::from_str(&run_ok(&mut cli(&["list", "--json"]), None)).unwrap();
    assert_eq!(listed[0]["state"], "triage");
    let text = run_ok(&mut cli(&["show", "CLOUDSTACK-SEC-1", "--timeline"]), None);
    assert!(
        text.contains("reproduced on 4.18") && text.contains("-> triage"),
        "{text}"
    );
    // A refusal is an error with the server's message and a non-zero exit.
    let refused = cli(&["transition", "CLOUDSTACK-SEC-1", "release-pending"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("cannot move from triage"));
    // Without a token the CLI says what to do.
    let no_token = embargo(dir.path()).args(["case", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&no_token.stderr).contains("EMBARGO_TOKEN"));
}

#[tokio::test]
async fn data_survives_a_restart() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let people = {
            let store = db.store().await;
            let people = seed(&store).await;
            store.close().await;
            people
        };
        let mut first = Process::serve(db.command(&[]));
        let alice = Api::new(&first.url, Some(&people.alice));
        let r = alice.report("CLOUDSTACK", "Survives restarts").await;
        alice.moved(&r, serde_json::json!({ "to": "triage" })).await;
        first.terminate();
        let second = Process::serve(db.command(&[]));
        let alice = Api::new(&second.url, Some(&people.alice));
        let (status, case) = alice.get(&format!("/api/cases/{r}")).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert_eq!(case["title"], "Survives restarts");
        assert_eq!(case["state"], "triage");
    }
}

async fn a_wrong_or_missing_master_key_stops_the_server(backend: Backend) {
    let db = TestDb::new(backend).await;
    {
        let store = db.store().await;
        seed(&store).await;
        store.close().await;
    }
    let mut cmd = db.command(&["serve", "--listen", "127.0.0.1:0"]);
    cmd.env(
        "EMBARGO_MASTER_KEY",
        embargo_store::MasterKey::generate().to_base64(),
    );
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("master key does not match"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cmd = db.command(&["serve", "--listen", "127.0.0.1:0"]);
    cmd.env_remove("EMBARGO_MASTER_KEY");
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("master key file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !db.dir.path().join("master.key").exists(),
        "a missing key must not be replaced by a new one"
    );
    // The right key still opens everything: nothing was replaced or re-keyed.
    let store = db.store().await;
    assert_eq!(store.list_projects().await.unwrap().len(), 2);
    store.close().await;
}

#[tokio::test]
async fn a_wrong_or_missing_master_key_stops_the_server_sqlite() {
    a_wrong_or_missing_master_key_stops_the_server(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_wrong_or_missing_master_key_stops_the_server_postgres() {
    a_wrong_or_missing_master_key_stops_the_server(Backend::Postgres).await;
}
