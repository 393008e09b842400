//! The CVE Services client (CVE Services API 2.x, `api-docs/openapi.json`): reserve an ID,
//! publish and update the CNA container of a record, reject an ID, read an ID's state and
//! the organisation's quota. Authentication is the three headers the document declares.

use std::time::Duration;

use embargo_store::CveCredentials;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Errors from CVE Services, each saying what to do; none repeats the credentials.
#[derive(Debug, thiserror::Error)]
pub enum CveServicesError {
    /// 401: the organisation, user or API key is wrong.
    #[error(
        "CVE Services did not accept the credentials (401): check the organisation short name, user and API key"
    )]
    Unauthorized,
    /// The organisation has no CVE IDs left to reserve.
    #[error(
        "the organisation's CVE ID quota is used up ({reserved} of {quota} reserved): publish or reject reserved IDs, or ask the CNA's root for more"
    )]
    QuotaExhausted {
        /// The quota.
        quota: i64,
        /// IDs in the RESERVED state.
        reserved: i64,
    },
    /// 400: the request was refused, with the service's reasons.
    #[error("CVE Services refused the request (400): {0}")]
    BadRequest(String),
    /// 403: not allowed (an ID of another CNA, a missing role).
    #[error("CVE Services forbids this (403): {0}")]
    Forbidden(String),
    /// 404: no such ID or record.
    #[error("CVE Services knows no such ID or record (404): {0}")]
    NotFound(String),
    /// The service could not be reached or answered oddly; worth a retry.
    #[error("CVE Services could not be reached or answered unexpectedly: {0}")]
    Unavailable(String),
}

/// A CVE Services client for one organisation's credentials.
pub struct CveServices {
    http: reqwest::Client,
    credentials: CveCredentials,
}

/// What an ID's state is at CVE Services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdState {
    /// The state, `None` for one this version does not know.
    pub state: Option<embargo_store::CveRecordState>,
}

fn error_text(body: &Value) -> String {
    let mut text = [body.get("error"), body.get("message")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(": ");
    if let Some(details) = body.get("details").and_then(Value::as_array) {
        let listed: Vec<String> = details
            .iter()
            .map(|d| {
                format!(
                    "{} {}",
                    d.get("param").and_then(Value::as_str).unwrap_or("?"),
                    d.get("msg").and_then(Value::as_str).unwrap_or("is invalid")
                )
            })
            .collect();
        if !listed.is_empty() {
            text.push_str(&format!(" ({})", listed.join("; ")));
        }
    }
    if text.is_empty() {
        "no reason given".to_owned()
    } else {
        text
    }
}

impl CveServices {
    /// A client; it connects only when called.
    pub fn new(credentials: CveCredentials) -> Result<CveServices, CveServicesError> {
        // Every request carries the API key: a redirect would hand it to whoever the
        // response names, so none is followed.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .https_only(credentials.api_url.starts_with("https://"))
            .build()
            .map_err(|e| CveServicesError::Unavailable(e.to_string()))?;
        Ok(CveServices { http, credentials })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, CveServicesError> {
        let url = format!("{}{path}", self.credentials.api_url.trim_end_matches('/'));
        if !CveCredentials::allows(&url) {
            return Err(CveServicesError::Unavailable(
                "the CVE Services URL is not https".into(),
            ));
        }
        let mut request = self
            .http
            .request(method, url)
            .query(query)
            .header("CVE-API-ORG", &self.credentials.org)
            .header("CVE-API-USER", &self.credentials.user)
            .header("CVE-API-KEY", self.credentials.key());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| CveServicesError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        match status {
            s if s.is_success() => Ok(body),
            s if s.is_redirection() => Err(CveServicesError::Unavailable(format!(
                "{s}: CVE Services answered with a redirect, which is not followed (the request carries the API key)"
            ))),
            StatusCode::UNAUTHORIZED => Err(CveServicesError::Unauthorized),
            StatusCode::BAD_REQUEST => Err(CveServicesError::BadRequest(error_text(&body))),
            StatusCode::FORBIDDEN => Err(CveServicesError::Forbidden(error_text(&body))),
            StatusCode::NOT_FOUND => Err(CveServicesError::NotFound(error_text(&body))),
            s => Err(CveServicesError::Unavailable(format!(
                "{s}: {}",
                error_text(&body)
            ))),
        }
    }

    /// The organisation's quota: (quota, reserved, available).
    pub async fn quota(&self) -> Result<(i64, i64, i64), CveServicesError> {
        let body = self
            .call(
                Method::GET,
                &format!("/org/{}/id_quota", self.credentials.org),
                &[],
                None,
            )
            .await?;
        let n = |k: &str| body.get(k).and_then(Value::as_i64).unwrap_or(0);
        Ok((n("id_quota"), n("total_reserved"), n("available")))
    }

    /// Reserves one CVE ID of `year` for the organisation.
    pub async fn reserve(&self, year: i32) -> Result<String, CveServicesError> {
        let (quota, reserved, available) = self.quota().await?;
        if available <= 0 {
            return Err(CveServicesError::QuotaExhausted { quota, reserved });
        }
        let query = [
            ("amount", "1".to_owned()),
            ("cve_year", year.to_string()),
            ("short_name", self.credentials.org.clone()),
        ];
        let body = match self.call(Method::POST, "/cve-id", &query, None).await {
            // The quota can run out between the check and the reservation.
            Err(CveServicesError::Forbidden(why)) if why.to_ascii_lowercase().contains("quota") => {
                return Err(CveServicesError::QuotaExhausted {
                    quota,
                    reserved: quota,
                });
            }
            other => other?,
        };
        body.pointer("/cve_ids/0/cve_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                CveServicesError::Unavailable("the reservation answer names no CVE ID".into())
            })
    }

    /// An ID's state.
    pub async fn id_state(&self, cve_id: &str) -> Result<IdState, CveServicesError> {
        let body = self
            .call(Method::GET, &format!("/cve-id/{cve_id}"), &[], None)
            .await?;
        Ok(IdState {
            state: body
                .get("state")
                .and_then(Value::as_str)
                .and_then(embargo_store::CveRecordState::parse),
        })
    }

    /// Publishes the CNA container of a reserved ID, or updates a published one.
    pub async fn publish(
        &self,
        cve_id: &str,
        record: &Value,
        update: bool,
    ) -> Result<(), CveServicesError> {
        // providerMetadata goes along: the request schema requires it, and the service
        // overwrites it with its own (the API document says so).
        let container = record.pointer("/containers/cna").cloned().ok_or_else(|| {
            CveServicesError::BadRequest("the record has no CNA container".into())
        })?;
        let method = if update { Method::PUT } else { Method::POST };
        self.call(
            method,
            &format!("/cve/{cve_id}/cna"),
            &[],
            Some(&json!({ "cnaContainer": container })),
        )
        .await
        .map(|_| ())
    }

    /// Rejects a reserved ID, with the reason.
    pub async fn reject(&self, cve_id: &str, reason: &str) -> Result<(), CveServicesError> {
        let body =
            json!({ "cnaContainer": { "rejectedReasons": [{ "lang": "en", "value": reason }] } });
        self.call(
            Method::POST,
            &format!("/cve/{cve_id}/reject"),
            &[],
            Some(&body),
        )
        .await
        .map(|_| ())
    }
}
