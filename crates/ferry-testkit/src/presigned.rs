//! A loopback HTTP front for a real docker-registry that answers every blob GET the way
//! registries backed by S3 or a CDN do: `307 Temporary Redirect` to a storage URL carrying a
//! pre-signed query (`?X-Amz-Credential=…&X-Amz-Signature=<secret>`). The storage end then
//! fails the download (the connection is dropped without an answer), so the client's errors,
//! retries and logs all meet the signed URL: tests check that the secret never leaves.
//! Everything else (the `/v2/` ping, manifests, HEADs) is forwarded to the registry as is.

use crate::httpd::{Httpd, Response};
use crate::RegistryServer;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct PresignedFront {
    pub httpd: Httpd,
    /// Requests the storage end received (each followed a redirect).
    pub store_hits: Arc<AtomicUsize>,
}

impl PresignedFront {
    /// Start the front for `registry`; `secret` goes into the signed query of every redirect.
    pub async fn start(registry: &RegistryServer, secret: &str) -> PresignedFront {
        let base = registry.base_url();
        let hits = Arc::new(AtomicUsize::new(0));
        let (secret, h) = (secret.to_string(), hits.clone());
        // The front's own port is only known once it listens; the handler reads it from here.
        let port = Arc::new(std::sync::OnceLock::<u16>::new());
        let port_in = port.clone();
        let http = reqwest::Client::new();
        let httpd = Httpd::start(move |req| {
            let (base, secret, hits, port, http) = (base.clone(), secret.clone(), h.clone(), port_in.clone(), http.clone());
            async move {
                if req.target.starts_with("/_store/") {
                    hits.fetch_add(1, Ordering::SeqCst);
                    return Response::new(0, "");
                }
                if req.method == "GET" && req.target.contains("/blobs/sha256:") {
                    let digest = req.target.rsplit('/').next().unwrap_or_default().to_string();
                    let p = port.get().copied().unwrap_or(0);
                    let loc = format!(
                        "http://127.0.0.1:{p}/_store/{digest}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={secret}%2F20261201%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Expires=1200&X-Amz-Signature={secret}"
                    );
                    return Response::new(307, "").header("Location", &loc);
                }
                let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
                let mut r = http.request(method, format!("{base}{}", req.target));
                for k in ["accept", "content-type"] {
                    if let Some(v) = req.headers.get(k) {
                        r = r.header(k, v);
                    }
                }
                let Ok(resp) = r.body(req.body).send().await else {
                    return Response::new(502, "registry unreachable");
                };
                let status = resp.status().as_u16();
                let keep: Vec<(String, String)> = ["content-type", "docker-content-digest", "docker-distribution-api-version"]
                    .iter()
                    .filter_map(|k| {
                        resp.headers()
                            .get(*k)
                            .and_then(|v| v.to_str().ok())
                            .map(|v| (k.to_string(), v.to_string()))
                    })
                    .collect();
                let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                let mut out = Response::bytes(status, body);
                for (k, v) in keep {
                    out = out.header(&k, &v);
                }
                out
            }
        })
        .await;
        let _ = port.set(httpd.port);
        PresignedFront {
            httpd,
            store_hits: hits,
        }
    }

    /// `127.0.0.1:<port>`: the registry host to mirror from.
    pub fn host(&self) -> String {
        self.httpd.host()
    }
}
