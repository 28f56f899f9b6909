//! The app's release views over the release engine: a channel's update graph with the
//! selection the CLI would make on it, the channel list, the planned releases of a dry run with
//! their sizes, and the signature status of the releases in a results folder.
//!
//! Nothing is selected here: the graph comes from [`ferry_release::GraphClient`] (the upstream,
//! `UPDATE_URL_OVERRIDE`, proxy and trust exactly as a run uses them) and the selection from
//! [`ferry_release::select_channel`], the function `ferry mirror` runs per channel and
//! architecture. This module only re-indexes the graph in semver order for drawing.
//!
//! Trust: the update service gets the run's CA bundle and skip-verify (as in
//! [`crate::release::http_options`]) plus the trust settings stored for its host in the
//! credential store (`ferry auth trust` / the app's Credentials screen), so an on-premise
//! update service with its own CA works from the app like a registry does.

use crate::registry::RegistrySettings;
use crate::wire::{
    GraphConditional, GraphNode, GraphRisk, GraphSelection, PlanRelease, ReleaseGraphRequest, ReleaseGraphView,
    ReleaseSignatureRow, SignatureState, SignatureView,
};
use ferry_plan::release::SignatureStatus;
use ferry_plan::Plan;
use ferry_release::client::{OCP_GRAPH_URL, OKD_GRAPH_URL, UPDATE_URL_OVERRIDE};
use ferry_release::{select_channel, signature_file_name, ChannelSpec, GraphClient, Keyring};
use ferry_types::{Digest, Error, ImageKind, Result};
use std::collections::HashMap;
use std::path::Path;

/// Architectures a release channel can be asked for (`mirror.platform.architectures`).
pub const ARCHITECTURES: [&str; 5] = ["amd64", "arm64", "ppc64le", "s390x", "multi"];

/// The update service a graph request goes to: `UPDATE_URL_OVERRIDE` for both types when set
/// (as [`GraphClient::new`] reads it), else the OCP or OKD default.
pub fn upstream_url(okd: bool) -> String {
    match std::env::var(UPDATE_URL_OVERRIDE) {
        Ok(u) if !u.is_empty() => u,
        _ if okd => OKD_GRAPH_URL.to_string(),
        _ => OCP_GRAPH_URL.to_string(),
    }
}

/// `host[:port]` of a URL (no URL crate needed for this).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    host.rsplit_once('@').map_or(host, |(_, h)| h)
}

/// The settings for the update service of `okd`: the run's CA bundle and skip-verify, with the
/// trust stored for the upstream's host added (its CA when the run gives none).
pub fn graph_settings(settings: &RegistrySettings, okd: bool) -> Result<RegistrySettings> {
    let mut s = settings.clone();
    let store = crate::credentials::open_store()?;
    let url = upstream_url(okd);
    let host = host_of(&url);
    let bare = host.split(':').next().unwrap_or(host);
    if let Some(t) = store.trust(host).or_else(|| store.trust(bare)) {
        s.source_skip_tls |= t.skip_verify;
        if s.ca_bundle.is_none() {
            s.ca_bundle = t.ca_bundle.clone();
        }
    }
    Ok(s)
}

fn client(settings: &RegistrySettings, okd: bool) -> Result<GraphClient> {
    let s = graph_settings(settings, okd)?;
    GraphClient::new(&crate::release::http_options(&s))
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The graph of one channel and architecture, nodes ascending by semver, with the engine's
/// selection for the entry's min/max/full/shortestPath (heads-only when none is set; the app
/// has no previous run's metadata here, so heads-only starts at the head as a first run does).
/// A selection error (a version not in the channel, min above max, no path) is returned in
/// `selectionError` with the graph; an unreachable or unknown channel fails the call.
pub async fn channel_graph(
    settings: &RegistrySettings,
    index: usize,
    req: &ReleaseGraphRequest,
) -> Result<ReleaseGraphView> {
    let channel = req.channel.trim();
    if channel.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "mirror.platform.channels[{index}].name is empty: give a channel such as stable-4.14 (List channels shows them)"
        )));
    }
    if !ARCHITECTURES.contains(&req.arch.as_str()) {
        return Err(Error::InvalidConfig(format!(
            "architecture {:?} is not one of {}",
            req.arch,
            ARCHITECTURES.join(", ")
        )));
    }
    let graphs = client(settings, req.okd)?;
    let g = graphs.fetch(req.okd, channel, &req.arch).await?;
    if g.nodes.is_empty() {
        return Err(ferry_release::select::empty_channel(&g));
    }
    // Semver order for drawing: position in `order` is the wire index.
    let mut order: Vec<usize> = (0..g.nodes.len()).collect();
    order.sort_by(|a, b| g.nodes[*a].version.cmp(&g.nodes[*b].version));
    let mut wire_index = vec![0u32; g.nodes.len()];
    for (w, &i) in order.iter().enumerate() {
        wire_index[i] = w as u32;
    }
    let pair = |(f, t): (usize, usize)| (wire_index[f], wire_index[t]);
    let nodes = order
        .iter()
        .map(|&i| GraphNode {
            version: g.nodes[i].version.to_string(),
            payload: g.nodes[i].payload.clone(),
        })
        .collect();
    let conditional = g
        .conditional_edges
        .iter()
        .map(|c| GraphConditional {
            edges: c.edges.iter().copied().map(pair).collect(),
            risks: c
                .risks
                .iter()
                .map(|r| GraphRisk {
                    name: r.name.clone(),
                    url: r.url.clone(),
                    message: r.message.clone(),
                })
                .collect(),
        })
        .collect();
    let picked = ChannelSpec::new(
        index,
        channel,
        req.okd,
        blank(&req.min_version),
        blank(&req.max_version),
        req.shortest_path,
        req.full,
    )
    .and_then(|spec| select_channel(&g, &spec, None, false));
    let (selection, selection_error) = match picked {
        Ok(sel) => (
            Some(GraphSelection {
                min: sel.min.to_string(),
                max: sel.max.to_string(),
                heads_only: sel.heads_only,
                shortest_path: sel.shortest_path,
                releases: sel
                    .releases
                    .iter()
                    .filter_map(|r| g.index_of(&r.version).map(|i| wire_index[i]))
                    .collect(),
                notes: sel.notes,
            }),
            None,
        ),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(ReleaseGraphView {
        channel: channel.to_string(),
        arch: req.arch.clone(),
        upstream: graphs.upstream(req.okd).to_string(),
        nodes,
        edges: g.edges.iter().copied().map(pair).collect(),
        conditional,
        selection,
        selection_error,
    })
}

/// The channels carrying minor `X.Y` (`ferry list releases --channels` with the stored trust).
pub async fn channels(settings: &RegistrySettings, okd: bool, version: &str, arch: &str) -> Result<Vec<String>> {
    let s = graph_settings(settings, okd)?;
    crate::release::list_channels(&s, okd, version, arch).await
}

/// Manifest bytes and blobs `(digest, size)` of one planned image, keyed by
/// `(dest_repo, dest_tag)`, as the dry run measured them.
pub type ImageSizes = HashMap<(String, String), (u64, Vec<(String, u64)>)>;

fn signature_view(s: &SignatureStatus) -> SignatureView {
    let (state, key, identity) = match s {
        SignatureStatus::Pending => (SignatureState::Pending, None, None),
        SignatureStatus::Verified { key, identity } => {
            (SignatureState::Verified, Some(key.clone()), Some(identity.clone()))
        }
        SignatureStatus::Skipped => (SignatureState::Skipped, None, None),
    };
    SignatureView {
        state,
        key,
        identity,
        detail: None,
    }
}

/// The plan's releases for the Plan screen: each with the bytes of its release image and
/// components (a blob shared by two components counted once; `None` when an image of it was
/// not measured) and its signature status.
pub fn plan_rows(plan: &Plan, sizes: &ImageSizes) -> Vec<PlanRelease> {
    plan.releases
        .iter()
        .map(|r| {
            let prefix = format!("{}-", r.dest_tag);
            let mine = plan.images.iter().filter(|i| {
                matches!(i.kind, ImageKind::OcpRelease | ImageKind::OcpReleaseContent)
                    && (i.dest_tag == r.dest_tag || i.dest_tag.starts_with(&prefix))
            });
            let mut blobs: HashMap<&str, u64> = HashMap::new();
            let mut manifests = 0u64;
            let mut measured = true;
            let mut destination = String::new();
            for i in mine {
                if i.kind == ImageKind::OcpRelease {
                    destination = format!("{}:{}", i.dest_repo, i.dest_tag);
                }
                match sizes.get(&(i.dest_repo.clone(), i.dest_tag.clone())) {
                    Some((m, b)) => {
                        manifests += m;
                        blobs.extend(b.iter().map(|(d, s)| (d.as_str(), *s)));
                    }
                    None => measured = false,
                }
            }
            PlanRelease {
                version: r.version.clone(),
                arch: r.arch.clone(),
                channel: r.channel.clone(),
                source: r.source.to_string(),
                destination,
                components: r.components as u32,
                multi: r.multi,
                bytes: measured.then(|| manifests + blobs.values().sum::<u64>()),
                signature: signature_view(&r.signature),
            }
        })
        .collect()
}

/// The releases a results folder holds (release-image lines of `mapping.txt`) with the status
/// of their `release-signatures/` file, verified again here against the keyring a run uses
/// (built-in Red Hat keys, or `OCP_SIGNATURE_VERIFICATION_PK`). Empty when the folder mirrored
/// no release.
pub fn results_signatures(dir: &Path) -> Result<Vec<ReleaseSignatureRow>> {
    let mapping = dir.join("mapping.txt");
    let text = match std::fs::read_to_string(&mapping) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(mapping.display(), e)),
    };
    let keyring = Keyring::from_env().map_err(|e| Error::InvalidConfig(e.to_string()))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some((src, dst)) = line.trim().split_once('=') else {
            continue;
        };
        if !dst.contains("/openshift/release-images:") {
            continue;
        }
        let Some((_, d)) = src.rsplit_once('@') else { continue };
        let digest = Digest::parse(d).map_err(|e| {
            Error::InvalidConfig(format!(
                "{} line {}: bad release digest {d:?}: {e}",
                mapping.display(),
                n + 1
            ))
        })?;
        let rel = format!("{}/{}", crate::release::SIGNATURES_DIR, signature_file_name(&digest));
        let path = dir.join(&rel);
        let signature = if path.exists() {
            check_configmap(&keyring, &path, &digest)
        } else {
            SignatureView {
                state: SignatureState::Missing,
                key: None,
                identity: None,
                detail: Some(format!(
                    "no {rel} in this folder: the run shipped this release without a verified signature \
                     (--skip-verification); a cluster that verifies signatures will refuse it"
                )),
            }
        };
        rows.push(ReleaseSignatureRow {
            image: dst.to_string(),
            digest: digest.to_string(),
            file: path.exists().then_some(rel),
            signature,
        });
    }
    Ok(rows)
}

fn not_verified(detail: String) -> SignatureView {
    SignatureView {
        state: SignatureState::NotVerified,
        key: None,
        identity: None,
        detail: Some(detail),
    }
}

/// Verify the signatures inside one ConfigMap file (`binaryData` `sha256-<hex>-N`).
fn check_configmap(keyring: &Keyring, path: &Path, digest: &Digest) -> SignatureView {
    use base64::Engine as _;
    let body = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return not_verified(format!("{}: {e}", path.display())),
    };
    let cm: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return not_verified(format!("{}: not a ConfigMap in JSON: {e}", path.display())),
    };
    let Some(data) = cm.get("binaryData").and_then(|d| d.as_object()) else {
        return not_verified(format!("{}: no binaryData", path.display()));
    };
    let mut last = format!("{}: binaryData holds no signature for {digest}", path.display());
    let want = format!("sha256-{}-", digest.hex());
    for (k, v) in data.iter().filter(|(k, _)| k.starts_with(&want)) {
        let Some(bytes) = v
            .as_str()
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        else {
            last = format!("{}: {k} is not base64", path.display());
            continue;
        };
        match ferry_release::verify(keyring, &bytes, digest) {
            Ok(v) => {
                return SignatureView {
                    state: SignatureState::Verified,
                    key: Some(v.key),
                    identity: Some(v.identity),
                    detail: None,
                }
            }
            Err(e) => last = format!("{}: {k}: {e} (keyring: {})", path.display(), keyring.source),
        }
    }
    not_verified(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_strips_scheme_path_and_user() {
        assert_eq!(
            host_of("https://api.openshift.com/api/upgrades_info/v1/graph"),
            "api.openshift.com"
        );
        assert_eq!(host_of("http://127.0.0.1:8080/graph?x=1"), "127.0.0.1:8080");
        assert_eq!(host_of("https://u:p@graph.example:8443"), "graph.example:8443");
    }

    #[test]
    fn results_without_mapping_have_no_releases() {
        let d = tempfile::tempdir().unwrap();
        assert!(results_signatures(d.path()).unwrap().is_empty());
    }

    #[test]
    fn a_release_without_its_signature_file_is_reported_missing() {
        let d = tempfile::tempdir().unwrap();
        let hex = "0da6316466d60a3a4535d5fed3589feb0391989982fba59d47d4c729912d6363";
        std::fs::write(
            d.path().join("mapping.txt"),
            format!(
                "quay.io/openshift-release-dev/ocp-release@sha256:{hex}=m.example/ns/openshift/release-images:4.13.10-x86_64\n\
                 quay.io/x/y@sha256:{hex}=m.example/ns/x/y:1\n"
            ),
        )
        .unwrap();
        let rows = results_signatures(d.path()).unwrap();
        assert_eq!(rows.len(), 1, "only the release image line: {rows:?}");
        assert_eq!(rows[0].signature.state, SignatureState::Missing);
        assert!(rows[0]
            .signature
            .detail
            .as_deref()
            .unwrap()
            .contains("skip-verification"));
        // A file that is there but does not verify is not reported as verified.
        std::fs::create_dir(d.path().join("release-signatures")).unwrap();
        let digest = Digest::parse(&format!("sha256:{hex}")).unwrap();
        std::fs::write(
            d.path().join("release-signatures").join(signature_file_name(&digest)),
            ferry_release::signature_configmap(&digest, &[b"not a signature".to_vec()]),
        )
        .unwrap();
        let rows = results_signatures(d.path()).unwrap();
        assert_eq!(rows[0].signature.state, SignatureState::NotVerified, "{rows:?}");
        assert!(rows[0].file.is_some());
    }
}
