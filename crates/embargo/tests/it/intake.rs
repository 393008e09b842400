//! Intake by pipe, exactly as a mail transfer agent runs it: the corpus in
//! `tests/corpus` (written for these tests) lands where SPEC §3 says, attachments are
//! stored byte for byte, and a SIGKILL mid-write never leaves a half-stored report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use embargo_core::reference::CaseRef;
use embargo_store::Store;
use serde_json::Value;

use crate::support::{Backend, TestDb, seed};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Pipes one message into `embargo intake`, as an MTA alias would.
fn pipe(db: &TestDb, project: &str, raw: &[u8], extra: &[&str]) -> (Option<i32>, Value, String) {
    crate::support::intake(db, project, raw, extra, &[])
}

async fn alice(store: &Store) -> embargo_core::access::Viewer {
    store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap()
}

async fn corpus_lands(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    let manifest = std::fs::read_to_string(corpus().join("expected.tsv")).unwrap();
    let mut checked = 0;
    for line in manifest
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, project, expected) = (cols[0], cols[1], cols[2]);
        let raw = std::fs::read(corpus().join(file)).unwrap();
        let (code, outcome, stderr) = pipe(&db, project, &raw, &["--attachment-limit", "4096"]);
        assert_eq!(code, Some(0), "{file}: {stderr}");
        let parts: Vec<&str> = expected.splitn(3, ':').collect();
        assert_eq!(outcome["outcome"], parts[0], "{file}: {outcome}");
        match parts[0] {
            "new-case" => {
                assert_eq!(outcome["kind"], parts[1], "{file}: {outcome}");
                assert_eq!(outcome["ref"], parts[2], "{file}: {outcome}");
            }
            "follow-up" => assert_eq!(outcome["ref"], parts[1], "{file}: {outcome}"),
            "kept" => {
                assert_eq!(outcome["kind"], parts[1], "{file}: {outcome}");
                let want = if parts[2] == "-" {
                    Value::Null
                } else {
                    Value::from(parts[2])
                };
                assert_eq!(outcome["ref"], want, "{file}: {outcome}");
            }
            "quarantined" => {
                assert!(
                    outcome["reason"].as_str().unwrap().contains(parts[1]),
                    "{file}: {outcome}"
                );
            }
            _ => {}
        }
        checked += 1;
    }
    assert!(checked >= 30, "the corpus holds at least 30 messages");

    // What the team reads.
    let alice = alice(&store).await;
    let case = |n: i64| CaseRef {
        project: "CLOUDSTACK".parse().unwrap(),
        number: n,
    };
    let first = store.case(&alice, &case(1)).await.unwrap();
    assert_eq!(first.title, "XSS in the console name field");
    assert_eq!(first.reporter.email.as_deref(), Some("fay@finder.example"));
    assert_eq!(first.reporter.name.as_deref(), Some("Fay Finder"));
    let thread: Vec<String> = store
        .timeline(&alice, &case(1))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind.as_str() == "reporter-message")
        .map(|e| e.detail.unwrap_or_default())
        .collect();
    assert_eq!(thread.len(), 4, "{thread:?}");
    assert!(thread[0].contains("template name") && thread[3].contains("video"));
    let french = store.case(&alice, &case(2)).await.unwrap();
    assert_eq!(french.title, "Injection SQL dans l’API événements");
    assert!(
        french
            .description
            .contains("« events » accepte une requête non échappée")
    );
    assert_eq!(french.reporter.name.as_deref(), Some("Renée"));
    assert!(
        store
            .case(&alice, &case(3))
            .await
            .unwrap()
            .description
            .contains("Versión 4.19, señor")
    );
    assert!(
        store
            .case(&alice, &case(4))
            .await
            .unwrap()
            .description
            .contains("„../“ im Dateinamen – gefährlich")
    );
    let html = store.case(&alice, &case(5)).await.unwrap().description;
    assert!(
        html.contains("dashboard") && !html.contains("<script") && !html.contains("<p>"),
        "{html}"
    );
    assert!(
        store
            .case(&alice, &case(9))
            .await
            .unwrap()
            .description
            .contains("listVirtualMachines call leaks")
    );
    assert_eq!(
        store.case(&alice, &case(11)).await.unwrap().title,
        "Schwachstelle in der Größenprüfung"
    );
    assert_eq!(
        store.case(&alice, &case(13)).await.unwrap().title,
        "(no subject)"
    );
    assert_eq!(
        store.case(&alice, &case(20)).await.unwrap().title,
        "Unsichere Deserialisierung im Agenten"
    );

    // Attachments: byte for byte, the oversized one held back, a latin-1 text untouched.
    let files = store.attachments(&alice, &case(7)).await.unwrap();
    assert_eq!(files.len(), 1);
    let (_, poc) = store
        .attachment(&alice, &case(7), files[0].id)
        .await
        .unwrap();
    let expected: Vec<u8> = (0..4).flat_map(|_| 0u8..=255).collect();
    assert_eq!(poc, expected);
    let big = store.attachments(&alice, &case(8)).await.unwrap();
    assert!(big[0].held_back && big[0].size == 5000);
    let notes = store.attachments(&alice, &case(1)).await.unwrap();
    let (_, latin) = store
        .attachment(&alice, &case(1), notes[0].id)
        .await
        .unwrap();
    assert_eq!(
        latin, b"D\xe9tails en latin-1",
        "ISO-8859-1 bytes as sent, not converted"
    );
    let forwarded = store.attachments(&alice, &case(9)).await.unwrap();
    assert_eq!(forwarded[0].content_type, "message/rfc822");
    let only = store.attachments(&alice, &case(13)).await.unwrap();
    assert_eq!(only[0].filename, "exploit.py");

    // The quarantine keeps what could not be used, with reasons and no content; a
    // message held as spam can be released, and becomes a report.
    let key: embargo_core::reference::ProjectKey = "CLOUDSTACK".parse().unwrap();
    let held = store.quarantined(&alice, &key).await.unwrap();
    let reasons: Vec<&str> = held.iter().map(|q| q.reason.as_str()).collect();
    assert_eq!(held.len(), 4, "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("spam"))
            && reasons.iter().any(|r| r.contains("no sender"))
    );
    let spam = held.iter().find(|q| q.reason.contains("spam")).unwrap();
    let released = store
        .release(&alice, &key, spam.id, &embargo_mail::Limits::default())
        .await
        .unwrap();
    assert_eq!(
        released,
        embargo_store::IntakeOutcome::NewCase {
            reference: "CLOUDSTACK-SEC-21".into(),
            kind: "report".into()
        }
    );
    assert_eq!(store.quarantined(&alice, &key).await.unwrap().len(), 3);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_lands_where_it_should_sqlite() {
    corpus_lands(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_lands_where_it_should_postgres() {
    corpus_lands(Backend::Postgres).await;
}

/// Killed at random moments, intake either stored the whole report or exited non-zero;
/// a retry of the killed ones (as the MTA does) then stores each exactly once.
async fn sigkill_mid_write_loses_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    store.close().await;
    let attachment = "QUJD".repeat(200_000);
    let mut pending = Vec::new();
    for n in 0..12u64 {
        let raw = format!(
            "From: k{n}@example.org\r\nSubject: kill test {n}\r\nMessage-ID: <kill{n}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=K\r\n\r\n--K\r\nContent-Type: text/plain\r\n\r\nreport {n}\r\n--K\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"big.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{attachment}\r\n--K--\r\n"
        );
        let mut child = db
            .command(&["intake", "--project", "CLOUDSTACK"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(raw.as_bytes())
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(n * 15));
        let _ = Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status();
        let status = child.wait().unwrap();
        pending.push((n, raw, status.success()));
    }
    let store = db.store().await;
    let alice = alice(&store).await;
    let listed = store.list_cases(&alice, &Default::default()).await.unwrap();
    for (n, _, succeeded) in &pending {
        let found = listed
            .iter()
            .filter(|c| c.title == format!("kill test {n}"))
            .count();
        if *succeeded {
            assert_eq!(found, 1, "message {n} exited 0 but is not stored once");
        }
        assert!(found <= 1);
    }
    // Every stored one is whole: its attachment is all there.
    for case in &listed {
        let r: CaseRef = case.reference.clone();
        let files = store.attachments(&alice, &r).await.unwrap();
        assert_eq!(files.len(), 1, "{} is half-stored", case.reference);
        assert_eq!(files[0].size, 600_000);
    }
    // The MTA retries what did not exit 0: each ends up stored exactly once.
    for (_, raw, succeeded) in &pending {
        if !*succeeded {
            let (code, _, stderr) = pipe(&db, "CLOUDSTACK", raw.as_bytes(), &[]);
            assert_eq!(code, Some(0), "{stderr}");
        }
    }
    let listed = store.list_cases(&alice, &Default::default()).await.unwrap();
    assert_eq!(listed.len(), 12);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_write_loses_nothing_sqlite() {
    sigkill_mid_write_loses_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_write_loses_nothing_postgres() {
    sigkill_mid_write_loses_nothing(Backend::Postgres).await;
}

#[tokio::test]
async fn a_database_it_cannot_reach_means_retry_later() {
    let db = TestDb::new(Backend::Sqlite).await;
    let out = db
        .command(&[
            "intake",
            "--project",
            "CLOUDSTACK",
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(75),
        "EX_TEMPFAIL: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A batch import from an mbox commits in groups; a second run skips what is stored.
async fn mbox_batch_is_durable_and_rerunnable(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    store.close().await;
    let mut mbox = String::new();
    for n in 0..450 {
        mbox.push_str(&format!(
            "From finder{n}@example.net Mon Nov 23 10:00:00 2026\nFrom: finder{n}@example.net\nSubject: batch {n}\nMessage-ID: <batch{n}@example.net>\n\nReport {n}.\n>From the logs: nothing.\n\n"
        ));
    }
    let path = db.dir.path().join("import.mbox");
    std::fs::write(&path, mbox).unwrap();
    let run = || {
        let out = db
            .command(&[
                "--json",
                "intake",
                "--project",
                "CLOUDSTACK",
                "--mbox",
                path.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = run();
    assert_eq!(first["messages"], 450);
    assert_eq!(first["outcomes"]["new-case"], 450);
    let second = run();
    assert_eq!(second["outcomes"]["duplicate"], 450);
    let store = db.store().await;
    let alice = alice(&store).await;
    let r = CaseRef {
        project: "CLOUDSTACK".parse().unwrap(),
        number: 7,
    };
    assert!(
        store
            .case(&alice, &r)
            .await
            .unwrap()
            .description
            .contains("From the logs"),
        "mboxrd unquoting"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbox_batch_is_durable_and_rerunnable_sqlite() {
    mbox_batch_is_durable_and_rerunnable(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbox_batch_is_durable_and_rerunnable_postgres() {
    mbox_batch_is_durable_and_rerunnable(Backend::Postgres).await;
}

/// Attachments over HTTP: the team downloads them byte for byte, as an octet stream that
/// browsers save rather than open; held-back ones only the team; outsiders see nothing.
async fn attachments_download_over_http(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let raw = std::fs::read(corpus().join("11-binary-attachment.eml")).unwrap();
    let (code, outcome, _) = pipe(&db, "CLOUDSTACK", &raw, &["--attachment-limit", "512"]);
    assert_eq!(code, Some(0));
    let r = outcome["ref"].as_str().unwrap().to_owned();
    let alice = alice(&store).await;
    let case: CaseRef = r.parse().unwrap();
    let helper = store
        .create_user("helper@example.org", Some("helper password 1"), false)
        .await
        .unwrap();
    store
        .invite_collaborator(&alice, &case, "helper@example.org")
        .await
        .unwrap();
    store
        .accept_invitation_as(&store.viewer(helper.id).await.unwrap(), &case)
        .await
        .unwrap();
    let helper_token = store.create_token(helper.id, "t").await.unwrap().secret;
    let server = crate::support::Server::start(store).await;
    let (_, listed) = crate::support::Api::new(&server.url, Some(&people.alice))
        .get(&format!("/api/cases/{r}/attachments"))
        .await;
    let id = listed[0]["id"].as_i64().unwrap();
    assert_eq!(
        listed[0]["held_back"], true,
        "1,024 bytes over a 512-byte limit"
    );
    let download = |token: String| {
        let url = format!("{}/api/cases/{r}/attachments/{id}", server.url);
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let resp = download(people.alice.clone()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"poc.bin\""
    );
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let expected: Vec<u8> = (0..4).flat_map(|_| 0u8..=255).collect();
    assert_eq!(resp.bytes().await.unwrap().to_vec(), expected);
    assert_eq!(
        download(helper_token).await.status(),
        404,
        "held back: the team only"
    );
    assert_eq!(
        download(people.bob.clone()).await.status(),
        404,
        "another project's team"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_download_over_http_sqlite() {
    attachments_download_over_http(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_download_over_http_postgres() {
    attachments_download_over_http(Backend::Postgres).await;
}
