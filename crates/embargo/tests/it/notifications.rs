//! Each member chooses, per project, how they hear of new reports and of messages from
//! outside the team: at once (the default), in the daily digest, or never. Chosen on the
//! account page; the mail that goes out follows each choice.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::json;

use crate::mail::Sink;
use crate::support::{Api, BACKENDS, Backend, Process, TestDb, eventually, seed};
use crate::web::client;

async fn choices(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    let cloudstack: embargo_core::reference::ProjectKey = "CLOUDSTACK".parse().unwrap();
    for email in ["carl@example.org", "dora@example.org"] {
        store.create_user(email, None, false).await.unwrap();
        store
            .add_committee_members(&cloudstack, &[email.to_owned()])
            .await
            .unwrap();
        store.add_project_member(&cloudstack, email).await.unwrap();
    }
    let session = |email: &'static str| {
        let store = store.clone();
        async move {
            let id = store.user_by_email(email).await.unwrap().id;
            store.create_session(id).await.unwrap()
        }
    };
    let alice = session("alice@example.org").await;
    let carl = session("carl@example.org").await;
    store.close().await;
    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    );
    let server = Process::serve(cmd);
    let http = client();
    // Alice wants no mail, Carl the digest; Dora keeps the default.
    for (session, mode) in [(&alice, "never"), (&carl, "digest")] {
        let page = http
            .get(format!("{}/desk/account", server.url))
            .header(COOKIE, format!("embargo_session={session}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("notify-CLOUDSTACK"), "{page}");
        let resp = http
            .post(format!("{}/desk/account/notifications", server.url))
            .header(COOKIE, format!("embargo_session={session}"))
            .form(&[
                (
                    "csrf",
                    embargo_server::extract::csrf_token(session).as_str(),
                ),
                ("project", "CLOUDSTACK"),
                ("mode", mode),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let page = resp.text().await.unwrap();
        assert!(page.contains("Your notifications are saved."), "{page}");
        assert!(
            page.contains(&format!("<option value=\"{mode}\" selected>")),
            "{page}"
        );
    }
    // An unknown mode, or a project they are not on, changes nothing.
    let resp = http
        .post(format!("{}/desk/account/notifications", server.url))
        .header(COOKIE, format!("embargo_session={alice}"))
        .form(&[
            ("csrf", embargo_server::extract::csrf_token(&alice).as_str()),
            ("project", "OTHER"),
            ("mode", "never"),
        ])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());

    // A new report, then the reporter writes: Dora hears of both at once.
    let anonymous = Api::new(&server.url, None);
    let (status, filed) = anonymous
        .post(
            "/api/public/projects/CLOUDSTACK/reports",
            json!({ "title": "Token leak", "description": "Tokens leak.", "email": "grace@example.net" }),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let secret = filed["secret"].as_str().unwrap().to_owned();
    let (status, _) = anonymous
        .post(
            &format!("/api/reporter/{secret}/messages"),
            json!({ "text": "One more detail." }),
        )
        .await;
    assert_eq!(status, 201);
    eventually(20, "Dora's two mails", || async {
        sink.to("dora@example.org").len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        sink.to("alice@example.org").is_empty(),
        "Alice chose no mail"
    );
    assert!(
        sink.to("carl@example.org").is_empty(),
        "Carl chose the digest"
    );

    // The digest: Carl reads of the message there, Dora (told already) does not.
    let store = db.store().await;
    store
        .enqueue_job(&embargo_store::Task::Digest {
            on: Some("test".into()),
        })
        .await
        .unwrap();
    store.close().await;
    eventually(20, "Carl's digest", || async {
        !sink.to("carl@example.org").is_empty()
    })
    .await;
    let (raw, digest) = sink.to("carl@example.org").remove(0);
    assert!(
        digest
            .text
            .contains("message(s) from outside the team in the last day"),
        "{}",
        digest.text
    );
    assert!(
        digest.text.contains("/desk?project=CLOUDSTACK"),
        "{}",
        digest.text
    );
    assert!(!raw.contains("Token leak"), "references only");
    for (_, mail) in sink.to("dora@example.org") {
        assert!(!mail.text.contains("from outside the team in the last day"));
    }
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_member_chooses_how_to_be_told_sqlite() {
    choices(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_member_chooses_how_to_be_told_postgres() {
    choices(BACKENDS[1]).await;
}
