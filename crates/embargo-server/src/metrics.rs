//! Operational metrics in the Prometheus text format, served on a listen address of
//! their own (`metrics_listen`), apart from the public site. Requests are counted by
//! route template, never by path; cases are counted by state and clock, never named.

use std::sync::LazyLock;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;

use embargo_store::Store;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabels {
    classification: String,
}

/// What the process counts as it runs.
struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    jobs: Family<JobLabels, Counter>,
    mail: Family<OutcomeLabels, Counter>,
    polls: Family<OutcomeLabels, Counter>,
}

/// One registry per process: every server of the process reports into it.
static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("embargo");
    let requests = Family::<RequestLabels, Counter>::default();
    let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
        Histogram::new(exponential_buckets(0.001, 2.0, 15))
    });
    let jobs = Family::<JobLabels, Counter>::default();
    let mail = Family::<OutcomeLabels, Counter>::default();
    let polls = Family::<OutcomeLabels, Counter>::default();
    registry.register(
        "http_requests",
        "HTTP requests by method, route template and status",
        requests.clone(),
    );
    registry.register(
        "http_request_duration_seconds",
        "Time to answer, by method and route template",
        latency.clone(),
    );
    registry.register(
        "jobs",
        "Background jobs run, by kind and outcome",
        jobs.clone(),
    );
    registry.register(
        "mail",
        "Mail handed to the relay (sent) or not (failed)",
        mail.clone(),
    );
    registry.register("imap_polls", "Mailbox polls, by outcome", polls.clone());
    Metrics {
        registry,
        requests,
        latency,
        jobs,
        mail,
        polls,
    }
});

/// Counts one answered request; `route` is the matched template ("-" when none matched).
pub fn record_request(method: &str, route: &str, status: u16, took: Duration) {
    let route = route.to_owned();
    METRICS
        .requests
        .get_or_create(&RequestLabels {
            method: method.to_owned(),
            route: route.clone(),
            status,
        })
        .inc();
    METRICS
        .latency
        .get_or_create(&RouteLabels {
            method: method.to_owned(),
            route,
        })
        .observe(took.as_secs_f64());
}

/// Counts one job run: `outcome` is "done" or the failure's short code.
pub fn record_job(kind: &str, outcome: &str) {
    METRICS
        .jobs
        .get_or_create(&JobLabels {
            kind: kind.to_owned(),
            outcome: outcome.to_owned(),
        })
        .inc();
}

/// Counts one message to the relay: "sent" or "failed".
pub fn record_mail(outcome: &'static str) {
    METRICS
        .mail
        .get_or_create(&OutcomeLabels {
            outcome: outcome.to_owned(),
        })
        .inc();
}

/// Counts one mailbox poll: "ok" or "failed".
pub fn record_poll(outcome: &'static str) {
    METRICS
        .polls
        .get_or_create(&OutcomeLabels {
            outcome: outcome.to_owned(),
        })
        .inc();
}

/// The exposition: the process's counters, then counts read from the database now.
pub async fn render(store: &Store) -> Result<String, embargo_store::StoreError> {
    let counts = store.operations_counts().await?;
    let mut now = Registry::with_prefix("embargo");
    let by_state = Family::<StateLabels, Gauge>::default();
    for (state, n) in &counts.cases_by_state {
        by_state
            .get_or_create(&StateLabels {
                state: state.clone(),
            })
            .set(*n);
    }
    now.register("cases", "Cases by state", by_state);
    let gauge = |n: i64| {
        let g = Gauge::<i64>::default();
        g.set(n);
        g
    };
    now.register(
        "cases_clock_overdue",
        "Open cases with a clock past its due date",
        gauge(counts.clocks_overdue),
    );
    now.register(
        "cases_stalled",
        "Open cases with no activity for the project's stall period",
        gauge(counts.stalled),
    );
    now.register(
        "quarantined_messages",
        "Messages held in quarantine",
        gauge(counts.quarantined),
    );
    let intake = Family::<ClassLabels, Gauge>::default();
    for (classification, n) in &counts.intake_by_classification {
        intake
            .get_or_create(&ClassLabels {
                classification: classification.clone(),
            })
            .set(*n);
    }
    now.register(
        "intake_messages",
        "Messages taken in since the database began, by what they became",
        intake,
    );
    now.register(
        "jobs_pending",
        "Jobs due and not yet done (the queue's depth)",
        gauge(counts.jobs_pending),
    );
    now.register(
        "jobs_failed",
        "Jobs given up (embargo jobs retry sends them again)",
        gauge(counts.jobs_failed),
    );
    let mut text = String::new();
    // Writing into a String does not fail.
    let _ = encode_registry(&mut text, &METRICS.registry);
    let _ = encode_registry(&mut text, &now);
    let _ = encode_eof(&mut text);
    Ok(text)
}

async fn scrape(State(store): State<Store>) -> impl IntoResponse {
    match render(&store).await {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        ),
        Err(e) => {
            tracing::warn!(error = e.category(), "metrics could not be read");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "the database did not answer\n".to_owned(),
            )
        }
    }
}

/// Serves `/metrics` on its own listener until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state(store);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            while !*shutdown.borrow() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
        })
        .await
}
