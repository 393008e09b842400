//! The public site: the advisory index and pages, the Atom feed, each advisory as OSV,
//! CSAF and CVE JSON, and each project's security.txt. Only announced advisories exist
//! here; anything else answers 404.

use axum::extract::State as AxumState;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use embargo_core::reference::{CaseRef, ProjectKey};
use embargo_store::{PublishedAdvisory, Store};
use maud::Markup;

use crate::AppState;
use crate::documents::Format;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::site_cache::{self, Form};

fn html(title: &str, body: Markup) -> Response {
    crate::web::layout::page(title, None, body)
}

fn document(content_type: &'static str, body: String) -> Response {
    ([(CONTENT_TYPE, content_type)], body).into_response()
}

/// The index of published advisories, newest first.
#[utoipa::path(get, path = "/advisories", tag = "public", responses((status = 200, description = "The advisory index (HTML)", content_type = "text/html")))]
pub async fn index(
    AxumState(state): AxumState<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    index_of(&state, &headers, None).await
}

/// One project's published advisories, newest first.
#[utoipa::path(get, path = "/projects/{key}/advisories", tag = "public", params(("key" = String, Path, description = "Project key")),
    responses((status = 200, description = "The project's advisory index (HTML)", content_type = "text/html"), (status = 404, body = ErrorBody)))]
pub async fn project_index(
    AxumState(state): AxumState<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let key: ProjectKey = key.parse()?;
    let door = crate::web::reporter::door(&state, &key).await?;
    index_of(&state, &headers, Some((&key, &door))).await
}

async fn index_of(
    state: &AppState,
    headers: &HeaderMap,
    one: Option<(&ProjectKey, &crate::web::reporter::Door)>,
) -> Result<Response, ApiError> {
    let project = one.map(|(key, _)| key);
    let all = state
        .store
        .published_advisories(project, &state.public_url)
        .await?;
    let heading = match one {
        Some((_, door)) => format!("Security advisories of {}", door.name),
        None => "Security advisories".to_owned(),
    };
    // The way to report is found where advisories are: each project's form.
    let projects: Vec<(String, String)> = state
        .store
        .list_projects()
        .await?
        .into_iter()
        .filter(|p| !p.inbox)
        .filter(|p| project.is_none_or(|k| k.as_str() == p.key))
        .map(|p| {
            let shown = match p.name.trim() {
                "" => p.key.clone(),
                name => name.to_owned(),
            };
            (p.key, shown)
        })
        .collect();
    let body = maud::html! {
        h1 { (heading) }
        p { a href="/advisories.atom" { "Atom feed" } }
        @if !projects.is_empty() {
            section aria-labelledby="report-h" {
                h2 #report-h { "Report a vulnerability" }
                p { "Found a security problem? Tell the project's security team privately; please do not open a public issue." }
                ul.report-links {
                    @for (key, shown) in &projects {
                        li { a href={ "/projects/" (key) "/report" } { "Report a vulnerability in " (shown) } }
                    }
                }
                // A project's own page names its other ways in too.
                @if let Some((key, door)) = one {
                    (crate::web::reporter::other_ways(key.as_str(), door))
                }
            }
        }
        @if all.is_empty() {
            p { "No advisories yet." }
        } @else {
            ul {
                @for p in &all {
                    @let a = &p.advisory;
                    li {
                        a href={ "/advisories/" (a.reference) } { (a.display_id()) ": " (a.product) ": " (a.title) }
                        @if let Some(c) = a.headline_cvss() { " (" (c.severity()) ")" }
                        " " time datetime=(embargo_formats::rfc3339(a.published)) { (a.published.date()) }
                    }
                }
            }
        }
    };
    Ok(site_cache::list(
        headers,
        "text/html; charset=utf-8",
        crate::web::layout::markup(&heading, None, body),
    ))
}

/// An advisory's page.
const PAGE: Form = Form {
    name: "page",
    content_type: "text/html; charset=utf-8",
};

/// The form of each machine-readable document.
const fn document_form(format: Format) -> Form {
    Form {
        name: match format {
            Format::Osv => "osv",
            Format::Csaf => "csaf",
            Format::Cve => "cve",
        },
        content_type: "application/json",
    }
}

/// Every form of a published advisory: the page (no document format) and each document.
const FORMS: [(Form, Option<Format>); 4] = [
    (PAGE, None),
    (document_form(Format::Osv), Some(Format::Osv)),
    (document_form(Format::Csaf), Some(Format::Csaf)),
    (document_form(Format::Cve), Some(Format::Cve)),
];

async fn published(
    store: &Store,
    public_url: &str,
    case_ref: &CaseRef,
) -> Result<PublishedAdvisory, ApiError> {
    Ok(store.published_advisory(case_ref, public_url).await?)
}

/// An advisory's page (`format` none) or one of its documents, as served.
async fn render(
    store: &Store,
    public_url: &str,
    case_ref: &CaseRef,
    format: Option<Format>,
) -> Result<String, ApiError> {
    let p = published(store, public_url, case_ref).await?;
    Ok(match format {
        None => crate::web::layout::markup(
            &format!("{}: {}", p.advisory.display_id(), p.advisory.title),
            None,
            crate::web::advisory::article(&p.advisory, crate::web::advisory::Place::Page),
        ),
        Some(format) => crate::documents::document(&p, format, public_url)?.to_string(),
    })
}

/// Renders each form of a published advisory that the database does not keep as it
/// stands, and keeps it (the announcement's and a correction's job). A form that cannot
/// be made (a CVE record without the organisation's CNA identity) is left to answer as
/// it does when asked. Returns how many forms were rendered.
pub(crate) async fn render_published(
    store: &Store,
    public_url: &str,
    case_ref: &CaseRef,
) -> Result<usize, ApiError> {
    let mut rendered = 0;
    for (form, format) in FORMS {
        let stamp = match store.published_stamp(case_ref).await {
            Ok(stamp) => stamp,
            // No longer announced: there is nothing public to render.
            Err(embargo_store::StoreError::NotFound(_)) => return Ok(rendered),
            Err(e) => return Err(e.into()),
        };
        let tag = site_cache::advisory_etag(&stamp, form, public_url);
        if store
            .stored_render(case_ref, form.name, &tag)
            .await?
            .is_some()
        {
            continue;
        }
        let body = match render(store, public_url, case_ref, format).await {
            Ok(body) => body,
            Err(ApiError::Store(embargo_store::StoreError::Invalid(_))) => continue,
            Err(e) => return Err(e),
        };
        // Kept under its validator only if nothing changed while it was rendered.
        if store.published_stamp(case_ref).await?.digest == stamp.digest
            && store
                .keep_render(case_ref, form.name, &tag, body.as_bytes())
                .await?
        {
            rendered += 1;
        }
    }
    Ok(rendered)
}

/// An advisory's page; it does not exist before the announcement.
#[utoipa::path(get, path = "/advisories/{ref}", tag = "public", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, description = "The advisory (HTML)", content_type = "text/html"), (status = 404, body = ErrorBody)))]
pub async fn page(
    AxumState(state): AxumState<AppState>,
    headers: HeaderMap,
    Path(reference): Path<String>,
) -> Result<Response, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    let (store, url, r) = (&state.store, &state.public_url, &case_ref);
    site_cache::advisory(&state, &headers, &case_ref, PAGE, move || {
        render(store, url, r, None)
    })
    .await
}

/// An advisory as an OSV document.
#[utoipa::path(get, path = "/advisories/{ref}/osv.json", tag = "public", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, description = "OSV", body = Object), (status = 404, body = ErrorBody)))]
pub async fn osv(
    AxumState(state): AxumState<AppState>,
    headers: HeaderMap,
    Path(reference): Path<String>,
) -> Result<Response, ApiError> {
    published_document(&state, &headers, &reference, Format::Osv).await
}

/// An advisory as a CSAF 2.0 document.
#[utoipa::path(get, path = "/advisories/{ref}/csaf.json", tag = "public", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, description = "CSAF 2.0", body = Object), (status = 404, body = ErrorBody)))]
pub async fn csaf(
    AxumState(state): AxumState<AppState>,
    headers: HeaderMap,
    Path(reference): Path<String>,
) -> Result<Response, ApiError> {
    published_document(&state, &headers, &reference, Format::Csaf).await
}

/// An advisory as a CSAF 2.0 document at its canonical URL, the file named as CSAF names
/// it (from the CVE ID, else the reference: `cve-2026-1234.json`).
#[utoipa::path(get, path = "/advisories/{ref}/csaf/{file}", tag = "public", params(("ref" = String, Path, description = "Case reference"), ("file" = String, Path, description = "The document's file name")),
    responses((status = 200, description = "CSAF 2.0", body = Object), (status = 404, body = ErrorBody)))]
pub async fn csaf_canonical(
    AxumState(state): AxumState<AppState>,
    headers: HeaderMap,
    Path((reference, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    let p = published(&state.store, &state.public_url, &case_ref).await?;
    if file != embargo_formats::csaf::file_name(p.advisory.display_id()) {
        // The same answer as for an advisory that does not exist.
        return Err(ApiError::Store(embargo_store::StoreError::NotFound(
            "advisory",
        )));
    }
    published_document(&state, &headers, &reference, Format::Csaf).await
}

/// An advisory as a CVE JSON 5.1 record (needs the organisation's CNA identity).
#[utoipa::path(get, path = "/advisories/{ref}/cve.json", tag = "public", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, description = "CVE JSON 5.1", body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cve(
    AxumState(state): AxumState<AppState>,
    headers: HeaderMap,
    Path(reference): Path<String>,
) -> Result<Response, ApiError> {
    published_document(&state, &headers, &reference, Format::Cve).await
}

async fn published_document(
    state: &AppState,
    headers: &HeaderMap,
    reference: &str,
    format: Format,
) -> Result<Response, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    let (store, url, r) = (&state.store, &state.public_url, &case_ref);
    site_cache::advisory(
        state,
        headers,
        &case_ref,
        document_form(format),
        move || render(store, url, r, Some(format)),
    )
    .await
}

/// The Atom feed of published advisories.
#[utoipa::path(get, path = "/advisories.atom", tag = "public", responses((status = 200, description = "Atom (RFC 4287)", content_type = "application/atom+xml")))]
pub async fn feed(
    AxumState(state): AxumState<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let all: Vec<_> = state
        .store
        .published_advisories(None, &state.public_url)
        .await?
        .into_iter()
        .map(|p| p.advisory)
        .collect();
    Ok(site_cache::list(
        &headers,
        "application/atom+xml",
        embargo_formats::site::atom(&all, &state.public_url, "Security advisories"),
    ))
}

/// A project's security.txt (RFC 9116), signed with its team key when it has one.
#[utoipa::path(get, path = "/projects/{key}/security.txt", tag = "public", params(("key" = String, Path, description = "Project key")),
    responses((status = 200, description = "security.txt", content_type = "text/plain"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn security_txt(
    AxumState(state): AxumState<AppState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let key: ProjectKey = key.parse()?;
    let text = state.store.security_txt(&key, &state.public_url).await?;
    Ok(document("text/plain; charset=utf-8", text))
}

/// The acknowledgement page of a pre-notification (the link in each copy): a button, so
/// that a mail scanner fetching the link acknowledges nothing.
#[utoipa::path(get, path = "/acknowledge/{secret}", tag = "public", params(("secret" = String, Path, description = "The secret of the copy's link")),
    responses((status = 200, description = "The page (HTML)", content_type = "text/html")))]
pub async fn acknowledge_page(Path(secret): Path<String>) -> Response {
    html(
        "Acknowledge the pre-notification",
        maud::html! {
            h1 { "Acknowledge the pre-notification" }
            p { "Confirm that you received the embargoed advisory and will keep it confidential until the embargo time." }
            form method="post" action={ "/acknowledge/" (secret) } {
                button type="submit" { "Acknowledge" }
            }
        },
    )
}

/// Acknowledges a pre-notification.
#[utoipa::path(post, path = "/acknowledge/{secret}", tag = "public", params(("secret" = String, Path, description = "The secret of the copy's link")),
    responses((status = 200, description = "Acknowledged (HTML)", content_type = "text/html"), (status = 404, body = ErrorBody)))]
pub async fn acknowledge(
    AxumState(state): AxumState<AppState>,
    Path(secret): Path<String>,
) -> Result<Response, ApiError> {
    let reference = state.store.acknowledge_prenotification(&secret).await?;
    Ok(html(
        "Acknowledged",
        maud::html! {
            h1 { "Acknowledged" }
            p { "Thank you: the security team knows you received " (reference) "." }
        },
    ))
}

/// The site's security.txt (RFC 9116 §3): the one project that has a security contact;
/// with several, each has its own at /projects/{key}/security.txt.
#[utoipa::path(get, path = "/.well-known/security.txt", tag = "public",
    responses((status = 200, description = "security.txt", content_type = "text/plain"), (status = 404, description = "No single project's file: where each project takes reports, as text", content_type = "text/plain")))]
pub async fn well_known_security_txt(
    AxumState(state): AxumState<AppState>,
) -> Result<Response, ApiError> {
    let projects = state.store.list_projects().await?;
    let with_contact: Vec<_> = projects
        .iter()
        .filter(|p| !p.disclosure.security_contacts.is_empty())
        .collect();
    if let [one] = with_contact.as_slice() {
        let key: ProjectKey = one.key.parse()?;
        let text = state.store.security_txt(&key, &state.public_url).await?;
        return Ok(document("text/plain; charset=utf-8", text));
    }
    // No single file to give: a person following the footer's link is told, in plain
    // text, where each project takes reports (a 404 still, for tools).
    let mut text = String::from(if with_contact.is_empty() {
        "No project here publishes a security contact yet.\n"
    } else {
        "Each project here has its own security.txt.\n"
    });
    for p in &projects {
        text.push_str(&format!(
            "\n{}: report form {}/projects/{}/report",
            p.name, state.public_url, p.key
        ));
        if !p.disclosure.security_contacts.is_empty() {
            text.push_str(&format!(
                ", security.txt {}/projects/{}/security.txt",
                state.public_url, p.key
            ));
        }
    }
    text.push('\n');
    Ok((
        axum::http::StatusCode::NOT_FOUND,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
