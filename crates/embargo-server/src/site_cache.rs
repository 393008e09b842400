//! The public site's answers to caches: validators (`ETag`, `Last-Modified`), `304 Not
//! Modified`, and the advisories it rendered, kept until what they are made of changes.
//!
//! An advisory's validator comes from the store's stamp of its case (`published_stamp`),
//! read without opening anything sealed and trusted for a second while this process
//! writes nothing, so announcement-day traffic is answered from memory; a correction
//! changes the stamp, and the next request renders the new advisory. Only announced advisories get here: anything
//! else answers 404 as before, with `no-store` like every confidential response.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use embargo_store::PublishedStamp;
use sha2::Digest;
use time::OffsetDateTime;
use time::macros::format_description;

/// How long a cache may keep a public answer before asking again (a correction reaches
/// readers within this).
pub const PUBLIC: &str = "public, max-age=300";

/// Lists and feeds change whenever anything is announced: kept briefly.
pub const PUBLIC_LIST: &str = "public, max-age=60";

/// At most this many renders are kept; beyond, the store starts again empty.
const CAPACITY: usize = 4096;

/// A stamp read from the database is trusted this long while this process writes
/// nothing: another server's correction is seen within it (caches may keep the answer
/// for minutes anyway), this server's own at once.
const STAMP_TRUSTED: std::time::Duration = std::time::Duration::from_secs(1);

/// An answer rendered once, with its validator.
#[derive(Clone)]
struct Rendered {
    etag: String,
    content_type: &'static str,
    body: axum::body::Bytes,
}

/// The renders of published advisories, by reference and form.
#[derive(Default)]
pub struct SiteCache {
    entries: Mutex<HashMap<(String, &'static str), Rendered>>,
    /// Each advisory's stamp, the write generation before it was read, and when.
    stamps: Mutex<HashMap<String, (PublishedStamp, u64, std::time::Instant)>>,
}

impl std::fmt::Debug for SiteCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.entries.lock().map(|e| e.len()).unwrap_or(0);
        write!(f, "SiteCache(kept={kept})")
    }
}

impl SiteCache {
    fn stamp(&self, reference: &str, generation: u64) -> Option<PublishedStamp> {
        let stamps = self.stamps.lock().ok()?;
        stamps
            .get(reference)
            .filter(|(_, at_generation, read)| {
                *at_generation == generation && read.elapsed() < STAMP_TRUSTED
            })
            .map(|(stamp, _, _)| *stamp)
    }

    fn keep_stamp(&self, reference: &str, stamp: PublishedStamp, generation: u64) {
        if let Ok(mut stamps) = self.stamps.lock() {
            if stamps.len() >= CAPACITY {
                stamps.clear();
            }
            stamps.insert(
                reference.to_owned(),
                (stamp, generation, std::time::Instant::now()),
            );
        }
    }

    fn get(&self, reference: &str, form: &'static str, etag: &str) -> Option<Rendered> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(&(reference.to_owned(), form))
            .filter(|r| r.etag == etag)
            .cloned()
    }

    fn put(&self, reference: &str, form: &'static str, rendered: Rendered) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert((reference.to_owned(), form), rendered);
        }
    }
}

/// A strong validator from a digest of what the answer is made of.
fn etag(parts: &[&[u8]]) -> String {
    let mut digest = sha2::Sha256::new();
    for part in parts {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part);
    }
    let hex: String = digest.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

fn http_date(at: OffsetDateTime) -> String {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_default()
}

fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(text.trim(), format)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

/// Whether the request's conditions say the client holds this answer already: its
/// `If-None-Match` names the validator (weakly compared, as RFC 9110 says for GET), or,
/// without one, `If-Modified-Since` is not older than the last change.
fn fresh(request: &HeaderMap, etag: &str, modified: Option<OffsetDateTime>) -> bool {
    if let Some(wanted) = request.get(IF_NONE_MATCH) {
        let Ok(wanted) = wanted.to_str() else {
            return false;
        };
        return wanted
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag);
    }
    match (request.get(IF_MODIFIED_SINCE), modified) {
        (Some(since), Some(modified)) => since
            .to_str()
            .ok()
            .and_then(parse_http_date)
            .is_some_and(|since| modified.unix_timestamp() <= since.unix_timestamp()),
        _ => false,
    }
}

fn validators(etag: &str, modified: Option<OffsetDateTime>, cache: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(ETAG, value);
    }
    if let Some(value) = modified.and_then(|m| HeaderValue::from_str(&http_date(m)).ok()) {
        headers.insert(LAST_MODIFIED, value);
    }
    headers
}

fn answer(
    request: &HeaderMap,
    rendered: Rendered,
    modified: Option<OffsetDateTime>,
    cache: &'static str,
) -> Response {
    let mut headers = validators(&rendered.etag, modified, cache);
    if fresh(request, &rendered.etag, modified) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(rendered.content_type),
    );
    (headers, rendered.body).into_response()
}

/// One of an advisory's public forms.
#[derive(Clone, Copy)]
pub struct Form {
    /// Its name among the advisory's forms.
    pub name: &'static str,
    /// Its media type.
    pub content_type: &'static str,
}

/// The validator of one form of an advisory drawn from what `stamp` digests: it changes
/// with a correction, the site's address, or the release that renders it.
pub fn advisory_etag(stamp: &PublishedStamp, form: Form, public_url: &str) -> String {
    etag(&[
        &stamp.digest,
        form.name.as_bytes(),
        public_url.as_bytes(),
        env!("CARGO_PKG_VERSION").as_bytes(),
    ])
}

/// Answers a request for one form of a published advisory: 304 when the client holds
/// it; else the render this process kept, or the one the database keeps (made at the
/// announcement), while the advisory's stamp is unchanged; else `render`'s, kept in
/// both.
pub async fn advisory<F, Fut, E>(
    state: &crate::AppState,
    request: &HeaderMap,
    reference: &embargo_core::reference::CaseRef,
    form: Form,
    render: F,
) -> Result<Response, E>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<String, E>>,
    E: From<embargo_store::StoreError>,
{
    let key = reference.to_string();
    // The generation is read before the stamp: a write that begins after it makes the
    // stamp stale, and the next request reads it again.
    let generation = state.store.write_generation();
    let stamp = match state.site.stamp(&key, generation) {
        Some(stamp) => stamp,
        None => {
            let stamp = state.store.published_stamp(reference).await?;
            state.site.keep_stamp(&key, stamp, generation);
            stamp
        }
    };
    let tag = advisory_etag(&stamp, form, &state.public_url);
    let modified = Some(stamp.modified);
    if fresh(request, &tag, modified) {
        return Ok((StatusCode::NOT_MODIFIED, validators(&tag, modified, PUBLIC)).into_response());
    }
    if let Some(hit) = state.site.get(&key, form.name, &tag) {
        return Ok(answer(request, hit, modified, PUBLIC));
    }
    let body = match state
        .store
        .stored_render(reference, form.name, &tag)
        .await?
    {
        Some(stored) => stored,
        None => {
            let body = render().await?.into_bytes();
            // A render that cannot be kept is still served: the next request renders again.
            if let Err(e) = state
                .store
                .keep_render(reference, form.name, &tag, &body)
                .await
            {
                tracing::warn!(case = %reference, form = form.name, error = %e, "keeping a render failed");
            }
            body
        }
    };
    let rendered = Rendered {
        etag: tag,
        content_type: form.content_type,
        body: body.into(),
    };
    state.site.put(&key, form.name, rendered.clone());
    Ok(answer(request, rendered, modified, PUBLIC))
}

/// Answers with a rendered list (an index, the feed): validated by its own digest.
pub fn list(request: &HeaderMap, content_type: &'static str, body: String) -> Response {
    let rendered = Rendered {
        etag: etag(&[body.as_bytes()]),
        content_type,
        body: body.into(),
    };
    answer(request, rendered, None, PUBLIC_LIST)
}

/// Whether an answer may be compressed: only one any cache may keep.
type Compressible =
    fn(StatusCode, axum::http::Version, &HeaderMap, &axum::http::Extensions) -> bool;

fn compressible(
    _: StatusCode,
    _: axum::http::Version,
    headers: &HeaderMap,
    _: &axum::http::Extensions,
) -> bool {
    headers
        .get(CACHE_CONTROL)
        .is_some_and(|v| v.as_bytes().starts_with(b"public"))
}

/// Compression (brotli or gzip, as the client accepts) for answers any cache may keep,
/// and for those only: a compressed page that carries a secret beside text an attacker
/// chose leaks the secret through its length (BREACH), and confidential answers say
/// `no-store`, public ones `public`.
pub fn compression() -> tower_http::compression::CompressionLayer<
    tower_http::compression::predicate::And<
        tower_http::compression::DefaultPredicate,
        Compressible,
    >,
> {
    use tower_http::compression::Predicate;
    tower_http::compression::CompressionLayer::new().compress_when(
        tower_http::compression::DefaultPredicate::new().and(compressible as Compressible),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_follow_rfc_9110() {
        let tag = "\"abc\"";
        let at = time::macros::datetime!(2026-12-01 10:00:00 UTC);
        let mut h = HeaderMap::new();
        assert!(!fresh(&h, tag, Some(at)));
        h.insert(IF_NONE_MATCH, HeaderValue::from_static("\"x\", W/\"abc\""));
        assert!(fresh(&h, tag, Some(at)));
        h.insert(IF_NONE_MATCH, HeaderValue::from_static("\"x\""));
        h.insert(
            IF_MODIFIED_SINCE,
            HeaderValue::from_static("Tue, 01 Dec 2026 10:00:00 GMT"),
        );
        assert!(
            !fresh(&h, tag, Some(at)),
            "If-None-Match decides when present"
        );
        h.remove(IF_NONE_MATCH);
        assert!(fresh(&h, tag, Some(at)));
        assert!(!fresh(&h, tag, Some(at + time::Duration::seconds(1))));
        assert_eq!(http_date(at), "Tue, 01 Dec 2026 10:00:00 GMT");
    }
}
