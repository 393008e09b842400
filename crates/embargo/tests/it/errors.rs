//! Bad input gets a 4xx with a JSON body that names the problem, never a 500.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Api, BACKENDS, Server, TestDb, seed};

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, mentions: &str) {
    assert_eq!(status, expected, "{body}");
    assert!(
        body["error"].is_string() && body["request_id"].is_string(),
        "{body}"
    );
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(mentions),
        "expected {mentions:?} in {message:?}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_clearly() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        let server = Server::start(store).await;
        let alice = Api::new(&server.url, Some(&people.alice));
        let r = alice.report("CLOUDSTACK", "Something").await;
        let http = reqwest::Client::new();
        let raw = |body: &'static str, content_type: &'static str| {
            let http = http.clone();
            let url = format!("{}/api/cases", server.url);
            let token = people.alice.clone();
            async move {
                let resp = http
                    .post(url)
                    .bearer_auth(token)
                    .header("content-type", content_type)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = resp.status();
                (status, resp.json::<Value>().await.unwrap())
            }
        };

        let (s, b) = raw(
            "{\"project\": \"CLOUDSTACK\", \"title\": ",
            "application/json",
        )
        .await;
        assert_error(s, &b, StatusCode::BAD_REQUEST, "EOF");
        let (s, b) = raw(
            "{\"project\": \"CLOUDSTACK\", \"title\": \"x\", \"severity\": 9}",
            "application/json",
        )
        .await;
        assert_error(s, &b, StatusCode::BAD_REQUEST, "unknown field `severity`");
        let (s, b) = raw("project=CLOUDSTACK", "application/x-www-form-urlencoded").await;
        assert_error(s, &b, StatusCode::UNSUPPORTED_MEDIA_TYPE, "JSON");

        let huge = "x".repeat(2 * 1024 * 1024);
        let (s, b) = alice
            .post(
                "/api/cases",
                json!({ "project": "CLOUDSTACK", "title": "big", "description": huge }),
            )
            .await;
        assert_error(
            s,
            &b,
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than the limit",
        );

        let (s, b) = alice
            .post(
                &format!("/api/cases/{r}/transitions"),
                json!({ "to": "announced" }),
            )
            .await;
        assert_error(
            s,
            &b,
            StatusCode::CONFLICT,
            "cannot move from reported to announced",
        );
        let (s, b) = alice
            .post(
                &format!("/api/cases/{r}/transitions"),
                json!({ "to": "approved" }),
            )
            .await;
        assert_error(
            s,
            &b,
            StatusCode::BAD_REQUEST,
            "to: unknown variant, expected one of",
        );

        for (vector, fault) in [
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
                "missing base metric A",
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L",
                "duplicate metric A",
            ),
            ("cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:"),
            (
                "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "illegal value 'Q' for metric AV",
            ),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1 or 4.0"),
        ] {
            let (s, b) = alice
                .patch(&format!("/api/cases/{r}"), json!({ "cvss": vector }))
                .await;
            assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, fault);
        }
        let (s, b) = alice
            .patch(&format!("/api/cases/{r}"), json!({ "cve_id": "CVE-26-1" }))
            .await;
        assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "not a CVE ID");
        let (s, b) = alice
            .patch(
                &format!("/api/cases/{r}"),
                json!({ "advisory": { "description": "d", "cwe": "CWE-1" } }),
            )
            .await;
        assert_error(
            s,
            &b,
            StatusCode::UNPROCESSABLE_ENTITY,
            "CWE-1 is not a weakness of the CWE list",
        );
        let (s, b) = alice
            .patch(
                &format!("/api/cases/{r}"),
                json!({ "embargo_at": "next tuesday" }),
            )
            .await;
        assert_error(s, &b, StatusCode::BAD_REQUEST, "embargo_at");
        let (s, b) = alice.patch(&format!("/api/cases/{r}"), json!({})).await;
        assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "nothing to change");
        let (s, b) = alice.get("/api/cases/not-a-reference").await;
        assert_error(s, &b, StatusCode::BAD_REQUEST, "PROJECT-SEC-42");
        let (s, b) = alice.get("/api/cases?state=pending").await;
        assert_error(s, &b, StatusCode::BAD_REQUEST, "unknown state");
        let (s, b) = alice.get("/api/no-such-route").await;
        assert_error(s, &b, StatusCode::NOT_FOUND, "no such route");
        let (s, b) = alice
            .request(reqwest::Method::DELETE, "/api/cases", None)
            .await;
        assert_error(s, &b, StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        let (s, b) = alice
            .put(
                &format!("/api/cases/{r}/checklist/testing"),
                json!({ "status": "done" }),
            )
            .await;
        assert_error(s, &b, StatusCode::CONFLICT, "once the case is confirmed");
        let (s, b) = alice
            .post(&format!("/api/cases/{r}/notes"), json!({ "text": "   " }))
            .await;
        assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "cannot be empty");

        // Nothing was lost or changed by the refusals.
        let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
        assert_eq!(case["state"], "reported");
        assert!(case["cvss"].is_null());
        server.stop().await;
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let db = TestDb::new(crate::support::Backend::Sqlite).await;
    let server = Server::start(db.store().await).await;
    let api = Api::new(&server.url, None);
    let (status, doc) = api.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let fallback = |body: &Value| {
        let message = body["message"].as_str().unwrap_or_default();
        message == "no such route" || message == "method not allowed on this route"
    };
    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = 0;
    for (path, item) in paths {
        // The router itself answers: a documented operation reaches a handler (whatever
        // it then says to an anonymous caller), and an undocumented method on a documented
        // path is one the router does not take.
        let concrete = path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    "X-SEC-1"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS {
            let (status, body) = api
                .request(
                    reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &concrete,
                    None,
                )
                .await;
            if item[method].is_object() {
                documented += 1;
                assert!(
                    item[method]["responses"].is_object(),
                    "{method} {path} has no responses"
                );
                assert!(
                    !fallback(&body),
                    "{method} {path} is documented but the router has no such route ({status})"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is served but not documented: {body}"
                );
            }
        }
    }
    assert!(documented > 40, "only {documented} operations documented");
    // A route added beside the document (a plain `.route`) under /api would escape the
    // probe above: the server's source adds none but the document's own.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../embargo-server/src");
    let mut plain = Vec::new();
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split(".route(").skip(1) {
                    let literal = piece.trim_start().trim_start_matches('"');
                    let route = literal.split('"').next().unwrap_or_default();
                    if route.starts_with("/api") && route != "/api/openapi.json" {
                        plain.push(format!("{}: {route}", path.display()));
                    }
                }
            }
        }
    }
    assert!(
        plain.is_empty(),
        "API routes outside the document: {plain:?}"
    );
    for path in [
        "/api/cases",
        "/api/cases/{ref}",
        "/api/cases/{ref}/transitions",
        "/healthz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    server.stop().await;
}

/// `embargo cvss` scores what it can, names what it cannot, and says so in its status.
#[test]
fn the_cvss_command_scores_and_refuses() {
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_embargo"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(
        &["cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
        "",
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "9.8\tCritical\tCVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n"
    );
    let out = run(
        &["--json", "cvss"],
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N\nCVSS:3.1/AV:X\n",
    );
    assert!(!out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["score"], 9.3);
    assert!(
        lines[1]["error"].as_str().unwrap().len() > 5,
        "{}",
        lines[1]
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 vector(s) could not be scored"));
}
