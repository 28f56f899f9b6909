//! The Cincinnati `/graph` client.
//!
//! `GET <upstream>?channel=<c>&arch=<a>&id=<uuid>` with `Accept: application/json`. The query is
//! built once per request on a copy of the upstream URL, so no parameter is ever sent twice
//! (oc-mirror v1 kept `Add`-ing to one URL). One random `id` per client (per run). Graphs are
//! cached per (upstream, channel, arch) for the client's life. Proxy settings come from the
//! environment (reqwest's system proxy: `HTTPS_PROXY`, `NO_PROXY`…), and the registry trust
//! settings (extra CA bundle, skip-verify) apply here too.
//!
//! OKD: oc-mirror v1 sends no query at all to the OKD upstream, so the channel is only a label;
//! Ferry sends `channel` and `arch` to it as well (the origin release controller's `/graph`
//! filters by them), which is what makes `ferry list releases` work for OKD.

use crate::chain::GraphSource;
use crate::graph::Graph;
use async_trait::async_trait;
use ferry_types::{Error, Result};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Red Hat's OpenShift update service.
pub const OCP_GRAPH_URL: &str = "https://api.openshift.com/api/upgrades_info/v1/graph";
/// The OKD release controller's graph.
pub const OKD_GRAPH_URL: &str = "https://origin-release.ci.openshift.org/graph";
/// Replaces both upstreams (as in oc-mirror).
pub const UPDATE_URL_OVERRIDE: &str = "UPDATE_URL_OVERRIDE";

/// TLS trust and timeouts for the update service and the signature stores.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// Extra CA certificates (PEM), as `--ca-bundle` for registries.
    pub ca_bundle: Option<PathBuf>,
    pub skip_verify: bool,
}

/// Build the HTTP client: system proxy from the environment, extra CAs, skip-verify.
pub fn http_client(opts: &HttpOptions) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("ferry/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .timeout(Duration::from_secs(600));
    if let Some(ca) = &opts.ca_bundle {
        let pem = std::fs::read(ca).map_err(|e| Error::io(format!("CA bundle {}", ca.display()), e))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            Error::InvalidConfig(format!(
                "CA bundle {}: not a PEM certificate file ({e}); pass a file with -----BEGIN CERTIFICATE----- blocks",
                ca.display()
            ))
        })?;
        b = b.tls_certs_merge(certs);
    }
    if opts.skip_verify {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    b.build()
        .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))
}

/// Map a transport error of a plain HTTP GET to Ferry's error, naming the service and URL.
pub(crate) fn request_error(service: &str, url: &Url, e: reqwest::Error) -> Error {
    let host = url.host_str().unwrap_or("?").to_string();
    let detail = format!("{e} (GET {url})");
    let chain = format!("{e:?}").to_lowercase();
    if chain.contains("certificate") || chain.contains("tls") || chain.contains("ssl") {
        Error::Tls {
            registry: format!("{service} {host}"),
            detail,
        }
    } else {
        Error::Unreachable {
            registry: format!("{service} {host}"),
            detail,
        }
    }
}

/// The update-graph client of one run.
pub struct GraphClient {
    http: reqwest::Client,
    ocp: Url,
    okd: Url,
    id: String,
    cache: tokio::sync::Mutex<HashMap<(String, String, String), Arc<Graph>>>,
    /// How many HTTP requests were made (the cache makes repeated channels free).
    requests: std::sync::atomic::AtomicUsize,
}

fn parse_url(s: &str, what: &str) -> Result<Url> {
    Url::parse(s).map_err(|e| Error::InvalidConfig(format!("{what} {s:?} is not a URL: {e}")))
}

impl GraphClient {
    /// The default upstreams, or `UPDATE_URL_OVERRIDE` for both when set.
    pub fn new(opts: &HttpOptions) -> Result<Self> {
        match std::env::var(UPDATE_URL_OVERRIDE) {
            Ok(u) if !u.is_empty() => Self::with_upstreams(opts, &u, &u),
            _ => Self::with_upstreams(opts, OCP_GRAPH_URL, OKD_GRAPH_URL),
        }
    }

    pub fn with_upstreams(opts: &HttpOptions, ocp: &str, okd: &str) -> Result<Self> {
        Ok(GraphClient {
            http: http_client(opts)?,
            ocp: parse_url(ocp, "update service URL")?,
            okd: parse_url(okd, "OKD update service URL")?,
            id: uuid::Uuid::new_v4().to_string(),
            cache: Default::default(),
            requests: Default::default(),
        })
    }

    pub fn upstream(&self, okd: bool) -> &Url {
        if okd {
            &self.okd
        } else {
            &self.ocp
        }
    }

    /// Requests sent so far.
    pub fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The request URL: the upstream's own query kept, ours set exactly once.
    pub fn query_url(&self, okd: bool, channel: &str, arch: &str) -> Url {
        let mut u = self.upstream(okd).clone();
        let keep: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| !matches!(k.as_ref(), "channel" | "arch" | "id"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        {
            let mut q = u.query_pairs_mut();
            q.clear();
            for (k, v) in &keep {
                q.append_pair(k, v);
            }
            q.append_pair("channel", channel).append_pair("arch", arch);
            if !okd {
                q.append_pair("id", &self.id);
            }
        }
        u
    }

    /// The graph of one channel and architecture (cached).
    pub async fn fetch(&self, okd: bool, channel: &str, arch: &str) -> Result<Arc<Graph>> {
        let key = (self.upstream(okd).to_string(), channel.to_string(), arch.to_string());
        let mut cache = self.cache.lock().await;
        if let Some(g) = cache.get(&key) {
            return Ok(g.clone());
        }
        let url = self.query_url(okd, channel, arch);
        self.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let resp = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| request_error("update service", &url, e))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| request_error("update service", &url, e))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).trim().to_string();
            return Err(Error::Registry {
                registry: format!("update service {}", url.host_str().unwrap_or("?")),
                operation: format!("reading the graph of channel {channel} for architecture {arch} (GET {url})"),
                status: status.as_u16(),
                detail: if text.is_empty() { "no details".into() } else { text },
            });
        }
        let g = Arc::new(Graph::parse(&body, channel, arch)?);
        cache.insert(key, g.clone());
        Ok(g)
    }
}

#[async_trait]
impl GraphSource for GraphClient {
    async fn graph(&self, okd: bool, channel: &str, arch: &str) -> Result<Arc<Graph>> {
        self.fetch(okd, channel, arch).await
    }
}
