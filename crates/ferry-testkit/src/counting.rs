//! A loopback HTTP front for a real docker-registry that forwards every request and records it
//! (method and target), so tests can count what a run asked the registry: how often each
//! manifest was fetched, which blobs were mounted and which uploaded. Upload `Location` headers
//! are rewritten to point at the front, so the `PUT` of an upload is seen too.

use crate::httpd::{Httpd, Response};
use crate::RegistryServer;
use std::sync::{Arc, Mutex};

/// One request the front forwarded: method, path with query, and the registry's answer.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub status: u16,
}

pub struct CountingFront {
    pub httpd: Httpd,
    pub log: Arc<Mutex<Vec<Seen>>>,
}

impl CountingFront {
    /// Start the front for a plain-HTTP `registry`.
    pub async fn start(registry: &RegistryServer) -> CountingFront {
        let base = registry.base_url();
        let log = Arc::new(Mutex::new(Vec::new()));
        let port = Arc::new(std::sync::OnceLock::<u16>::new());
        let (log_in, port_in) = (log.clone(), port.clone());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let httpd = Httpd::start(move |req| {
            let (base, log, port, http) = (base.clone(), log_in.clone(), port_in.clone(), http.clone());
            async move {
                let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
                let mut r = http.request(method, format!("{base}{}", req.target));
                for (k, v) in &req.headers {
                    if !matches!(
                        k.as_str(),
                        "host" | "content-length" | "connection" | "transfer-encoding"
                    ) {
                        r = r.header(k, v);
                    }
                }
                let Ok(resp) = r.body(req.body).send().await else {
                    return Response::new(502, "registry unreachable");
                };
                let status = resp.status().as_u16();
                log.lock().unwrap().push(Seen {
                    method: req.method.clone(),
                    target: req.target.clone(),
                    status,
                });
                let front = format!("http://127.0.0.1:{}", port.get().copied().unwrap_or(0));
                let headers: Vec<(String, String)> = resp
                    .headers()
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "content-length" | "connection" | "transfer-encoding"))
                    .filter_map(|(k, v)| {
                        let v = v.to_str().ok()?;
                        let v = if k.as_str() == "location" {
                            v.replace(&base, &front)
                        } else {
                            v.to_string()
                        };
                        Some((k.to_string(), v))
                    })
                    .collect();
                let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                let mut out = Response::bytes(status, body);
                for (k, v) in headers {
                    out = out.header(&k, &v);
                }
                out
            }
        })
        .await;
        let _ = port.set(httpd.port);
        CountingFront { httpd, log }
    }

    /// `127.0.0.1:<port>`: the registry host to use in references.
    pub fn host(&self) -> String {
        self.httpd.host()
    }

    /// Every request recorded so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    /// Forget what was recorded (between the steps of a test).
    pub fn reset(&self) {
        self.log.lock().unwrap().clear();
    }

    /// `GET` requests for manifests, per path (`/v2/<repo>/manifests/<ref>`), in first-seen order.
    pub fn manifest_gets(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for s in self.seen() {
            if s.method == "GET" && s.target.contains("/manifests/") {
                match out.iter_mut().find(|(t, _)| *t == s.target) {
                    Some((_, n)) => *n += 1,
                    None => out.push((s.target.clone(), 1)),
                }
            }
        }
        out
    }

    /// Cross-repository mounts the registry answered `201 Created` (done), as `(repo, digest, from)`.
    pub fn mounts(&self) -> Vec<(String, String, String)> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == "POST" && s.status == 201 && s.target.contains("mount="))
            .filter_map(|s| {
                let (path, query) = s.target.split_once('?')?;
                let repo = path.strip_prefix("/v2/")?.strip_suffix("/blobs/uploads/")?.to_string();
                let q: std::collections::HashMap<String, String> = url_pairs(query);
                Some((repo, q.get("mount")?.clone(), q.get("from")?.clone()))
            })
            .collect()
    }

    /// Digests uploaded with a `PUT ...?digest=` (monolithic or final chunk), as `(repo, digest)`.
    pub fn uploads(&self) -> Vec<(String, String)> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == "PUT" && s.target.contains("/blobs/uploads/"))
            .filter_map(|s| {
                let (path, query) = s.target.split_once('?')?;
                let repo = path.strip_prefix("/v2/")?.split("/blobs/uploads/").next()?.to_string();
                Some((repo, url_pairs(query).get("digest")?.clone()))
            })
            .collect()
    }
}

fn url_pairs(query: &str) -> std::collections::HashMap<String, String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            (
                k.to_string(),
                v.replace("%3A", ":")
                    .replace("%3a", ":")
                    .replace("%2F", "/")
                    .replace("%2f", "/"),
            )
        })
        .collect()
}
