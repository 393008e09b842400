//! Cases have an owner on the team: set through the API or the case page, refused for
//! anyone off the team, shown in the queue and filtered by (mine, nobody's, a member's).

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::json;

use crate::support::{Api, BACKENDS, Backend, Server, TestDb, refs, seed};
use crate::web::{client, hidden, sign_in_alice};

async fn owners(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let owned = alice.report("CLOUDSTACK", "Owned case").await;
    let loose = alice.report("CLOUDSTACK", "Nobody's case").await;

    // Bob is on another project's team only.
    let (status, body) = alice
        .patch(
            &format!("/api/cases/{owned}"),
            json!({ "owner": "bob@example.org" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not on this project's security team"),
        "{body}"
    );
    let (status, case) = alice
        .patch(
            &format!("/api/cases/{owned}"),
            json!({ "owner": "alice@example.org" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{case}");
    assert_eq!(case["owner"], "alice@example.org");

    let (_, mine) = alice.get("/api/cases?owner=me").await;
    assert_eq!(refs(&mine), vec![owned.clone()]);
    assert_eq!(mine[0]["owner"], "alice@example.org");
    let (_, nobody) = alice.get("/api/cases?owner=none").await;
    assert_eq!(refs(&nobody), vec![loose.clone()]);
    let (_, hers) = alice.get("/api/cases?owner=alice@example.org").await;
    assert_eq!(refs(&hers), vec![owned.clone()]);

    // The queue shows and filters it; the case page changes it.
    let http = client();
    let session = sign_in_alice(&http, &server.url).await;
    let page = http
        .get(format!("{}/desk?owner=me", server.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("/desk/cases/{owned}\"")), "{page}");
    assert!(!page.contains(&format!("/desk/cases/{loose}\"")), "{page}");
    assert!(
        page.contains("<td class=\"owner\">alice@example.org</td>"),
        "{page}"
    );
    let page = http
        .get(format!("{}/desk/cases/{owned}", server.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let resp = http
        .post(format!("{}/desk/cases/{owned}/owner", server.url))
        .header(COOKIE, &session)
        .form(&[("csrf", csrf.as_str()), ("owner", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, case) = alice.get(&format!("/api/cases/{owned}")).await;
    assert_eq!(case["owner"], serde_json::Value::Null, "{case}");
    let (_, timeline) = alice.get(&format!("/api/cases/{owned}/timeline")).await;
    let said = timeline.to_string();
    assert!(
        said.contains("owner set to alice@example.org") && said.contains("owner cleared"),
        "{said}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_case_has_an_owner_on_the_team_sqlite() {
    owners(BACKENDS[0]).await;
}

#[tokio::test]
async fn a_case_has_an_owner_on_the_team_postgres() {
    owners(BACKENDS[1]).await;
}
