//! The public site is cacheable and the rest is not: an announced advisory's page and
//! documents carry validators and `public` caching, answer 304 to a matching condition,
//! are compressed, and change their validator with a correction; every confidential
//! answer (the API, the desk, an advisory not yet announced) says `no-store`, carries no
//! validator and is never compressed.

use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, COOKIE, ETAG, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED,
};
use serde_json::json;

use crate::support::{Api, BACKENDS, Backend, Server, TestDb, seed};
use crate::web::{client, sign_in_alice};

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn caching(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let alice = store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap();
    let new = |title: &str| embargo_store::NewReport {
        project: "CLOUDSTACK".parse().unwrap(),
        title: title.into(),
        description: "Described.".into(),
        reporter: embargo_core::case::Reporter::default(),
        channel: embargo_core::case::Channel::Api,
    };
    let published = store
        .create_case(&alice, new("Published overflow"))
        .await
        .unwrap()
        .reference
        .to_string();
    crate::guard::announce(&store, &alice, &published, "CVE-2026-40001").await;
    let embargoed = store
        .create_case(&alice, new("Embargoed overflow"))
        .await
        .unwrap()
        .reference
        .to_string();
    let server = Server::start(store).await;
    let http = client();
    let url = |path: &str| format!("{}{path}", server.url);

    for path in [
        format!("/advisories/{published}"),
        format!("/advisories/{published}/osv.json"),
        format!("/advisories/{published}/csaf.json"),
        "/advisories".to_owned(),
        "/advisories.atom".to_owned(),
        "/projects/CLOUDSTACK/advisories".to_owned(),
    ] {
        let first = http.get(url(&path)).send().await.unwrap();
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        let cache = header(&first, CACHE_CONTROL).unwrap();
        assert!(cache.starts_with("public, max-age="), "{path}: {cache}");
        let etag = header(&first, ETAG).unwrap_or_else(|| panic!("{path}: no ETag"));
        let body = first.bytes().await.unwrap();
        let again = http
            .get(url(&path))
            .header(IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(header(&again, ETAG).as_deref(), Some(etag.as_str()));
        assert!(again.bytes().await.unwrap().is_empty());
        let other = http
            .get(url(&path))
            .header(IF_NONE_MATCH, "\"something-else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), StatusCode::OK, "{path}");
        assert_eq!(
            other.bytes().await.unwrap(),
            body,
            "{path}: the same answer"
        );
        for (accepts, coding) in [("br", "br"), ("gzip", "gzip"), ("gzip, br;q=0.5", "gzip")] {
            let packed = http
                .get(url(&path))
                .header(ACCEPT_ENCODING, accepts)
                .send()
                .await
                .unwrap();
            assert_eq!(
                header(&packed, CONTENT_ENCODING).as_deref(),
                Some(coding),
                "{path} for {accepts}"
            );
            let size = packed.bytes().await.unwrap().len();
            assert!(size < body.len(), "{path}: {size} of {}", body.len());
        }
    }

    // An advisory page also answers If-Modified-Since.
    let page = http
        .get(url(&format!("/advisories/{published}")))
        .send()
        .await
        .unwrap();
    let etag = header(&page, ETAG).unwrap();
    let modified = header(&page, LAST_MODIFIED).unwrap();
    let since = http
        .get(url(&format!("/advisories/{published}")))
        .header(IF_MODIFIED_SINCE, &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(since.status(), StatusCode::NOT_MODIFIED);

    // A correction changes the validator and the page at once.
    let team = Api::new(&server.url, Some(&people.alice));
    let (status, body) = team
        .patch(
            &format!("/api/cases/{published}"),
            json!({ "advisory": { "description": "Corrected: the proxy leaks tokens.", "mitigation": "m" } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let corrected = http
        .get(url(&format!("/advisories/{published}")))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(corrected.status(), StatusCode::OK);
    assert_ne!(header(&corrected, ETAG).unwrap(), etag);
    assert!(
        corrected
            .text()
            .await
            .unwrap()
            .contains("Corrected: the proxy leaks tokens.")
    );

    // Nothing confidential is cacheable, validated or compressed.
    let session = sign_in_alice(&http, &server.url).await;
    for (path, token, cookie, status) in [
        (
            format!("/advisories/{embargoed}"),
            None,
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/advisories/{embargoed}/osv.json"),
            None,
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/api/cases/{published}"),
            Some(&people.alice),
            None,
            StatusCode::OK,
        ),
        (
            format!("/api/cases/{embargoed}"),
            Some(&people.alice),
            None,
            StatusCode::OK,
        ),
        (
            "/api/cases".to_owned(),
            Some(&people.alice),
            None,
            StatusCode::OK,
        ),
        (
            format!("/desk/cases/{embargoed}"),
            None,
            Some(&session),
            StatusCode::OK,
        ),
        ("/desk".to_owned(), None, Some(&session), StatusCode::OK),
    ] {
        let mut request = http
            .get(url(&path))
            .header(ACCEPT_ENCODING, "br, gzip")
            .header(IF_NONE_MATCH, "*");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), status, "{path}");
        assert_eq!(
            header(&resp, CACHE_CONTROL).as_deref(),
            Some("no-store"),
            "{path}"
        );
        assert_eq!(header(&resp, ETAG), None, "{path}");
        assert_eq!(header(&resp, CONTENT_ENCODING), None, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_public_site_is_cacheable_and_nothing_else_sqlite() {
    caching(BACKENDS[0]).await;
}

#[tokio::test]
async fn the_public_site_is_cacheable_and_nothing_else_postgres() {
    caching(BACKENDS[1]).await;
}

/// A text of the first row, or "" (for the look inside the database).
async fn text(db: &TestDb, sql: &str) -> String {
    db.query_text(sql).await.unwrap_or_default()
}

async fn render_of(db: &TestDb, form: &str) -> (String, String) {
    (
        text(
            db,
            &format!("SELECT etag FROM public_renders WHERE form = '{form}'"),
        )
        .await,
        text(
            db,
            &format!("SELECT CAST(rendered_at AS TEXT) FROM public_renders WHERE form = '{form}'"),
        )
        .await,
    )
}

async fn stored_renders(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let alice = store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap();
    let published = store
        .create_case(
            &alice,
            embargo_store::NewReport {
                project: "CLOUDSTACK".parse().unwrap(),
                title: "Stored overflow".into(),
                description: "Described.".into(),
                reporter: embargo_core::case::Reporter::default(),
                channel: embargo_core::case::Channel::Api,
            },
        )
        .await
        .unwrap()
        .reference
        .to_string();
    crate::guard::announce(&store, &alice, &published, "CVE-2026-40002").await;

    // The announcement's job renders the page and the documents before anyone asks.
    let site = Some("https://security.example.org");
    let server = Server::start_at(store.clone(), site).await;
    crate::support::eventually(20, "the announcement's renders", || async {
        !render_of(&db, "page").await.0.is_empty()
            && !render_of(&db, "osv").await.0.is_empty()
            && !render_of(&db, "csaf").await.0.is_empty()
    })
    .await;
    server.stop().await;
    // Sealed: the title is nowhere in clear among the stored bodies.
    assert!(
        !db.bytes_hold("public_renders", "body_sealed", "Stored overflow")
            .await
    );

    // Someone who can write to the database swaps the page's body for the OSV document's:
    // it does not open as the page, and the page is rendered again, not served.
    db.execute(
        "UPDATE public_renders SET rendered_at = 1, body_sealed = \
         (SELECT o.body_sealed FROM public_renders o WHERE o.form = 'osv') WHERE form = 'page'",
        &[],
    )
    .await;
    let (osv_tag, osv_at) = render_of(&db, "osv").await;

    // A server just started answers from the database: the OSV document is not rendered
    // again, and its validator is the stored one.
    let server = Server::start_at(db.store().await, site).await;
    let http = client();
    let url = |path: &str| format!("{}{path}", server.url);
    let osv = http
        .get(url(&format!("/advisories/{published}/osv.json")))
        .send()
        .await
        .unwrap();
    assert_eq!(osv.status(), StatusCode::OK);
    assert_eq!(header(&osv, ETAG).as_deref(), Some(osv_tag.as_str()));
    assert!(osv.text().await.unwrap().contains("Stored overflow"));
    assert_eq!(render_of(&db, "osv").await, (osv_tag.clone(), osv_at));
    let page = http
        .get(url(&format!("/advisories/{published}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page_tag = header(&page, ETAG).unwrap();
    let body = page.text().await.unwrap();
    assert!(
        body.contains("<h1") && body.contains("Stored overflow"),
        "{body}"
    );
    let (stored_tag, stored_at) = render_of(&db, "page").await;
    assert_eq!(stored_tag, page_tag);
    assert_ne!(stored_at, "1", "the page was rendered again and kept");

    // A correction is rendered again by its job, under a new validator.
    let team = Api::new(&server.url, Some(&people.alice));
    let (status, body) = team
        .patch(
            &format!("/api/cases/{published}"),
            json!({ "advisory": { "description": "Corrected: the cache overflows.", "mitigation": "m" } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    crate::support::eventually(20, "the correction's renders", || async {
        let (tag, _) = render_of(&db, "osv").await;
        !tag.is_empty() && tag != osv_tag
    })
    .await;
    let corrected = http
        .get(url(&format!("/advisories/{published}/osv.json")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&corrected, ETAG),
        Some(render_of(&db, "osv").await.0)
    );
    assert!(
        corrected
            .text()
            .await
            .unwrap()
            .contains("Corrected: the cache overflows.")
    );
    server.stop().await;

    // Resealing under a new key drops the renders: they are made again under it.
    let store = db.store().await;
    store.reseal(|_, _| ()).await.unwrap();
    assert_eq!(
        text(&db, "SELECT CAST(COUNT(*) AS TEXT) FROM public_renders").await,
        "0"
    );
    store.close().await;
}

#[tokio::test]
async fn published_advisories_are_rendered_once_and_kept_sealed_sqlite() {
    stored_renders(BACKENDS[0]).await;
}

#[tokio::test]
async fn published_advisories_are_rendered_once_and_kept_sealed_postgres() {
    stored_renders(BACKENDS[1]).await;
}
