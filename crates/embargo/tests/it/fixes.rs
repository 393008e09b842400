//! The private fix per branch, end to end: a patch made by real `git format-patch`
//! imported and shown as a diff (hidden characters revealed), every stage on two
//! branches, fix-ready refused until every branch and the testing evidence are in, the
//! released version becoming the advisory's fixed version, and `embargo versions`
//! checking each merged commit against the real repository.

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};

use crate::guard::git_ok;
use crate::support::{Api, BACKENDS, Backend, Server, TestDb, seed};

/// A repository with the bug in v4.17.0, a fix on main and its cherry-pick on 4.18
/// (released as v4.18.2.1), and a 4.19 branch cut before the fix.
struct Repo {
    dir: tempfile::TempDir,
    introduced: String,
    fix_main: String,
    fix_418: String,
    patch: Vec<u8>,
}

fn repo() -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git_ok(d, &["init", "-q", "-b", "main"]);
    std::fs::write(
        d.join("console.c"),
        "void render(void) {\n    print(name);\n}\n",
    )
    .unwrap();
    git_ok(d, &["add", "."]);
    git_ok(d, &["commit", "-qm", "Render names"]);
    let introduced = git_ok(d, &["rev-parse", "HEAD"]).trim().to_owned();
    git_ok(d, &["tag", "v4.17.0"]);
    git_ok(d, &["branch", "4.18"]);
    git_ok(d, &["branch", "4.19"]);
    // The fix carries a right-to-left override in a comment, as a hostile patch might,
    // and markup that must stay text.
    std::fs::write(
        d.join("console.c"),
        "void render(void) {\n    /* safe \u{202E} <script>alert(1)</script> */\n    print(escape(name));\n}\n",
    )
    .unwrap();
    git_ok(d, &["commit", "-qam", "Escape names in the console"]);
    let fix_main = git_ok(d, &["rev-parse", "HEAD"]).trim().to_owned();
    let patch = git_ok(d, &["format-patch", "-1", "--stdout", "HEAD"]).into_bytes();
    git_ok(d, &["checkout", "-q", "4.18"]);
    git_ok(d, &["cherry-pick", "-x", &fix_main]);
    let fix_418 = git_ok(d, &["rev-parse", "HEAD"]).trim().to_owned();
    git_ok(d, &["tag", "v4.18.2.1"]);
    git_ok(d, &["checkout", "-q", "main"]);
    Repo {
        dir,
        introduced,
        fix_main,
        fix_418,
        patch,
    }
}

fn missing(body: &Value) -> Vec<String> {
    body["missing"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

async fn upload_patch(
    url: &str,
    token: &str,
    r: &str,
    branch: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(format!(
            "{url}/api/cases/{r}/fixes/patch?branch={branch}&filename=0001-escape.patch"
        ))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "text/x-patch")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn stage_of<'a>(board: &'a Value, branch: &str) -> &'a Value {
    board["branches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["branch"] == branch)
        .unwrap_or_else(|| panic!("no {branch} in {board}"))
}

async fn fix_per_branch(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let alice_id = store.user_by_email("alice@example.org").await.unwrap().id;
    let read_only = store
        .create_scoped_token(alice_id, "reader", true)
        .await
        .unwrap()
        .secret;
    let server = Server::start(store).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let bob = alice.as_user(&people.bob);
    let git = repo();

    let r = alice.report("CLOUDSTACK", "Console renders names").await;
    let fixes = format!("/api/cases/{r}/fixes");
    // Nothing is tracked before the case is confirmed.
    let (status, body) = alice
        .put(
            &fixes,
            json!({ "branch": "trunk", "stage": "not-affected" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    for to in ["triage", "confirmed", "fixing"] {
        alice.moved(&r, json!({ "to": to })).await;
    }

    // fix-ready names every branch still open, and the evidence.
    let (status, body) = alice
        .post(
            &format!("/api/cases/{r}/transitions"),
            json!({ "to": "fix-ready" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        missing(&body),
        ["fix-on-every-branch", "testing-evidence"],
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("still open: trunk, 4.18, 4.19"),
        "{body}"
    );

    // The format-patch output imports as is: proposed, with the commit and subject.
    let (status, board) =
        upload_patch(&server.url, &people.alice, &r, "trunk", git.patch.clone()).await;
    assert_eq!(status, StatusCode::OK, "{board}");
    let trunk = stage_of(&board, "trunk");
    assert_eq!(trunk["current"]["stage"], "proposed");
    let patch = &trunk["current"]["detail"]["patch"];
    assert_eq!(patch["subject"], "Escape names in the console");
    assert_eq!(patch["commit"], git.fix_main.as_str());
    assert_eq!(patch["author"], "Dev <dev@example.org>");
    let file_id = patch["file_id"].as_i64().unwrap();
    // Kept byte for byte, readable only by whoever may read the case.
    let resp = reqwest::Client::new()
        .get(format!("{}/api/cases/{r}/files/{file_id}", server.url))
        .header(AUTHORIZATION, format!("Bearer {}", people.alice))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), git.patch.as_slice());
    let (status, _) = bob.get(&format!("/api/cases/{r}/files/{file_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = bob.get(&fixes).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Prose, an empty body, an unknown branch or a token that only reads change nothing.
    let (status, body) = upload_patch(
        &server.url,
        &people.alice,
        &r,
        "4.18",
        b"please fix the console".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("not a patch"));
    let (status, body) =
        upload_patch(&server.url, &people.alice, &r, "5.0", git.patch.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("trunk, 4.18, 4.19"),
        "{body}"
    );
    let (status, _) = upload_patch(&server.url, &read_only, &r, "4.18", git.patch.clone()).await;
    assert_ne!(status, StatusCode::OK);
    let (status, body) = upload_patch(
        &server.url,
        &people.alice,
        &r,
        "4.18",
        vec![b'+'; (1 << 20) + 16],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (status, body) = alice
        .put(
            &fixes,
            json!({ "branch": "trunk", "stage": "merged", "commit": "abc1234; rm -rf /" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = alice
        .put(&fixes, json!({ "branch": "trunk", "stage": "released" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, board) = alice.get(&fixes).await;
    assert_eq!(stage_of(&board, "4.18")["history"], json!([]));
    assert_eq!(
        stage_of(&board, "trunk")["history"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Every stage: 4.18 in private review, merged, then released; trunk merged; 4.19
    // not affected.
    for (branch, body) in [
        (
            "4.18",
            json!({ "stage": "proposed", "review_url": "https://review.example.org/private/42" }),
        ),
        ("4.18", json!({ "stage": "merged", "commit": git.fix_418 })),
        (
            "trunk",
            json!({ "stage": "merged", "commit": git.fix_main }),
        ),
        (
            "4.19",
            json!({ "stage": "not-affected", "note": "4.19 renders through the new template" }),
        ),
    ] {
        let mut body = body;
        body["branch"] = json!(branch);
        let (status, board) = alice.put(&fixes, body).await;
        assert_eq!(status, StatusCode::OK, "{board}");
    }
    // The checklist follows the records, and is not ticked by hand.
    let (_, items) = alice.get(&format!("/api/cases/{r}/checklist")).await;
    let status_of = |key: &str| {
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["key"] == key)
            .map(|i| i["status"].clone())
            .unwrap()
    };
    assert_eq!(status_of("fix:trunk"), "done");
    assert_eq!(status_of("fix:4.18"), "done");
    assert_eq!(status_of("fix:4.19"), "not-applicable");
    let (status, _) = alice
        .put(
            &format!("/api/cases/{r}/checklist/testing"),
            json!({ "status": "done" }),
        )
        .await;
    assert_ne!(status, StatusCode::OK);
    // Only the evidence is missing now.
    let (status, body) = alice
        .post(
            &format!("/api/cases/{r}/transitions"),
            json!({ "to": "fix-ready" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(missing(&body), ["testing-evidence"], "{body}");
    let (status, body) = alice
        .post(
            &format!("/api/cases/{r}/testing"),
            json!({ "text": "x", "links": ["javascript:alert(1)"] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    use base64::Engine;
    let log = base64::engine::general_purpose::STANDARD.encode("PASS test_console_escapes\n");
    let (status, board) = alice
        .post(
            &format!("/api/cases/{r}/testing"),
            json!({ "text": "The regression test fails before the fix and passes after, on trunk and 4.18.",
                    "links": ["https://ci.example.org/private/run/7"],
                    "files": [{ "name": "test.log", "content_base64": log }] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{board}");
    assert_eq!(board["ready"], true, "{board}");
    assert!(
        board["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["purpose"] == "evidence" && f["filename"] == "test.log")
    );
    alice.moved(&r, json!({ "to": "fix-ready" })).await;

    // Released: the version becomes the advisory's fixed version; the commit is kept.
    let (status, board) = alice
        .put(
            &fixes,
            json!({ "branch": "4.18", "stage": "released", "version": "4.18.2.1" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{board}");
    let current = &stage_of(&board, "4.18")["current"];
    assert_eq!(current["detail"]["commit"], git.fix_418.as_str());
    assert_eq!(
        stage_of(&board, "4.18")["history"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
    assert_eq!(case["versions"]["fixed"], json!(["4.18.2.1"]), "{case}");
    let (_, timeline) = alice.get(&format!("/api/cases/{r}/timeline")).await;
    let stages = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "fix-stage")
        .count();
    assert_eq!(stages, 6, "{timeline}");

    // `embargo versions` checks each merged commit against the repository.
    let versions = |case: &str| {
        db.command(&[
            "--json",
            "versions",
            "--repo",
            git.dir.path().to_str().unwrap(),
            "--introduced",
            &git.introduced,
            "--tags",
            "v*",
            "--case",
            case,
        ])
        .env("EMBARGO_URL", &server.url)
        .env("EMBARGO_TOKEN", &people.alice)
        .output()
        .unwrap()
    };
    let out = versions(&r);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["fixed"], json!(["v4.18.2.1"]), "{report}");
    assert_eq!(report["affected"], json!(["v4.17.0"]), "{report}");
    let checked = report["checked"].as_array().unwrap();
    assert!(
        checked
            .iter()
            .any(|c| c["branch"] == "trunk" && c["commit"] == git.fix_main.as_str())
    );
    assert!(
        checked
            .iter()
            .any(|c| c["branch"] == "4.18" && c["commit"] == git.fix_418.as_str())
    );
    // A merge recorded on the wrong branch is caught, and nothing is written.
    let (status, _) = alice
        .put(
            &fixes,
            json!({ "branch": "4.19", "stage": "merged", "commit": git.fix_main }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, before) = alice.get(&format!("/api/cases/{r}")).await;
    let out = versions(&r);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("is not on 4.19"), "{said}");
    let (_, after) = alice.get(&format!("/api/cases/{r}")).await;
    assert_eq!(before["versions"], after["versions"]);

    // The web shows the patch as a diff: lines classed, markup as text, the override
    // shown by its code point.
    web_diff(&server.url, &r, file_id).await;
    server.stop().await;
}

async fn web_diff(url: &str, r: &str, file_id: i64) {
    let http = crate::web::client();
    let resp = http
        .post(format!("{url}/api/session"))
        .json(&json!({ "email": "alice@example.org", "password": "alice password 123" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = crate::web::cookie(&resp, "embargo_session");
    let page = http
        .get(format!("{url}/desk/cases/{r}/files/{file_id}"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("class=\"del\""), "{html}");
    assert!(html.contains("class=\"add revealed\""), "{html}");
    assert!(html.contains("⟨U+202E⟩"), "{html}");
    assert!(!html.contains('\u{202E}'));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>alert(1)"));
    let case = http
        .get(format!("{url}/desk/cases/{r}"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(case.contains("Fix per branch"), "{case}");
    // A form's address opened directly (a reload after a refusal) leads back to the case.
    let reopened = http
        .get(format!("{url}/desk/cases/{r}/fix"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(reopened.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        reopened.headers()["location"].to_str().unwrap(),
        format!("/desk/cases/{r}")
    );
    let elsewhere = http
        .get(format!("{url}/desk/cases/%2F%2Fevil.example/fix"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert!(elsewhere.headers().get("location").is_none());
    assert!(case.contains("4.18.2.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_per_branch_sqlite() {
    fix_per_branch(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_per_branch_postgres() {
    fix_per_branch(BACKENDS[1]).await;
}
