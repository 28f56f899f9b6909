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
//! A blob upload ([`ferry_types::ImageDestination::put_blob`]) consumes its body stream, so the client cannot
//! retry it: it returns the error (for which [`ferry_types::Error::is_transient`] says whether a retry makes
//! sense) and the caller reopens the source and calls `put_blob` again.
//!
//! Before those, a request lost because the server closed a pooled keep-alive connection as the
//! request went out ("connection closed before message completed", a reset) is sent once more at
//! once on a new connection, outside that budget. Uploads cannot all be replayed (the import
//! reads the media once): a blob of up to 1 MiB is kept as it is sent and, lost that way, starts
//! over with a new session from those bytes; a bigger one opens its own connections, which no
//! server can be closing under it (`retry_conn`).
//!
//! # Layout
//! `client` (the client, per-host state, TLS), `authorize` (credentials and bearer tokens; `auth`
//! parses challenges and caches tokens), `request` (one request with auth and retries),
//! `retry_conn` (one retry on a new connection when a kept-alive one was closed under a request),
//! `repo` (ping, push probe, tags), `manifests`, `manifest_cache` (each manifest read once per
//! run: later `GET`s by digest are answered from memory), `blobs`, `ranged` (big blobs by parallel
//! `Range` requests, handed on in order), and `transport` (the two
//! transport traits, delegating to `manifests` and `blobs`).

mod auth;
mod authorize;
mod blobs;
mod client;
mod errors;
mod manifest_cache;
mod manifests;
mod ranged;
mod repo;
mod request;
mod retry_conn;
mod transport;

pub use client::{Registry, RegistryClient};
pub use manifest_cache::MAX_CACHED_BYTES;
pub use ranged::RangedDownloads;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// Manifests bigger than this are refused (the distribution server's own limit is 4 MiB).
pub(crate) const MAX_MANIFEST_BYTES: usize = 8 << 20;

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
    /// Big blobs downloaded by parallel `Range` requests, delivered in order (see `ranged`).
    pub ranged: RangedDownloads,
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
            ranged: RangedDownloads::default(),
        }
    }
}
