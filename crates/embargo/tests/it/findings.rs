//! Bulk import of findings and duplicate proposals, through the CLI and the API.

use std::io::Write;
use std::process::Stdio;

use serde_json::{Value, json};

use crate::support::{Api, Backend, Server, TestDb, seed};

async fn import_and_duplicates(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let (status, first) = alice
        .post(
            "/api/cases",
            json!({ "project": "CLOUDSTACK", "title": "SQL injection in listUsers", "description": "The name parameter of listUsers is concatenated into the SQL query." }),
        )
        .await;
    assert_eq!(status, 201, "{first}");
    let published = first["ref"].as_str().unwrap().to_owned();

    let findings = "# Automated review of CloudStack\n\nThree findings.\n\n\
        ## listUsers SQL injection\nInjection through the name parameter in listUsers: the query is concatenated.\nSeverity: high\n\n\
        ## Open redirect on login\nThe next parameter is not checked against the host.\n\n\
        ## Hard-coded key in the agent\nThe agent ships a fixed AES key.\n";
    let mut child = db
        .command(&["--json", "case", "import", "--project", "CLOUDSTACK", "-"])
        .env("EMBARGO_URL", &server.url)
        .env("EMBARGO_TOKEN", &people.alice)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(findings.as_bytes())
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let imported: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cases = imported.as_array().unwrap();
    assert_eq!(cases.len(), 3);
    assert_eq!(
        cases[0]["duplicates"][0]["ref"],
        published.as_str(),
        "{imported}"
    );
    assert!(cases[0]["duplicates"][0]["score"].as_f64().unwrap() > 0.35);
    assert!(
        cases[1]["duplicates"].as_array().unwrap().is_empty(),
        "an unrelated finding has none"
    );
    let (_, case) = alice
        .get(&format!("/api/cases/{}", cases[0]["ref"].as_str().unwrap()))
        .await;
    assert_eq!(case["channel"], "import", "flagged as imported");
    assert_eq!(case["title"], "listUsers SQL injection");

    // The proposal holds both ways, and for any case on demand.
    let (status, dups) = alice
        .get(&format!("/api/cases/{published}/duplicates"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(dups[0]["ref"], cases[0]["ref"]);

    // A file that is not findings is refused, naming the problem; nothing is filed.
    let (status, body) = alice
        .post(
            "/api/projects/CLOUDSTACK/import",
            json!({ "content": "[{\"body\": \"no title\"}]" }),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("finding 1 has no title"),
        "{body}"
    );
    let (_, all) = alice.get("/api/cases").await;
    assert_eq!(all.as_array().unwrap().len(), 4);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_and_duplicates_sqlite() {
    import_and_duplicates(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_and_duplicates_postgres() {
    import_and_duplicates(Backend::Postgres).await;
}

/// Merging a duplicate credits its reporter on the original, and keeps their thread.
async fn merging_keeps_every_reporters_credit_and_thread(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store.clone()).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let (_, first) = alice
        .post("/api/cases", json!({ "project": "CLOUDSTACK", "title": "XSS in names", "description": "first", "reporter": { "name": "Ann", "email": "ann@example.org" } }))
        .await;
    let (_, second) = alice
        .post("/api/cases", json!({ "project": "CLOUDSTACK", "title": "XSS in names again", "description": "second", "reporter": { "name": "Ben", "email": "ben@example.org" } }))
        .await;
    let (original, dup) = (
        first["ref"].as_str().unwrap().to_owned(),
        second["ref"].as_str().unwrap().to_owned(),
    );
    let (_, link) = alice
        .post(
            &format!("/api/cases/{dup}/reporter-link"),
            serde_json::json!({}),
        )
        .await;
    // Ben adds to his report before the merge; it travels with it.
    let (status, _) = alice
        .anonymous()
        .post(
            &format!(
                "/api/reporter/{}/messages",
                link["secret"].as_str().unwrap()
            ),
            json!({ "text": "It also works in the\nproject name field." }),
        )
        .await;
    assert_eq!(status, 201);
    // The team sees it as unread in the queue until a member opens the case, and a job
    // tells them (by reference only).
    let unread = |api: Api, r: String| async move {
        let (_, cases) = api.get("/api/cases").await;
        cases
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["ref"] == r.as_str())
            .map(|c| c["unread"] == true)
            .unwrap()
    };
    assert!(
        unread(alice.clone(), dup.clone()).await,
        "the reply is unread"
    );
    assert!(!unread(alice.clone(), original.clone()).await);
    let told = db
        .query_text("SELECT CAST(COUNT(*) AS TEXT) FROM jobs WHERE kind = 'reporter-wrote'")
        .await;
    assert_eq!(told.as_deref(), Some("1"), "the team is told of the reply");
    alice.get(&format!("/api/cases/{dup}")).await;
    assert!(!unread(alice.clone(), dup.clone()).await, "opened, so read");
    // And a file, which is copied to the surviving case.
    store
        .reporter_upload(
            link["secret"].as_str().unwrap(),
            embargo_store::Upload {
                filename: "poc.html",
                content_type: "text/html",
                bytes: b"<img src=x onerror=alert(1)>",
                limit: 1 << 20,
            },
        )
        .await
        .unwrap();
    let (_, first_link) = alice
        .post(&format!("/api/cases/{original}/reporter-link"), json!({}))
        .await;
    alice
        .moved(&dup, json!({ "to": "duplicate", "duplicate_of": original, "message_to_reporter": "This was reported before; you will be credited." }))
        .await;
    let (_, case) = alice.get(&format!("/api/cases/{original}")).await;
    assert_eq!(
        case["merged_reporters"],
        json!([{ "ref": dup, "reporter": { "name": "Ben", "email": "ben@example.org" } }])
    );
    assert_eq!(case["reporter"]["name"], "Ann", "the first reporter stays");
    let (_, timeline) = alice.get(&format!("/api/cases/{original}/timeline")).await;
    let merged = timeline
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "merged")
        .unwrap();
    let detail = merged["detail"].as_str().unwrap();
    assert!(detail.contains("its reporter, Ben <ben@example.org>, is credited"));
    // The duplicate's report and thread arrive as a quoted section naming its source.
    assert!(
        detail.contains(&format!("From {dup}, the report:\n> second")),
        "{detail}"
    );
    assert!(
        detail.contains("the reporter wrote:\n> It also works in the\n> project name field."),
        "{detail}"
    );
    assert!(
        detail.contains("Its attachments, copied to this case: poc.html."),
        "{detail}"
    );
    let (_, files) = alice
        .get(&format!("/api/cases/{original}/attachments"))
        .await;
    let poc = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["filename"] == "poc.html")
        .unwrap_or_else(|| panic!("{files}"));
    let (status, bytes) = alice
        .get(&format!("/api/cases/{original}/attachments/{}", poc["id"]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(bytes, json!("<img src=x onerror=alert(1)>"));
    // The duplicate keeps its own.
    let (_, dup_files) = alice.get(&format!("/api/cases/{dup}/attachments")).await;
    assert_eq!(dup_files.as_array().unwrap().len(), 1);
    // Ann hears that another report joined hers, and not from whom.
    let (_, ann) = alice
        .anonymous()
        .get(&format!(
            "/api/reporter/{}",
            first_link["secret"].as_str().unwrap()
        ))
        .await;
    let told = ann["thread"].as_array().unwrap().last().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        told.contains(&format!(
            "Another report of the same issue ({dup}) was merged into yours"
        )),
        "{told}"
    );
    assert!(!told.contains("Ben"), "{told}");
    // Ben still follows his own thread, with the team's message.
    let (status, view) = alice
        .anonymous()
        .get(&format!(
            "/api/reporter/{}",
            link["secret"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(view["state"], "duplicate");
    assert_eq!(
        view["thread"].as_array().unwrap().last().unwrap()["text"],
        "This was reported before; you will be credited."
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_keeps_every_reporters_credit_and_thread_sqlite() {
    merging_keeps_every_reporters_credit_and_thread(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_keeps_every_reporters_credit_and_thread_postgres() {
    merging_keeps_every_reporters_credit_and_thread(Backend::Postgres).await;
}
