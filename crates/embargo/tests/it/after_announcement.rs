//! After the announcement, every step in the page: the archived announcement recorded
//! (a bad URL refused with what was typed kept), the CVE record offered for download
//! where the organisation does not publish through CVE Services here, and the CHANGES
//! and NEWS entries to copy.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::json;

use crate::support::{Api, BACKENDS, Backend, Process, TestDb, seed};
use crate::web::{client, hidden, sign_in_alice};

/// The value of the input with `id` in a page.
fn hidden_value(page: &str, id: &str) -> String {
    let at = page.find(&format!("id=\"{id}\"")).expect("the input");
    let rest = &page[at..];
    let v = rest.find("value=\"").expect("its value") + "value=\"".len();
    rest[v..].split('"').next().unwrap().to_owned()
}

async fn after_the_announcement(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    crate::disclosure::configure(&db);
    let server = Process::serve(db.command(&[]));
    let alice = Api::new(&server.url, Some(&people.alice));
    let r = alice.report("CLOUDSTACK", "Console XSS").await;
    alice
        .moved(&r, json!({ "to": "triage", "reason": "reproducing" }))
        .await;
    alice.moved(&r, json!({ "to": "confirmed" })).await;
    let soon = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let (status, body) = alice
        .patch(
            &format!("/api/cases/{r}"),
            json!({
                "cvss": "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:N",
                "cve_id": "CVE-2026-43001",
                "embargo_at": soon.format(&time::format_description::well_known::Rfc3339).unwrap(),
                "versions": { "affected": ["4.0.0 through 4.19.1.1"], "fixed": ["4.19.1.2"] },
                "advisory": { "title": "Stored XSS in the console", "description": "The console showed names unescaped.", "mitigation": "Upgrade to 4.19.1.2.", "cwe": "CWE-79" }
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    alice.moved(&r, json!({ "to": "fixing" })).await;
    alice.fixed_everywhere(&r).await;
    for to in ["fix-ready", "release-pending"] {
        alice.moved(&r, json!({ "to": to })).await;
    }
    alice
        .moved(
            &r,
            json!({ "to": "announced", "not_sent_reason": "announced by hand in the test", "override_reason": "the fix is public already" }),
        )
        .await;

    let http = client();
    let session = sign_in_alice(&http, &server.url).await;
    let open = || async {
        let resp = http
            .get(format!("{}/desk/cases/{r}", server.url))
            .header(COOKIE, &session)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.text().await.unwrap()
    };
    let page = open().await;
    assert!(page.contains("After the announcement"), "{page}");
    assert!(page.contains("id=\"changes-entry\""), "{page}");
    assert!(page.contains("CVE-2026-43001"), "{page}");
    // No CVE Services credentials here: the record is offered for download.
    let download = format!("/api/cases/{r}/documents/cve");
    assert!(page.contains(&download), "{page}");
    let resp = http
        .get(format!("{}{download}", server.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let record: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(record["cveMetadata"]["cveId"], "CVE-2026-43001");

    let csrf = hidden(&page, "csrf");
    let archive = |url: &'static str| {
        http.post(format!("{}/desk/cases/{r}/archive", server.url))
            .header(COOKIE, &session)
            .form(&[("csrf", csrf.as_str()), ("advisory_url", url)])
            .send()
    };
    let resp = archive("lists.example.org/thread/1").await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = resp.text().await.unwrap();
    assert!(
        refused.contains("value=\"lists.example.org/thread/1\""),
        "what was typed stays: {refused}"
    );
    let resp = archive("https://lists.example.org/thread/1").await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        resp.headers()[LOCATION]
            .to_str()
            .unwrap()
            .ends_with("done=archive")
    );
    let page = http
        .get(format!("{}/desk/cases/{r}?done=archive", server.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("The archived announcement is recorded."));
    assert!(
        page.contains("Recorded: <a href=\"https://lists.example.org/thread/1\""),
        "the recorded URL is shown"
    );
    let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
    assert_eq!(case["advisory_url"], "https://lists.example.org/thread/1");

    // The details saved again after the embargo, the date as the form shows it (to the
    // second): not a new date in the past, and the reporter hears of no move.
    let (_, before) = alice.get(&format!("/api/cases/{r}/timeline")).await;
    let page = open().await;
    let shown = hidden_value(&page, "d-embargo");
    let resp = http
        .post(format!("{}/desk/cases/{r}/details", server.url))
        .header(COOKIE, &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Console XSS (announced)"),
            ("embargo_at", shown.as_str()),
            ("cve_id", "CVE-2026-43001"),
            ("affected", "4.0.0 through 4.19.1.1"),
            ("fixed", "4.19.1.2"),
            ("sensitive_terms", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, after) = alice.get(&format!("/api/cases/{r}/timeline")).await;
    let told = |t: &serde_json::Value| {
        t.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "message-to-reporter")
            .count()
    };
    assert_eq!(
        told(&after),
        told(&before),
        "no move to tell the reporter of"
    );
    let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
    assert_eq!(case["title"], "Console XSS (announced)");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_announcement_in_the_page_sqlite() {
    after_the_announcement(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_announcement_in_the_page_postgres() {
    after_the_announcement(BACKENDS[1]).await;
}
