//! The Cincinnati graph-data tarball (`graph: true`): the channels, blocked edges and release
//! metadata an on-premise OpenShift Update Service serves from. oc-mirror (later v1 and v2)
//! downloads it from `https://api.openshift.com/api/upgrades_info/graph-data`; Ferry does the
//! same, or from `FERRY_GRAPH_DATA_URL` when set (tests, or a local copy of the repository).
//!
//! The body streams to a file while it is hashed; it is never held whole in memory. Before it
//! counts as downloaded, the first bytes must be gzip (a login page or proxy error is refused
//! naming the URL) and the file is renamed into place only when complete.

use crate::client::{http_client, request_error, HttpOptions};
use ferry_types::{Digest, Error, Result, Sha256Hasher};
use futures::StreamExt;
use std::io::Write;
use std::path::Path;
use url::Url;

/// Red Hat's graph-data tarball (what oc-mirror v2 downloads).
pub const GRAPH_DATA_URL: &str = "https://api.openshift.com/api/upgrades_info/graph-data";
/// Replaces [`GRAPH_DATA_URL`] (a Ferry extension; oc-mirror has no override).
pub const GRAPH_DATA_URL_ENV: &str = "FERRY_GRAPH_DATA_URL";

/// `FERRY_GRAPH_DATA_URL` when set, else Red Hat's.
pub fn graph_data_url() -> String {
    match std::env::var(GRAPH_DATA_URL_ENV) {
        Ok(u) if !u.trim().is_empty() => u.trim().to_string(),
        _ => GRAPH_DATA_URL.to_string(),
    }
}

/// A downloaded tarball.
#[derive(Debug, Clone)]
pub struct GraphData {
    pub digest: Digest,
    pub size: u64,
    pub url: String,
}

/// Download `url` to `dest` (streamed, hashed, renamed into place when complete).
pub async fn download_graph_data(opts: &HttpOptions, url: &str, dest: &Path) -> Result<GraphData> {
    let u = Url::parse(url).map_err(|e| {
        Error::InvalidConfig(format!(
            "graph data URL {url:?} ({GRAPH_DATA_URL_ENV} or the default) is not a URL: {e}"
        ))
    })?;
    let http = http_client(opts)?;
    let resp = http
        .get(u.clone())
        .send()
        .await
        .map_err(|e| request_error("graph data", &u, e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::Registry {
            registry: format!("graph data {}", u.host_str().unwrap_or("?")),
            operation: format!("downloading the update graph data (GET {u})"),
            status: status.as_u16(),
            detail: format!(
                "the graph-data tarball is needed for `graph: true`; set {GRAPH_DATA_URL_ENV} to a reachable copy or \
                 remove `graph: true`"
            ),
        });
    }
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), e))?;
    let tmp = parent.join(format!(
        ".{}.partial",
        dest.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    ));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(|e| Error::io(tmp.display(), e))?);
    let mut hasher = Sha256Hasher::new();
    let mut head: Vec<u8> = Vec::with_capacity(2);
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| request_error("graph data", &u, e))?;
        if head.len() < 2 {
            head.extend(chunk.iter().take(2 - head.len()));
        }
        hasher.update(&chunk);
        file.write_all(&chunk).map_err(|e| Error::io(tmp.display(), e))?;
    }
    file.flush().map_err(|e| Error::io(tmp.display(), e))?;
    drop(file);
    if head != [0x1f, 0x8b] {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::InvalidConfig(format!(
            "graph data from {u}: not a gzip tarball (it starts with {head:02x?}); set {GRAPH_DATA_URL_ENV} to the \
             URL of a cincinnati-graph-data tar.gz"
        )));
    }
    let size = hasher.len();
    let digest = hasher.finish();
    std::fs::rename(&tmp, dest).map_err(|e| Error::io(dest.display(), e))?;
    tracing::info!(url = %u, bytes = size, digest = %digest, file = %dest.display(), "graph data downloaded");
    Ok(GraphData {
        digest,
        size,
        url: u.to_string(),
    })
}
