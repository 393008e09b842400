//! Embargo's HTTP server: the JSON API and its OpenAPI document, sign-in, the one
//! error mapping, and the background job runner.

pub mod actions;
pub mod api;
pub mod client;
pub mod cve_services;
pub mod documents;
pub mod error;
pub mod extract;
pub mod imap;
pub mod jobs;
pub mod limiter;
pub mod mail;
pub mod mail_endpoint;
pub mod metrics;
pub mod setup;
pub mod site_cache;
pub mod url;
pub mod web;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use embargo_store::Store;
use rand::RngCore;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::error::{ApiError, REQUEST_ID};

/// Builds a project's deny list from its guard terms; shared by the API and the CLI.
/// `keyed`: the list for the server-side hook and CI, with the embargoed terms keyed under
/// the project's guard key; otherwise a developer's list, with the giveaway words only.
pub fn deny_list(
    project: &str,
    terms: embargo_store::GuardTerms,
    valid_for: time::Duration,
    keyed: bool,
) -> embargo_guard::DenyList {
    let key = keyed.then(|| embargo_guard::GuardKey::from_bytes(terms.key));
    let inputs = embargo_guard::DenyInputs {
        case_refs: terms.case_refs,
        reserved_cves: terms.reserved_cves,
        terms: terms.terms,
        giveaways: terms.giveaways,
        published_cves: terms.published_cves,
    };
    embargo_guard::DenyList::build(
        project,
        &inputs,
        time::OffsetDateTime::now_utc(),
        valid_for,
        key.as_ref(),
    )
}

/// The largest request body the API accepts, in bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// The server's public base URL, for links in pages and documents.
    pub public_url: String,
    /// Reverse proxies whose forwarded client addresses are believed.
    pub trusted_proxies: std::sync::Arc<Vec<ipnet::IpNet>>,
    /// The limits of intake, for messages released from quarantine.
    pub intake_limits: embargo_mail::Limits,
    /// The first-run link, while nobody can sign in.
    pub setup: std::sync::Arc<setup::SetupLink>,
    /// The public site's renders of published advisories.
    pub site: std::sync::Arc<site_cache::SiteCache>,
}

impl AppState {
    /// The state of a server on `store`.
    pub fn new(store: Store, public_url: &str) -> AppState {
        AppState {
            store,
            public_url: public_url.trim_end_matches('/').to_owned(),
            trusted_proxies: std::sync::Arc::default(),
            intake_limits: embargo_mail::Limits::default(),
            setup: std::sync::Arc::default(),
            site: std::sync::Arc::default(),
        }
    }
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::router().split_for_parts().1
}

/// The route table as (method, path) pairs, from the same source as the router.
pub fn routes() -> Vec<(String, String)> {
    let doc = openapi();
    let mut out = Vec::new();
    for (path, item) in doc.paths.paths {
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (method, present) in methods {
            if present {
                out.push((method.to_owned(), path.clone()));
            }
        }
    }
    out
}

async fn request_context(request: Request, next: Next) -> Response {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let id = format!("{:016x}", u64::from_be_bytes(bytes));
    let method = request.method().clone();
    // The matched route template, never the raw path with its query string.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "-".to_owned());
    let started = Instant::now();
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let took = started.elapsed();
    metrics::record_request(method.as_str(), &route, response.status().as_u16(), took);
    tracing::info!(request_id = %id, %method, route = %route, status = response.status().as_u16(), ms = took.as_millis() as u64, "request");
    response
}

/// The application router, with its OpenAPI document at `/api/openapi.json`.
pub fn app(state: AppState) -> Router {
    let (router, doc) = api::router().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    router
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(web::router())
        .fallback(|| async { ApiError::NoRoute.into_response() })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed.into_response() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::security_headers,
        ))
        .layer(site_cache::compression())
        .layer(axum::middleware::from_fn(request_context))
        .with_state(state)
}

/// Serves the API on `listener` and runs the job runner until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    runner: String,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let public_url = format!("http://{}", listener.local_addr()?);
    serve_with(
        listener,
        store,
        Services::plain(runner, public_url),
        shutdown,
    )
    .await
}

/// What a server runs besides the API.
pub struct Services {
    /// The job runner's name (unique per process).
    pub runner: String,
    /// Mail out, when a relay is configured.
    pub mailer: Option<mail::Mailer>,
    /// A mailbox to poll for reports.
    pub imap: Option<imap::ImapSettings>,
    /// The public base URL, for links.
    pub public_url: String,
    /// How long a claimed job is held before another server may take it (after a crash).
    pub job_lease: std::time::Duration,
    /// Reverse proxies whose forwarded client addresses are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The limits of intake (IMAP and quarantine releases).
    pub intake_limits: embargo_mail::Limits,
    /// Where `/metrics` is served, apart from the site.
    pub metrics: Option<TcpListener>,
    /// The first-run link, while nobody can sign in.
    pub setup: std::sync::Arc<setup::SetupLink>,
}

impl Services {
    /// The API and the job runner alone, at `public_url`: no mail in or out, no proxies,
    /// no metrics listener.
    pub fn plain(runner: String, public_url: String) -> Services {
        Services {
            runner,
            mailer: None,
            imap: None,
            public_url,
            job_lease: jobs::DEFAULT_LEASE,
            trusted_proxies: Vec::new(),
            intake_limits: embargo_mail::Limits::default(),
            metrics: None,
            setup: std::sync::Arc::default(),
        }
    }
}

/// Serves the API and runs the jobs and the mailbox poller until `shutdown` turns true.
pub async fn serve_with(
    listener: TcpListener,
    store: Store,
    services: Services,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let Services {
        runner,
        mailer,
        imap,
        public_url,
        job_lease,
        trusted_proxies,
        intake_limits,
        metrics,
        setup,
    } = services;
    let exporter = metrics
        .map(|listener| tokio::spawn(metrics::serve(listener, store.clone(), shutdown.clone())));
    let poller = imap.map(|settings| {
        tokio::spawn(imap::run(
            store.clone(),
            settings,
            runner.clone(),
            shutdown.clone(),
        ))
    });
    let jobs = tokio::spawn(jobs::run(
        store.clone(),
        runner,
        mailer,
        job_lease,
        public_url.clone(),
        shutdown.clone(),
    ));
    let mut stop = shutdown.clone();
    let mut state = AppState::new(store, &public_url);
    state.trusted_proxies = std::sync::Arc::new(trusted_proxies);
    state.intake_limits = intake_limits;
    state.setup = setup;
    let app = app(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                break;
            }
        }
    })
    .await?;
    let _ = jobs.await;
    if let Some(poller) = poller {
        let _ = poller.await;
    }
    if let Some(exporter) = exporter {
        let _ = exporter.await;
    }
    Ok(())
}
