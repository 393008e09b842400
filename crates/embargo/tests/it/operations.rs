//! What an operator watches: `/healthz`, `/readyz`, Prometheus metrics on a listener of
//! their own, and JSON logs. The figures count; they never name a case or quote one.

use std::io::BufRead;
use std::process::Stdio;

use serde_json::Value;

use crate::support::{Api, BACKENDS, Backend, Process, TestDb, seed};

/// `embargo serve` with metrics on a free port; returns the server and the metrics URL.
fn serve_with_metrics(db: &TestDb, log: &std::path::Path) -> (Process, String) {
    let mut cmd = db.command(&["serve", "--listen", "127.0.0.1:0"]);
    cmd.env("EMBARGO_METRICS_LISTEN", "127.0.0.1:0")
        .env("EMBARGO_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap());
    let mut child = cmd.spawn().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next().unwrap().unwrap();
    let metrics = lines.next().unwrap().unwrap();
    let url = url
        .strip_prefix("embargo listening on ")
        .unwrap()
        .to_owned();
    let metrics = metrics
        .strip_prefix("embargo metrics on ")
        .unwrap()
        .to_owned();
    (Process { child, url }, metrics)
}

async fn operators_see_health_readiness_metrics_and_json_logs(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let log = db.dir.path().join("server.log");
    let (server, metrics_url) = serve_with_metrics(&db, &log);
    let alice = Api::new(&server.url, Some(&people.alice));

    let canary = format!("canary{:016x}", rand::random::<u64>());
    let report = format!(
        "From: fay@finder.example\r\nSubject: Token leak {canary}\r\nMessage-ID: <op1@finder.example>\r\n\r\nThe API leaks {canary}.\r\n"
    );
    let (code, _, err) = crate::support::intake(&db, "CLOUDSTACK", report.as_bytes(), &[], &[]);
    assert_eq!(code, Some(0), "{err}");
    let big = format!(
        "From: gil@finder.example\r\nSubject: Too big\r\nMessage-ID: <op2@finder.example>\r\n\r\n{}\r\n",
        "x".repeat(4000)
    );
    let (code, _, err) = crate::support::intake(
        &db,
        "CLOUDSTACK",
        big.as_bytes(),
        &["--max-message-bytes", "1000"],
        &[],
    );
    assert_eq!(code, Some(0), "{err}");

    let (status, health) = alice.anonymous().get("/healthz").await;
    assert_eq!(
        (status.as_u16(), health["status"].as_str()),
        (200, Some("ok"))
    );
    let (status, ready) = alice.anonymous().get("/readyz").await;
    assert_eq!(
        (status.as_u16(), ready["status"].as_str()),
        (200, Some("ready"))
    );
    let (status, _) = alice.get("/api/cases/CLOUDSTACK-SEC-1").await;
    assert_eq!(status, 200);
    let (status, _) = alice.anonymous().get("/metrics").await;
    assert_eq!(status, 404, "metrics are not on the public site");

    let text = reqwest::get(&metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        assert!(series.starts_with("embargo_"), "{line}");
    }
    for expected in [
        r#"embargo_http_requests_total{method="GET",route="/healthz",status="200"} 1"#,
        r#"embargo_http_requests_total{method="GET",route="/api/cases/{ref}",status="200"} 1"#,
        r#"embargo_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/readyz"}"#,
        r#"embargo_cases{state="reported"} 1"#,
        "embargo_quarantined_messages 1",
        r#"embargo_intake_messages{classification="#,
        "embargo_jobs_pending ",
        "embargo_cases_clock_overdue 0",
        "# EOF",
    ] {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
    assert!(
        !text.contains("CLOUDSTACK-SEC-1") && !text.contains(&canary) && !text.contains("fay@"),
        "metrics name no case: {text}"
    );

    // A schema this release does not know (a newer release migrated on): not ready.
    db.execute(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
        &[],
    )
    .await;
    let (status, ready) = alice.anonymous().get("/readyz").await;
    assert_eq!(status, 503);
    assert_eq!(ready["reason"], "schema-not-current");
    drop(server);

    // Every log line is one JSON object, and none quotes the report.
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.lines().count() > 3, "{logs}");
    for line in logs.lines() {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            entry["level"].is_string() && entry["fields"].is_object(),
            "{line}"
        );
    }
    assert!(!logs.contains(&canary));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_see_health_readiness_metrics_and_json_logs_sqlite() {
    operators_see_health_readiness_metrics_and_json_logs(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_see_health_readiness_metrics_and_json_logs_postgres() {
    operators_see_health_readiness_metrics_and_json_logs(BACKENDS[1]).await;
}
