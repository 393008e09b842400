//! The reporter's agreement, on their page: they see the proposed embargo date, accept it
//! or propose another, and choose how to be credited. Only their acceptance (or a team
//! member's note saying how they agreed) ticks "embargo date agreed"; a new date opens it
//! again; the advisory's credits follow their choice.

use serde_json::{Value, json};

use crate::support::{Api, BACKENDS, Backend, Process, TestDb, seed};

fn agreed_line(items: &Value) -> Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "embargo-agreed")
        .cloned()
        .unwrap()
}

async fn the_reporter_agrees_the_date_and_chooses_the_credit(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let server = Process::serve(db.command(&[]));
    let alice = Api::new(&server.url, Some(&people.alice));
    let (status, case) = alice
        .post(
            "/api/cases",
            json!({ "project": "CLOUDSTACK", "title": "SSRF in the template downloader", "description": "details",
                    "reporter": { "name": "Fay Finder", "email": "fay@finder.example" } }),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    let r = case["ref"].as_str().unwrap().to_owned();
    alice
        .moved(&r, json!({ "to": "triage", "reason": "looking" }))
        .await;
    alice.moved(&r, json!({ "to": "confirmed" })).await;
    let secret = alice.reporter_secret(&r).await;
    let reporter = alice.anonymous();
    let answer = |body: Value| {
        let reporter = reporter.clone();
        let path = format!("/api/reporter/{secret}/embargo");
        async move { reporter.post(&path, body).await }
    };

    // No date yet: nothing to accept.
    let (status, body) = answer(json!({ "accept": true })).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not proposed an embargo date")
    );

    // The team proposes a date; the reporter sees it, and proposes another.
    let (status, _) = alice
        .patch(
            &format!("/api/cases/{r}"),
            json!({ "embargo_at": "2031-03-01T14:00:00Z" }),
        )
        .await;
    assert_eq!(status, 200);
    let (_, view) = reporter.get(&format!("/api/reporter/{secret}")).await;
    assert_eq!(view["embargo_at"], "2031-03-01T14:00:00Z", "{view}");
    assert!(view["embargo_agreed_at"].is_null());
    let (status, view) =
        answer(json!({ "propose": "2031-03-15T14:00:00Z", "note": "my talk is on the 14th" }))
            .await;
    assert_eq!(status, 200, "{view}");
    let (_, timeline) = alice.get(&format!("/api/cases/{r}/timeline")).await;
    assert!(
        timeline.to_string().contains(
            "The reporter proposed the embargo date 2031-03-15 14:00 UTC: my talk is on the 14th"
        ),
        "{timeline}"
    );
    let (status, body) = answer(json!({ "propose": "2020-01-01T00:00:00Z" })).await;
    assert_eq!(status, 422, "a date in the past: {body}");

    // The team cannot tick the agreement for them without saying how they agreed.
    let (status, body) = alice
        .put(
            &format!("/api/cases/{r}/checklist/embargo-agreed"),
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (_, items) = alice.get(&format!("/api/cases/{r}/checklist")).await;
    assert_eq!(agreed_line(&items)["status"], "open");

    // The team moves the date; the reporter accepts it: ticked, by nobody on the team.
    alice
        .patch(
            &format!("/api/cases/{r}"),
            json!({ "embargo_at": "2031-03-15T14:00:00Z" }),
        )
        .await;
    let (status, view) = answer(json!({ "accept": true })).await;
    assert_eq!(status, 200, "{view}");
    assert!(view["embargo_agreed_at"].is_string(), "{view}");
    let (_, items) = alice.get(&format!("/api/cases/{r}/checklist")).await;
    let line = agreed_line(&items);
    assert_eq!(line["status"], "done", "{line}");
    assert!(line["by"].is_null(), "{line}");
    assert!(
        line["note"]
            .as_str()
            .unwrap()
            .contains("accepted by the reporter on their page, for 2031-03-15 14:00 UTC"),
        "{line}"
    );

    // A later change of date needs their agreement again.
    alice
        .patch(
            &format!("/api/cases/{r}"),
            json!({ "embargo_at": "2031-04-01T14:00:00Z" }),
        )
        .await;
    let (_, items) = alice.get(&format!("/api/cases/{r}/checklist")).await;
    assert_eq!(agreed_line(&items)["status"], "open", "{items}");
    // The reporter was told of each date: first proposed, then each move.
    let (_, view) = reporter.get(&format!("/api/reporter/{secret}")).await;
    let thread = view["thread"].to_string();
    assert!(
        thread.contains(&format!(
            "The team proposes to disclose {r} on 2031-03-01 14:00 UTC"
        )),
        "{thread}"
    );
    assert!(
        thread.contains("moved from 2031-03-15 14:00 UTC to 2031-04-01 14:00 UTC"),
        "{thread}"
    );
    // A team member records an agreement given by mail, saying so.
    let (status, _) = alice
        .put(
            &format!("/api/cases/{r}/checklist/embargo-agreed"),
            json!({ "status": "done", "note": "agreed by mail on 2 December" }),
        )
        .await;
    assert_eq!(status, 200);

    // Credits follow the reporter's choice over the team's draft.
    let (status, _) = alice
        .patch(
            &format!("/api/cases/{r}"),
            json!({ "advisory": { "description": "d", "mitigation": "m",
                    "credits": [{ "name": "Fay Finder", "role": "finder" }, { "name": "Rae Reviewer", "role": "other" }] } }),
        )
        .await;
    assert_eq!(status, 200);
    let credits = |osv: &Value| osv["credits"].as_array().cloned().unwrap_or_default();
    let credit = |choice: Value| {
        let reporter = reporter.clone();
        let path = format!("/api/reporter/{secret}/credit");
        async move { reporter.post(&path, choice).await }
    };
    let (status, view) = credit(json!({ "choice": "anonymous" })).await;
    assert_eq!(status, 200, "{view}");
    let (_, osv) = alice.get(&format!("/api/cases/{r}/documents/osv")).await;
    let names: Vec<String> = credits(&osv)
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Rae Reviewer"], "{osv}");
    let (status, _) = credit(json!({ "choice": "handle", "handle": "  fayf  " })).await;
    assert_eq!(status, 200);
    let (_, osv) = alice.get(&format!("/api/cases/{r}/documents/osv")).await;
    let names: Vec<String> = credits(&osv)
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["fayf", "Rae Reviewer"], "{osv}");
    let (status, body) = credit(json!({ "choice": "handle", "handle": "" })).await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = credit(json!({ "choice": "name" })).await;
    assert_eq!(status, 200);
    let (_, view) = reporter.get(&format!("/api/reporter/{secret}")).await;
    assert_eq!(view["credit"]["choice"], "name", "{view}");

    // The page shows it all; a wrong secret gets nothing.
    let page = reqwest::get(format!("{}/reporter/{secret}", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Embargo date") && page.contains("as agreed"),
        "{page}"
    );
    assert!(page.contains("by my name: Fay Finder"), "{page}");
    let (status, _) = reporter
        .post(
            "/api/reporter/rl_not-a-secret/embargo",
            json!({ "accept": true }),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reporter_agrees_the_date_and_chooses_the_credit_sqlite() {
    the_reporter_agrees_the_date_and_chooses_the_credit(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reporter_agrees_the_date_and_chooses_the_credit_postgres() {
    the_reporter_agrees_the_date_and_chooses_the_credit(BACKENDS[1]).await;
}
