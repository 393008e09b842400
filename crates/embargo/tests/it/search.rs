//! The queue at scale: search over sealed text through keyed tokens, filters in SQL, and
//! keyset pages. A case beyond the first thousand is found by a word of its title; words
//! are found where the viewer may read them and nowhere else; the index holds no word;
//! paging returns every case once while new ones arrive; `keys reseal` moves the index
//! onto the new key.

use std::collections::HashSet;

use embargo_core::case::{Channel, Reporter};
use embargo_store::{KeySource, NewReport, Store};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LINK};
use serde_json::json;

use crate::support::{Api, BACKENDS, Backend, Server, TestDb, refs, seed};
use crate::web::{client, sign_in_alice};

/// Files `count` cases as alice, straight through the store.
async fn file(store: &Store, count: usize, title: impl Fn(usize) -> String) -> Vec<String> {
    let alice = store.user_by_email("alice@example.org").await.unwrap();
    let alice = store.viewer(alice.id).await.unwrap();
    let mut filed = Vec::new();
    for i in 0..count {
        let case = store
            .create_case(
                &alice,
                NewReport {
                    project: "CLOUDSTACK".parse().unwrap(),
                    title: title(i),
                    description: format!("Report {i}: the console proxy misbehaves."),
                    reporter: Reporter::default(),
                    channel: Channel::Api,
                },
            )
            .await
            .unwrap();
        filed.push(case.reference.to_string());
    }
    filed
}

/// GET with the `Link` header's next page, if any.
async fn page(api: &Api, path: &str) -> (serde_json::Value, Option<String>) {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", api.url))
        .bearer_auth(api.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    let next = resp
        .headers()
        .get(LINK)
        .map(|v| v.to_str().unwrap().to_owned())
        .map(|link| {
            let target = link.split('>').next().unwrap().trim_start_matches('<');
            assert!(link.ends_with("rel=\"next\""), "{link}");
            target.to_owned()
        });
    (resp.json().await.unwrap(), next)
}

async fn search_at_scale(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    // The oldest case carries the word; a thousand and fifty newer ones bury it.
    let oldest = file(&store, 1, |_| {
        "Zanzibar heap overflow in the console proxy".into()
    })
    .await;
    let buried = file(&store, 1_050, |i| format!("Filler report {i}")).await;
    let server = Server::start(store.clone()).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let bob = Api::new(&server.url, Some(&people.bob));

    // By a word of its title, whole or begun, in the API and in the queue.
    for q in ["zanzibar", "Zanzi", "zanzibar heap", "ZANZIBAR   overflow"] {
        let (_, found) = alice
            .get(&format!("/api/cases?q={}", q.replace(' ', "+")))
            .await;
        assert_eq!(refs(&found), oldest, "q={q}");
    }
    let (_, none) = alice.get("/api/cases?q=zanzibar+underflow").await;
    assert_eq!(refs(&none), Vec::<String>::new(), "every word must match");
    let http = client();
    let session = sign_in_alice(&http, &server.url).await;
    let queue = http
        .get(format!("{}/desk?q=zanzibar", server.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        queue.contains(&format!("/desk/cases/{}\"", oldest[0])),
        "the queue finds the 1,051st case by a word of its title"
    );
    assert!(!queue.contains(&format!("/desk/cases/{}\"", buried[0])));
    // Without a search, the queue pages: the oldest case is on a later page, reached by
    // the link at the foot of each.
    let mut path = "/desk".to_owned();
    let mut seen = 0;
    let found = loop {
        let body = http
            .get(format!("{}{path}", server.url))
            .header(COOKIE, &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        seen += 1;
        if body.contains(&format!("/desk/cases/{}\"", oldest[0])) {
            break true;
        }
        let Some(next) = body
            .split("rel=\"next\" href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            break false;
        };
        path = next.replace("&amp;", "&");
    };
    assert!(found, "the oldest case is on a page of the queue");
    assert_eq!(seen, 11, "1,051 cases at 100 a page");

    // Bob's project holds no such case, and its words are not his to find.
    let (_, theirs) = bob.get("/api/cases?q=zanzibar").await;
    assert_eq!(refs(&theirs), Vec::<String>::new());

    // Descriptions by whole words; notes where the reader may read them. Words in more
    // than a thousand cases are looked up case by case, newest first: the same answer.
    let (_, found) = alice.get("/api/cases?q=misbehaves+proxy&limit=5").await;
    let newest: Vec<String> = buried.iter().rev().take(5).cloned().collect();
    assert_eq!(refs(&found), newest);
    let (_, found) = alice.get("/api/cases?q=proxy+zanzibar").await;
    assert_eq!(refs(&found), oldest, "a common word and a rare one");
    let target = &buried[500];
    let (status, _) = alice
        .post(
            &format!("/api/cases/{target}/notes"),
            json!({ "text": "Internal: the wombat exploit chain" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = alice
        .post(
            &format!("/api/cases/{target}/notes"),
            json!({ "text": "For the collaborators: platypus repro", "shared": true }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, found) = alice.get("/api/cases?q=wombat").await;
    assert_eq!(refs(&found), vec![target.clone()]);
    let (_, found) = alice.get("/api/cases?q=platypus").await;
    assert_eq!(refs(&found), vec![target.clone()]);

    let alice_viewer = store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap();
    let dave = store
        .create_user("dave@example.org", Some("dave's long password"), false)
        .await
        .unwrap();
    let dave_viewer = store.viewer(dave.id).await.unwrap();
    let target_ref = target.parse().unwrap();
    store
        .invite_collaborator(&alice_viewer, &target_ref, "dave@example.org")
        .await
        .unwrap();
    store
        .accept_invitation_as(&dave_viewer, &target_ref)
        .await
        .unwrap();
    let dave_token = store.create_token(dave.id, "search").await.unwrap().secret;
    let dave = Api::new(&server.url, Some(&dave_token));
    let (_, found) = dave.get("/api/cases?q=platypus").await;
    assert_eq!(
        refs(&found),
        vec![target.clone()],
        "the shared thread is his"
    );
    let (_, found) = dave.get("/api/cases?q=wombat").await;
    assert_eq!(
        refs(&found),
        Vec::<String>::new(),
        "the team's internal notes are not found by a collaborator"
    );
    let (_, found) = dave.get("/api/cases?q=zanzibar").await;
    assert_eq!(refs(&found), Vec::<String>::new(), "nor other cases");

    // References and CVE IDs.
    let (_, found) = alice.get(&format!("/api/cases?q={target}")).await;
    assert_eq!(refs(&found), vec![target.clone()]);
    let (status, body) = alice
        .patch(
            &format!("/api/cases/{target}"),
            json!({ "cve_id": "CVE-2026-31337" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, found) = alice.get("/api/cases?q=CVE-2026-31337").await;
    assert_eq!(refs(&found), vec![target.clone()]);
    // A renamed title is found by its new words only.
    let (status, _) = alice
        .patch(
            &format!("/api/cases/{target}"),
            json!({ "title": "Kookaburra SSRF" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, found) = alice.get("/api/cases?q=kookaburra").await;
    assert_eq!(refs(&found), vec![target.clone()]);
    let (_, found) = alice.get("/api/cases?q=filler+500").await;
    assert_eq!(refs(&found), Vec::<String>::new(), "the old title is gone");

    // A query that is no word is refused with a reason, not answered with everything.
    let (status, body) = alice.get("/api/cases?q=%21%21").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = alice.get("/api/cases?cursor=garbage").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Canary: the index holds integers only, and no word of any case.
    let sample = db
        .query_text("SELECT CAST(token AS TEXT) || source FROM search_terms LIMIT 1")
        .await
        .unwrap();
    assert!(
        sample
            .trim_start_matches('-')
            .chars()
            .next()
            .unwrap()
            .is_ascii_digit(),
        "{sample}"
    );
    let words = db
        .query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM search_terms WHERE CAST(token AS TEXT) LIKE '%zanzi%' \
             OR CAST(token AS TEXT) LIKE '%wombat%' OR source NOT IN ('title', 'description', 'cve', 'note', 'shared-note')",
        )
        .await
        .unwrap();
    assert_eq!(words, "0");

    // A page is one audit row naming every case it showed; the chain still verifies, and
    // each case's own log shows the page.
    let (_, fifty) = alice.get("/api/cases?limit=50").await;
    let shown = refs(&fifty);
    let listed = db
        .query_text("SELECT cases FROM audit_log WHERE cases IS NOT NULL ORDER BY seq DESC LIMIT 1")
        .await
        .unwrap();
    assert_eq!(listed.trim_matches(',').split(',').count(), 50, "{listed}");
    let report = store.verify_audit(|_| {}).await.unwrap();
    assert!(report.first_bad.is_none(), "{:?}", report.first_bad);
    let log = store
        .audit_rows(Some(&shown[49].parse().unwrap()), 5)
        .await
        .unwrap();
    let last = log.last().unwrap();
    assert_eq!((last.what.as_str(), last.listed), ("summary", Some(50)));
    assert_eq!(last.case.as_deref(), Some(shown[49].as_str()));

    // Every case once across pages of 100, while new cases arrive between pages.
    let mut path = "/api/cases?limit=100".to_owned();
    let mut listed: Vec<String> = Vec::new();
    let mut pages = 0;
    loop {
        let (cases, next) = page(&alice, &path).await;
        listed.extend(refs(&cases));
        pages += 1;
        file(&store, 2, |i| format!("Arrived while paging {pages}.{i}")).await;
        match next {
            Some(next) => path = next,
            None => break,
        }
    }
    let unique: HashSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "no case twice");
    for r in oldest.iter().chain(&buried) {
        assert!(unique.contains(r), "{r} was on no page");
    }
    assert!(pages >= 11);

    server.stop().await;
}

#[tokio::test]
async fn the_queue_finds_and_pages_beyond_a_thousand_cases_sqlite() {
    search_at_scale(BACKENDS[0]).await;
}

#[tokio::test]
async fn the_queue_finds_and_pages_beyond_a_thousand_cases_postgres() {
    search_at_scale(BACKENDS[1]).await;
}

/// After `keys rotate` the index still finds older cases; `keys reseal` makes their
/// tokens again under the new key, and a database without an index (restored, or
/// upgraded) gets one when it opens.
async fn reindexing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let filed = file(&store, 3, |i| format!("Quetzal overflow {i}")).await;
    store.close().await;

    let new_key = db.dir.path().join("new-master.key");
    let rotation = embargo_store::keys::rotate_master_key(
        &db.database(),
        &KeySource::Given(db.key.clone()),
        Some(&new_key),
        None,
    )
    .await
    .unwrap();
    let keys = KeySource::File(new_key);
    let store = Store::open(&db.database(), &keys).await.unwrap();
    let server = Server::start(store.clone()).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let (_, found) = alice.get("/api/cases?q=quetzal").await;
    assert_eq!(refs(&found).len(), 3, "found under the older key");
    let newer = file(&store, 1, |_| "Quetzal underflow".into()).await;
    let (_, found) = alice.get("/api/cases?q=quetzal").await;
    assert_eq!(refs(&found).len(), 4, "and under the new one");
    server.stop().await;

    let report = store.reseal(|_, _| {}).await.unwrap();
    assert_eq!(report.reindexed, 3);
    let key_ids = db
        .query_text("SELECT CAST(MIN(key_id) AS TEXT) || '-' || CAST(MAX(key_id) AS TEXT) FROM search_terms")
        .await
        .unwrap();
    let active = rotation.new_data_key;
    assert_eq!(
        key_ids,
        format!("{active}-{active}"),
        "every token under the active key"
    );
    store.close().await;

    // An index lost (as after a restore) is rebuilt when the store opens.
    db.execute("DELETE FROM search_terms", &[]).await;
    db.execute("DELETE FROM search_indexed", &[]).await;
    let store = Store::open(&db.database(), &keys).await.unwrap();
    let server = Server::start(store).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let (_, found) = alice.get("/api/cases?q=quetzal").await;
    let mut expected: Vec<String> = filed.iter().chain(&newer).cloned().collect();
    expected.reverse();
    assert_eq!(refs(&found), expected);
    server.stop().await;
}

#[tokio::test]
async fn reseal_and_restore_rebuild_the_search_index_sqlite() {
    reindexing(BACKENDS[0]).await;
}

#[tokio::test]
async fn reseal_and_restore_rebuild_the_search_index_postgres() {
    reindexing(BACKENDS[1]).await;
}
