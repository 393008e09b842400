//! The per-case roles end to end: a collaborator sees the case only after accepting the
//! terms, and the acceptance is recorded; the reporter follows the external thread
//! through the secret link; a distributor sees the advisory of a pre-notified case only.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::support::{Api, Backend, Server, TestDb, seed};

/// Signs in; the cookie pair and the CSRF token.
async fn sign_in(url: &str, email: &str, password: &str) -> Option<(String, String)> {
    let resp = reqwest::Client::new()
        .post(format!("{url}/api/session"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    if resp.status() != StatusCode::OK {
        return None;
    }
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body: Value = resp.json().await.unwrap();
    Some((cookie, body["csrf_token"].as_str().unwrap().to_owned()))
}

async fn get_with_cookie(url: &str, cookie: &str, path: &str) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{url}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn roles(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let anonymous = alice.anonymous();
    let r = alice.report("CLOUDSTACK", "Token leak in the API").await;
    let case_path = format!("/api/cases/{r}");
    alice
        .post(
            &format!("{case_path}/notes"),
            json!({ "text": "internal: suspect the cache" }),
        )
        .await;

    // Collaborator: invited, nothing visible until they accept the terms themselves. The
    // secret goes to them by mail (mail::an_invitation_goes_to_the_invitee_alone); the
    // inviter never sees it, and cannot accept in their stead.
    let helper_store = db.store().await;
    helper_store
        .create_user("helper@example.org", Some("helper password 1"), false)
        .await
        .unwrap();
    helper_store.close().await;
    let (status, invitation) = alice
        .post(
            &format!("{case_path}/collaborators"),
            json!({ "email": "helper@example.org" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    assert_eq!(
        invitation,
        json!({ "email": "helper@example.org" }),
        "no secret for the inviter"
    );
    let (_, terms) = anonymous.get("/api/terms").await;
    assert!(terms["text"].as_str().unwrap().contains("will not discuss"));
    let (status, _) = alice
        .post(&format!("{case_path}/invitation/accept"), json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the inviter accepts nothing for the invitee"
    );
    let (cookie, csrf) = sign_in(&server.url, "helper@example.org", "helper password 1")
        .await
        .unwrap();
    let (status, _) = get_with_cookie(&server.url, &cookie, &case_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing before the terms");
    let accepted = reqwest::Client::new()
        .post(format!("{}{case_path}/invitation/accept", server.url))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["ref"], r.as_str());
    let (status, case) = get_with_cookie(&server.url, &cookie, &case_path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(case["title"], "Token leak in the API");
    let (_, list) = get_with_cookie(&server.url, &cookie, "/api/cases").await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "only the case they collaborate on"
    );
    let (_, people_on_case) = alice.get(&format!("{case_path}/collaborators")).await;
    assert_eq!(people_on_case[0]["email"], "helper@example.org");
    assert!(people_on_case[0]["accepted_at"].is_string());
    assert_eq!(
        people_on_case[0]["terms_version"],
        embargo_store::TERMS_VERSION
    );
    let (_, timeline) = alice.get(&format!("{case_path}/timeline")).await;
    let acceptance = timeline
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "collaborator-accepted")
        .unwrap();
    assert_eq!(acceptance["actor"], "helper@example.org");
    assert!(acceptance["at"].is_string());
    // Collaborators may not move the case or engage others.
    let (status, _) = reqwest::Client::new()
        .post(format!("{}{case_path}/transitions", server.url))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({ "to": "triage" }))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Withdrawn, the case is gone for them again.
    let (status, _) = alice
        .request(
            reqwest::Method::DELETE,
            &format!("{case_path}/access/helper@example.org"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = get_with_cookie(&server.url, &cookie, &case_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Reporter: the secret link shows the status and the external thread, never notes.
    let (_, link) = alice
        .post(&format!("{case_path}/reporter-link"), serde_json::json!({}))
        .await;
    let link = link["secret"].as_str().unwrap().to_owned();
    let (status, view) = anonymous.get(&format!("/api/reporter/{link}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["ref"], r.as_str());
    assert_eq!(view["thread"][0]["from"], "reporter");
    let (status, _) = anonymous
        .post(
            &format!("/api/reporter/{link}/messages"),
            json!({ "text": "Here is a second proof." }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    alice.moved(&r, json!({ "to": "invalid", "message_to_reporter": "We could not reproduce it; can you?" })).await;
    let (_, view) = anonymous.get(&format!("/api/reporter/{link}")).await;
    let thread: Vec<(&str, &str)> = view["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["from"].as_str().unwrap(), m["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        thread[1..],
        [
            ("reporter", "Here is a second proof."),
            ("team", "We could not reproduce it; can you?")
        ]
    );
    assert!(
        !view.to_string().contains("suspect the cache"),
        "internal notes stay internal"
    );
    let (_, timeline) = alice.get(&format!("{case_path}/timeline")).await;
    assert!(
        timeline
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "reporter-message" && e["detail"] == "Here is a second proof.")
    );
    let (status, body) = anonymous.get("/api/reporter/rl_wrong").await;
    let (_, missing) = alice.get("/api/cases/CLOUDSTACK-SEC-999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["message"], missing["message"],
        "a wrong link reads like a missing case"
    );
    alice
        .moved(
            &r,
            json!({ "to": "triage", "reason": "reproduced after all" }),
        )
        .await;

    // Distributor: pre-notified at fix-ready, sees the advisory and fix, nothing else.
    let (status, _) = alice
        .post(
            "/api/projects/CLOUDSTACK/distributors",
            json!({ "email": "vendor@example.com" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = alice
        .post(&format!("{case_path}/prenotify"), json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not before the fix is ready: {body}"
    );
    for to in ["confirmed", "fixing", "fix-ready"] {
        if to == "fix-ready" {
            alice.fixed_everywhere(&r).await;
        }
        alice
            .moved(&r, json!({ "to": to, "reason": "moving on" }))
            .await;
    }
    let embargo = (OffsetDateTime::now_utc() + time::Duration::days(5))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, _) = alice
        .patch(&case_path, json!({ "embargo_at": embargo, "advisory": { "title": "Token leak", "description": "Tokens leak through the cache.", "mitigation": "Upgrade to 2.1.", "credit": "" }, "versions": { "affected": ["2.0"], "fixed": ["2.1"] } }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, notified) = alice
        .post(&format!("{case_path}/prenotify"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{notified}");
    assert_eq!(notified["notified"], json!(["vendor@example.com"]));
    let vendor = db.store().await;
    let vendor_user = vendor.user_by_email("vendor@example.com").await.unwrap();
    let vendor_token = vendor
        .create_token(vendor_user.id, "vendor")
        .await
        .unwrap()
        .secret;
    vendor.close().await;
    let vendor = Api::new(&server.url, Some(&vendor_token));
    let (status, advisory) = vendor.get(&format!("{case_path}/advisory")).await;
    assert_eq!(status, StatusCode::OK, "{advisory}");
    assert_eq!(advisory["advisory"]["mitigation"], "Upgrade to 2.1.");
    assert_eq!(advisory["versions"]["fixed"], json!(["2.1"]));
    assert!(advisory["embargo_at"].is_string());
    for hidden in [
        "Token leak in the API",
        "suspect the cache",
        "finder@example.net",
        "second proof",
    ] {
        assert!(!advisory.to_string().contains(hidden), "{hidden}");
    }
    let (_, listed) = vendor.get("/api/prenotified").await;
    assert_eq!(listed[0]["ref"], r.as_str());
    let (status, _) = vendor.get(&case_path).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the case itself stays out of reach"
    );
    let (_, list) = vendor.get("/api/cases").await;
    assert_eq!(list, json!([]));

    // A revocation sticks: pre-notifying again passes the revoked contact by, until the
    // team grants them again; a contact taken off the list loses what they were shown.
    let advisory_path = format!("{case_path}/advisory");
    let (status, _) = alice
        .request(
            reqwest::Method::DELETE,
            &format!("{case_path}/access/vendor@example.com"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(vendor.get(&advisory_path).await.0, StatusCode::NOT_FOUND);
    let (_, notified) = alice
        .post(&format!("{case_path}/prenotify"), json!({}))
        .await;
    assert_eq!(
        notified["notified"],
        json!([]),
        "the revoked contact is passed by"
    );
    assert_eq!(vendor.get(&advisory_path).await.0, StatusCode::NOT_FOUND);
    let (status, _) = alice
        .post(
            &format!("{case_path}/distributors/vendor@example.com"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(vendor.get(&advisory_path).await.0, StatusCode::OK);
    let (status, _) = alice
        .request(
            reqwest::Method::DELETE,
            "/api/projects/CLOUDSTACK/distributors/vendor@example.com",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(vendor.get(&advisory_path).await.0, StatusCode::NOT_FOUND);

    // An administrator neither adds distributors nor puts themselves on a team.
    let admin = Api::new(&server.url, Some(&people.admin));
    let (status, _) = admin
        .post(
            "/api/projects/CLOUDSTACK/distributors",
            json!({ "email": "admin@example.org" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for (path, body) in [
        (
            "/api/projects/CLOUDSTACK/committee",
            json!({ "emails": ["admin@example.org"] }),
        ),
        (
            "/api/projects/CLOUDSTACK/members",
            json!({ "email": "admin@example.org" }),
        ),
        (
            "/api/orgs/ASF/foundation-team",
            json!({ "email": "admin@example.org" }),
        ),
    ] {
        let (status, body) = admin.post(path, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    server.stop().await;

    // Every change to who may see what is in the audit chain.
    let out = db
        .command(&["--json", "audit", "log", "--limit", "1000"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["via"] == "change")
        .map(|r| r["what"].as_str().unwrap().to_owned())
        .collect();
    for expected in [
        "vendor@example.com added to the distributors",
        "access of vendor@example.com revoked",
        "vendor@example.com granted distributor access again",
        "vendor@example.com removed from the distributors",
        "alice@example.org joined the security team",
    ] {
        assert!(
            changes.iter().any(|c| c.contains(expected)),
            "{expected} is not in the chain: {changes:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_sqlite() {
    roles(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_postgres() {
    roles(Backend::Postgres).await;
}
