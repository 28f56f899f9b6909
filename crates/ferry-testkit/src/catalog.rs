//! Operator catalog index images built from a file-based catalog, for tests.
//!
//! [`push_catalog_image`] builds an index image the way `opm` images look: a base layer
//! (`bin/opm` stand-in and a stale `tmp/cache`), a layer with the FBC files under `configs/`,
//! labels `operators.operatorframework.io.index.configs.v1=/configs` (plus any extra), and
//! `Entrypoint ["/bin/opm"]`, `Cmd ["serve","/configs","--cache-dir=/tmp/cache"]`; one image per
//! platform under an index when several platforms are asked for.
//!
//! [`rewrite_catalog_images`] pushes a small generated image for every `image:` reference of a
//! catalog text into the test registry (same repository path; digest references are replaced by
//! the digest of their generated stand-in) and returns the rewritten text.
//!
//! Built with plain tar/gzip and HTTP so the harness never relies on the code under test.

use crate::image::{push_image, ImageFormat, ImageSpec, LayerSpec, Pusher};
use crate::server::RegistryServer;
use ferry_types::Digest;
use serde_json::json;
use std::collections::BTreeMap;

pub const CONFIGS_LABEL: &str = "operators.operatorframework.io.index.configs.v1";

/// What a pushed catalog image is made of.
#[derive(Debug, Clone)]
pub struct PushedCatalog {
    pub repo: String,
    pub tag: String,
    pub digest: Digest,
    pub media_type: String,
    /// Per-platform manifest digests (empty for a single image).
    pub children: Vec<Digest>,
}

fn tar_gz(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let refs: Vec<(&str, &[u8])> = entries.iter().map(|(p, d)| (p.as_str(), &d[..])).collect();
    crate::release::tar_gz(&refs)
}

fn gunzip_digest(gz: &[u8]) -> Digest {
    use std::io::Read;
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut raw).expect("gunzip");
    Digest::of(&raw)
}

/// Build and push a catalog image from FBC files (paths relative to the configs directory).
/// `platforms` empty means one linux/amd64 image; more make an OCI index.
pub async fn push_catalog_image(
    server: &RegistryServer,
    repo: &str,
    tag: &str,
    fbc: &BTreeMap<String, Vec<u8>>,
    extra_labels: &BTreeMap<String, String>,
    platforms: &[(&str, &str)],
) -> PushedCatalog {
    let h = Pusher::new(server);
    let base_layer = tar_gz(&[
        ("bin/opm".to_string(), b"#!/bin/sh\necho stand-in for opm\n".to_vec()),
        ("tmp/cache/pogreb.v1/digest".to_string(), b"stale".to_vec()),
    ]);
    let configs: Vec<(String, Vec<u8>)> = fbc.iter().map(|(k, v)| (format!("configs/{k}"), v.clone())).collect();
    let configs_layer = tar_gz(&configs);
    let ids = [gunzip_digest(&base_layer), gunzip_digest(&configs_layer)];
    let (l1, s1) = h.push_bytes(repo, base_layer).await;
    let (l2, s2) = h.push_bytes(repo, configs_layer).await;
    let mut labels = extra_labels.clone();
    labels.insert(CONFIGS_LABEL.to_string(), "/configs".to_string());
    let plats: Vec<(&str, &str)> = if platforms.is_empty() {
        vec![("linux", "amd64")]
    } else {
        platforms.to_vec()
    };
    let mut descriptors = Vec::new();
    let mut children = Vec::new();
    let mut single = None;
    for (os, arch) in &plats {
        let config = json!({
            "architecture": arch, "os": os,
            "config": {"Labels": labels, "Entrypoint": ["/bin/opm"], "Cmd": ["serve", "/configs", "--cache-dir=/tmp/cache"]},
            "rootfs": {"type": "layers", "diff_ids": ids.iter().map(|d| d.to_string()).collect::<Vec<_>>()},
            "history": [{"created_by": "base"}, {"created_by": "ADD configs /configs"}]
        });
        let (cd, cs) = h.push_bytes(repo, serde_json::to_vec(&config).unwrap()).await;
        let manifest = json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd.to_string(), "size": cs},
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": l1.to_string(), "size": s1},
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": l2.to_string(), "size": s2}
            ]
        });
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let d = Digest::of(&bytes);
        if plats.len() == 1 {
            h.put_manifest(repo, tag, "application/vnd.oci.image.manifest.v1+json", &bytes)
                .await;
            single = Some(d);
        } else {
            h.put_manifest(
                repo,
                &d.to_string(),
                "application/vnd.oci.image.manifest.v1+json",
                &bytes,
            )
            .await;
            descriptors.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d.to_string(), "size": bytes.len(), "platform": {"os": os, "architecture": arch}}));
            children.push(d);
        }
    }
    if let Some(d) = single {
        return PushedCatalog {
            repo: repo.into(),
            tag: tag.into(),
            digest: d,
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            children,
        };
    }
    let index = serde_json::to_vec(
        &json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": descriptors}),
    )
    .unwrap();
    h.put_manifest(repo, tag, "application/vnd.oci.image.index.v1+json", &index)
        .await;
    PushedCatalog {
        repo: repo.into(),
        tag: tag.into(),
        digest: Digest::of(&index),
        media_type: "application/vnd.oci.image.index.v1+json".into(),
        children,
    }
}

/// Every `image:` value of a YAML or JSON catalog text (bundle images and related images).
pub fn catalog_image_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        let v = t.strip_prefix("image:").or_else(|| t.strip_prefix("\"image\":"));
        if let Some(v) = v {
            let v = v
                .trim()
                .trim_end_matches(',')
                .trim_matches('"')
                .trim_matches('\'')
                .to_string();
            if !v.is_empty() && !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// Push a small generated image (one 4 KiB layer, its own seed) for every image reference of
/// the catalog text into `server`, keeping each repository path; returns the text with the
/// registry replaced by the server's and every digest replaced by its stand-in's digest.
pub async fn rewrite_catalog_images(server: &RegistryServer, text: &str, seed: u64) -> String {
    let host = server.host();
    let mut out = text.to_string();
    for (i, r) in catalog_image_refs(text).into_iter().enumerate() {
        let (name, reference) = match r.split_once('@') {
            Some((n, d)) => (n.to_string(), d.to_string()),
            None => match r.rsplit_once(':') {
                Some((n, t)) if !t.contains('/') => (n.to_string(), t.to_string()),
                _ => (r.clone(), "latest".to_string()),
            },
        };
        let (registry, path) = name.split_once('/').expect("catalog images name a registry");
        let spec = ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![LayerSpec {
                size: 4096,
                seed: seed.wrapping_mul(1000).wrapping_add(i as u64),
            }],
            platforms: vec![],
        };
        let new_name = format!("{host}/{path}");
        if reference.starts_with("sha256:") {
            let tag = format!("stand-in-{}", &reference[7..19]);
            let pushed = push_image(server, path, &tag, &spec).await;
            out = out.replace(&r, &format!("{new_name}@{}", pushed.digest));
        } else {
            push_image(server, path, &reference, &spec).await;
            out = out.replace(
                &format!("{registry}/{path}:{reference}"),
                &format!("{new_name}:{reference}"),
            );
        }
    }
    out
}

/// Save an image of `server` (an index with its children, or one manifest) as an OCI image
/// layout in `dir` (`oci-layout`, `index.json` naming it `tag`, `blobs/sha256/…`), the form
/// `skopeo copy … oci:DIR` writes, for `oci://` catalog tests. Plain HTTP, no code under test.
pub async fn save_oci_layout(server: &RegistryServer, repo: &str, tag: &str, dir: &std::path::Path) -> Digest {
    let base = server.base_url();
    let http = reqwest::Client::new();
    let get = |url: String, accept: bool| {
        let mut r = http.get(url);
        if accept {
            r = r.header(
                "accept",
                "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
                 application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json",
            );
        }
        if let Some((u, p)) = server.credentials() {
            r = r.basic_auth(u, Some(p));
        }
        r
    };
    let blobs = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let save = |bytes: &[u8]| {
        let d = Digest::of(bytes);
        std::fs::write(blobs.join(d.hex()), bytes).unwrap();
        d
    };
    let fetch_manifest = |reference: String| {
        let url = format!("{base}/v2/{repo}/manifests/{reference}");
        let req = get(url.clone(), true);
        async move {
            let resp = req.send().await.expect("GET manifest");
            assert_eq!(resp.status().as_u16(), 200, "GET {url}");
            let mt = resp.headers()["content-type"].to_str().unwrap().to_string();
            (resp.bytes().await.unwrap().to_vec(), mt)
        }
    };
    let (top, top_type) = fetch_manifest(tag.to_string()).await;
    let top_digest = save(&top);
    let v: serde_json::Value = serde_json::from_slice(&top).unwrap();
    let mut singles = Vec::new();
    for c in v["manifests"].as_array().cloned().unwrap_or_default() {
        let (m, _) = fetch_manifest(c["digest"].as_str().unwrap().to_string()).await;
        save(&m);
        singles.push(m);
    }
    if singles.is_empty() {
        singles.push(top.clone());
    }
    for m in singles {
        let mv: serde_json::Value = serde_json::from_slice(&m).unwrap();
        let mut descs = vec![mv["config"].clone()];
        descs.extend(mv["layers"].as_array().cloned().unwrap_or_default());
        for d in descs {
            let digest = d["digest"].as_str().unwrap();
            let resp = get(format!("{base}/v2/{repo}/blobs/{digest}"), false)
                .send()
                .await
                .expect("GET blob");
            assert_eq!(resp.status().as_u16(), 200, "GET blob {digest}");
            let got = save(&resp.bytes().await.unwrap());
            assert_eq!(got.to_string(), digest);
        }
    }
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": top_type, "digest": top_digest.to_string(), "size": top.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag}
        }]
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    top_digest
}
