//! The public site: the advisory index and pages, the Atom feed, each advisory as OSV,
//! CSAF and CVE JSON, and each project's security.txt. Only announced advisories exist
//! here; anything else answers 404.

use axum::extract::State as AxumState;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use embargo_core::reference::{CaseRef, ProjectKey};
use embargo_formats::site::escape;
use embargo_store::{PublishedAdvisory, StoreError};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;

fn html(title: &str, body: &str) -> Response {
    crate::web::layout::public_page(title, body)
}

fn document(content_type: &'static str, body: String) -> Response {
    ([(CONTENT_TYPE, content_type)], body).into_response()
}

fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", escape(p.trim())))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The index of published advisories, newest first.
#[utoipa::path(get, path = "/advisories", tag = "public", responses((status = 200, description = "The advisory index (HTML)", content_type = "text/html")))]
pub async fn index(AxumState(state): AxumState<AppState>) -> Result<Response, ApiError> {
    index_of(&state, None).await
}

/// One project's published advisories, newest first.
#[utoipa::path(get, path = "/projects/{key}/advisories", tag = "public", params(("key" = String, Path, description = "Project key")),
    responses((status = 200, description = "The project's advisory index (HTML)", content_type = "text/html"), (status = 404, body = ErrorBody)))]
pub async fn project_index(
    AxumState(state): AxumState<AppState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let key: ProjectKey = key.parse()?;
    state.store.project(&key).await?;
    index_of(&state, Some(&key)).await
}

async fn index_of(state: &AppState, project: Option<&ProjectKey>) -> Result<Response, ApiError> {
    let all = state
        .store
        .published_advisories(project, &state.public_url)
        .await?;
    let items: Vec<String> = all
        .iter()
        .map(|p| {
            let a = &p.advisory;
            let severity = a.headline_cvss().map(|c| format!(" ({})", c.severity())).unwrap_or_default();
            format!(
                "<li><a href=\"/advisories/{}\">{}: {}: {}</a>{} <time datetime=\"{}\">{}</time></li>",
                escape(&a.reference),
                escape(a.display_id()),
                escape(&a.product),
                escape(&a.title),
                escape(&severity),
                embargo_formats::rfc3339(a.published),
                a.published.date()
            )
        })
        .collect();
    let list = if items.is_empty() {
        "<p>No advisories yet.</p>".to_owned()
    } else {
        format!("<ul>\n{}\n</ul>", items.join("\n"))
    };
    let heading = match project {
        Some(key) => format!("Security advisories of {key}"),
        None => "Security advisories".to_owned(),
    };
    Ok(html(
        &heading,
        &format!(
            "<h1>{}</h1>\n<p><a href=\"/advisories.atom\">Atom feed</a></p>\n{list}",
            escape(&heading)
        ),
    ))
}

fn advisory_html(p: &PublishedAdvisory) -> String {
    let a = &p.advisory;
    let reference = escape(&a.reference);
    let mut out = format!(
        "<h1>{}: {}: {}</h1>\n",
        escape(a.display_id()),
        escape(&a.product),
        escape(&a.title)
    );
    out.push_str("<h2>Severity</h2>\n");
    match a.headline_cvss() {
        Some(c) => {
            out.push_str(&format!(
                "<p>{} (CVSS {} score {})</p>\n<ul>\n",
                c.severity(),
                c.version(),
                c.score()
            ));
            for v in &a.cvss {
                out.push_str(&format!("<li><code>{}</code></li>\n", escape(v.vector())));
            }
            out.push_str("</ul>\n");
        }
        None => out.push_str("<p>Not rated</p>\n"),
    }
    out.push_str("<h2>Affected versions</h2>\n<ul>\n");
    for line in embargo_formats::announcement::affected_lines(a) {
        out.push_str(&format!("<li>{}</li>\n", escape(&line)));
    }
    out.push_str("</ul>\n<h2>Description</h2>\n");
    out.push_str(&paragraphs(&a.description));
    if let Some(cwe) = &a.cwe {
        out.push_str(&format!("\n<p>Weakness: {}</p>", escape(cwe)));
    }
    out.push_str("\n<h2>Mitigation</h2>\n");
    out.push_str(&paragraphs(&a.mitigation));
    if !a.fixed.is_empty() {
        out.push_str(&format!(
            "\n<p>Fixed in: {}</p>",
            escape(&a.fixed.join(", "))
        ));
    }
    if !a.workarounds.trim().is_empty() {
        out.push_str("\n<h3>Workarounds</h3>\n");
        out.push_str(&paragraphs(&a.workarounds));
    }
    out.push_str("\n<h2>Credit</h2>\n<ul>\n");
    for c in &a.credits {
        out.push_str(&format!(
            "<li>{} ({})</li>\n",
            escape(&c.name),
            c.role.cve_type()
        ));
    }
    out.push_str("</ul>\n<h2>References</h2>\n<ul>\n");
    for r in &a.references {
        out.push_str(&format!(
            "<li><a href=\"{0}\">{0}</a></li>\n",
            escape(&r.url)
        ));
    }
    out.push_str("</ul>\n<h2>Timeline</h2>\n<ul>\n");
    for t in &a.timeline {
        out.push_str(&format!(
            "<li><time datetime=\"{}\">{}</time>: {}</li>\n",
            embargo_formats::rfc3339(t.at),
            t.at.date(),
            escape(&t.event)
        ));
    }
    out.push_str(&format!(
        "</ul>\n<h2>Downloads</h2>\n<ul>\n<li><a href=\"/advisories/{reference}/osv.json\">OSV</a></li>\n<li><a href=\"/advisories/{reference}/csaf.json\">CSAF 2.0</a></li>\n<li><a href=\"/advisories/{reference}/cve.json\">CVE JSON 5.1</a></li>\n</ul>"
    ));
    out
}

async fn published(state: &AppState, reference: &str) -> Result<PublishedAdvisory, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    Ok(state
        .store
        .published_advisory(&case_ref, &state.public_url)
        .await?)
}

/// An advisory's page; it does not exist before the announcement.
#[utoipa::path(get, path = "/advisories/{ref}", tag = "public", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, description = "The advisory (HTML)", content_type = "text/html"), (status = 404, body = ErrorBody)))]
pub async fn page(
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Response, ApiError> {
    let p = published(&state, &reference).await?;
    Ok(html(
        &format!("{}: {}", p.advisory.display_id(), p.advisory.title),
        &advisory_html(&p),
    ))
}

/// An advisory as an OSV document.
#[utoipa::path(get, path = "/advisories/{ref}/osv.json", tag = "public", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, description = "OSV", body = Object), (status = 404, body = ErrorBody)))]
pub async fn osv(
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Response, ApiError> {
    let p = published(&state, &reference).await?;
    let doc = embargo_formats::osv::to_osv(&p.advisory, &p.org.osv_prefix)
        .map_err(|e| ApiError::Store(StoreError::Invalid(e.to_string())))?;
    Ok(document("application/json", doc.to_string()))
}

/// An advisory as a CSAF 2.0 document.
#[utoipa::path(get, path = "/advisories/{ref}/csaf.json", tag = "public", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, description = "CSAF 2.0", body = Object), (status = 404, body = ErrorBody)))]
pub async fn csaf(
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Response, ApiError> {
    let p = published(&state, &reference).await?;
    let publisher = embargo_formats::csaf::Publisher {
        name: p.advisory.vendor.clone(),
        namespace: p
            .org
            .namespace
            .clone()
            .unwrap_or_else(|| state.public_url.clone()),
    };
    let doc = embargo_formats::csaf::to_csaf(&p.advisory, &publisher)
        .map_err(|e| ApiError::Store(StoreError::Invalid(e.to_string())))?;
    Ok(document("application/json", doc.to_string()))
}

/// An advisory as a CVE JSON 5.1 record (needs the organisation's CNA identity).
#[utoipa::path(get, path = "/advisories/{ref}/cve.json", tag = "public", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, description = "CVE JSON 5.1", body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cve(
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Response, ApiError> {
    let p = published(&state, &reference).await?;
    let cna = match (&p.org.cna_org_id, &p.org.cna_short_name) {
        (Some(id), Some(name)) => embargo_formats::cve5::Cna {
            org_id: id.clone(),
            short_name: name.clone(),
        },
        _ => {
            return Err(ApiError::Store(StoreError::Invalid(
                "this organisation publishes no CVE records".into(),
            )));
        }
    };
    let record = embargo_formats::cve5::Record::from_advisory(&p.advisory, &cna)
        .map_err(|e| ApiError::Store(StoreError::Invalid(e.to_string())))?;
    Ok(document("application/json", record.to_json().to_string()))
}

/// The Atom feed of published advisories.
#[utoipa::path(get, path = "/advisories.atom", tag = "public", responses((status = 200, description = "Atom (RFC 4287)", content_type = "application/atom+xml")))]
pub async fn feed(AxumState(state): AxumState<AppState>) -> Result<Response, ApiError> {
    let all: Vec<_> = state
        .store
        .published_advisories(None, &state.public_url)
        .await?
        .into_iter()
        .map(|p| p.advisory)
        .collect();
    Ok(document(
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
        &format!(
            "<h1>Acknowledge the pre-notification</h1>\n<p>Confirm that you received the embargoed advisory and will keep it confidential until the embargo time.</p>\n<form method=\"post\" action=\"/acknowledge/{}\">\n<button type=\"submit\">Acknowledge</button>\n</form>",
            escape(&secret)
        ),
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
        &format!(
            "<h1>Acknowledged</h1>\n<p>Thank you: the security team knows you received {}.</p>",
            escape(&reference)
        ),
    ))
}

/// The site's security.txt (RFC 9116 §3): the one project that has a security contact;
/// with several, each has its own at /projects/{key}/security.txt.
#[utoipa::path(get, path = "/.well-known/security.txt", tag = "public",
    responses((status = 200, description = "security.txt", content_type = "text/plain"), (status = 404, body = ErrorBody)))]
pub async fn well_known_security_txt(
    AxumState(state): AxumState<AppState>,
) -> Result<Response, ApiError> {
    let with_contact: Vec<_> = state
        .store
        .list_projects()
        .await?
        .into_iter()
        .filter(|p| !p.disclosure.security_contacts.is_empty())
        .collect();
    match with_contact.as_slice() {
        [one] => {
            let key: ProjectKey = one.key.parse()?;
            let text = state.store.security_txt(&key, &state.public_url).await?;
            Ok(document("text/plain; charset=utf-8", text))
        }
        _ => Err(ApiError::Store(StoreError::NotFound(
            "site-wide security.txt (each project has its own at /projects/{key}/security.txt)",
        ))),
    }
}
