//! The client of a run and its per-host state: one HTTP client per host (with that host's TLS
//! policy), the concurrency bounds and the auth state.

use crate::auth::{Challenge, TokenCache};
use crate::{ClientOptions, TlsPolicy};
use ferry_auth::{CredentialResolver, ResolvedCredential};
use ferry_types::{Digest, Error, Result};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Per-host state: HTTP client, concurrency bound, what the host asked for, tokens.
pub(crate) struct Host {
    pub(crate) name: String,
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    /// Everything except blob downloads; an upload holds one for its whole body.
    pub(crate) slots: Arc<Semaphore>,
    /// Blob downloads (held while the body streams). Separate from `slots` so that copying
    /// between two repositories of the same registry cannot deadlock: a task holding a download
    /// slot can always get an upload slot.
    pub(crate) download_slots: Arc<Semaphore>,
    /// Blobs downloaded by ranges at once (`ranged`), bounding their memory.
    pub(crate) ranged_blobs: Arc<Semaphore>,
    pub(crate) auth: Mutex<HostAuth>,
    pub(crate) conn: crate::retry_conn::HostConn,
}

#[derive(Default)]
pub(crate) struct HostAuth {
    pub(crate) challenge: Option<Challenge>,
    pub(crate) tokens: TokenCache,
    /// Credentials per repository (helpers may spawn processes: ask once).
    pub(crate) creds: HashMap<String, Option<ResolvedCredential>>,
    pub(crate) logged_sources: HashSet<String>,
}

pub(crate) struct Inner {
    pub(crate) creds: Arc<dyn CredentialResolver>,
    pub(crate) opts: ClientOptions,
    pub(crate) hosts: Mutex<HashMap<String, Arc<Host>>>,
    /// Manifests by digest, so a run reads each one once (see `manifest_cache`).
    pub(crate) manifests: crate::manifest_cache::ManifestCache,
}

/// The registry client of a run. Cheap to clone.
#[derive(Clone)]
pub struct RegistryClient {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("opts", &self.inner.opts)
            .finish()
    }
}

/// A handle on one registry host; implements [`ImageSource`] and [`ImageDestination`].
#[derive(Clone)]
pub struct Registry {
    pub(crate) client: RegistryClient,
    pub(crate) host: String,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Registry({})", self.host)
    }
}

/// Docker Hub's API lives on another name than its references.
fn api_host(host: &str) -> &str {
    match host {
        "docker.io" | "index.docker.io" => "registry-1.docker.io",
        h => h,
    }
}

fn read_ca_bundle(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).map_err(|e| Error::io(format!("CA bundle {}", path.display()), e))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        Error::InvalidConfig(format!(
            "CA bundle {}: not a PEM certificate file ({e}); pass a file with -----BEGIN CERTIFICATE----- blocks",
            path.display()
        ))
    })?;
    if certs.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "CA bundle {}: no PEM certificates found; pass a file with -----BEGIN CERTIFICATE----- blocks",
            path.display()
        )));
    }
    Ok(certs)
}

fn build_http(opts: &ClientOptions, policy: &TlsPolicy) -> Result<reqwest::Client> {
    http_builder(opts, policy)?
        .build()
        .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))
}

/// The HTTP client settings of a host (`retry_conn` adds one that keeps no idle connection).
pub(crate) fn http_builder(opts: &ClientOptions, policy: &TlsPolicy) -> Result<reqwest::ClientBuilder> {
    let mut b = reqwest::Client::builder()
        .user_agent(opts.user_agent.clone())
        .connect_timeout(opts.connect_timeout)
        .read_timeout(opts.read_timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        // Blob GETs redirect to storage backends (S3, CDN); reqwest drops Authorization on a
        // cross-host redirect, which those backends require.
        .redirect(reqwest::redirect::Policy::limited(10));
    if let Some(ca) = &policy.ca_bundle {
        b = b.tls_certs_merge(read_ca_bundle(ca)?);
    }
    if policy.skip_verify {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    Ok(b)
}

impl RegistryClient {
    /// Builds the client. Fails when a configured CA bundle cannot be read or parsed.
    pub fn new(creds: Arc<dyn CredentialResolver>, opts: ClientOptions) -> Result<Self> {
        // Validate every policy with a CA bundle now so a bad --ca-bundle fails before any work
        // starts. Policies without one cannot fail to build, and each build loads the system
        // trust store (hundreds of KB read), so they are built only when a host is first used.
        for p in std::iter::once(&opts.default_tls).chain(opts.per_registry.values()) {
            if p.ca_bundle.is_some() {
                build_http(&opts, p)?;
            }
        }
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                creds,
                opts,
                hosts: Mutex::new(HashMap::new()),
                manifests: Default::default(),
            }),
        })
    }

    pub fn options(&self) -> &ClientOptions {
        &self.inner.opts
    }

    /// A handle for one host (`host[:port]`). Cheap; shares this client's state.
    pub fn registry(&self, host: &str) -> Registry {
        Registry {
            client: self.clone(),
            host: host.to_string(),
        }
    }

    /// `GET /v2/`: checks reachability, TLS and (when the registry requires it) the credentials.
    pub async fn ping(&self, host: &str) -> Result<()> {
        self.registry(host).ping().await
    }

    /// Proves push access the way oc-mirror (ggcr) does: start a blob upload, then cancel it.
    pub async fn check_push_permission(&self, host: &str, repo: &str) -> Result<()> {
        self.registry(host).check_push_permission(repo).await
    }

    pub async fn list_tags(&self, host: &str, repo: &str) -> Result<Vec<String>> {
        self.registry(host).list_tags(repo).await
    }

    /// Deletes a manifest by digest; see [`Registry::delete_manifest`] (`false`: it was gone).
    pub async fn delete_manifest(&self, host: &str, repo: &str, digest: &Digest) -> Result<bool> {
        self.registry(host).delete_manifest(repo, digest).await
    }

    pub(crate) fn policy(&self, host: &str) -> &TlsPolicy {
        self.inner
            .opts
            .per_registry
            .get(host)
            .unwrap_or(&self.inner.opts.default_tls)
    }

    pub(crate) fn host(&self, host: &str) -> Result<Arc<Host>> {
        let mut hosts = self.inner.hosts.lock().unwrap();
        if let Some(h) = hosts.get(host) {
            return Ok(h.clone());
        }
        let policy = self.policy(host).clone();
        let http = build_http(&self.inner.opts, &policy)?;
        let scheme = if policy.plain_http { "http" } else { "https" };
        let n = self.inner.opts.max_per_registry.max(1);
        let h = Arc::new(Host {
            name: host.to_string(),
            base: format!("{scheme}://{}", api_host(host)),
            http,
            slots: Arc::new(Semaphore::new(n)),
            download_slots: Arc::new(Semaphore::new(n)),
            ranged_blobs: Arc::new(Semaphore::new(self.inner.opts.ranged.max_blobs)),
            auth: Mutex::new(HostAuth::default()),
            conn: Default::default(),
        });
        hosts.insert(host.to_string(), h.clone());
        Ok(h)
    }
}

impl Registry {
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn client(&self) -> &RegistryClient {
        &self.client
    }

    pub(crate) fn url(&self, h: &Host, path: &str) -> String {
        format!("{}/v2/{path}", h.base)
    }

    /// One bodiless request to `/v2/<path>` with auth and retries (see [`RegistryClient::send`]).
    pub(crate) async fn call(
        &self,
        h: &Host,
        method: reqwest::Method,
        path: &str,
        repo: Option<&str>,
        op: &str,
    ) -> Result<reqwest::Response> {
        let req = crate::request::Req::new(method, self.url(h, path), repo, op);
        self.client.send(h, req).await
    }
}
