//! The HTTP client behind `embargo case …`: talks to a running server with an API token.

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Why a request to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No token configured.
    #[error(
        "set EMBARGO_TOKEN to an API token (create one with `embargo token create --user EMAIL`)"
    )]
    NoToken,
    /// The server could not be reached.
    #[error("cannot reach the server at {url}: {source}")]
    Unreachable {
        /// The base URL.
        url: String,
        /// What went wrong.
        source: reqwest::Error,
    },
    /// The server answered with an error.
    #[error("{message} (HTTP {status}{})", request_id.as_deref().map(|id| format!(", request {id}")).unwrap_or_default())]
    Server {
        /// The status.
        status: StatusCode,
        /// The server's message.
        message: String,
        /// What a refused transition lacks.
        missing: Vec<String>,
        /// The request id.
        request_id: Option<String>,
    },
    /// The server's answer is not the shape this CLI reads.
    #[error(
        "the server's answer is not what this embargo expects ({0}); are the CLI and the server the same version?"
    )]
    Shape(String),
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Transport(String),
}

/// A client for one server and token.
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    /// Builds a client from `EMBARGO_URL` and `EMBARGO_TOKEN`.
    pub fn from_env(url: &str, token: Option<&str>) -> Result<Client, ClientError> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(ClientError::NoToken)?;
        Ok(Client {
            base: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            // The server records reads made through the CLI as such in the audit log.
            http: reqwest::Client::builder()
                .user_agent(concat!("embargo-cli/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| ClientError::Transport(e.to_string()))?,
        })
    }

    /// Sends a request and reads the answer as the server's own view type too: the JSON as
    /// sent (for `--json`) and the typed value the text output is drawn from, so that a
    /// field renamed on the server fails to compile here rather than print `-`.
    pub async fn call_as<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(Value, T), ClientError> {
        let value = self.call(method, path, body).await?;
        let typed = T::deserialize(&value).map_err(|e| ClientError::Shape(e.to_string()))?;
        Ok((value, typed))
    }

    /// Sends a request and returns the JSON answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    /// Reads a list page by page, following each answer's `Link: rel="next"`, and
    /// returns every item as one JSON array.
    pub async fn call_all(&self, path: &str) -> Result<Value, ClientError> {
        let mut all = Vec::new();
        let mut next = Some(path.to_owned());
        while let Some(path) = next.take() {
            let url = format!("{}{path}", self.base);
            let request = self.http.get(&url).bearer_auth(&self.token);
            let (value, link) = self.send_paged(request).await?;
            match value {
                Value::Array(items) => all.extend(items),
                other => {
                    return Err(ClientError::Shape(format!(
                        "a list was expected, not {other}"
                    )));
                }
            }
            next = link;
        }
        Ok(Value::Array(all))
    }

    /// Sends bytes as they are (a patch, say) and returns the JSON answer.
    pub async fn call_bytes(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let request = self
            .http
            .request(method, &url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, ClientError> {
        Ok(self.send_paged(request).await?.0)
    }

    /// Sends a request; returns the JSON answer and the path of the next page, if any.
    async fn send_paged(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(Value, Option<String>), ClientError> {
        let response = request
            .send()
            .await
            .map_err(|source| ClientError::Unreachable {
                url: self.base.clone(),
                source,
            })?;
        let status = response.status();
        let next = response
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
        let text = response
            .text()
            .await
            .map_err(|source| ClientError::Unreachable {
                url: self.base.clone(),
                source,
            })?;
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_success() {
            return Ok((value, next));
        }
        Err(ClientError::Server {
            status,
            message: value
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("the server refused the request")
                .to_owned(),
            missing: value
                .get("missing")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            request_id: value
                .get("request_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

/// The target of `rel="next"` in a `Link` header: a path on this server only.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        (next && target.starts_with('/') && !target.starts_with("//")).then(|| target.to_owned())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_next_page_is_read_from_the_link_header() {
        assert_eq!(
            super::next_link("</api/cases?q=x&cursor=1.2>; rel=\"next\"").as_deref(),
            Some("/api/cases?q=x&cursor=1.2")
        );
        assert_eq!(
            super::next_link("<https://elsewhere/x>; rel=\"next\""),
            None
        );
        assert_eq!(super::next_link("</a>; rel=\"prev\""), None);
    }
}
