//! Manifests: GET (verified against a digest reference), HEAD for the digest, PUT, DELETE.

use crate::client::{Host, Registry};
use crate::errors::status_error;
use crate::request::{content_type, read_limited, Req, ReqBody};
use crate::MAX_MANIFEST_BYTES;
use ferry_types::media::{self, ManifestView};
use ferry_types::{Digest, Error, Manifest, Result};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};

pub(crate) fn manifest_name(host: &str, repo: &str, reference: &str) -> String {
    if reference.contains(':') {
        format!("manifest {host}/{repo}@{reference}")
    } else {
        format!("manifest {host}/{repo}:{reference}")
    }
}

impl Registry {
    /// `DELETE /v2/<repo>/manifests/<digest>`: `Ok(true)` when deleted, `Ok(false)` when the
    /// registry no longer had it (404 counts as done: Quay's GC removes list children first, and
    /// a rerun after an interrupted prune meets the ones already gone). Tags pointing at the
    /// digest go with it; blobs are left to the registry's garbage collector. 405 (deletion
    /// disabled) and 401/403 (no delete rights) are explained with what to change.
    pub async fn delete_manifest(&self, repo: &str, digest: &Digest) -> Result<bool> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let what = manifest_name(&h.name, repo, &digest.to_string());
        let op = format!("DELETE {what}");
        let path = format!("{repo}/manifests/{digest}");
        let resp = match self.call(&h, Method::DELETE, &path, Some(repo), &op).await {
            Ok(r) => r,
            Err(Error::Unauthorized { registry, tried }) => {
                return Err(Error::Registry {
                    registry,
                    operation: op,
                    status: 401,
                    detail: format!(
                        "unauthorized image deletion (credentials tried: {tried}): the account needs delete rights \
                         on {repo} (Quay: admin on the repository; Harbor: maintainer or project admin; a token \
                         server must grant the \"delete\" action), or run without --prune to keep the images"
                    ),
                })
            }
            Err(e) => return Err(e),
        };
        if resp.status().is_success() || resp.status() == StatusCode::NOT_FOUND {
            self.client.inner.manifests.remove(&h.name, repo, digest);
        }
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            StatusCode::METHOD_NOT_ALLOWED => Err(Error::Registry {
                registry: h.name.clone(),
                operation: op,
                status: 405,
                detail: "image deletion is not permitted on this registry: enable it (registry:2 / distribution: \
                         REGISTRY_STORAGE_DELETE_ENABLED=true, or storage.delete.enabled: true in its config) or \
                         run without --prune to keep the images"
                    .into(),
            }),
            StatusCode::FORBIDDEN => Err(Error::Denied {
                registry: h.name.clone(),
                repository: repo.to_string(),
                action: "delete".into(),
            }),
            _ => Err(status_error(&h.name, &op, Some((repo, "delete")), resp).await),
        }
    }

    async fn fetch_manifest(&self, h: &Host, repo: &str, reference: &str, method: Method) -> Result<reqwest::Response> {
        let what = manifest_name(&h.name, repo, reference);
        let op = format!("{method} {what}");
        let req = Req::new(
            method,
            self.url(h, &format!("{repo}/manifests/{reference}")),
            Some(repo),
            &op,
        )
        .header(ACCEPT, media::MANIFEST_ACCEPT);
        self.client.send(h, req).await
    }

    pub(crate) async fn manifest_get(&self, repo: &str, reference: &str) -> Result<Manifest> {
        let h = self.client.host(&self.host)?;
        if let Some(m) = self.client.inner.manifests.get(&h.name, repo, reference) {
            return Ok(m);
        }
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let what = manifest_name(&h.name, repo, reference);
        let resp = self.fetch_manifest(&h, repo, reference, Method::GET).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound {
                what,
                hint: Some("check the repository and tag (or digest) exist on the registry".into()),
            });
        }
        if !resp.status().is_success() {
            return Err(status_error(&h.name, &format!("GET {what}"), Some((repo, "pull")), resp).await);
        }
        let announced = content_type(&resp);
        let bytes = read_limited(&h.name, &format!("GET {what}"), resp, MAX_MANIFEST_BYTES).await?;
        let view = ManifestView::parse(&bytes).map_err(|e| Error::Registry {
            registry: h.name.clone(),
            operation: format!("GET {what}"),
            status: 200,
            detail: format!("the manifest is not valid JSON: {e}"),
        })?;
        let media_type = match announced.as_deref() {
            Some(ct) if ct != "application/json" && ct != "text/plain" && ct != "application/octet-stream" => {
                ct.to_string()
            }
            _ if view.schema_version == 1 => media::DOCKER_V2S1_SIGNED.to_string(),
            _ => view.effective_media_type("").to_string(),
        };
        let manifest = Manifest::new(bytes, media_type);
        if let Ok(expected) = Digest::parse(reference) {
            if manifest.digest != expected {
                return Err(Error::DigestMismatch {
                    what,
                    expected: expected.to_string(),
                    actual: manifest.digest.to_string(),
                });
            }
        }
        self.client.inner.manifests.put(&h.name, repo, &manifest);
        Ok(manifest)
    }

    pub(crate) async fn manifest_head_digest(&self, repo: &str, reference: &str) -> Result<Option<Digest>> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let what = manifest_name(&h.name, repo, reference);
        let resp = self.fetch_manifest(&h, repo, reference, Method::HEAD).await?;
        match resp.status() {
            StatusCode::NOT_FOUND => return Ok(None),
            s if s.is_success() => {
                if let Some(d) = resp
                    .headers()
                    .get("docker-content-digest")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| Digest::parse(v.trim()).ok())
                {
                    return Ok(Some(d));
                }
            }
            _ => return Err(status_error(&h.name, &format!("HEAD {what}"), Some((repo, "pull")), resp).await),
        }
        // No Docker-Content-Digest: hash the manifest itself.
        let resp = self.fetch_manifest(&h, repo, reference, Method::GET).await?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => {
                let bytes = read_limited(&h.name, &format!("GET {what}"), resp, MAX_MANIFEST_BYTES).await?;
                Ok(Some(Digest::of(&bytes)))
            }
            _ => Err(status_error(&h.name, &format!("GET {what}"), Some((repo, "pull")), resp).await),
        }
    }

    pub(crate) async fn manifest_put(&self, repo: &str, reference: &str, manifest: &Manifest) -> Result<()> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let what = manifest_name(&h.name, repo, reference);
        let op = format!("PUT {what}");
        let mut req = Req::new(
            Method::PUT,
            self.url(&h, &format!("{repo}/manifests/{reference}")),
            Some(repo),
            &op,
        )
        .header(CONTENT_TYPE, &manifest.media_type);
        req.body = ReqBody::Bytes(manifest.bytes.clone());
        let resp = self.client.send(&h, req).await?;
        if !resp.status().is_success() {
            return Err(status_error(&h.name, &op, Some((repo, "push")), resp).await);
        }
        if let Some(d) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v.trim()).ok())
        {
            if d != manifest.digest {
                return Err(Error::DigestMismatch {
                    what,
                    expected: manifest.digest.to_string(),
                    actual: format!("{d} (the registry rewrote the manifest)"),
                });
            }
        }
        // What we pushed is what the registry now serves by digest (metadata steps read it back).
        self.client.inner.manifests.put(&h.name, repo, manifest);
        Ok(())
    }
}
