//! The foundation address and routing: a report to the organisation's inbox reaches the
//! foundation team, which routes it to the project it concerns; the case keeps its
//! content, its reporter's link and its mail thread under the new reference. And the
//! escalation of stalled cases to the foundation team and the project's private list.

use serde_json::{Value, json};

use crate::mail::Sink;
use crate::support::{Api, Backend, Process, TestDb, eventually, seed};

fn cli(db: &TestDb, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = db.command(&all).output().unwrap();
    assert!(
        out.status.success(),
        "embargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn pipe(db: &TestDb, project: &str, raw: &str) -> Value {
    let (code, outcome, stderr) = crate::support::intake(db, project, raw.as_bytes(), &[], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    outcome
}

async fn routing_from_the_foundation_address(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.create_org("OSGEO").await.unwrap();
    store
        .create_project("OSGEO", &"GDAL".parse().unwrap(), "GDAL", &[])
        .await
        .unwrap();
    store.close().await;
    let inbox = cli(&db, &["org", "inbox", "--org", "ASF", "--key", "ASF"]);
    assert_eq!(inbox["inbox"], true);
    let again = db
        .command(&["org", "inbox", "--org", "ASF", "--key", "ASFTWO"])
        .output()
        .unwrap();
    assert!(!again.status.success(), "one inbox per organisation");

    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    )
    .env("EMBARGO_MAIL_FROM", "security@apache.example");
    let server = Process::serve(cmd);
    let alice = Api::new(&server.url, Some(&people.alice));
    let fiona = Api::new(&server.url, Some(&people.fiona));

    // A report to the foundation address, with a proof of concept.
    let report = "From: Hana <hana@finder.example>\r\nTo: security@apache.example\r\nSubject: XSS in the CloudStack console\r\nMessage-ID: <route1@finder.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe instance name is not escaped in the console.\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"poc.html\"\r\nContent-Transfer-Encoding: base64\r\n\r\nPHNjcmlwdD4=\r\n--b--\r\n";
    let outcome = pipe(&db, "ASF", report);
    assert_eq!(outcome["ref"], "ASF-SEC-1", "{outcome}");
    eventually(
        20,
        "the acknowledgement and the foundation team's notice",
        || async {
            !sink.to("hana@finder.example").is_empty() && !sink.to("fiona@example.org").is_empty()
        },
    )
    .await;
    let notice = sink.to("fiona@example.org").remove(0).1;
    assert_eq!(notice.subject, "[ASF-SEC-1] New report for ASF");
    assert!(
        sink.to("alice@example.org").is_empty(),
        "no project team yet"
    );
    let ack = sink.to("hana@finder.example").remove(0).1;
    let link = ack
        .text
        .split("/reporter/")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();

    // Only the foundation team sees the inbox, and only it routes.
    let (status, _) = alice.get("/api/cases/ASF-SEC-1").await;
    assert_eq!(status, 404);
    let (status, _) = alice
        .post(
            "/api/cases/ASF-SEC-1/route",
            json!({ "project": "CLOUDSTACK" }),
        )
        .await;
    assert_eq!(
        status, 404,
        "a case alice cannot see does not exist for her"
    );
    let own = alice.report("CLOUDSTACK", "Alice's own case").await;
    assert_eq!(own, "CLOUDSTACK-SEC-1");
    let (status, body) = alice
        .post(
            &format!("/api/cases/{own}/route"),
            json!({ "project": "OTHER" }),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["message"],
        "only the foundation security team routes cases between projects"
    );
    let (status, body) = fiona
        .post("/api/cases/ASF-SEC-1/route", json!({ "project": "GDAL" }))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["message"], "the organisation has no project GDAL");
    let (status, body) = fiona
        .post("/api/cases/ASF-SEC-1/route", json!({ "project": "ASF" }))
        .await;
    assert_eq!(status, 422, "{body}");

    let (status, routed) = fiona
        .post(
            "/api/cases/ASF-SEC-1/route",
            json!({ "project": "CLOUDSTACK", "reason": "the console is CloudStack's" }),
        )
        .await;
    assert_eq!(status, 200, "{routed}");
    assert_eq!(routed["ref"], "CLOUDSTACK-SEC-2");
    assert_eq!(routed["project"], "CLOUDSTACK");

    // The project's team has it, whole, and was told.
    let (status, case) = alice.get("/api/cases/CLOUDSTACK-SEC-2").await;
    assert_eq!(status, 200);
    assert_eq!(case["title"], "XSS in the CloudStack console");
    assert_eq!(
        case["description"],
        "The instance name is not escaped in the console."
    );
    assert_eq!(case["reporter"]["email"], "hana@finder.example");
    let (_, timeline) = alice.get("/api/cases/CLOUDSTACK-SEC-2/timeline").await;
    let routed_note = timeline
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "routed")
        .unwrap();
    assert_eq!(
        routed_note["detail"],
        "routed from ASF-SEC-1 to CLOUDSTACK-SEC-2: the console is CloudStack's"
    );
    assert_eq!(routed_note["actor"], "fiona@example.org");
    let (_, attachments) = alice.get("/api/cases/CLOUDSTACK-SEC-2/attachments").await;
    assert_eq!(attachments[0]["filename"], "poc.html");
    eventually(20, "the project team's notice", || async {
        !sink.to("alice@example.org").is_empty()
    })
    .await;
    assert!(
        sink.to("alice@example.org")
            .iter()
            .any(|(_, m)| m.subject == "[CLOUDSTACK-SEC-2] New report for CLOUDSTACK")
    );
    let (status, _) = fiona.get("/api/cases/ASF-SEC-1").await;
    assert_eq!(status, 404, "the old reference no longer opens the case");

    // The reporter's link and mail under the old reference still reach the case.
    let (status, view) = alice
        .anonymous()
        .get(&format!("/api/reporter/{link}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(view["ref"], "CLOUDSTACK-SEC-2");
    let by_header = format!(
        "From: hana@finder.example\r\nSubject: Re: We have received your security report\r\nMessage-ID: <route2@finder.example>\r\nIn-Reply-To: <{}>\r\n\r\nAlso the host name.\r\n",
        ack.message_id.unwrap()
    );
    let outcome = pipe(&db, "ASF", &by_header);
    assert_eq!(outcome["outcome"], "follow-up", "{outcome}");
    assert_eq!(outcome["ref"], "CLOUDSTACK-SEC-2");
    let by_subject = "From: hana@finder.example\r\nSubject: Re: [ASF-SEC-1] more\r\nMessage-ID: <route3@finder.example>\r\n\r\nAnd the zone name.\r\n";
    let outcome = pipe(&db, "ASF", by_subject);
    assert_eq!(outcome["ref"], "CLOUDSTACK-SEC-2", "{outcome}");
    let new_report = "From: ivo@finder.example\r\nSubject: Another one\r\nMessage-ID: <route4@finder.example>\r\n\r\nA different problem.\r\n";
    assert_eq!(
        pipe(&db, "ASF", new_report)["ref"],
        "ASF-SEC-2",
        "the inbox keeps counting"
    );

    // The CLI routes too.
    let routed = crate::support::cli_json(
        &db,
        &server.url,
        &people.fiona,
        &[
            "case",
            "route",
            "ASF-SEC-2",
            "--to",
            "OTHER",
            "--reason",
            "belongs to OTHER",
        ],
    );
    assert_eq!(routed["ref"], "OTHER-SEC-1");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_from_the_foundation_address_sqlite() {
    routing_from_the_foundation_address(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_from_the_foundation_address_postgres() {
    routing_from_the_foundation_address(Backend::Postgres).await;
}

async fn stalled_cases_are_escalated_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store
        .update_project(
            &"CLOUDSTACK".parse().unwrap(),
            embargo_store::ProjectUpdate {
                private_list: Some("private@cloudstack.example".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store.close().await;
    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    );
    let mut server = Process::serve(cmd);
    let alice = Api::new(&server.url, Some(&people.alice));
    let stalled = alice.report("CLOUDSTACK", "Stalled canary title").await;
    let fresh = alice.report("CLOUDSTACK", "Fresh").await;
    alice
        .moved(&stalled, json!({ "to": "triage", "reason": "looking" }))
        .await;
    server.terminate();

    // The first case's last activity was 31 days ago; the second is active.
    let long_ago =
        (time::OffsetDateTime::now_utc() - time::Duration::days(31)).unix_timestamp() * 1000;
    db.execute(
        "UPDATE cases SET last_activity_at = $1 WHERE number = 1",
        &[long_ago],
    )
    .await;
    let store = db.store().await;
    store
        .enqueue_job(&embargo_store::Task::Escalate {
            on: Some("test-1".into()),
        })
        .await
        .unwrap();
    store
        .enqueue_job(&embargo_store::Task::Escalate {
            on: Some("test-2".into()),
        })
        .await
        .unwrap();
    store.close().await;
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    );
    let server = Process::serve(cmd);
    eventually(20, "the escalation", || async {
        !sink.to("fiona@example.org").is_empty()
            && !sink.to("private@cloudstack.example").is_empty()
    })
    .await;
    // Both jobs ran; the second found nothing new to escalate.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let to_foundation = sink.to("fiona@example.org");
    assert_eq!(to_foundation.len(), 1, "escalated once");
    let (raw, mail) = &to_foundation[0];
    assert!(
        mail.subject
            .starts_with(&format!("[{stalled}] Stalled: no activity since ")),
        "{}",
        mail.subject
    );
    assert!(!raw.contains("canary"), "by reference only");
    assert_eq!(sink.to("private@cloudstack.example").len(), 1);
    assert!(
        sink.messages()
            .iter()
            .all(|(_, m)| !m.subject.contains(&fresh)),
        "an active case is not escalated"
    );
    let alice = Api::new(&server.url, Some(&people.alice));
    let (_, timeline) = alice.get(&format!("/api/cases/{stalled}/timeline")).await;
    assert!(
        timeline
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "escalated")
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_cases_are_escalated_once_sqlite() {
    stalled_cases_are_escalated_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_cases_are_escalated_once_postgres() {
    stalled_cases_are_escalated_once(Backend::Postgres).await;
}
