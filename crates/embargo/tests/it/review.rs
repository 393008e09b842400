//! Process review: cases with known dates give known medians, 90th percentiles and
//! counts, through the API, `embargo report` as CSV, JSON and text, for a project and for
//! its organisation; the figures are the team's and the foundation team's only.

use serde_json::{Value, json};

use crate::support::{Api, Backend, Process, TestDb, cli_json, seed};

const DAY: i64 = 86_400_000;

/// Days after 2026-01-01: received, acknowledged (after receipt), then confirmed, fix
/// ready, announced, public (after receipt; none when not reached), and the state.
type Dates = (
    i64,
    f64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    &'static str,
);
/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;

async fn review(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    // Alice's activity is recorded from here on: her last activity falls after this.
    let before = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let server = Process::serve(db.command(&[]));
    let alice = Api::new(&server.url, Some(&people.alice));
    let mut refs = Vec::new();
    for (title, reporter) in [
        ("One", Some("Fay Finder")),
        ("Two", Some("Fay Finder")),
        ("Three", None),
        ("Four", Some("Gus")),
        ("Five", Some("Hal")),
    ] {
        let mut body = json!({ "project": "CLOUDSTACK", "title": title, "description": "details" });
        if let Some(name) = reporter {
            body["reporter"] = json!({ "name": name, "email": format!("{}@example.net", name.split(' ').next().unwrap().to_lowercase()) });
        }
        let (status, case) = alice.post("/api/cases", body).await;
        assert_eq!(status, 201, "{case}");
        refs.push(case["ref"].as_str().unwrap().to_owned());
    }
    alice
        .patch(
            &format!("/api/cases/{}", refs[0]),
            json!({ "cvss": "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:N" }),
        )
        .await;
    alice
        .patch(
            &format!("/api/cases/{}", refs[1]),
            json!({ "cvss": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H" }),
        )
        .await;
    // Known dates (days after 2026-01-01): received, acknowledged, confirmed, fix ready,
    // announced, public; and the state reached.
    let cases: [Dates; 5] = [
        (0, 1.0, Some(3), Some(10), Some(20), Some(21), "public"),
        (1, 2.0, Some(5), Some(14), Some(28), None, "announced"),
        (2, 0.5, None, None, None, None, "invalid"),
        (3, 4.0, Some(7), None, None, None, "fixing"),
        (40, 1.0, None, None, None, None, "triage"),
    ];
    for (i, (received, ack, confirmed, fix, announced, public, state)) in cases.iter().enumerate() {
        let at = |d: Option<i64>| d.map(|d| T0 + (received + d) * DAY);
        let number = i as i64 + 1;
        db.execute(
            &format!(
                "UPDATE cases SET state = '{state}', received_at = $1, acknowledged_at = $2, confirmed_at = $3, fix_ready_at = $4, announced_at = $5, public_at = $6, last_activity_at = $1 WHERE number = $7"
            ),
            &[T0 + received * DAY, T0 + received * DAY + (ack * DAY as f64) as i64, at(*confirmed).unwrap_or(0), at(*fix).unwrap_or(0), at(*announced).unwrap_or(0), at(*public).unwrap_or(0), number],
        )
        .await;
    }
    // Zero stands for "not yet" above.
    db.execute(
        "UPDATE cases SET confirmed_at = NULL WHERE confirmed_at = 0",
        &[],
    )
    .await;
    db.execute(
        "UPDATE cases SET fix_ready_at = NULL WHERE fix_ready_at = 0",
        &[],
    )
    .await;
    db.execute(
        "UPDATE cases SET announced_at = NULL WHERE announced_at = 0",
        &[],
    )
    .await;
    db.execute("UPDATE cases SET public_at = NULL WHERE public_at = 0", &[])
        .await;

    let (status, m) = alice
        .get("/api/projects/CLOUDSTACK/metrics?from=2026-01-01&to=2026-01-31")
        .await;
    assert_eq!(status, 200, "{m}");
    let f = &m["figures"];
    assert_eq!(f["cases"], 4, "the fifth is outside the period");
    let stat = |k: &str| {
        (
            f[k]["count"].clone(),
            f[k]["median_days"].clone(),
            f[k]["p90_days"].clone(),
        )
    };
    assert_eq!(
        stat("time_to_acknowledge"),
        (json!(4), json!(1.5), json!(4.0))
    );
    assert_eq!(stat("time_to_validate"), (json!(3), json!(5.0), json!(7.0)));
    assert_eq!(stat("time_to_fix"), (json!(2), json!(12.0), json!(14.0)));
    assert_eq!(
        stat("time_to_announce"),
        (json!(2), json!(24.0), json!(28.0))
    );
    assert_eq!(
        stat("time_to_publish"),
        (json!(1), json!(21.0), json!(21.0))
    );
    assert_eq!(
        f["by_state"],
        json!({ "announced": 1, "fixing": 1, "invalid": 1, "public": 1 })
    );
    assert_eq!(
        f["by_disposition"],
        json!({ "invalid": 1, "vulnerability": 3 })
    );
    assert_eq!(
        f["by_severity"],
        json!({ "Critical": 1, "High": 1, "unrated": 2 })
    );
    assert_eq!(f["by_channel"], json!({ "api": 4 }));
    assert_eq!(f["overdue"], 1, "the fixing case is past its clocks");
    assert_eq!(f["stalled"], 1);
    assert_eq!(f["top_reporters"], json!([["Fay Finder", 2], ["Gus", 1]]));
    let active = m["members"][0]["last_active_at"]
        .as_str()
        .unwrap_or_default();
    let active =
        time::OffsetDateTime::parse(active, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("last_active_at {active:?}: {e}"));
    assert!(
        active >= before && active <= time::OffsetDateTime::now_utc(),
        "alice was last active at {active}, during this test"
    );
    assert_eq!(
        m["members"],
        json!([{ "email": "alice@example.org", "last_active_at": m["members"][0]["last_active_at"], "cases_handled": 4 }])
    );

    // The organisation's figures are the foundation team's; another team sees nothing.
    let fiona = Api::new(&server.url, Some(&people.fiona));
    let (status, org) = fiona
        .get("/api/orgs/ASF/metrics?from=2026-01-01&to=2026-01-31")
        .await;
    assert_eq!(status, 200, "{org}");
    assert_eq!(
        org["figures"]["time_to_acknowledge"],
        f["time_to_acknowledge"]
    );
    assert_eq!(alice.get("/api/orgs/ASF/metrics").await.0, 404);
    assert_eq!(
        Api::new(&server.url, Some(&people.bob))
            .get("/api/projects/CLOUDSTACK/metrics")
            .await
            .0,
        404
    );
    let (status, body) = alice
        .get("/api/projects/CLOUDSTACK/metrics?from=January")
        .await;
    assert_eq!(status, 422, "{body}");

    // The exports agree with the API.
    let json_export = cli_json(
        &db,
        &server.url,
        &people.alice,
        &[
            "report",
            "--project",
            "CLOUDSTACK",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
        ],
    );
    assert_eq!(json_export["figures"], m["figures"]);
    let out = db
        .command(&[
            "report",
            "--project",
            "CLOUDSTACK",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
            "--format",
            "csv",
        ])
        .env("EMBARGO_URL", &server.url)
        .env("EMBARGO_TOKEN", &people.alice)
        .output()
        .unwrap();
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0], ["section", "name", "value"]);
    let value = |section: &str, name: &str| {
        rows.iter()
            .find(|r| r[0] == section && r[1] == name)
            .map(|r| r[2].to_owned())
    };
    assert_eq!(
        value("time_to_acknowledge", "median_days").as_deref(),
        Some("1.5")
    );
    assert_eq!(
        value("time_to_validate", "p90_days").as_deref(),
        Some("7.0")
    );
    assert_eq!(value("by_state", "invalid").as_deref(), Some("1"));
    assert_eq!(value("top_reporters", "Fay Finder").as_deref(), Some("2"));
    assert_eq!(value("time_to_publish", "count").as_deref(), Some("1"));
    let out = db
        .command(&[
            "report",
            "--org",
            "ASF",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
        ])
        .env("EMBARGO_URL", &server.url)
        .env("EMBARGO_TOKEN", &people.fiona)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(
            "Security report for ASF, from 2026-01-01T00:00:00Z to 2026-01-31T00:00:00Z"
        ),
        "{text}"
    );
    assert!(
        text.contains("to acknowledge     1.50 /    4.00  (4 cases)"),
        "{text}"
    );
    assert!(
        text.contains("With thanks to: Fay Finder (2), Gus (1)."),
        "{text}"
    );
    let _: Value = m;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_figures_sqlite() {
    review(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_figures_postgres() {
    review(Backend::Postgres).await;
}

/// A year's figures of CLOUDSTACK as the store gives them, as JSON.
async fn figures_now(store: &embargo_store::Store, viewer: &embargo_core::access::Viewer) -> Value {
    let m = store
        .metrics(
            viewer,
            &embargo_store::Scope::Project("CLOUDSTACK".parse().unwrap()),
            None,
            None,
        )
        .await
        .unwrap();
    let mut figures = serde_json::to_value(&m.figures).unwrap();
    // Who acted on how many, beside the figures.
    figures["handled"] = m
        .members
        .iter()
        .map(|a| (a.email.clone(), json!(a.cases_handled)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    figures
}

/// The figures are kept sealed by block and follow every change to a case, made through
/// Embargo or behind its back, and a kept block someone damaged is made again, never
/// believed.
async fn kept_figures(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    let alice = store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap();
    let mut refs = Vec::new();
    for (i, name) in ["Quentin Quarry", "Rosa Ridge", "Quentin Quarry"]
        .iter()
        .enumerate()
    {
        let case = store
            .create_case(
                &alice,
                embargo_store::NewReport {
                    project: "CLOUDSTACK".parse().unwrap(),
                    title: format!("Kept figures {i}"),
                    description: "Described.".into(),
                    reporter: embargo_core::case::Reporter {
                        name: Some((*name).into()),
                        email: None,
                    },
                    channel: embargo_core::case::Channel::Api,
                },
            )
            .await
            .unwrap();
        refs.push(case.reference);
    }
    let blocks = || db.query_text("SELECT CAST(COUNT(*) AS TEXT) FROM figure_blocks");
    let first = figures_now(&store, &alice).await;
    assert_eq!(first["cases"], 3);
    assert_eq!(first["top_reporters"][0], json!(["Quentin Quarry", 2]));
    assert_eq!(first["handled"]["alice@example.org"], 3);
    assert_eq!(blocks().await.as_deref(), Some("1"), "the block was kept");
    assert_eq!(
        figures_now(&store, &alice).await,
        first,
        "read from the block"
    );

    // Sealed: no reporter's name in clear.
    assert!(
        !db.bytes_hold("figure_blocks", "body_sealed", "Quentin")
            .await
    );

    // A rating through Embargo.
    store
        .update_case(
            &alice,
            &refs[0],
            embargo_store::CasePatch {
                cvss: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let rated = figures_now(&store, &alice).await;
    assert_eq!(rated["by_severity"], json!({ "Critical": 1, "unrated": 2 }));
    // A move through Embargo.
    store
        .transition(
            &alice,
            &refs[1],
            embargo_core::lifecycle::State::Triage,
            &Default::default(),
        )
        .await
        .unwrap();
    let moved = figures_now(&store, &alice).await;
    assert_eq!(moved["by_state"], json!({ "reported": 2, "triage": 1 }));
    // A change behind Embargo's back, straight in the database.
    db.execute(
        "UPDATE cases SET state = 'invalid' WHERE number = $1",
        &[refs[2].number],
    )
    .await;
    let behind = figures_now(&store, &alice).await;
    assert_eq!(
        behind["by_state"],
        json!({ "invalid": 1, "reported": 1, "triage": 1 })
    );
    // A new case.
    store
        .create_case(
            &alice,
            embargo_store::NewReport {
                project: "CLOUDSTACK".parse().unwrap(),
                title: "Kept figures 3".into(),
                description: "Described.".into(),
                reporter: embargo_core::case::Reporter::default(),
                channel: embargo_core::case::Channel::Email,
            },
        )
        .await
        .unwrap();
    let grown = figures_now(&store, &alice).await;
    assert_eq!(grown["cases"], 4);
    assert_eq!(grown["handled"]["alice@example.org"], 4);
    assert_eq!(grown["by_channel"], json!({ "api": 3, "email": 1 }));

    // A case moved to another project behind Embargo's back leaves the figures, and
    // counts again once moved back.
    db.execute(
        "UPDATE cases SET project_id = (SELECT id FROM projects WHERE key = 'OTHER'), \
         number = number + 9000 WHERE number = $1",
        &[refs[2].number],
    )
    .await;
    let left = figures_now(&store, &alice).await;
    assert_eq!(left["cases"], 3);
    assert_eq!(left["by_state"], json!({ "reported": 2, "triage": 1 }));
    db.execute(
        "UPDATE cases SET project_id = (SELECT id FROM projects WHERE key = 'CLOUDSTACK'), \
         number = number - 9000 WHERE number = $1",
        &[refs[2].number + 9000],
    )
    .await;
    assert_eq!(figures_now(&store, &alice).await, grown);

    // The kept marks add up to the cases as they stand, before and after the daily fold
    // of what each change appended.
    let marks = || {
        db.query_text(
            "SELECT CAST(SUM(m.cases) AS TEXT) || ' ' || CAST(SUM(m.id_sum) AS TEXT) || ' ' || \
             CAST(SUM(m.revisions) AS TEXT) FROM figure_marks m JOIN projects p \
             ON p.id = m.project_id WHERE p.key = 'CLOUDSTACK'",
        )
    };
    let counted = db
        .query_text(
            "SELECT CAST(COUNT(*) AS TEXT) || ' ' || CAST(SUM(c.id) AS TEXT) || ' ' || \
             CAST(SUM(c.revision) AS TEXT) FROM cases c JOIN projects p \
             ON p.id = c.project_id WHERE p.key = 'CLOUDSTACK'",
        )
        .await;
    assert_eq!(marks().await, counted);
    assert!(store.fold_figure_marks().await.unwrap() >= 1);
    assert_eq!(marks().await, counted);
    assert_eq!(
        db.query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM figure_marks m JOIN projects p \
             ON p.id = m.project_id WHERE p.key = 'CLOUDSTACK'"
        )
        .await
        .as_deref(),
        Some("1"),
        "folded into a row for the block"
    );
    assert_eq!(figures_now(&store, &alice).await, grown);

    // The audit names every case the figures counted, by runs of ids, and a case's own
    // audit trail shows the read.
    let trail = store.audit_rows(Some(&refs[1]), 50).await.unwrap();
    let read = trail
        .iter()
        .rev()
        .find(|row| row.what == "summary")
        .expect("the figures' read is in the case's trail");
    assert_eq!(read.listed, Some(4));

    // Whoever can write to the database damages the kept block and makes its marks look
    // current: the block does not open, and is made again from the cases.
    let damage = match backend {
        Backend::Sqlite => "UPDATE figure_blocks SET body_sealed = randomblob(200)",
        Backend::Postgres => {
            "UPDATE figure_blocks SET body_sealed = decode(repeat('5a', 200), 'hex')"
        }
    };
    db.execute(damage, &[]).await;
    assert_eq!(figures_now(&store, &alice).await, grown);
    // The same from scratch.
    db.execute("DELETE FROM figure_blocks", &[]).await;
    assert_eq!(figures_now(&store, &alice).await, grown);
    assert_eq!(blocks().await.as_deref(), Some("1"));
    store.close().await;
}

#[tokio::test]
async fn kept_figures_follow_every_change_sqlite() {
    kept_figures(Backend::Sqlite).await;
}

#[tokio::test]
async fn kept_figures_follow_every_change_postgres() {
    kept_figures(Backend::Postgres).await;
}
