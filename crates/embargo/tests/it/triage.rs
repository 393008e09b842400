//! Triage views (SPEC §2.2): three members each say what a report is, with a reason; the
//! case shows every view, the tally and who has not given one; the queue lists the cases
//! waiting for my view; a request for views mails the chosen members, naming the case
//! only; views end with triage.

use serde_json::{Value, json};

use crate::mail::Sink;
use crate::support::{Api, BACKENDS, Backend, Process, TestDb, eventually, seed};

async fn three_members_give_their_views(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let cloudstack = "CLOUDSTACK".parse().unwrap();
    let mut tokens = Vec::new();
    for email in ["bea@example.org", "carl@example.org"] {
        let user = store.create_user(email, None, false).await.unwrap();
        store
            .add_committee_members(&cloudstack, &[email.to_owned()])
            .await
            .unwrap();
        store.add_project_member(&cloudstack, email).await.unwrap();
        tokens.push(store.create_token(user.id, "test").await.unwrap().secret);
    }
    store.close().await;
    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    )
    .env("EMBARGO_PUBLIC_URL", "https://embargo.example");
    let server = Process::serve(cmd);
    let alice = Api::new(&server.url, Some(&people.alice));
    let bea = alice.as_user(&tokens[0]);
    let carl = alice.as_user(&tokens[1]);
    let r = alice
        .report("CLOUDSTACK", "Secret title: token leak in the console")
        .await;
    let other = alice.report("CLOUDSTACK", "Another one").await;
    let views_path = format!("/api/cases/{r}/views");

    // Nobody has a view yet: the case waits for everyone's.
    let (status, views) = alice.get(&views_path).await;
    assert_eq!(status, 200, "{views}");
    assert_eq!(
        views["waiting"],
        json!(["alice@example.org", "bea@example.org", "carl@example.org"])
    );
    let awaiting = |api: &Api| {
        let api = api.clone();
        async move {
            let (_, cases) = api.get("/api/cases?awaiting=me").await;
            let mut refs: Vec<String> = cases
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["ref"].as_str().unwrap().to_owned())
                .collect();
            refs.sort();
            refs
        }
    };
    assert_eq!(awaiting(&bea).await.len(), 2);

    // A request for views mails the chosen members, naming the case only.
    let (status, asked) = alice
        .post(
            &format!("{views_path}/request"),
            json!({ "members": ["bea@example.org", "carl@example.org"] }),
        )
        .await;
    assert_eq!(status, 200, "{asked}");
    assert_eq!(asked["asked"], 2);
    eventually(20, "the requests for views", || async {
        !sink.to("bea@example.org").is_empty() && !sink.to("carl@example.org").is_empty()
    })
    .await;
    let (raw, mail) = sink.to("bea@example.org").remove(0);
    assert_eq!(
        mail.subject,
        format!("[{r}] Your view is asked on a CLOUDSTACK report")
    );
    assert!(
        mail.text
            .contains(&format!("https://embargo.example/desk/cases/{r}")),
        "{}",
        mail.text
    );
    assert!(
        !raw.contains("token leak") && !raw.contains("Secret title"),
        "by reference only: {raw}"
    );
    let (status, body) = alice
        .post(
            &format!("{views_path}/request"),
            json!({ "members": ["bob@example.org"] }),
        )
        .await;
    assert_eq!(status, 422, "not on the team: {body}");

    // Three views, with reasons; a duplicate names its case.
    let give = |api: &Api, body: Value| {
        let api = api.clone();
        let path = views_path.clone();
        async move { api.put(&path, body).await }
    };
    let (status, _) = give(
        &alice,
        json!({ "disposition": "valid", "reason": "reproduced on 4.18" }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = give(&bea, json!({ "disposition": "valid" , "reason": "" })).await;
    assert_eq!(status, 422, "a view needs a reason: {body}");
    let (status, body) = give(
        &bea,
        json!({ "disposition": "duplicate", "reason": "same as the other" }),
    )
    .await;
    assert_eq!(status, 422, "a duplicate names its case: {body}");
    let (status, _) = give(
        &bea,
        json!({ "disposition": "duplicate", "reason": "same root cause", "duplicate_of": other }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, views) = give(
        &carl,
        json!({ "disposition": "hardening", "reason": "needs admin rights" }),
    )
    .await;
    assert_eq!(status, 200, "{views}");
    assert_eq!(views["views"].as_array().unwrap().len(), 3);
    assert_eq!(
        views["tally"],
        json!({ "valid": 1, "duplicate": 1, "hardening": 1 })
    );
    assert!(views["agreed"].is_null());
    assert_eq!(views["waiting"], json!([]));
    assert_eq!(
        awaiting(&bea).await,
        vec![other.clone()],
        "bea has given hers on {r}"
    );

    // Changing one's mind replaces one's view; agreement shows when all hold the same.
    give(
        &bea,
        json!({ "disposition": "valid", "reason": "not the same after all" }),
    )
    .await;
    give(
        &carl,
        json!({ "disposition": "valid", "reason": "any user can reach it" }),
    )
    .await;
    let (_, views) = alice.get(&views_path).await;
    assert_eq!(views["views"].as_array().unwrap().len(), 3);
    assert_eq!(views["agreed"], "valid", "{views}");
    let (_, timeline) = alice.get(&format!("/api/cases/{r}/timeline")).await;
    assert!(
        timeline.to_string().contains("needs admin rights"),
        "every view stays on the timeline"
    );

    // Bob's project cannot see the case, nor its views.
    let bob = alice.as_user(&people.bob);
    assert_eq!(bob.get(&views_path).await.0, 404);

    // Views end with triage: once confirmed, none more.
    alice
        .moved(&r, json!({ "to": "triage", "reason": "looking" }))
        .await;
    alice.moved(&r, json!({ "to": "confirmed" })).await;
    let (status, body) = give(&alice, json!({ "disposition": "valid", "reason": "late" })).await;
    assert_eq!(status, 422, "{body}");
    assert!(awaiting(&alice).await.iter().all(|c| c != &r));
    // What triage concluded is kept for the figures: a confirmed case is valid, and an
    // invalid one is what most views called it.
    let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
    assert_eq!(case["disposition"], "valid", "{case}");
    alice
        .moved(&other, json!({ "to": "triage", "reason": "looking" }))
        .await;
    for (api, disposition) in [
        (&alice, "information"),
        (&bea, "hardening"),
        (&carl, "hardening"),
    ] {
        let (status, body) = api
            .put(
                &format!("/api/cases/{other}/views"),
                json!({ "disposition": disposition, "reason": "not exploitable as such" }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    alice
        .moved(
            &other,
            json!({ "to": "invalid", "message_to_reporter": "We will harden this in a regular release." }),
        )
        .await;
    let (_, case) = alice.get(&format!("/api/cases/{other}")).await;
    assert_eq!(case["disposition"], "hardening", "{case}");
    let (status, m) = alice.get("/api/projects/CLOUDSTACK/metrics").await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["figures"]["by_disposition"]["hardening"], 1, "{m}");
    assert_eq!(m["figures"]["by_disposition"]["vulnerability"], 1, "{m}");
    // Back in triage, nothing is concluded.
    alice
        .moved(
            &other,
            json!({ "to": "triage", "reason": "new information" }),
        )
        .await;
    let (_, case) = alice.get(&format!("/api/cases/{other}")).await;
    assert!(case["disposition"].is_null(), "{case}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_give_their_views_sqlite() {
    three_members_give_their_views(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_give_their_views_postgres() {
    three_members_give_their_views(BACKENDS[1]).await;
}
