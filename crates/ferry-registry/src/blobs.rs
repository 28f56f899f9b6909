//! Blobs: streaming downloads (the download slot is held while the body streams; big blobs by
//! ranges, see `ranged`), existence
//! checks, cross-repository mounts and streaming uploads.

use crate::client::Registry;
use crate::errors::{self, status_error};
use crate::request::{Req, ReqBody};
use ferry_types::{BlobStream, Digest, Error, Result};
use futures::StreamExt as _;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Method, StatusCode};

impl Registry {
    pub(crate) async fn blob_get(&self, repo: &str, digest: &Digest) -> Result<(Option<u64>, BlobStream)> {
        let h = self.client.host(&self.host)?;
        // Held until the returned stream is dropped.
        let mut slot = h
            .download_slots
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore closed");
        let what = format!("blob {digest} in {}/{repo}", h.name);
        let op = format!("GET {what}");
        let mut resp = self
            .call(&h, Method::GET, &format!("{repo}/blobs/{digest}"), Some(repo), &op)
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound { what, hint: None });
        }
        if !resp.status().is_success() {
            return Err(status_error(&h.name, &op, Some((repo, "pull")), resp).await);
        }
        // A big blob continues as a ranged download when the registry offers ranges.
        if let Some(total) = crate::ranged::wants_ranges(&self.client.inner.opts.ranged, &resp) {
            match crate::ranged::start(self, h.clone(), repo, digest, total, resp, slot) {
                Ok(stream) => return Ok((Some(total), stream)),
                Err(back) => (resp, slot) = *back,
            }
        }
        let size = resp.content_length();
        let host = h.name.clone();
        let d = digest.clone();
        let stream = resp.bytes_stream().map(move |r| {
            let _held = &slot;
            r.map_err(|e| {
                let kind = if e.is_timeout() {
                    std::io::ErrorKind::TimedOut
                } else {
                    std::io::ErrorKind::ConnectionReset
                };
                std::io::Error::new(kind, format!("{host}: reading blob {d}: {}", errors::chain(&e)))
            })
        });
        Ok((size, Box::pin(stream)))
    }

    pub(crate) async fn blob_exists(&self, repo: &str, digest: &Digest) -> Result<bool> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let op = format!("HEAD blob {digest} in {}/{repo}", h.name);
        let resp = self
            .call(&h, Method::HEAD, &format!("{repo}/blobs/{digest}"), Some(repo), &op)
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(status_error(&h.name, &op, Some((repo, "pull")), resp).await),
        }
    }

    pub(crate) async fn blob_mount(&self, repo: &str, from_repo: &str, digest: &Digest) -> Result<bool> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let op = format!("mount blob {digest} from {from_repo} into {}/{repo}", h.name);
        let mut url = url::Url::parse(&self.url(&h, &format!("{repo}/blobs/uploads/")))
            .map_err(|e| Error::Internal(format!("{op}: {e}")))?;
        url.query_pairs_mut()
            .append_pair("mount", &digest.to_string())
            .append_pair("from", from_repo);
        let mut req = Req::new(Method::POST, url.to_string(), Some(repo), &op);
        req.scopes.push(format!("repository:{from_repo}:pull"));
        let resp = self.client.send(&h, req).await?;
        match resp.status() {
            StatusCode::CREATED => Ok(true),
            StatusCode::ACCEPTED => {
                // Not mounted (unknown blob or not allowed in from_repo): drop the session the
                // registry opened instead.
                self.cancel_upload(&h, repo, &resp).await;
                Ok(false)
            }
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => Ok(false),
            _ => Err(status_error(&h.name, &op, Some((repo, "push")), resp).await),
        }
    }

    /// Uploads a blob: `POST` an upload session, then one streaming `PUT ?digest=`. The body is
    /// consumed, so this is never retried here (see the crate docs): on error the caller reopens
    /// the source and calls again.
    pub(crate) async fn blob_put(
        &self,
        repo: &str,
        digest: &Digest,
        size: Option<u64>,
        body: BlobStream,
    ) -> Result<()> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let op = format!("upload blob {digest} to {}/{repo}", h.name);
        let resp = self
            .call(&h, Method::POST, &format!("{repo}/blobs/uploads/"), Some(repo), &op)
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(status_error(&h.name, &op, Some((repo, "push")), resp).await);
        }
        let loc = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::Registry {
                registry: h.name.clone(),
                operation: op.clone(),
                status: 202,
                detail: "the registry opened an upload without a Location header".into(),
            })?
            .to_string();
        let mut url = url::Url::parse(&h.base)
            .and_then(|b| b.join(&loc))
            .map_err(|e| Error::Internal(format!("{op}: bad upload location {loc:?}: {e}")))?;
        url.query_pairs_mut().append_pair("digest", &digest.to_string());
        let mut req =
            Req::new(Method::PUT, url.to_string(), Some(repo), &op).header(CONTENT_TYPE, "application/octet-stream");
        if let Some(n) = size {
            req = req.header(CONTENT_LENGTH, &n.to_string());
        }
        req.body = ReqBody::Stream(Some(body));
        let put = match self.client.send(&h, req).await {
            Ok(r) => r,
            Err(e) => {
                self.cancel_upload(&h, repo, &resp).await;
                return Err(e);
            }
        };
        match put.status() {
            StatusCode::CREATED | StatusCode::NO_CONTENT | StatusCode::OK => Ok(()),
            StatusCode::BAD_REQUEST => {
                let err = status_error(&h.name, &op, Some((repo, "push")), put).await;
                match &err {
                    Error::Registry { detail, .. } if detail.contains("DIGEST_INVALID") => Err(Error::DigestMismatch {
                        what: format!("blob uploaded to {}/{repo}", h.name),
                        expected: digest.to_string(),
                        actual: "different content (the registry rejected the digest)".into(),
                    }),
                    _ => Err(err),
                }
            }
            _ => Err(status_error(&h.name, &op, Some((repo, "push")), put).await),
        }
    }
}
