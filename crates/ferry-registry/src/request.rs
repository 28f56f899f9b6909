//! One request with auth, challenge handling and retries (the crate docs give the retry
//! contract), and reading bounded response bodies.

use crate::auth::parse_challenge;
use crate::client::{Host, RegistryClient};
use crate::errors::map_send_error;
use bytes::Bytes;
use ferry_types::{BlobStream, Error, Result};
use futures::StreamExt as _;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use std::time::Duration;

/// Body of one request attempt.
pub(crate) enum ReqBody {
    Empty,
    Bytes(Bytes),
    /// Consumed by the first attempt: never retried.
    Stream(Option<BlobStream>),
}

pub(crate) struct Req<'a> {
    pub(crate) method: Method,
    pub(crate) url: String,
    /// Repository for credential lookup and scopes (`None` for `/v2/`).
    pub(crate) repo: Option<&'a str>,
    pub(crate) scopes: Vec<String>,
    pub(crate) headers: Vec<(reqwest::header::HeaderName, HeaderValue)>,
    pub(crate) body: ReqBody,
    /// Operation name for error messages (`GET manifest ns/app:v1`).
    pub(crate) op: String,
}

impl<'a> Req<'a> {
    pub(crate) fn new(method: Method, url: String, repo: Option<&'a str>, op: impl Into<String>) -> Self {
        let scopes = match repo {
            Some(r) => vec![scope_for(r, &method)],
            None => vec![],
        };
        Req {
            method,
            url,
            repo,
            scopes,
            headers: vec![],
            body: ReqBody::Empty,
            op: op.into(),
        }
    }

    pub(crate) fn header(mut self, name: reqwest::header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }
}

pub(crate) fn scope_for(repo: &str, method: &Method) -> String {
    match *method {
        Method::GET | Method::HEAD => format!("repository:{repo}:pull"),
        Method::DELETE => format!("repository:{repo}:delete"),
        _ => format!("repository:{repo}:pull,push"),
    }
}

fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

impl RegistryClient {
    /// Sends a request with auth, challenge handling and retries. Returns the response whatever
    /// its status except 401 (→ [`Error::Unauthorized`]); 5xx/429 only after retries ran out.
    pub(crate) async fn send(&self, host: &Host, mut req: Req<'_>) -> Result<reqwest::Response> {
        let opts = &self.inner.opts;
        let mut attempt = 0u32;
        let mut reauthed = false;
        loop {
            let auth = self.authorization(host, req.repo, &req.scopes).await?;
            let mut rb = host.http.request(req.method.clone(), &req.url);
            for (k, v) in &req.headers {
                rb = rb.header(k, v);
            }
            if let Some(a) = &auth {
                let mut v = HeaderValue::from_str(a).map_err(|_| Error::Internal("unusable credential".into()))?;
                v.set_sensitive(true);
                rb = rb.header(AUTHORIZATION, v);
            }
            let replayable = !matches!(req.body, ReqBody::Stream(_));
            rb = match &mut req.body {
                ReqBody::Empty => rb,
                ReqBody::Bytes(b) => rb.body(b.clone()),
                ReqBody::Stream(s) => match s.take() {
                    Some(s) => rb.body(reqwest::Body::wrap_stream(s)),
                    None => return Err(Error::Internal(format!("{}: body already consumed", req.op))),
                },
            };
            let result = crate::retry_conn::send(self, host, rb).await;
            let resp = match result {
                Ok(r) => r,
                Err(e) => {
                    let err = map_send_error(&host.name, e);
                    if replayable && err.is_transient() && attempt < opts.retries {
                        let d = ferry_types::backoff::delay(opts.retry_base_delay, attempt, None);
                        tracing::debug!(registry = %host.name, op = %req.op, error = %err, "retrying in {d:?}");
                        tokio::time::sleep(d).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(err);
                }
            };
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED {
                let challenge = resp
                    .headers()
                    .get_all(WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find_map(parse_challenge);
                if !reauthed && replayable {
                    if let Some(c) = challenge {
                        let mut a = host.auth.lock().unwrap();
                        // A fresh challenge, or a rejected token (expired/revoked): start over.
                        a.tokens.clear();
                        a.challenge = Some(c);
                        drop(a);
                        reauthed = true;
                        continue;
                    }
                }
                return Err(Error::Unauthorized {
                    registry: host.name.clone(),
                    tried: self.tried(host, req.repo),
                });
            }
            if (status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS)
                && replayable
                && attempt < opts.retries
            {
                let d = ferry_types::backoff::delay(opts.retry_base_delay, attempt, retry_after(&resp));
                tracing::debug!(registry = %host.name, op = %req.op, %status, "retrying in {d:?}");
                tokio::time::sleep(d).await;
                attempt += 1;
                continue;
            }
            return Ok(resp);
        }
    }
}

/// `Content-Type` without parameters.
pub(crate) fn content_type(resp: &reqwest::Response) -> Option<String> {
    let v = resp.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    Some(v.split(';').next().unwrap_or("").trim().to_string()).filter(|s| !s.is_empty())
}

pub(crate) async fn read_limited(host: &str, op: &str, resp: reqwest::Response, limit: usize) -> Result<Bytes> {
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| map_send_error(host, e))?;
        if out.len() + chunk.len() > limit {
            return Err(Error::Registry {
                registry: host.to_string(),
                operation: op.to_string(),
                status: 200,
                detail: format!("response larger than {limit} bytes; refusing it"),
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}
