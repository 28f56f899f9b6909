//! A deliberately small, plain-HTTP, anonymous implementation of the transport traits over the
//! distribution API (reqwest). It lets the engine's tests run against real registries even when
//! the full client (ferry-registry: auth, TLS, retries, limits) is not the thing under test.

use async_trait::async_trait;
use bytes::Bytes;
use ferry_types::media::MANIFEST_ACCEPT;
use ferry_types::{BlobStream, Digest, Error, ImageDestination, ImageSource, Manifest, Result};
use futures::TryStreamExt;
use reqwest::StatusCode;

pub struct HttpRegistry {
    host: String,
    http: reqwest::Client,
}

impl HttpRegistry {
    pub fn new(host: &str) -> HttpRegistry {
        HttpRegistry {
            host: host.to_string(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/v2/{path}", self.host)
    }

    fn send_err(&self, e: reqwest::Error) -> Error {
        if e.is_connect() {
            Error::Unreachable {
                registry: self.host.clone(),
                detail: e.to_string(),
            }
        } else {
            Error::io(
                format!("{} request", self.host),
                std::io::Error::new(std::io::ErrorKind::ConnectionReset, e.to_string()),
            )
        }
    }

    async fn check(&self, op: &str, r: reqwest::Response) -> Result<reqwest::Response> {
        if r.status().is_success() {
            return Ok(r);
        }
        let status = r.status().as_u16();
        let detail = r.text().await.unwrap_or_default();
        if status == 404 {
            return Err(Error::NotFound {
                what: format!("{}: {op}", self.host),
                hint: Some(detail),
            });
        }
        Err(Error::Registry {
            registry: self.host.clone(),
            operation: op.to_string(),
            status,
            detail,
        })
    }
}

#[async_trait]
impl ImageSource for HttpRegistry {
    fn describe(&self) -> String {
        self.host.clone()
    }

    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<Manifest> {
        let op = format!("GET manifest {repo}:{reference}");
        let r = self
            .http
            .get(self.url(&format!("{repo}/manifests/{reference}")))
            .header("Accept", MANIFEST_ACCEPT)
            .send()
            .await
            .map_err(|e| self.send_err(e))?;
        let r = self.check(&op, r).await?;
        let media_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = r.bytes().await.map_err(|e| self.send_err(e))?;
        Ok(Manifest::new(bytes, media_type))
    }

    async fn get_blob(&self, repo: &str, digest: &Digest) -> Result<(Option<u64>, BlobStream)> {
        let op = format!("GET blob {repo}@{digest}");
        let r = self
            .http
            .get(self.url(&format!("{repo}/blobs/{digest}")))
            .send()
            .await
            .map_err(|e| self.send_err(e))?;
        let r = self.check(&op, r).await?;
        let len = r.content_length();
        let stream = r
            .bytes_stream()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::ConnectionReset, e.to_string()));
        Ok((len, Box::pin(stream)))
    }
}

#[async_trait]
impl ImageDestination for HttpRegistry {
    fn describe(&self) -> String {
        self.host.clone()
    }

    async fn has_blob(&self, repo: &str, digest: &Digest) -> Result<bool> {
        let r = self
            .http
            .head(self.url(&format!("{repo}/blobs/{digest}")))
            .send()
            .await
            .map_err(|e| self.send_err(e))?;
        match r.status() {
            StatusCode::NOT_FOUND => Ok(false),
            _ => self.check(&format!("HEAD blob {repo}@{digest}"), r).await.map(|_| true),
        }
    }

    async fn mount_blob(&self, repo: &str, from_repo: &str, digest: &Digest) -> Result<bool> {
        let r = self
            .http
            .post(self.url(&format!("{repo}/blobs/uploads/?mount={digest}&from={from_repo}")))
            .send()
            .await
            .map_err(|e| self.send_err(e))?;
        Ok(r.status() == StatusCode::CREATED)
    }

    async fn put_blob(&self, repo: &str, digest: &Digest, size: Option<u64>, body: BlobStream) -> Result<()> {
        let op = format!("upload blob {repo}@{digest}");
        let r = self
            .http
            .post(self.url(&format!("{repo}/blobs/uploads/")))
            .send()
            .await
            .map_err(|e| self.send_err(e))?;
        let r = self.check(&op, r).await?;
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let loc = if loc.starts_with("http") {
            loc
        } else {
            format!("http://{}{loc}", self.host)
        };
        let sep = if loc.contains('?') { '&' } else { '?' };
        let mut req = self
            .http
            .put(format!("{loc}{sep}digest={digest}"))
            .header("Content-Type", "application/octet-stream")
            .body(reqwest::Body::wrap_stream(body));
        if let Some(n) = size {
            req = req.header("Content-Length", n);
        }
        let r = req.send().await.map_err(|e| self.send_err(e))?;
        self.check(&op, r).await.map(|_| ())
    }

    async fn manifest_digest(&self, repo: &str, reference: &str) -> Result<Option<Digest>> {
        let r = self
            .http
            .head(self.url(&format!("{repo}/manifests/{reference}")))
            .header("Accept", MANIFEST_ACCEPT)
            .send()
            .await
            .map_err(|e| self.send_err(e))?;
        if r.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let r = self.check(&format!("HEAD manifest {repo}:{reference}"), r).await?;
        let d = r
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        Ok(Digest::parse(d).ok())
    }

    async fn put_manifest(&self, repo: &str, reference: &str, manifest: &Manifest) -> Result<()> {
        let r = self
            .http
            .put(self.url(&format!("{repo}/manifests/{reference}")))
            .header("Content-Type", &manifest.media_type)
            .body(Bytes::clone(&manifest.bytes))
            .send()
            .await
            .map_err(|e| self.send_err(e))?;
        self.check(&format!("PUT manifest {repo}:{reference}"), r)
            .await
            .map(|_| ())
    }
}
