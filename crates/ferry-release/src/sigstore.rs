//! Fetching release signatures from the signature stores, as library-go does:
//! `<store>/sha256=<hex>/signature-<n>` for n = 1..9, stopping at the first 404 and skipping
//! other non-2xx answers; the stores are searched at the same time and the first signature that
//! verifies ends the search (library-go's parallel store; it keeps at most one per keyring). Bodies are capped at 50 KiB (library-go means to and does not).
//! `OCP_SIGNATURE_URL` replaces the two Red Hat stores (as in oc-mirror v2).

use crate::client::{http_client, request_error, HttpOptions};
use crate::signature::{verify, Keyring, VerifiedSignature};
use ferry_types::{Digest, Error, Result};
use futures::StreamExt;
use url::Url;

/// The Red Hat signature stores (oc-mirror's `release-configmap.yaml`).
pub const REDHAT_STORES: [&str; 2] = [
    "https://mirror.openshift.com/pub/openshift-v4/signatures/openshift/release",
    "https://storage.googleapis.com/openshift-release/official/signatures/openshift/release",
];
pub const SIGNATURE_URL_ENV: &str = "OCP_SIGNATURE_URL";
/// Largest signature body accepted.
pub const MAX_SIGNATURE_BYTES: usize = 50 * 1024;
/// `signature-1` … `signature-9`.
pub const MAX_SIGNATURES: u32 = 9;

/// A verified signature and its raw bytes (what the ConfigMap carries).
#[derive(Debug, Clone)]
pub struct FetchedSignature {
    pub bytes: Vec<u8>,
    pub verified: VerifiedSignature,
    pub url: String,
}

pub struct SignatureStores {
    http: reqwest::Client,
    stores: Vec<Url>,
}

impl SignatureStores {
    /// `OCP_SIGNATURE_URL` when set, else the two Red Hat stores.
    pub fn new(opts: &HttpOptions) -> Result<Self> {
        match std::env::var(SIGNATURE_URL_ENV) {
            Ok(u) if !u.is_empty() => Self::with_stores(opts, &[u.as_str()]),
            _ => Self::with_stores(opts, &REDHAT_STORES),
        }
    }

    pub fn with_stores(opts: &HttpOptions, stores: &[&str]) -> Result<Self> {
        let stores = stores
            .iter()
            .map(|s| {
                let s = s.trim_end_matches('/');
                Url::parse(&format!("{s}/"))
                    .map_err(|e| Error::InvalidConfig(format!("signature store {s:?} is not a URL: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SignatureStores {
            http: http_client(opts)?,
            stores,
        })
    }

    pub fn stores(&self) -> Vec<String> {
        self.stores
            .iter()
            .map(|u| u.as_str().trim_end_matches('/').to_string())
            .collect()
    }

    /// Find a signature of `digest` that verifies against `keyring`. `release` names the
    /// release in messages (`4.15.0 (x86_64)`). The stores are asked at the same time (as
    /// library-go's parallel store); the first signature that verifies wins and the other
    /// searches are dropped.
    pub async fn fetch_verified(&self, keyring: &Keyring, digest: &Digest, release: &str) -> Result<FetchedSignature> {
        let mut searches: futures::stream::FuturesUnordered<_> = self
            .stores
            .iter()
            .map(|store| self.search_store(store, keyring, digest))
            .collect();
        let mut tried = Vec::new();
        let mut reachable = false;
        while let Some(outcome) = searches.next().await {
            match outcome {
                Ok(found) => return Ok(found),
                Err(miss) => {
                    reachable |= miss.reachable;
                    tried.extend(miss.tried);
                }
            }
        }
        if !reachable {
            return Err(Error::Unreachable {
                registry: format!("signature stores {}", self.stores().join(", ")),
                detail: format!(
                    "no store answered for release {release} ({digest}): {}. Set {SIGNATURE_URL_ENV} to a reachable store, \
                     or pass --skip-verification to mirror it unverified",
                    tried.join("; ")
                ),
            });
        }
        Err(Error::NotFound {
            what: format!("a signature that verifies for release {release} ({digest})"),
            hint: Some(format!(
                "checked against {}: {}. The release is not mirrored; check {SIGNATURE_URL_ENV} / \
                 OCP_SIGNATURE_VERIFICATION_PK, or pass --skip-verification to mirror it unverified",
                keyring.source,
                tried.join("; ")
            )),
        })
    }

    /// One store: `signature-1` … `signature-9` in order, stopping at the first 404 or
    /// transport error.
    async fn search_store(
        &self,
        store: &Url,
        keyring: &Keyring,
        digest: &Digest,
    ) -> std::result::Result<FetchedSignature, StoreMiss> {
        let mut miss = StoreMiss::default();
        for n in 1..=MAX_SIGNATURES {
            let url = match store.join(&format!("sha256={}/signature-{n}", digest.hex())) {
                Ok(u) => u,
                Err(e) => {
                    miss.tried.push(format!("{store}: signature URL: {e}"));
                    break;
                }
            };
            match self.get(&url).await {
                Ok(Some(bytes)) => {
                    miss.reachable = true;
                    match verify(keyring, &bytes, digest) {
                        Ok(verified) => {
                            return Ok(FetchedSignature {
                                bytes,
                                verified,
                                url: url.to_string(),
                            })
                        }
                        Err(e) => miss.tried.push(format!("{url}: {e}")),
                    }
                }
                Ok(None) => {
                    miss.reachable = true;
                    if n == 1 {
                        miss.tried.push(format!("{url}: not found"));
                    }
                    break;
                }
                Err(GetError::Status(s)) => {
                    miss.reachable = true;
                    miss.tried.push(format!("{url}: HTTP {s}"));
                }
                Err(GetError::TooLarge) => {
                    miss.reachable = true;
                    miss.tried.push(format!(
                        "{url}: larger than {MAX_SIGNATURE_BYTES} bytes, not a signature"
                    ));
                }
                Err(GetError::Transport(e)) => {
                    miss.tried.push(format!("{url}: {e}"));
                    break;
                }
            }
        }
        Err(miss)
    }

    async fn get(&self, url: &Url) -> std::result::Result<Option<Vec<u8>>, GetError> {
        let resp = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| GetError::Transport(request_error("signature store", url, e)))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(GetError::Status(status.as_u16()));
        }
        if resp.content_length().is_some_and(|l| l as usize > MAX_SIGNATURE_BYTES) {
            return Err(GetError::TooLarge);
        }
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| GetError::Transport(request_error("signature store", url, e)))?;
            if body.len() + chunk.len() > MAX_SIGNATURE_BYTES {
                return Err(GetError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body))
    }
}

/// What one store's search found when no signature verified.
#[derive(Default)]
struct StoreMiss {
    tried: Vec<String>,
    reachable: bool,
}

enum GetError {
    Status(u16),
    TooLarge,
    Transport(Error),
}
