//! Who sees which case: another project's team sees nothing, anonymous callers are
//! turned away, the foundation team sees every project of its organisation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Api, BACKENDS, Server, TestDb, seed};

/// An error body without its per-request id, to compare two answers.
fn without_request_id(mut body: Value) -> Value {
    body.as_object_mut().unwrap().remove("request_id");
    body
}

#[tokio::test]
async fn each_team_sees_only_its_cases() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        let server = Server::start(store).await;
        let alice = Api::new(&server.url, Some(&people.alice));
        let bob = alice.as_user(&people.bob);
        let fiona = alice.as_user(&people.fiona);
        let admin = alice.as_user(&people.admin);

        let cs = alice.report("CLOUDSTACK", "CloudStack issue").await;
        let other = bob.report("OTHER", "Other issue").await;
        let missing_ref = "CLOUDSTACK-SEC-999";

        // Bob, on another project's team, cannot tell Alice's case from a missing one.
        let probes: Vec<(Method, &str, Option<Value>)> = vec![
            (Method::GET, "/api/cases/{}", None),
            (
                Method::PATCH,
                "/api/cases/{}",
                Some(json!({ "title": "x" })),
            ),
            (
                Method::POST,
                "/api/cases/{}/transitions",
                Some(json!({ "to": "triage" })),
            ),
            (Method::GET, "/api/cases/{}/timeline", None),
            (
                Method::POST,
                "/api/cases/{}/notes",
                Some(json!({ "text": "x" })),
            ),
            (Method::GET, "/api/cases/{}/checklist", None),
            (
                Method::PUT,
                "/api/cases/{}/checklist/testing",
                Some(json!({ "status": "done" })),
            ),
        ];
        for (method, template, body) in &probes {
            let (s1, hidden) = bob
                .request(method.clone(), &template.replace("{}", &cs), body.clone())
                .await;
            let (s2, absent) = bob
                .request(
                    method.clone(),
                    &template.replace("{}", missing_ref),
                    body.clone(),
                )
                .await;
            assert_eq!(
                s1,
                StatusCode::NOT_FOUND,
                "{backend:?} {method} {template}: {hidden}"
            );
            assert_eq!(s2, StatusCode::NOT_FOUND);
            assert_eq!(
                without_request_id(hidden),
                without_request_id(absent),
                "{method} {template}"
            );
            // The administrator, not on any team, sees no case content either.
            let (s3, _) = admin
                .request(method.clone(), &template.replace("{}", &cs), body.clone())
                .await;
            assert_eq!(s3, StatusCode::NOT_FOUND, "admin {method} {template}");
        }
        let (_, listed) = bob.get("/api/cases").await;
        let refs: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["ref"].as_str().unwrap())
            .collect();
        assert_eq!(refs, [other.as_str()]);
        let (_, listed) = bob.get("/api/cases?project=CLOUDSTACK").await;
        assert_eq!(listed, json!([]));
        // Bob cannot file a report against a project he is not on.
        let (status, _) = bob
            .post(
                "/api/cases",
                json!({ "project": "CLOUDSTACK", "title": "x" }),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The foundation team sees both projects' cases.
        let (_, listed) = fiona.get("/api/cases").await;
        let mut refs: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["ref"].as_str().unwrap())
            .collect();
        refs.sort();
        assert_eq!(refs, [cs.as_str(), other.as_str()]);
        assert_eq!(
            fiona.get(&format!("/api/cases/{cs}")).await.0,
            StatusCode::OK
        );
        assert_eq!(
            fiona.get(&format!("/api/cases/{other}")).await.0,
            StatusCode::OK
        );

        // Anonymous callers get 401 on every team route.
        let anon = alice.anonymous();
        for (method, template, body) in &probes {
            let (status, err) = anon
                .request(method.clone(), &template.replace("{}", &cs), body.clone())
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {template}");
            assert_eq!(err["error"], "unauthorized");
        }
        for path in ["/api/cases", "/api/me", "/api/projects", "/api/orgs"] {
            assert_eq!(anon.get(path).await.0, StatusCode::UNAUTHORIZED, "{path}");
        }
        assert_eq!(
            anon.post(
                "/api/cases",
                json!({ "project": "CLOUDSTACK", "title": "x" })
            )
            .await
            .0,
            StatusCode::UNAUTHORIZED
        );
        let forged = alice.as_user("emb_not-a-real-token");
        assert_eq!(forged.get("/api/cases").await.0, StatusCode::UNAUTHORIZED);

        // Administration is for administrators.
        let (status, _) = alice.post("/api/orgs", json!({ "name": "Another" })).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = admin.post("/api/orgs", json!({ "name": "Another" })).await;
        assert_eq!(status, StatusCode::CREATED);
        // Only committee members may join a project's security team.
        let (status, body) = admin
            .post(
                "/api/projects/CLOUDSTACK/members",
                json!({ "email": "bob@example.org" }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("committee"),
            "{body}"
        );
        let (_, members) = admin.get("/api/projects/CLOUDSTACK/members").await;
        assert_eq!(members[0]["email"], "alice@example.org");
        assert!(members[0]["last_active_at"].is_string(), "{members}");

        // Leaving a team takes effect at once, even for a token used a moment ago.
        assert_eq!(
            bob.get(&format!("/api/cases/{other}")).await.0,
            StatusCode::OK
        );
        let (status, _) = admin
            .request(
                Method::DELETE,
                "/api/projects/OTHER/members/bob@example.org",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(
            bob.get(&format!("/api/cases/{other}")).await.0,
            StatusCode::NOT_FOUND
        );
        server.stop().await;
    }
}
