//! Reading catalogs back for tests, the way oc-mirror's e2e `check_bundles` does: the catalog
//! image's `/configs/index.json` taken from the image in a registry (for an index, its first
//! platform), and the bundle names in it. Also loading a split-file FBC folder (oc-mirror's
//! `test-catalog-*` fixtures: `operator.yaml`, `channels.yaml`, `bundles.yaml` per package).
//!
//! Plain HTTP, tar and gzip only, so the harness never relies on the code under test.

use crate::image::{get_blob, get_manifest};
use crate::server::RegistryServer;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The `configs/index.json` of the catalog image `repo:reference` in `server`: the image's
/// layers are read in order and the last one holding `configs/index.json` wins (a later layer
/// replaces an earlier file, as the container runtime sees it). `None` when the image is missing
/// or no layer holds that file.
pub async fn catalog_index_json(server: &RegistryServer, repo: &str, reference: &str) -> Option<String> {
    let (bytes, _) = get_manifest(server, repo, reference).await?;
    let mut m: serde_json::Value = serde_json::from_slice(&bytes).expect("manifest JSON");
    if let Some(children) = m["manifests"].as_array() {
        let first = children.first()?["digest"].as_str()?.to_string();
        let (b, _) = get_manifest(server, repo, &first).await?;
        m = serde_json::from_slice(&b).expect("manifest JSON");
    }
    let mut found = None;
    for l in m["layers"].as_array()? {
        let gz = get_blob(server, repo, l["digest"].as_str()?).await;
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut raw).ok()?;
        let mut ar = tar::Archive::new(&raw[..]);
        for e in ar.entries().ok()? {
            let mut e = e.ok()?;
            let p = e.path().ok()?.to_string_lossy().trim_start_matches('/').to_string();
            if p == "configs/index.json" {
                let mut s = String::new();
                e.read_to_string(&mut s).ok()?;
                found = Some(s);
            }
        }
    }
    found
}

/// The `name` of every `olm.bundle` document of a declcfg JSON stream (as `opm`'s
/// `WriteJSON` writes it: objects one after another), sorted.
pub fn bundle_names(index_json: &str) -> Vec<String> {
    let mut out: Vec<String> = serde_json::Deserializer::from_str(index_json)
        .into_iter::<serde_json::Value>()
        .map(|v| v.expect("declcfg JSON stream"))
        .filter(|v| v["schema"] == "olm.bundle")
        .map(|v| v["name"].as_str().expect("bundle name").to_string())
        .collect();
    out.sort();
    out
}

/// Every file under `dir` (recursively) keyed by its path relative to `dir`, for
/// [`crate::push_catalog_image`].
pub fn fbc_folder(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(d: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
