//! The helm planner: `mirror.helm` → chart archives on disk and the images they deploy.
//!
//! Repositories: `<url>/index.yaml` is downloaded (basic auth and TLS trust per repository
//! host), the asked versions selected (an empty `charts:` list = every chart), and each archive
//! streamed to `<charts_dir>/<chart>-<version>.tgz` with its sha256 computed as it is written
//! and checked against the index's `digest` (oc-mirror never checked it). Local charts are read
//! in place. Each chart's images come from [`ferry_helm::scan`] (or `helm template` in exact
//! mode); the caller plans them like additional images (`ImageKind::Generic`).

use ferry_config::{Chart as ChartCfg, Helm};
use ferry_helm::index::{resolve_url, ChartRequest};
use ferry_helm::{FoundImage, IndexFile, Map, Unreferenced, Unresolved};
use ferry_types::{Error, Result};
use futures::StreamExt;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;

/// TLS trust for one repository host (the registry trust settings apply to chart hosts too).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoTrust {
    pub skip_verify: bool,
    pub ca_bundle: Option<PathBuf>,
}

/// Basic-auth credentials for a host (`host[:port]`): `(user, password)`.
pub type CredentialLookup = Arc<dyn Fn(&str) -> Option<(String, String)> + Send + Sync>;

/// How the planner reaches chart repositories.
#[derive(Clone, Default)]
pub struct HelmAccess {
    pub default_trust: RepoTrust,
    /// Per `host[:port]`.
    pub per_host: HashMap<String, RepoTrust>,
    pub credentials: Option<CredentialLookup>,
    /// An explicit `helm` binary for exact mode; otherwise `$FERRY_HELM` or `helm` on PATH.
    pub helm_binary: Option<PathBuf>,
    /// Use the static scan even when a helm binary is available.
    pub static_only: bool,
    /// Working directory for relative `path` and `valuesFiles` (the process's by default).
    pub base_dir: Option<PathBuf>,
}

/// One chart of the plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedChart {
    /// Repository name (`None` for a local chart).
    pub repository: Option<String>,
    pub name: String,
    pub version: String,
    /// The archive downloaded into the charts folder (repository charts), or the local path.
    pub file: PathBuf,
    /// `static scan` or `helm template`.
    pub mode: String,
    /// Every image found (tests included, flagged).
    pub images: Vec<FoundImage>,
    pub unresolved: Vec<Unresolved>,
    pub unreferenced: Vec<Unreferenced>,
    /// Notes for the user (digest missing in the index, imagePaths in static mode, …).
    pub notes: Vec<String>,
}

impl PlannedChart {
    /// The images to mirror: everything but test hooks.
    pub fn mirrored_images(&self) -> impl Iterator<Item = &FoundImage> {
        self.images.iter().filter(|i| !i.test)
    }

    /// What to tell the user about what the scan could not resolve.
    pub fn unresolved_help(&self) -> Option<String> {
        if self.unresolved.is_empty() {
            return None;
        }
        let items: Vec<String> = self
            .unresolved
            .iter()
            .map(|u| format!("{}: {}: {}", u.chart, u.location, u.reason))
            .collect();
        Some(format!(
            "chart {} {}: some images could not be worked out from the chart ({}). Set the values with \
             `valuesFiles`/`values` on the chart, or add each image by hand under mirror.additionalImages \
             (- name: registry/repository:tag)",
            self.name,
            self.version,
            items.join("; ")
        ))
    }
}

/// A repository's `index.yaml` (`<url>/index.yaml`, YAML or JSON), read with the same trust
/// and credentials as planning: what the app's chart browser lists.
pub async fn fetch_index(url: &str, access: &HelmAccess) -> Result<IndexFile> {
    let url = url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::InvalidConfig(format!(
            "helm repository {url:?}: the URL must start with http:// or https:// (the folder that holds index.yaml)"
        )));
    }
    let http = HttpPool::new(access);
    let index_url = format!("{}/index.yaml", url.trim_end_matches('/'));
    let text = http.get_text(&index_url, url).await?;
    IndexFile::parse(&text, url)
}

/// The charts of `mirror.helm`, with their images. Repository archives go into `charts_dir`.
pub async fn plan_charts(helm: &Helm, access: &HelmAccess, charts_dir: &Path) -> Result<Vec<PlannedChart>> {
    let http = HttpPool::new(access);
    let base = access.base_dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut out = Vec::new();
    for repo in &helm.repositories {
        let label = if repo.name.is_empty() {
            repo.url.clone()
        } else {
            format!("{} ({})", repo.name, repo.url)
        };
        let index_url = format!("{}/index.yaml", repo.url.trim_end_matches('/'));
        let text = http.get_text(&index_url, &label).await?;
        let index = IndexFile::parse(&text, &label)?;
        let requests: Vec<ChartRequest> = repo
            .charts
            .iter()
            .map(|c| ChartRequest {
                name: c.name.clone(),
                version: c.version.clone(),
            })
            .collect();
        for v in index.select(&requests, &label)? {
            let cfg = repo
                .charts
                .iter()
                .find(|c| c.name == v.name)
                .cloned()
                .unwrap_or_default();
            let url = v.urls.first().ok_or_else(|| {
                Error::InvalidConfig(format!(
                    "helm repository {label}: chart {} {} has no download URL in index.yaml",
                    v.name, v.version
                ))
            })?;
            let url = resolve_url(&repo.url, url);
            tokio::fs::create_dir_all(charts_dir)
                .await
                .map_err(|e| Error::io(charts_dir.display(), e))?;
            let file = charts_dir.join(format!("{}-{}.tgz", v.name, v.version));
            let mut notes = Vec::new();
            let expected = v
                .sha256()
                .map_err(|e| Error::InvalidConfig(format!("helm repository {label}: {e}")))?;
            let what = format!(
                "chart {} version {} from helm repository {label} ({url})",
                v.name, v.version
            );
            let actual = http.download(&url, &file, &label, expected.as_deref(), &what).await?;
            if expected.is_none() {
                notes.push(format!(
                    "index.yaml gives no digest for {} {}: the archive (sha256:{actual}) could not be checked",
                    v.name, v.version
                ));
            }
            out.push(scan_chart(Some(repo.name.clone()), &file, &cfg, access, &base, notes)?);
        }
    }
    for c in &helm.local {
        let path = base.join(c.path.as_deref().unwrap_or_default());
        if !path.exists() {
            return Err(Error::NotFound {
                what: format!("local helm chart `{}` at {}", c.name, path.display()),
                hint: Some("`path` must name a chart .tgz or an unpacked chart folder".into()),
            });
        }
        out.push(scan_chart(None, &path, c, access, &base, Vec::new())?);
    }
    Ok(out)
}

fn scan_chart(
    repository: Option<String>,
    file: &Path,
    cfg: &ChartCfg,
    access: &HelmAccess,
    base: &Path,
    mut notes: Vec<String>,
) -> Result<PlannedChart> {
    let chart = ferry_helm::load_path(file)?;
    let inline: Option<Map> = match &cfg.values {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Object(m)) => Some(m.clone()),
        Some(_) => {
            return Err(Error::InvalidConfig(format!(
                "chart `{}`: `values` must be a mapping (like a values.yaml)",
                chart.metadata.name
            )))
        }
    };
    let values = ferry_helm::user_values(&cfg.values_files, inline.as_ref(), base)
        .map_err(|e| Error::InvalidConfig(format!("chart `{}`: {e}", chart.metadata.name)))?;
    let helm = (!access.static_only)
        .then(|| ferry_helm::exact::find_helm(access.helm_binary.as_deref()))
        .flatten();
    let (res, mode) = match helm {
        Some(h) => (
            ferry_helm::exact::render_images(&h, file, &values, &cfg.image_paths)?,
            format!("helm template ({})", h.display()),
        ),
        None => {
            if !cfg.image_paths.is_empty() {
                notes.push(
                    "imagePaths apply to rendered manifests and need a helm binary (exact mode); the static scan \
                     did not use them"
                        .into(),
                );
            }
            (ferry_helm::scan(&chart, &values), "static scan".to_string())
        }
    };
    let pc = PlannedChart {
        repository,
        name: chart.metadata.name.clone(),
        version: chart.metadata.version.clone(),
        file: file.to_path_buf(),
        mode,
        images: res.images,
        unresolved: res.unresolved,
        unreferenced: res.unreferenced,
        notes,
    };
    if let Some(h) = pc.unresolved_help() {
        tracing::warn!("{h}");
    }
    for n in &pc.notes {
        tracing::warn!(chart = %pc.name, version = %pc.version, "{n}");
    }
    Ok(pc)
}

/// One reqwest client per trust policy, basic auth per host.
struct HttpPool<'a> {
    access: &'a HelmAccess,
    clients: Mutex<HashMap<RepoTrust, reqwest::Client>>,
}

impl std::hash::Hash for RepoTrust {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.skip_verify.hash(state);
        self.ca_bundle.hash(state);
    }
}

fn host_of(url: &str) -> String {
    url.split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(url)
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_string()
}

impl<'a> HttpPool<'a> {
    fn new(access: &'a HelmAccess) -> Self {
        HttpPool {
            access,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn client(&self, host: &str) -> Result<reqwest::Client> {
        let trust = self
            .access
            .per_host
            .get(host)
            .unwrap_or(&self.access.default_trust)
            .clone();
        let mut map = self.clients.lock().unwrap();
        if let Some(c) = map.get(&trust) {
            return Ok(c.clone());
        }
        let mut b = reqwest::Client::builder()
            .user_agent(format!("ferry/{}", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            .read_timeout(std::time::Duration::from_secs(300));
        if let Some(ca) = &trust.ca_bundle {
            let pem = std::fs::read(ca).map_err(|e| Error::io(format!("CA bundle {}", ca.display()), e))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::InvalidConfig(format!("CA bundle {}: not PEM certificates ({e})", ca.display())))?;
            b = b.tls_certs_merge(certs);
        }
        if trust.skip_verify {
            b = b.tls_danger_accept_invalid_certs(true);
        }
        let c = b
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        map.insert(trust, c.clone());
        Ok(c)
    }

    async fn get(&self, url: &str, repo: &str) -> Result<reqwest::Response> {
        let host = host_of(url);
        let mut req = self.client(&host)?.get(url);
        if let Some((u, p)) = self.access.credentials.as_ref().and_then(|f| f(&host)) {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req.send().await.map_err(|e| {
            let detail = error_chain(&e);
            if detail.to_ascii_lowercase().contains("certificate") {
                Error::Tls {
                    registry: format!("helm repository {repo}"),
                    detail,
                }
            } else {
                Error::Unreachable {
                    registry: format!("helm repository {repo} ({url})"),
                    detail,
                }
            }
        })?;
        let status = resp.status().as_u16();
        match status {
            200..=299 => Ok(resp),
            401 => Err(Error::Unauthorized {
                registry: host,
                tried: "basic auth from the stored logins and auth files for this host".into(),
            }),
            404 => Err(Error::NotFound {
                what: format!("{url} (helm repository {repo})"),
                hint: Some("check the repository URL (index.yaml is read from <url>/index.yaml)".into()),
            }),
            _ => Err(Error::Registry {
                registry: format!("helm repository {repo}"),
                operation: format!("GET {url}"),
                status,
                detail: resp.text().await.unwrap_or_default().chars().take(300).collect(),
            }),
        }
    }

    async fn get_text(&self, url: &str, repo: &str) -> Result<String> {
        let resp = self.get(url, repo).await?;
        resp.text().await.map_err(|e| Error::Unreachable {
            registry: format!("helm repository {repo} ({url})"),
            detail: error_chain(&e),
        })
    }

    /// Stream `url` into `file` through a `.part` file, hashing as it is written; the file is
    /// put in place only when the sha256 matches `expected` (when given). Returns the hex.
    async fn download(&self, url: &str, file: &Path, repo: &str, expected: Option<&str>, what: &str) -> Result<String> {
        let resp = self.get(url, repo).await?;
        let part = file.with_extension("tgz.part");
        let mut f = tokio::fs::File::create(&part)
            .await
            .map_err(|e| Error::io(part.display(), e))?;
        let mut hasher = Sha256::new();
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    drop(f);
                    let _ = tokio::fs::remove_file(&part).await;
                    return Err(Error::Unreachable {
                        registry: format!("helm repository {repo} ({url})"),
                        detail: error_chain(&e),
                    });
                }
            };
            hasher.update(&chunk);
            f.write_all(&chunk).await.map_err(|e| Error::io(part.display(), e))?;
        }
        f.flush().await.map_err(|e| Error::io(part.display(), e))?;
        drop(f);
        let actual = hex::encode(hasher.finalize());
        if let Some(exp) = expected.filter(|e| *e != actual) {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(Error::DigestMismatch {
                what: format!("{what}: the archive was refused and not kept"),
                expected: format!("sha256:{exp}"),
                actual: format!("sha256:{actual}"),
            });
        }
        tokio::fs::rename(&part, file)
            .await
            .map_err(|e| Error::io(file.display(), e))?;
        Ok(actual)
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
