//! Ferry: OCI distribution registry client (auth challenges, token cache, TLS policy, streaming
//! blobs, retries).
//!
//! One [`RegistryClient`] serves a whole run: it keeps one HTTP client per registry host (with
//! that host's [`TlsPolicy`]), one token cache, and a per-host concurrency bound
//! ([`ClientOptions::max_per_registry`]). [`RegistryClient::registry`] hands out a cheap
//! [`Registry`] handle for one host that implements both transport traits.
//!
//! # Retry contract
//! Requests whose body can be replayed (everything except a blob upload's body) are retried with
//! exponential backoff and jitter on connection errors, 5xx and 429 (honouring `Retry-After`).
//! A blob upload ([`ImageDestination::put_blob`]) consumes its body stream, so the client cannot
//! retry it: it returns the error (for which [`Error::is_transient`] says whether a retry makes
//! sense) and the caller reopens the source and calls `put_blob` again.

mod auth;
mod errors;

use auth::{parse_challenge, Challenge, TokenCache, TokenResponse};
use bytes::Bytes;
use errors::{map_send_error, status_error};
use ferry_auth::{Credential, CredentialResolver, ResolvedCredential};
use ferry_types::media::{self, ManifestView};
use ferry_types::{BlobStream, Digest, Error, ImageDestination, ImageSource, Manifest, Result};
use futures::StreamExt as _;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Manifests bigger than this are refused (the distribution server's own limit is 4 MiB).
const MAX_MANIFEST_BYTES: usize = 8 << 20;

/// How to reach one registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsPolicy {
    /// Accept any certificate (`--source-skip-tls` / `--dest-skip-tls`): still TLS, no verification.
    pub skip_verify: bool,
    /// Plain HTTP (`--source-use-http` / `--dest-use-http`).
    pub plain_http: bool,
    /// Extra trusted CA certificates (a PEM file, possibly with several certificates), added to
    /// the system store.
    pub ca_bundle: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Policy for every host not in `per_registry`.
    pub default_tls: TlsPolicy,
    /// Per host (`host[:port]`, as written in image references) overrides.
    pub per_registry: HashMap<String, TlsPolicy>,
    /// Concurrent requests per host (`--max-per-registry`, default 6). A blob transfer holds its
    /// slot for its whole duration. Blob downloads have their own pool of this size, so a host
    /// sees at most this many downloads plus this many other requests (uploads, manifests,
    /// HEADs): a copy between two repositories of one registry can then never deadlock with a
    /// download waiting on an upload slot held by a task that waits on a download.
    pub max_per_registry: usize,
    /// Retries after the first attempt for replayable requests.
    pub retries: u32,
    /// First backoff delay; doubled per attempt (capped at 10 s), plus jitter.
    pub retry_base_delay: Duration,
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Longest silence while reading a response (not a total timeout: big blobs take long).
    pub read_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            default_tls: TlsPolicy::default(),
            per_registry: HashMap::new(),
            max_per_registry: 6,
            retries: 4,
            retry_base_delay: Duration::from_millis(250),
            user_agent: format!("ferry/{}", env!("CARGO_PKG_VERSION")),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(300),
        }
    }
}

/// Per-host state: HTTP client, concurrency bound, what the host asked for, tokens.
struct Host {
    name: String,
    base: String,
    http: reqwest::Client,
    /// Everything except blob downloads; an upload holds one for its whole body.
    slots: Arc<Semaphore>,
    /// Blob downloads (held while the body streams). Separate from `slots` so that copying
    /// between two repositories of the same registry cannot deadlock: a task holding a download
    /// slot can always get an upload slot.
    download_slots: Arc<Semaphore>,
    auth: Mutex<HostAuth>,
}

#[derive(Default)]
struct HostAuth {
    challenge: Option<Challenge>,
    tokens: TokenCache,
    /// Credentials per repository (helpers may spawn processes: ask once).
    creds: HashMap<String, Option<ResolvedCredential>>,
    logged_sources: HashSet<String>,
}

struct Inner {
    creds: Arc<dyn CredentialResolver>,
    opts: ClientOptions,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

/// The registry client of a run. Cheap to clone.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
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
    client: RegistryClient,
    host: String,
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
    b.build()
        .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))
}

/// Body of one request attempt.
enum ReqBody {
    Empty,
    Bytes(Bytes),
    /// Consumed by the first attempt: never retried.
    Stream(Option<BlobStream>),
}

struct Req<'a> {
    method: Method,
    url: String,
    /// Repository for credential lookup and scopes (`None` for `/v2/`).
    repo: Option<&'a str>,
    scopes: Vec<String>,
    headers: Vec<(reqwest::header::HeaderName, HeaderValue)>,
    body: ReqBody,
    /// Operation name for error messages (`GET manifest ns/app:v1`).
    op: String,
}

impl<'a> Req<'a> {
    fn new(method: Method, url: String, repo: Option<&'a str>, op: impl Into<String>) -> Self {
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

    fn header(mut self, name: reqwest::header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }
}

fn scope_for(repo: &str, method: &Method) -> String {
    match *method {
        Method::GET | Method::HEAD => format!("repository:{repo}:pull"),
        Method::DELETE => format!("repository:{repo}:delete"),
        _ => format!("repository:{repo}:pull,push"),
    }
}

fn jitter(max: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    let r = h.finish();
    let ms = max.as_millis().max(1) as u64;
    Duration::from_millis(r % ms)
}

fn backoff(base: Duration, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(6)).min(Duration::from_secs(10));
    let d = exp + jitter(exp / 2);
    match retry_after {
        Some(ra) => ra.min(Duration::from_secs(60)).max(d),
        None => d,
    }
}

fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

impl RegistryClient {
    /// Builds the client. Fails when a configured CA bundle cannot be read or parsed.
    pub fn new(creds: Arc<dyn CredentialResolver>, opts: ClientOptions) -> Result<Self> {
        // Validate every policy now so a bad --ca-bundle fails before any work starts.
        build_http(&opts, &opts.default_tls)?;
        for p in opts.per_registry.values() {
            build_http(&opts, p)?;
        }
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                creds,
                opts,
                hosts: Mutex::new(HashMap::new()),
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

    /// Deletes a manifest by digest (the registry must allow deletes).
    pub async fn delete_manifest(&self, host: &str, repo: &str, digest: &Digest) -> Result<()> {
        self.registry(host).delete_manifest(repo, digest).await
    }

    fn policy(&self, host: &str) -> &TlsPolicy {
        self.inner
            .opts
            .per_registry
            .get(host)
            .unwrap_or(&self.inner.opts.default_tls)
    }

    fn host(&self, host: &str) -> Result<Arc<Host>> {
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
            auth: Mutex::new(HostAuth::default()),
        });
        hosts.insert(host.to_string(), h.clone());
        Ok(h)
    }

    /// The credential for `repo` on `host`, looked up once; logs which source served the host.
    fn credential(&self, host: &Host, repo: &str) -> Option<ResolvedCredential> {
        let mut a = host.auth.lock().unwrap();
        if let Some(c) = a.creds.get(repo) {
            return c.clone();
        }
        let c = self.inner.creds.resolve(&host.name, repo);
        match &c {
            Some(rc) if a.logged_sources.insert(rc.source.clone()) => {
                tracing::info!(registry = %host.name, source = %rc.source, "using credentials for {} from {}", host.name, rc.source);
            }
            None if a.logged_sources.insert(String::new()) => {
                tracing::info!(registry = %host.name, sources = %self.inner.creds.sources(), "no credentials for {}: anonymous access", host.name);
            }
            _ => {}
        }
        a.creds.insert(repo.to_string(), c.clone());
        c
    }

    /// Names the credential source for a 401 message: the file that served the credential, or
    /// every source consulted when none had one.
    fn tried(&self, host: &Host, repo: Option<&str>) -> String {
        match self.credential(host, repo.unwrap_or("")) {
            Some(rc) => rc.source,
            None => self.inner.creds.sources(),
        }
    }

    /// The `Authorization` value for a request, fetching a bearer token when needed.
    async fn authorization(&self, host: &Host, repo: Option<&str>, scopes: &[String]) -> Result<Option<String>> {
        let challenge = host.auth.lock().unwrap().challenge.clone();
        let Some(challenge) = challenge else { return Ok(None) };
        let cred = self.credential(host, repo.unwrap_or(""));
        match challenge {
            Challenge::Basic => Ok(cred.and_then(|rc| match rc.credential {
                Credential::Basic { username, password } => {
                    use base64::Engine as _;
                    let raw = format!("{username}:{}", password.expose());
                    Some(format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(raw)
                    ))
                }
                Credential::IdentityToken(_) => None,
            })),
            Challenge::Bearer { realm, service, scope } => {
                let mut scopes = scopes.to_vec();
                if scopes.is_empty() {
                    scopes.extend(scope);
                }
                let key = TokenCache::key(&scopes);
                if let Some(t) = host.auth.lock().unwrap().tokens.get(&key) {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let (token, lifetime) = self
                    .fetch_token(host, repo, &realm, service.as_deref(), &scopes, cred)
                    .await?;
                host.auth.lock().unwrap().tokens.insert(key, token.clone(), lifetime);
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    async fn fetch_token(
        &self,
        host: &Host,
        repo: Option<&str>,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        cred: Option<ResolvedCredential>,
    ) -> Result<(String, Duration)> {
        let mut url = url::Url::parse(realm).map_err(|e| Error::Registry {
            registry: host.name.clone(),
            operation: "token request".into(),
            status: 401,
            detail: format!("the registry named an invalid token realm {realm:?}: {e}"),
        })?;
        // The token server belongs to the registry (often on another host, signed by the same
        // private CA): it gets the registry's TLS policy, as containers/image does.
        let http = host.http.clone();
        let req = match cred.as_ref().map(|c| &c.credential) {
            Some(Credential::IdentityToken(refresh)) => {
                let mut form: Vec<(&str, &str)> = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.expose()),
                    ("client_id", "ferry"),
                ];
                if let Some(s) = service {
                    form.push(("service", s));
                }
                let scope = scopes.join(" ");
                if !scope.is_empty() {
                    form.push(("scope", &scope));
                }
                let body = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(form)
                    .finish();
                http.post(url.as_str())
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body)
            }
            other => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    for s in scopes {
                        q.append_pair("scope", s);
                    }
                }
                let r = http.get(url.as_str());
                match other {
                    Some(Credential::Basic { username, password }) => r.basic_auth(username, Some(password.expose())),
                    _ => r,
                }
            }
        };
        let resp = req.send().await.map_err(|e| map_send_error(&host.name, e))?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Error::Unauthorized {
                registry: host.name.clone(),
                tried: self.tried(host, repo),
            });
        }
        if !status.is_success() {
            return Err(status_error(&host.name, "token request", None, resp).await);
        }
        let body: TokenResponse = resp.json().await.map_err(|e| Error::Registry {
            registry: host.name.clone(),
            operation: "token request".into(),
            status: status.as_u16(),
            detail: format!("unreadable token response: {e}"),
        })?;
        body.into_token().ok_or_else(|| Error::Registry {
            registry: host.name.clone(),
            operation: "token request".into(),
            status: status.as_u16(),
            detail: "the token server answered without a token".into(),
        })
    }

    /// Sends a request with auth, challenge handling and retries. Returns the response whatever
    /// its status except 401 (→ [`Error::Unauthorized`]); 5xx/429 only after retries ran out.
    async fn send(&self, host: &Host, mut req: Req<'_>) -> Result<reqwest::Response> {
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
            let result = rb.send().await;
            let resp = match result {
                Ok(r) => r,
                Err(e) => {
                    let err = map_send_error(&host.name, e);
                    if replayable && err.is_transient() && attempt < opts.retries {
                        let d = backoff(opts.retry_base_delay, attempt, None);
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
                let d = backoff(opts.retry_base_delay, attempt, retry_after(&resp));
                tracing::debug!(registry = %host.name, op = %req.op, %status, "retrying in {d:?}");
                tokio::time::sleep(d).await;
                attempt += 1;
                continue;
            }
            return Ok(resp);
        }
    }
}

fn manifest_name(host: &str, repo: &str, reference: &str) -> String {
    if reference.contains(':') {
        format!("manifest {host}/{repo}@{reference}")
    } else {
        format!("manifest {host}/{repo}:{reference}")
    }
}

/// `Content-Type` without parameters.
fn content_type(resp: &reqwest::Response) -> Option<String> {
    let v = resp.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    Some(v.split(';').next().unwrap_or("").trim().to_string()).filter(|s| !s.is_empty())
}

async fn read_limited(host: &str, op: &str, resp: reqwest::Response, limit: usize) -> Result<Bytes> {
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

impl Registry {
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn client(&self) -> &RegistryClient {
        &self.client
    }

    fn url(&self, h: &Host, path: &str) -> String {
        format!("{}/v2/{path}", h.base)
    }

    pub async fn ping(&self) -> Result<()> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let resp = self
            .client
            .send(&h, Req::new(Method::GET, self.url(&h, ""), None, "ping /v2/"))
            .await?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(status_error(&h.name, "ping /v2/", None, resp).await)
        }
    }

    /// Starts a blob upload in `repo` and cancels it: proves push permission before a long copy.
    pub async fn check_push_permission(&self, repo: &str) -> Result<()> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let op = format!("push check on {repo}");
        let resp = self
            .client
            .send(
                &h,
                Req::new(
                    Method::POST,
                    self.url(&h, &format!("{repo}/blobs/uploads/")),
                    Some(repo),
                    &op,
                ),
            )
            .await?;
        if resp.status() != StatusCode::ACCEPTED && resp.status() != StatusCode::CREATED {
            return Err(status_error(&h.name, &op, Some((repo, "push")), resp).await);
        }
        self.cancel_upload(&h, repo, &resp).await;
        Ok(())
    }

    /// Best effort: abandons an upload session so the registry can drop it.
    async fn cancel_upload(&self, h: &Host, repo: &str, resp: &reqwest::Response) {
        let Some(loc) = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
        else {
            return;
        };
        let Ok(url) = url::Url::parse(&h.base).and_then(|b| b.join(loc)) else {
            return;
        };
        let mut req = Req::new(Method::DELETE, url.to_string(), Some(repo), "cancel upload");
        req.scopes = vec![scope_for(repo, &Method::POST)];
        if let Err(e) = self.client.send(h, req).await {
            tracing::debug!(registry = %h.name, error = %e, "cancelling an upload session failed");
        }
    }

    /// Every tag of `repo`, following `Link` pagination.
    pub async fn list_tags(&self, repo: &str) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let op = format!("list tags of {repo}");
        let mut url = self.url(&h, &format!("{repo}/tags/list?n=1000"));
        let mut tags = Vec::new();
        for _page in 0..10_000 {
            let resp = self
                .client
                .send(&h, Req::new(Method::GET, url.clone(), Some(repo), &op))
                .await?;
            if resp.status() == StatusCode::NOT_FOUND {
                return Err(Error::NotFound {
                    what: format!("repository {}/{repo}", h.name),
                    hint: Some("check the repository name".into()),
                });
            }
            if !resp.status().is_success() {
                return Err(status_error(&h.name, &op, Some((repo, "pull")), resp).await);
            }
            let next = resp
                .headers()
                .get(reqwest::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| {
                    l.split_once('<')
                        .and_then(|(_, r)| r.split_once('>'))
                        .map(|(u, _)| u.to_string())
                });
            let body = read_limited(&h.name, &op, resp, 64 << 20).await?;
            let list: TagList = serde_json::from_slice(&body).map_err(|e| Error::Registry {
                registry: h.name.clone(),
                operation: op.clone(),
                status: 200,
                detail: format!("unreadable tag list: {e}"),
            })?;
            tags.extend(list.tags.unwrap_or_default());
            match next {
                Some(n) => {
                    url = url::Url::parse(&h.base)
                        .and_then(|b| b.join(&n))
                        .map_err(|e| Error::Internal(format!("bad Link header {n:?}: {e}")))?
                        .to_string()
                }
                None => break,
            }
        }
        Ok(tags)
    }

    pub async fn delete_manifest(&self, repo: &str, digest: &Digest) -> Result<()> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let op = format!("delete {}", manifest_name(&h.name, repo, &digest.to_string()));
        let resp = self
            .client
            .send(
                &h,
                Req::new(
                    Method::DELETE,
                    self.url(&h, &format!("{repo}/manifests/{digest}")),
                    Some(repo),
                    &op,
                ),
            )
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Err(Error::NotFound {
                what: manifest_name(&h.name, repo, &digest.to_string()),
                hint: None,
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
}

#[async_trait::async_trait]
impl ImageSource for Registry {
    fn describe(&self) -> String {
        self.host.clone()
    }

    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<Manifest> {
        let h = self.client.host(&self.host)?;
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
        Ok(manifest)
    }

    async fn get_blob(&self, repo: &str, digest: &Digest) -> Result<(Option<u64>, BlobStream)> {
        let h = self.client.host(&self.host)?;
        // Held until the returned stream is dropped.
        let slot = h
            .download_slots
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore closed");
        let what = format!("blob {digest} in {}/{repo}", h.name);
        let op = format!("GET {what}");
        let resp = self
            .client
            .send(
                &h,
                Req::new(
                    Method::GET,
                    self.url(&h, &format!("{repo}/blobs/{digest}")),
                    Some(repo),
                    &op,
                ),
            )
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound { what, hint: None });
        }
        if !resp.status().is_success() {
            return Err(status_error(&h.name, &op, Some((repo, "pull")), resp).await);
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
}

#[async_trait::async_trait]
impl ImageDestination for Registry {
    fn describe(&self) -> String {
        self.host.clone()
    }

    async fn has_blob(&self, repo: &str, digest: &Digest) -> Result<bool> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let op = format!("HEAD blob {digest} in {}/{repo}", h.name);
        let resp = self
            .client
            .send(
                &h,
                Req::new(
                    Method::HEAD,
                    self.url(&h, &format!("{repo}/blobs/{digest}")),
                    Some(repo),
                    &op,
                ),
            )
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(status_error(&h.name, &op, Some((repo, "pull")), resp).await),
        }
    }

    async fn mount_blob(&self, repo: &str, from_repo: &str, digest: &Digest) -> Result<bool> {
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
    async fn put_blob(&self, repo: &str, digest: &Digest, size: Option<u64>, body: BlobStream) -> Result<()> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let op = format!("upload blob {digest} to {}/{repo}", h.name);
        let resp = self
            .client
            .send(
                &h,
                Req::new(
                    Method::POST,
                    self.url(&h, &format!("{repo}/blobs/uploads/")),
                    Some(repo),
                    &op,
                ),
            )
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

    async fn manifest_digest(&self, repo: &str, reference: &str) -> Result<Option<Digest>> {
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

    async fn put_manifest(&self, repo: &str, reference: &str, manifest: &Manifest) -> Result<()> {
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
        Ok(())
    }
}
