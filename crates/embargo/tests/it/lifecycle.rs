//! A case through every state of the procedure over HTTP, with each refusal on the way.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::support::{Api, Backend, Server, TestDb, eventually, seed};

fn missing(body: &Value) -> Vec<String> {
    body["missing"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

async fn full_lifecycle(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store).await;
    let alice = Api::new(&server.url, Some(&people.alice));

    // reported
    let r = alice
        .report("CLOUDSTACK", "Console allows script injection")
        .await;
    assert_eq!(r, "CLOUDSTACK-SEC-1");
    let case_path = format!("/api/cases/{r}");
    let move_path = format!("{case_path}/transitions");
    let (_, case) = alice.get(&case_path).await;
    assert_eq!(case["state"], "reported");
    assert_eq!(case["reporter"]["email"], "finder@example.net");

    // A wrong transition names where the case can go instead.
    let (status, body) = alice.post(&move_path, json!({ "to": "fixing" })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("from reported it can move to: triage, invalid, duplicate"),
        "{body}"
    );

    // invalid needs a message to the reporter.
    let (status, body) = alice.post(&move_path, json!({ "to": "invalid" })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(missing(&body), ["message-to-reporter"]);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("a message to the reporter"),
        "{body}"
    );

    alice
        .moved(&r, json!({ "to": "triage", "reason": "investigating" }))
        .await;

    // The public view does not exist before the announcement, and cannot be opened.
    let (status, _) = alice
        .anonymous()
        .get(&format!("/api/public/cases/{r}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = alice.post(&move_path, json!({ "to": "public" })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cannot be made public before it is announced"),
        "{body}"
    );

    // invalid with a message, then reopened with a reason.
    let case = alice
        .moved(
            &r,
            json!({ "to": "invalid", "message_to_reporter": "This is the documented behaviour." }),
        )
        .await;
    assert_eq!(case["state"], "invalid");
    let (status, body) = alice.post(&move_path, json!({ "to": "triage" })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(missing(&body), ["reason"]);
    alice
        .moved(
            &r,
            json!({ "to": "triage", "reason": "reporter sent a working proof of concept" }),
        )
        .await;

    // confirmed: the foundation team is notified by the job runner.
    alice.moved(&r, json!({ "to": "confirmed" })).await;
    let checklist_path = format!("{case_path}/checklist");
    eventually(20, "the foundation notification", || async {
        let (_, items) = alice.get(&checklist_path).await;
        items
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["key"] == "foundation-notified" && i["status"] == "done")
    })
    .await;
    alice.moved(&r, json!({ "to": "fixing" })).await;
    // fix-ready waits for the fix on every branch and for testing evidence (the stages
    // themselves are walked in `fixes`).
    let (status, body) = alice.post(&move_path, json!({ "to": "fix-ready" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        missing(&body),
        ["fix-on-every-branch", "testing-evidence"],
        "{body}"
    );
    alice.fixed_everywhere(&r).await;
    let (_, items) = alice.get(&checklist_path).await;
    let fix = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "fix:4.18")
        .unwrap()
        .clone();
    assert_eq!(fix["by"], "alice@example.org");
    assert!(
        fix["note"]
            .as_str()
            .unwrap()
            .starts_with("4.18: merged as "),
        "{fix}"
    );
    let (status, body) = alice
        .put(
            &format!("{checklist_path}/changes-news"),
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "CHANGES/NEWS before the announcement: {body}"
    );
    alice
        .moved(
            &r,
            json!({ "to": "fix-ready", "reason": "tests pass on 4.18 and 4.19" }),
        )
        .await;

    // release-pending: each requirement is named until it is met.
    let mut expected = vec![
        "cvss-vector",
        "cve-id",
        "affected-versions",
        "fixed-versions",
        "advisory-description",
        "advisory-mitigation",
        "embargo-date",
    ];
    let embargo_at = OffsetDateTime::now_utc() + time::Duration::hours(2);
    let embargo = embargo_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let fills = [
        (
            "cvss-vector",
            json!({ "cvss": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N" }),
        ),
        ("cve-id", json!({ "cve_id": "CVE-2026-10001" })),
        (
            "affected-versions",
            json!({ "versions": { "affected": ["4.0.0 through 4.18.1"], "fixed": [] } }),
        ),
        (
            "fixed-versions",
            json!({ "versions": { "affected": ["4.0.0 through 4.18.1"], "fixed": ["4.18.2", "4.19.1"] } }),
        ),
        (
            "advisory-description",
            json!({ "advisory": { "description": "The console renders names unescaped." } }),
        ),
        (
            "advisory-mitigation",
            json!({ "advisory": { "title": "Stored XSS in the console", "description": "The console renders names unescaped.", "mitigation": "Upgrade to 4.18.2 or 4.19.1.", "credit": "Finder" } }),
        ),
        ("embargo-date", json!({ "embargo_at": embargo })),
    ];
    for (requirement, patch) in fills {
        let (status, body) = alice
            .post(&move_path, json!({ "to": "release-pending" }))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(missing(&body), expected, "{body}");
        let (status, body) = alice.patch(&case_path, patch).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        expected.retain(|r| *r != requirement);
    }
    let case = alice.moved(&r, json!({ "to": "release-pending" })).await;
    assert_eq!(case["cvss"]["score"], 6.1);
    assert_eq!(case["cvss"]["severity"], "medium");
    assert_eq!(case["clocks"]["mitigation_days"], 30);

    // announced: refused before the embargo date, allowed with an override that is recorded.
    let (status, body) = alice.post(&move_path, json!({ "to": "announced" })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["message"].as_str().unwrap().contains("override"),
        "{body}"
    );
    // By hand, with no announcement sent by Embargo: refused, naming the lists, until
    // the team says why it counts as announced anyway; that reason is on the timeline,
    // and no list's checklist line claims a mail that never went.
    let (status, body) = alice
        .post(
            &move_path,
            json!({ "to": "announced", "override_reason": "exploited in the wild" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let said = body["message"].as_str().unwrap();
    assert!(
        said.contains("has not been sent to oss-security@lists.openwall.com")
            && said.contains("not_sent_reason"),
        "{body}"
    );
    let case = alice
        .moved(
            &r,
            json!({ "to": "announced", "override_reason": "exploited in the wild",
                    "not_sent_reason": "posted to the lists by the PMC chair" }),
        )
        .await;
    assert_eq!(case["embargo_override"]["reason"], "exploited in the wild");
    let (_, timeline) = alice.get(&format!("{case_path}/timeline")).await;
    assert!(
        timeline.to_string().contains(
            "announced without Embargo's mail to oss-security@lists.openwall.com: posted to the lists by the PMC chair"
        ),
        "{timeline}"
    );
    let (_, items) = alice.get(&format!("{case_path}/checklist")).await;
    let line = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "announcement:oss-security@lists.openwall.com")
        .cloned()
        .unwrap();
    assert_eq!(line["status"], "open", "no mail went: {line}");
    assert_eq!(case["embargo_override"]["by"], "alice@example.org");
    let (_, case) = alice.get(&case_path).await;
    assert_eq!(case["embargo_override"]["reason"], "exploited in the wild");

    // public: CHANGES/NEWS may now be ticked and the public view opens.
    let (status, _) = alice
        .put(
            &format!("{checklist_path}/changes-news"),
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = alice
        .anonymous()
        .get(&format!("/api/public/cases/{r}"))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "announced but not yet public"
    );
    alice.moved(&r, json!({ "to": "public" })).await;
    let (status, public) = alice
        .anonymous()
        .get(&format!("/api/public/cases/{r}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(public["title"], "Stored XSS in the console");
    assert_eq!(public["cve_id"], "CVE-2026-10001");
    assert!(public.get("reporter").is_none() && public.get("notes").is_none());

    // closed: needs a retrospective.
    let (status, body) = alice.post(&move_path, json!({ "to": "closed" })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(missing(&body), ["retrospective", "retrospective-details"]);
    let case = alice
        .moved(
            &r,
            json!({ "to": "closed", "retrospective": "Escape all console output by default.",
                    "retrospective_details": { "root_cause": "output-encoding", "found_by": "external-report", "cwe": "CWE-79", "introduced": "4.0.0", "prevention": "A template engine that escapes by default." } }),
        )
        .await;
    assert_eq!(case["state"], "closed");
    assert_eq!(case["next_states"], json!([]));

    // The timeline holds every transition in order, with who and why.
    let (_, timeline) = alice.get(&format!("{case_path}/timeline")).await;
    let moves: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "transition")
        .map(|e| e["to_state"].as_str().unwrap())
        .collect();
    assert_eq!(
        moves,
        [
            "triage",
            "invalid",
            "triage",
            "confirmed",
            "fixing",
            "fix-ready",
            "release-pending",
            "announced",
            "public",
            "closed"
        ]
    );
    let events = timeline.as_array().unwrap();
    assert!(events.iter().all(|e| e["at"].is_string()));
    assert!(events.iter().any(|e| e["kind"] == "message-to-reporter"
        && e["detail"] == "This is the documented behaviour."));
    assert!(events.iter().any(|e| {
        e["kind"] == "transition"
            && e["detail"]
                .as_str()
                .is_some_and(|d| d.contains("exploited in the wild"))
    }));
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "notified" && e["actor"].is_null())
    );
    let (_, items) = alice.get(&checklist_path).await;
    for key in [
        "cvss",
        "cve-reserved",
        "advisory",
        "case-public",
        "retrospective",
        "changes-news",
        "fix:4.18",
    ] {
        assert!(
            items
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["key"] == key && i["status"] == "done"),
            "{key} not done: {items}"
        );
    }

    // duplicate: needs the message and the other case; the link is kept.
    let d = alice.report("CLOUDSTACK", "Same XSS again").await;
    let (status, body) = alice
        .post(
            &format!("/api/cases/{d}/transitions"),
            json!({ "to": "duplicate", "message_to_reporter": "Already known." }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(missing(&body), ["duplicate-of"]);
    let (status, _) = alice
        .post(
            &format!("/api/cases/{d}/transitions"),
            json!({ "to": "duplicate", "message_to_reporter": "Known.", "duplicate_of": d }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let case = alice.moved(&d, json!({ "to": "duplicate", "message_to_reporter": "Already known.", "duplicate_of": r })).await;
    assert_eq!(case["duplicate_of"], r);

    server.stop().await;
}

#[tokio::test]
async fn full_lifecycle_sqlite() {
    full_lifecycle(Backend::Sqlite).await;
}

#[tokio::test]
async fn full_lifecycle_postgres() {
    full_lifecycle(Backend::Postgres).await;
}

async fn sessions_and_tokens(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store).await;
    let http = reqwest::Client::new();
    let bad = http
        .post(format!("{}/api/session", server.url))
        .json(&json!({ "email": "alice@example.org", "password": "wrong password 000" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let ok = http
        .post(format!("{}/api/session", server.url))
        .json(&json!({ "email": "alice@example.org", "password": people.alice_password }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_owned();
    let me: Value = http
        .get(format!("{}/api/me", server.url))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "alice@example.org");
    assert_eq!(me["projects"], json!(["CLOUDSTACK"]));

    // A token made over the API works, and stops working once revoked.
    let alice = Api::new(&server.url, Some(&people.alice));
    let (status, _) = alice
        .post(
            "/api/tokens",
            json!({ "name": "laptop", "password": "a guess at it" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a token needs the password again"
    );
    let (status, made) = alice
        .post(
            "/api/tokens",
            json!({ "name": "laptop", "password": "alice password 123" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let fresh = alice.as_user(made["token"].as_str().unwrap());
    assert_eq!(fresh.get("/api/me").await.0, StatusCode::OK);
    let (status, _) = alice
        .request(
            reqwest::Method::DELETE,
            &format!("/api/tokens/{}", made["id"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(fresh.get("/api/me").await.0, StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn sessions_and_tokens_sqlite() {
    sessions_and_tokens(Backend::Sqlite).await;
}

#[tokio::test]
async fn sessions_and_tokens_postgres() {
    sessions_and_tokens(Backend::Postgres).await;
}
