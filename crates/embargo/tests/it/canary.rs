//! The canary: a report carrying a unique string goes through the whole lifecycle, with
//! failures on the way and a SIGKILL of the server; afterwards the string is in no
//! database file, dump, log line, backup, or response to anyone who may not see the case.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use reqwest::{Method, StatusCode};
use serde_json::json;
use time::OffsetDateTime;

use crate::support::{Api, Backend, Seed, TestDb, eventually, seed};

/// `embargo serve` at trace level, its log appended to `log`.
struct Traced {
    child: Child,
    url: String,
}

impl Traced {
    fn start(db: &TestDb, log: &Path) -> Traced {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut cmd = db.command(&["serve", "--listen", "127.0.0.1:0"]);
        // A job the killed server held is taken over after the lease: keep it short.
        cmd.env("EMBARGO_LOG", "trace")
            .env("EMBARGO_JOB_LEASE", "2")
            .stdout(Stdio::piped())
            .stderr(file);
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("embargo listening on ")
            .unwrap()
            .to_owned();
        Traced { child, url }
    }

    fn kill9(&mut self) {
        Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap();
    }

    fn stop(&mut self) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Traced {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Everyone who may not see the case, and what they got back.
struct Outsiders {
    apis: Vec<(&'static str, Api)>,
    seen: Vec<String>,
}

impl Outsiders {
    fn new(url: &str, people: &Seed) -> Outsiders {
        Outsiders {
            apis: vec![
                ("another project's team", Api::new(url, Some(&people.bob))),
                (
                    "an admin without membership",
                    Api::new(url, Some(&people.admin)),
                ),
                ("anonymous", Api::new(url, None)),
            ],
            seen: Vec::new(),
        }
    }

    /// Every outsider tries every way in; none gets more than a not-found or sign-in error.
    async fn probe(&mut self, r: &str, public: bool) {
        for (who, api) in &self.apis {
            for (method, path, body) in [
                (Method::GET, format!("/api/cases/{r}"), None),
                (Method::GET, format!("/api/cases/{r}/timeline"), None),
                (Method::GET, format!("/api/cases/{r}/checklist"), None),
                (Method::GET, "/api/cases".to_owned(), None),
                (
                    Method::GET,
                    "/api/cases?project=CLOUDSTACK".to_owned(),
                    None,
                ),
                (
                    Method::PATCH,
                    format!("/api/cases/{r}"),
                    Some(json!({ "title": "x" })),
                ),
                (
                    Method::POST,
                    format!("/api/cases/{r}/notes"),
                    Some(json!({ "text": "x" })),
                ),
                (
                    Method::POST,
                    format!("/api/cases/{r}/transitions"),
                    Some(json!({ "to": "triage" })),
                ),
                (Method::GET, format!("/api/public/cases/{r}"), None),
                (
                    Method::GET,
                    "/api/projects/CLOUDSTACK/deny-list".to_owned(),
                    None,
                ),
            ] {
                let (status, body) = api.request(method.clone(), &path, body).await;
                let public_page = path.starts_with("/api/public/");
                let listing = path.starts_with("/api/cases?") || path == "/api/cases";
                match (status, public_page, listing) {
                    (StatusCode::OK, true, _) => {
                        assert!(public, "{who} read the public page before publication")
                    }
                    (StatusCode::OK, false, true) => {
                        assert_eq!(body, json!([]), "{who} listed cases")
                    }
                    (
                        StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN,
                        ..,
                    ) => {}
                    other => panic!("{who} {method} {path}: {other:?} {body}"),
                }
                self.seen
                    .push(format!("{who} {method} {path} {status} {body}"));
            }
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The canary must be in none of the database's files (SQLite: the database, WAL and
/// shm) or its dump (PostgreSQL).
fn assert_database_clean(db: &TestDb, canary: &str, when: &str) {
    match db.database() {
        embargo_store::Database::Sqlite(_) => {
            let files = files_under(db.dir.path());
            assert!(
                files
                    .iter()
                    .any(|f| f.to_string_lossy().ends_with(".sqlite3"))
            );
            for file in files {
                let name = file.to_string_lossy().to_string();
                if name.ends_with(".log") {
                    continue;
                }
                assert!(
                    !contains(&std::fs::read(&file).unwrap(), canary),
                    "{when}: the canary is in {name}"
                );
            }
        }
        embargo_store::Database::Postgres(url) => {
            let out = Command::new("pg_dump").arg(&url).output().unwrap();
            assert!(
                out.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.stdout.len() > 1000, "the dump holds the database");
            assert!(
                !contains(&out.stdout, canary),
                "{when}: the canary is in the pg_dump output"
            );
        }
    }
}

async fn canary(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let canary = format!("canary{:016x}", rand::random::<u64>());
    let log = db.dir.path().join("server.log");
    let mut server = Traced::start(&db, &log);
    let alice = Api::new(&server.url, Some(&people.alice));
    let mut outsiders = Outsiders::new(&server.url, &people);

    let (status, case) = alice
        .post(
            "/api/cases",
            json!({
                "project": "CLOUDSTACK",
                "title": format!("Overflow in the {canary} parser"),
                "description": format!("Send {canary} to the parser and it crashes."),
                "reporter": { "email": format!("{canary}@example.net"), "name": format!("Finder {canary}") }
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    let r = case["ref"].as_str().unwrap().to_owned();
    let case_path = format!("/api/cases/{r}");
    let move_path = format!("{case_path}/transitions");
    outsiders.probe(&r, false).await;

    // Failures on the way: a refused transition, nonsense, an oversized body, bad JSON.
    let (status, _) = alice
        .post(&move_path, json!({ "to": "fixing", "reason": canary }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = alice.post(&move_path, json!({ "to": canary })).await;
    assert!(status.is_client_error());
    assert!(
        !body.to_string().contains(&canary),
        "an error repeated the value: {body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unknown variant"),
        "{body}"
    );
    let (status, _) = alice
        .post(
            &format!("{case_path}/notes"),
            json!({ "text": canary.repeat(70_000) }),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = alice
        .patch(
            &case_path,
            json!({ "cvss": format!("CVSS:3.1/AV:{canary}") }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let raw = reqwest::Client::new()
        .post(format!("{}{case_path}/notes", server.url))
        .bearer_auth(&people.alice)
        .header("content-type", "application/json")
        .body(format!("{{\"text\": \"{canary}"))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);

    let (status, _) = alice
        .post(
            &format!("{case_path}/notes"),
            json!({ "text": format!("Reproduced with {canary}") }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    alice
        .moved(
            &r,
            json!({ "to": "triage", "reason": format!("looking at {canary}") }),
        )
        .await;
    alice
        .moved(
            &r,
            json!({ "to": "invalid", "message_to_reporter": format!("{canary} is documented") }),
        )
        .await;
    alice
        .moved(
            &r,
            json!({ "to": "triage", "reason": format!("new proof for {canary}") }),
        )
        .await;
    alice.moved(&r, json!({ "to": "confirmed" })).await;
    outsiders.probe(&r, false).await;

    // The server dies mid-case; what it wrote holds no canary either.
    server.kill9();
    assert_database_clean(&db, &canary, "after SIGKILL");
    server = Traced::start(&db, &log);
    let alice = Api::new(&server.url, Some(&people.alice));
    outsiders = Outsiders {
        apis: Outsiders::new(&server.url, &people).apis,
        seen: outsiders.seen,
    };

    let checklist = format!("{case_path}/checklist");
    eventually(20, "the foundation notification", || async {
        let (_, items) = alice.get(&checklist).await;
        items
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["key"] == "foundation-notified" && i["status"] == "done")
    })
    .await;
    alice.moved(&r, json!({ "to": "fixing" })).await;
    let (status, body) = alice
        .put(
            &format!("/api/cases/{r}/fixes"),
            json!({ "branch": "4.18", "stage": "merged", "commit": "c0ffee1", "note": format!("commit for {canary}") }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    alice.fixed_everywhere(&r).await;
    alice
        .moved(
            &r,
            json!({ "to": "fix-ready", "reason": format!("{canary} fixed") }),
        )
        .await;
    let embargo = (OffsetDateTime::now_utc() + time::Duration::hours(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, body) = alice
        .patch(
            &case_path,
            json!({
                "cvss": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                "cve_id": "CVE-2026-20001",
                "versions": { "affected": ["1.0 through 1.4"], "fixed": ["1.5"] },
                "advisory": { "title": "Parser crash", "description": "A crafted input crashes the parser.", "mitigation": "Upgrade to 1.5.", "credit": "A finder" },
                "embargo_at": embargo,
                "sensitive_terms": [format!("{canary} parser")],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    alice.moved(&r, json!({ "to": "release-pending" })).await;
    outsiders.probe(&r, false).await;
    alice
        .moved(
            &r,
            json!({ "to": "announced", "override_reason": format!("{canary} exploited"),
                    "not_sent_reason": format!("{canary} sent by hand") }),
        )
        .await;
    alice.moved(&r, json!({ "to": "public" })).await;
    let (status, _) = alice
        .put(
            &format!("{checklist}/changes-news"),
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    alice
        .moved(
            &r,
            json!({ "to": "closed", "retrospective": format!("validate {canary} input"),
                    "retrospective_details": { "root_cause": "input-validation", "found_by": "external-report", "prevention": format!("review {canary} inputs") } }),
        )
        .await;
    outsiders.probe(&r, true).await;

    // The team still reads everything back.
    let (_, case) = alice.get(&case_path).await;
    assert!(case["title"].as_str().unwrap().contains(&canary));
    let (_, timeline) = alice.get(&format!("{case_path}/timeline")).await;
    assert!(
        timeline.to_string().matches(&canary).count() >= 6,
        "{timeline}"
    );

    server.stop();
    for line in &outsiders.seen {
        assert!(
            !line.contains(&canary),
            "an outsider saw the canary: {line}"
        );
    }
    let backup = db.dir.path().join("backup.jsonl");
    let out = db
        .command(&["backup", "--output", backup.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !contains(&std::fs::read(&backup).unwrap(), &canary),
        "the canary is in the backup"
    );
    std::fs::remove_file(&backup).unwrap();
    assert_database_clean(&db, &canary, "at the end");
    let log_text = std::fs::read(&log).unwrap();
    assert!(log_text.len() > 10_000, "the trace log was written");
    assert!(
        !contains(&log_text, &canary),
        "the canary is in the server's trace log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_sqlite() {
    canary(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_postgres() {
    canary(Backend::Postgres).await;
}
