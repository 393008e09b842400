//! Two ratings on one case: a CVSS 3.1 and a 4.0 vector side by side, set as a list or
//! one version at a time, shown on the case, and carried by the CVE record (both
//! metrics), OSV and CSAF, each valid against its official schema and CSAF's mandatory
//! tests.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::documents::{csaf_errors, cve_errors, osv_errors};
use crate::support::{Api, BACKENDS, Backend, Process, TestDb, seed};

// The base is 9.8 critical; the threat and remediation metrics bring the overall score
// to 7.8 high, which must not become the base severity anywhere.
const V31: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U";
const V40: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/E:U";

async fn both_ratings(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    crate::disclosure::configure(&db);
    let server = Process::serve(db.command(&[]));
    let alice = Api::new(&server.url, Some(&people.alice));
    let r = alice.report("CLOUDSTACK", "SSRF in the downloader").await;
    let case = format!("/api/cases/{r}");

    // Refused whole: two of one version, an old version, a bad vector.
    for bad in [
        json!([V31, "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"]),
        json!(["AV:N/AC:L/Au:N/C:P/I:P/A:P"]),
        json!([V31, "CVSS:4.0/AV:X"]),
        json!([]),
    ] {
        let (status, body) = alice.patch(&case, json!({ "cvss": bad })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let (_, shown) = alice.get(&case).await;
    assert_eq!(shown["ratings"], json!([]), "nothing was kept: {shown}");

    // One vector, then the other: the second keeps the first.
    let (status, body) = alice.patch(&case, json!({ "cvss": V31 })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, shown) = alice.patch(&case, json!({ "cvss": V40 })).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    let ratings = shown["ratings"].as_array().unwrap();
    assert_eq!(ratings.len(), 2, "{shown}");
    assert_eq!(ratings[0]["vector"], V31);
    assert_eq!(ratings[0]["base_score"], 9.8);
    assert_eq!(ratings[1]["vector"], V40);
    // The newest version is the case's own rating.
    assert_eq!(shown["cvss"]["vector"], V40);
    // A list replaces them all.
    let (status, shown) = alice.patch(&case, json!({ "cvss": [V31] })).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["ratings"].as_array().unwrap().len(), 1);
    let (status, shown) = alice.patch(&case, json!({ "cvss": [V40, V31] })).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["ratings"].as_array().unwrap().len(), 2);

    let (status, body) = alice
        .patch(
            &case,
            json!({
                "cve_id": "CVE-2026-41002",
                "versions": { "affected": ["4.18.0.0 through 4.18.2.0"], "fixed": ["4.18.2.1"] },
                "advisory": { "title": "SSRF in the template downloader",
                              "description": "The downloader fetched any URL.",
                              "mitigation": "Upgrade to 4.18.2.1.", "cwe": "CWE-918",
                              "references": ["https://cloudstack.apache.org/security"] }
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let document = |format: &'static str| {
        let alice = alice.clone();
        let path = format!("{case}/documents/{format}");
        async move {
            let (status, doc) = alice.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{format}: {doc}");
            doc
        }
    };
    let cve: Value = document("cve").await;
    assert_eq!(cve_errors(&cve), Vec::<String>::new(), "{cve:#}");
    let metrics = cve["containers"]["cna"]["metrics"].as_array().unwrap();
    let v3 = metrics.iter().find_map(|m| m.get("cvssV3_1")).unwrap();
    assert_eq!(v3["baseScore"], 9.8);
    assert_eq!(v3["baseSeverity"], "CRITICAL");
    assert!(
        metrics.iter().any(|m| m.get("cvssV4_0").is_some()),
        "{cve:#}"
    );

    let osv = document("osv").await;
    assert_eq!(osv_errors(&osv), Vec::<String>::new(), "{osv:#}");
    let severity = osv["severity"].as_array().unwrap();
    assert!(
        severity
            .iter()
            .any(|s| s["type"] == "CVSS_V3" && s["score"] == V31)
    );
    assert!(
        severity
            .iter()
            .any(|s| s["type"] == "CVSS_V4" && s["score"] == V40)
    );

    let csaf = document("csaf").await;
    assert_eq!(csaf_errors(&csaf), Vec::<String>::new(), "{csaf:#}");
    let scores = csaf["vulnerabilities"][0]["scores"].as_array().unwrap();
    let csaf_v3 = scores.iter().find_map(|s| s.get("cvss_v3")).unwrap();
    assert_eq!(csaf_v3["baseSeverity"], "CRITICAL");
    assert!(
        csaf.to_string().contains(V40),
        "CSAF 2.0 has no 4.0 score object; the 4.0 vector travels in a note: {csaf:#}"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_ratings_sqlite() {
    both_ratings(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_ratings_postgres() {
    both_ratings(BACKENDS[1]).await;
}
