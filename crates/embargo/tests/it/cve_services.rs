//! CVE Services, against a stand-in for the public service (which cannot be reached from
//! here). The stand-in implements the endpoints Embargo uses exactly as
//! `../shared/conformance/cve-services/api-docs/openapi.json` describes them: the three
//! authentication headers, the query parameters of a reservation, the organisation's
//! quota, and request bodies validated against the document's schemas, answering errors
//! in the document's error shapes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::support::{Api, Backend, Process, TestDb, seed};

const ORG: &str = "apache";
const USER: &str = "embargo@apache.example";
const KEY: &str = "k3y-for-the-stand-in";

fn schema(path: &str) -> jsonschema::Validator {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/cve-services")
        .join(path);
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    // One erratum: in the document's request schema a reference tag must match exactly one
    // of two branches that are both {"type": "string"} (the enum of tags was left out), so
    // every tagged reference would fail, including every published ASF record. Read as
    // "any of", which is what the two branches mean; nothing else is changed.
    if let Some(items) = value.pointer_mut("/definitions/reference/properties/tags/items")
        && let Some(branches) = items.get("oneOf").cloned()
    {
        *items = json!({ "anyOf": branches });
    }
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&value)
        .unwrap()
}

struct Service {
    key: String,
    quota: i64,
    next: u32,
    ids: BTreeMap<String, String>,
    records: BTreeMap<String, Value>,
    create: jsonschema::Validator,
    rejection: jsonschema::Validator,
    seen: Vec<String>,
}

type Shared = Arc<Mutex<Service>>;

fn error(status: StatusCode, name: &str, message: &str) -> (StatusCode, Json<Value>) {
    (status, Json(json!({ "error": name, "message": message })))
}

fn bad_input(details: Vec<Value>) -> (StatusCode, Json<Value>) {
    (
        StatusCode::BAD_REQUEST,
        Json(
            json!({ "error": "BAD_INPUT", "message": "Parameters were invalid", "details": details }),
        ),
    )
}

fn authenticated(service: &Service, headers: &HeaderMap) -> bool {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    h("CVE-API-ORG") == ORG && h("CVE-API-USER") == USER && h("CVE-API-KEY") == service.key
}

type Answer = (StatusCode, Json<Value>);

async fn id_quota(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(short): Path<String>,
) -> Answer {
    let s = s.lock().unwrap();
    if !authenticated(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Unauthorized");
    }
    if short != ORG {
        return error(
            StatusCode::NOT_FOUND,
            "ORG_DNE",
            "The organization does not exist.",
        );
    }
    let reserved = s.ids.values().filter(|st| *st == "RESERVED").count() as i64;
    (
        StatusCode::OK,
        Json(
            json!({ "id_quota": s.quota, "total_reserved": reserved, "available": (s.quota - reserved).max(0) }),
        ),
    )
}

async fn reserve(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let mut s = s.lock().unwrap();
    s.seen.push("POST /cve-id".into());
    if !authenticated(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Unauthorized");
    }
    let mut details = Vec::new();
    let int = |name: &str| query.get(name).and_then(|v| v.parse::<i64>().ok());
    for required in ["amount", "cve_year"] {
        if int(required).is_none() {
            details.push(
                json!({ "msg": "must be an integer", "param": required, "location": "query" }),
            );
        }
    }
    if !query.contains_key("short_name") {
        details.push(json!({ "msg": "is required", "param": "short_name", "location": "query" }));
    }
    if int("amount").is_some_and(|a| a > 1) && !query.contains_key("batch_type") {
        details.push(json!({ "msg": "is required when amount is greater than one", "param": "batch_type", "location": "query" }));
    }
    if !details.is_empty() {
        return bad_input(details);
    }
    let reserved = s.ids.values().filter(|st| *st == "RESERVED").count() as i64;
    if reserved >= s.quota {
        return error(
            StatusCode::FORBIDDEN,
            "EXCEEDED_ID_QUOTA",
            "The organization has exceeded its CVE ID quota.",
        );
    }
    let year = int("cve_year").unwrap_or_default();
    s.next += 1;
    let id = format!("CVE-{year}-{}", 1000 + s.next);
    s.ids.insert(id.clone(), "RESERVED".into());
    (
        StatusCode::OK,
        Json(json!({ "cve_ids": [{
        "cve_id": id, "cve_year": year.to_string(), "owning_cna": ORG, "state": "RESERVED",
        "requested_by": { "cna": ORG, "user": USER }, "reserved": "2026-12-01T10:00:00.000Z",
    }] })),
    )
}

async fn id_state(State(s): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Answer {
    let s = s.lock().unwrap();
    if !authenticated(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Unauthorized");
    }
    match s.ids.get(&id) {
        Some(state) => (
            StatusCode::OK,
            Json(json!({ "cve_id": id, "state": state, "owning_cna": ORG })),
        ),
        None => error(
            StatusCode::NOT_FOUND,
            "ID_DNE",
            "The CVE ID does not exist.",
        ),
    }
}

fn body_errors(validators: &[&jsonschema::Validator], body: &Value) -> Vec<Value> {
    validators
        .iter()
        .flat_map(|v| v.iter_errors(body).map(|e| json!({ "msg": e.to_string(), "param": e.instance_path().to_string(), "location": "body" })).collect::<Vec<_>>())
        .collect()
}

async fn cna(
    State(s): State<Shared>,
    method: axum::http::Method,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let mut s = s.lock().unwrap();
    s.seen.push(format!("{method} /cve/{{id}}/cna"));
    if !authenticated(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Unauthorized");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad_input(vec![
            json!({ "msg": "not JSON", "param": "body", "location": "body" }),
        ]);
    };
    let details = body_errors(&[&s.create], &body);
    if !details.is_empty() {
        return bad_input(details);
    }
    let state = s.ids.get(&id).cloned();
    let wanted = if method == axum::http::Method::POST {
        "RESERVED"
    } else {
        "PUBLISHED"
    };
    match state.as_deref() {
        None => {
            return error(
                StatusCode::NOT_FOUND,
                "ID_DNE",
                "The CVE ID does not exist.",
            );
        }
        Some(st) if st != wanted => {
            return error(
                StatusCode::FORBIDDEN,
                "RECORD_STATE",
                &format!("The CVE ID is {st}."),
            );
        }
        Some(_) => {}
    }
    s.ids.insert(id.clone(), "PUBLISHED".into());
    let record = json!({ "dataType": "CVE_RECORD", "dataVersion": "5.1", "cveMetadata": { "cveId": id, "state": "PUBLISHED" }, "containers": { "cna": body["cnaContainer"] } });
    s.records.insert(id.clone(), record.clone());
    let key = if method == axum::http::Method::POST {
        "created"
    } else {
        "updated"
    };
    (
        StatusCode::OK,
        Json(json!({ "message": format!("{id} record {key}"), key: record })),
    )
}

async fn reject(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let mut s = s.lock().unwrap();
    s.seen.push("POST /cve/{id}/reject".into());
    if !authenticated(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Unauthorized");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad_input(vec![
            json!({ "msg": "not JSON", "param": "body", "location": "body" }),
        ]);
    };
    let details = body_errors(&[&s.rejection], &body);
    if !details.is_empty() {
        return bad_input(details);
    }
    if s.ids.get(&id).map(String::as_str) != Some("RESERVED") {
        return error(
            StatusCode::FORBIDDEN,
            "RECORD_STATE",
            "Only a reserved CVE ID can be rejected.",
        );
    }
    s.ids.insert(id.clone(), "REJECTED".into());
    (
        StatusCode::OK,
        Json(json!({ "message": format!("{id} rejected") })),
    )
}

pub(crate) struct StandIn {
    url: String,
    state: Shared,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl StandIn {
    /// Whether the stand-in holds a published record for `id`.
    pub(crate) fn has_record(&self, id: &str) -> bool {
        self.state.lock().unwrap().records.contains_key(id)
    }
}

/// A stand-in with room for `quota` IDs, set up as the ASF's CVE Services with the CLI
/// (before the server starts).
pub(crate) async fn configured(db: &TestDb, quota: i64) -> StandIn {
    let service = stand_in(quota).await;
    let out = db
        .command(&[
            "org",
            "cve-services",
            "--org",
            "ASF",
            "--api-url",
            &service.url,
            "--cve-org",
            ORG,
            "--user",
            USER,
            "--key-env",
            "TEST_CVE_KEY",
        ])
        .env("TEST_CVE_KEY", KEY)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    service
}

async fn stand_in(quota: i64) -> StandIn {
    let state: Shared = Arc::new(Mutex::new(Service {
        key: KEY.into(),
        quota,
        next: 0,
        ids: BTreeMap::new(),
        records: BTreeMap::new(),
        create: schema("schemas/cve/create-cve-record-cna-request.json"),
        rejection: schema("schemas/cve/create-cve-record-rejection-request.json"),
        seen: Vec::new(),
    }));
    let app = Router::new()
        .route("/api/org/{shortname}/id_quota", get(id_quota))
        .route("/api/cve-id", post(reserve))
        .route("/api/cve-id/{id}", get(id_state))
        .route("/api/cve/{id}/cna", post(cna).put(cna))
        .route("/api/cve/{id}/reject", post(reject))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .ok();
    });
    StandIn {
        url,
        state,
        _stop: stop,
    }
}

async fn cve_services_round_trip(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    crate::disclosure::configure(&db);
    let service = configured(&db, 2).await;
    // `embargo config check` tries the credentials (the ID quota); a wrong key says so.
    let checked = |key: &str| {
        let out = db.command(&["--json", "config", "check"]).output().unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let row = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "cve")
            .cloned()
            .unwrap();
        assert!(!report.to_string().contains(key), "the key is never shown");
        row
    };
    let cve = checked(KEY);
    assert_eq!(cve["ok"], true, "{cve}");
    assert!(
        cve["detail"]
            .as_str()
            .unwrap()
            .contains("0 of 2 IDs reserved"),
        "{cve}"
    );
    let sink = crate::mail::Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    );
    let server = Process::serve(cmd);
    let alice = Api::new(&server.url, Some(&people.alice));

    // Reserve: the case gets the ID, its checklist the mark, its detail the state.
    let r = alice
        .report("CLOUDSTACK", "Reserved through CVE Services")
        .await;
    alice
        .moved(&r, json!({ "to": "triage", "reason": "looking" }))
        .await;
    alice.moved(&r, json!({ "to": "confirmed" })).await;
    // The foundation team is the CNA: a project team reserves only once delegated to,
    // which only the foundation team (or the operator) does, and which is recorded.
    let (status, body) = alice
        .post(&format!("/api/cases/{r}/cve/reserve"), json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("reserved by the foundation security team"),
        "{body}"
    );
    assert!(
        service.state.lock().unwrap().ids.is_empty(),
        "CVE Services was not asked"
    );
    let (status, _) = alice
        .put(
            "/api/projects/CLOUDSTACK/cve-delegation",
            json!({ "delegated": true }),
        )
        .await;
    assert_eq!(status, 403, "a project team cannot delegate to itself");
    let fiona = alice.as_user(&people.fiona);
    let (status, body) = fiona
        .put(
            "/api/projects/CLOUDSTACK/cve-delegation",
            json!({ "delegated": true }),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, project) = alice.get("/api/projects/CLOUDSTACK").await;
    assert_eq!(project["cve_delegated"], true, "{project}");
    let out = db.command(&["--json", "audit", "verify"]).output().unwrap();
    assert!(out.status.success());
    let log = db.command(&["--json", "audit", "log"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&log.stdout)
            .contains("project CLOUDSTACK: CVE ID reservation delegated to the project team"),
        "the delegation is in the audit chain"
    );
    let (status, reserved) = alice
        .post(&format!("/api/cases/{r}/cve/reserve"), json!({}))
        .await;
    assert_eq!(status, 200, "{reserved}");
    let cve_id = reserved["cve_id"].as_str().unwrap().to_owned();
    assert!(cve_id.starts_with("CVE-20"), "{cve_id}");
    let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
    assert_eq!(case["cve_id"], cve_id.as_str());
    assert_eq!(case["cve_state"]["state"], "RESERVED");
    let (_, checklist) = alice.get(&format!("/api/cases/{r}/checklist")).await;
    assert!(
        checklist
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["key"] == "cve-reserved" && i["status"] == "done"),
        "{checklist}"
    );
    let (status, body) = alice
        .post(&format!("/api/cases/{r}/cve/reserve"), json!({}))
        .await;
    assert_eq!(status, 422, "one ID per case: {body}");

    // The error paths, each with a clear message.
    let other = alice.report("CLOUDSTACK", "Second").await;
    service.state.lock().unwrap().key = "rotated".into();
    let (status, body) = alice
        .post(&format!("/api/cases/{other}/cve/reserve"), json!({}))
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "cve_services");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("CVE Services did not accept the credentials (401)"),
        "{body}"
    );
    assert!(!body.to_string().contains(KEY), "the key is never repeated");
    service.state.lock().unwrap().key = KEY.into();
    service.state.lock().unwrap().quota = 1;
    let (status, body) = alice
        .post(&format!("/api/cases/{other}/cve/reserve"), json!({}))
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(
        body["message"],
        "the organisation's CVE ID quota is used up (1 of 1 reserved): publish or reject reserved IDs, or ask the CNA's root for more"
    );
    service.state.lock().unwrap().quota = 5;
    let credentials = embargo_store::CveCredentials::new(&service.url, ORG, USER, KEY).unwrap();
    let client = embargo_server::cve_services::CveServices::new(credentials).unwrap();
    // A record the service's schema refuses: it lists nothing affected.
    let german = json!({ "containers": { "cna": { "providerMetadata": { "orgId": "f0158376-9dc2-43b6-827c-5f631a4d8d09" }, "descriptions": [{ "lang": "en", "value": "Described." }], "references": [{ "url": "https://example.org/a" }] } } });
    let refused = client
        .publish(&cve_id, &german, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.starts_with(
            "CVE Services refused the request (400): BAD_INPUT: Parameters were invalid ("
        ),
        "{refused}"
    );
    assert!(
        refused.contains("\"affected\" is a required property"),
        "{refused}"
    );

    // Publish: refused before the announcement and without the archived announcement;
    // then the record goes out, valid against the service's schemas.
    let (status, body) = alice
        .post(&format!("/api/cases/{r}/cve/publish"), json!({}))
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = alice.patch(&format!("/api/cases/{r}"), json!({
        "cvss": "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:N",
        "versions": { "affected": ["4.0.0 through 4.19.1.1"], "fixed": ["4.19.1.2"] },
        "embargo_at": "2031-01-01T00:00:00Z",
        "advisory": { "description": "Described.", "mitigation": "Upgrade.", "credits": [{ "name": "Fay Finder", "role": "finder" }] }
    })).await;
    assert_eq!(status, 200, "{body}");
    for to in ["fixing", "fix-ready", "release-pending"] {
        if to == "fix-ready" {
            alice.fixed_everywhere(&r).await;
        }
        alice.moved(&r, json!({ "to": to })).await;
    }
    alice
        .moved(
            &r,
            json!({ "to": "announced", "not_sent_reason": "announced by hand", "override_reason": "the fix is public already" }),
        )
        .await;
    let (status, body) = alice
        .post(&format!("/api/cases/{r}/cve/publish"), json!({}))
        .await;
    assert_eq!(status, 422);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("record the archived announcement URL first")
    );
    alice
        .patch(
            &format!("/api/cases/{r}"),
            json!({ "advisory_url": "https://lists.apache.example/thread/xyz" }),
        )
        .await;
    let (status, body) = alice
        .post(&format!("/api/cases/{r}/cve/publish"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "PUBLISHED");
    {
        let s = service.state.lock().unwrap();
        let record = &s.records[&cve_id];
        assert_eq!(
            record["containers"]["cna"]["references"][0]["url"],
            "https://lists.apache.example/thread/xyz"
        );
        assert_eq!(
            record["containers"]["cna"]["providerMetadata"]["orgId"],
            "f0158376-9dc2-43b6-827c-5f631a4d8d09"
        );
        assert_eq!(s.ids[&cve_id], "PUBLISHED");
    }
    // A credit correction after publication updates the published record.
    alice.patch(&format!("/api/cases/{r}"), json!({ "advisory": { "description": "Described.", "mitigation": "Upgrade.", "credits": [{ "name": "Fay Finder", "role": "finder" }, { "name": "Rui Remedy", "role": "remediation-developer" }] } })).await;
    // Without asking: the server sends the corrected record (PUT) by itself.
    crate::support::eventually(20, "the published record updated", || async {
        service.state.lock().unwrap().records[&cve_id]["containers"]["cna"]["credits"][1]["value"]
            == "Rui Remedy"
    })
    .await;
    {
        let s = service.state.lock().unwrap();
        assert!(
            s.seen.contains(&"PUT /cve/{id}/cna".to_owned()),
            "{:?}",
            s.seen
        );
    }
    let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
    assert_eq!(case["cve_state"]["state"], "PUBLISHED");

    // Reject: a reserved ID of a case that is not a vulnerability.
    let (status, reserved) = alice
        .post(&format!("/api/cases/{other}/cve/reserve"), json!({}))
        .await;
    assert_eq!(status, 200, "{reserved}");
    let (status, body) = alice
        .post(
            &format!("/api/cases/{other}/cve/reject"),
            json!({ "reason": "Not a vulnerability: the behaviour is documented." }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        service.state.lock().unwrap().ids[reserved["cve_id"].as_str().unwrap()],
        "REJECTED"
    );
    let (status, _) = alice
        .post(
            &format!("/api/cases/{r}/cve/reject"),
            json!({ "reason": "no" }),
        )
        .await;
    assert_eq!(status, 422, "a published record is not rejected");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cve_services_round_trip_sqlite() {
    cve_services_round_trip(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cve_services_round_trip_postgres() {
    cve_services_round_trip(Backend::Postgres).await;
}
