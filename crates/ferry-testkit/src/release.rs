//! Generated OpenShift releases for tests and the release benchmark: a release image (a real
//! `release-manifests/` layer whose `image-references` lists the components, over a shared base
//! layer, as real payloads have it), small component images, an OpenPGP key made on the spot,
//! the atomic container signature Red Hat publishes for a release, and loopback HTTP servers
//! for the update graph and the signature store.
//!
//! One builder for every user (the e2e suites and `ferry-release`'s `release_bench_env`), so a
//! fix to the release layout reaches all of them. Pushed with the harness's own plain HTTP calls.

use crate::httpd::{Httpd, Request, Response};
use crate::image::Pusher;
use crate::server::RegistryServer;
use pgp::composed::{ArmorOptions, KeyType, MessageBuilder, SecretKeyParamsBuilder, SignedPublicKey, SignedSecretKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::Password;
use sha2::{Digest as _, Sha256};
use std::sync::{Arc, Mutex};

/// Where oc-mirror's release images live in the source registry.
pub const RELEASE_REPO: &str = "openshift-release-dev/ocp-release";
/// Where oc-mirror's release components live in the source registry.
pub const COMPONENT_REPO: &str = "openshift-release-dev/ocp-v4.0-art-dev";

/// `sha256:<hex>` of `b`.
pub fn sha(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

/// A gzip tar layer holding `files` (path, bytes), mode 0644, mtime 0.
pub fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (p, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, p, *data).expect("tar entry");
    }
    b.into_inner().expect("tar").finish().expect("gzip")
}

/// Push an OCI image (config + gzip layers given as bytes, `labels` in the config) under `tag`;
/// returns the manifest digest as `sha256:<hex>`.
pub async fn push_oci(
    reg: &RegistryServer,
    repo: &str,
    tag: &str,
    layers: Vec<Vec<u8>>,
    labels: serde_json::Value,
) -> String {
    let http = Pusher::new(reg);
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    for l in layers {
        let size = l.len();
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&l[..]), &mut raw).expect("gunzip layer");
        diff_ids.push(sha(&raw));
        let (d, _) = http.push_bytes(repo, l).await;
        descs.push(
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d.to_string(), "size": size}),
        );
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    }))
    .unwrap();
    let (cd, csize) = http.push_bytes(repo, config).await;
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd.to_string(), "size": csize},
        "layers": descs
    }))
    .unwrap();
    http.put_manifest(repo, tag, "application/vnd.oci.image.manifest.v1+json", &manifest)
        .await;
    sha(&manifest)
}

/// A small component image whose content is unique to (`name`, `salt`), tagged
/// `c-<name>-<salt>`; returns its digest.
pub async fn push_component(reg: &RegistryServer, repo: &str, name: &str, salt: &str) -> String {
    let body = format!("component {name} {salt}\n");
    let layer = tar_gz(&[(&format!("usr/share/{name}.txt"), body.as_bytes())]);
    push_oci(
        reg,
        repo,
        &format!("c-{name}-{salt}"),
        vec![layer],
        serde_json::json!({}),
    )
    .await
}

/// One [`push_component`] per name in [`COMPONENT_REPO`]; returns `(name, host/repo@digest)`
/// pairs in order, ready for [`push_release`].
pub async fn push_components<S: AsRef<str>>(reg: &RegistryServer, names: &[S], salt: &str) -> Vec<(String, String)> {
    let h = reg.host();
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let d = push_component(reg, COMPONENT_REPO, n.as_ref(), salt).await;
        out.push((n.as_ref().to_string(), format!("{h}/{COMPONENT_REPO}@{d}")));
    }
    out
}

/// Push a release image for `version` (tag `<version>-x86_64` in [`RELEASE_REPO`]) whose
/// components are `(name, pullspec)`: a shared "base" layer plus the release-manifests layer
/// (`image-references`, `release-metadata`). Returns its digest.
pub async fn push_release(reg: &RegistryServer, version: &str, components: &[(String, String)]) -> String {
    let tags: Vec<serde_json::Value> = components
        .iter()
        .map(|(n, img)| serde_json::json!({"name": n, "annotations": {}, "from": {"kind": "DockerImage", "name": img}}))
        .collect();
    let refs = serde_json::to_vec_pretty(&serde_json::json!({
        "kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": version, "creationTimestamp": null},
        "spec": {"lookupPolicy": {"local": false}, "tags": tags}
    }))
    .unwrap();
    let meta = serde_json::to_vec(&serde_json::json!({
        "kind": "cincinnati-metadata-v0", "version": version, "previous": [], "metadata": {}
    }))
    .unwrap();
    let base = tar_gz(&[("etc/os-release", b"ID=test\n")]);
    let manifests = tar_gz(&[
        (
            "release-manifests/0000_00_cluster-version-operator_00_namespace.yaml",
            b"kind: Namespace\n",
        ),
        ("release-manifests/image-references", &refs),
        ("release-manifests/release-metadata", &meta),
    ]);
    push_oci(
        reg,
        RELEASE_REPO,
        &format!("{version}-x86_64"),
        vec![base, manifests],
        serde_json::json!({"io.openshift.release": version}),
    )
    .await
}

/// A signing key made for the test (Ed25519, sign-capable primary key, user id `uid`) and its
/// armored public key.
pub fn signing_key(uid: &str) -> (SignedSecretKey, String) {
    let mut p = SecretKeyParamsBuilder::default();
    p.key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id(uid.into());
    let sk = p.build().unwrap().generate(rand::thread_rng()).unwrap();
    let armored = SignedPublicKey::from(sk.clone())
        .to_armored_string(ArmorOptions::default())
        .unwrap();
    (sk, armored)
}

/// [`signing_key`] with the e2e suites' user id.
pub fn test_key() -> (SignedSecretKey, String) {
    signing_key("Ferry e2e release signer <e2e@ferry.invalid>")
}

/// An atomic container signature of `digest` for `identity`, compressed like Red Hat's.
pub fn sign_release(sk: &SignedSecretKey, digest: &str, identity: &str) -> Vec<u8> {
    sign_release_by(sk, digest, identity, "ferry e2e")
}

/// [`sign_release`] naming another `creator` in the signature's optional part.
pub fn sign_release_by(sk: &SignedSecretKey, digest: &str, identity: &str, creator: &str) -> Vec<u8> {
    let body = serde_json::to_vec(&serde_json::json!({
        "critical": {"identity": {"docker-reference": identity}, "image": {"docker-manifest-digest": digest}, "type": "atomic container signature"},
        "optional": {"creator": creator}
    }))
    .unwrap();
    let mut b = MessageBuilder::from_bytes("", body);
    b.compression(pgp::types::CompressionAlgorithm::ZIP);
    b.sign(&sk.primary_key, Password::empty(), HashAlgorithm::Sha256);
    b.to_vec(rand::thread_rng()).unwrap()
}

/// `(release digest, signature)` pairs a [`signature_server`] serves; push more while it runs.
pub type Sigs = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// The signature store: `/sigs/sha256=<hex>/signature-1` for each of `sigs`, 404 for the rest.
pub async fn signature_server(sigs: Sigs) -> Httpd {
    Httpd::start(move |r: Request| {
        let sigs = sigs.clone();
        async move {
            for (digest, sig) in sigs.lock().unwrap().iter() {
                let hex = digest.trim_start_matches("sha256:");
                if r.target == format!("/sigs/sha256={hex}/signature-1") {
                    return Response::bytes(200, sig.clone());
                }
            }
            Response::new(404, "not found")
        }
    })
    .await
}

/// `(version, payload pullspec)` nodes a [`graph_server`] serves, chained by edges in order.
pub type Nodes = Arc<Mutex<Vec<(String, String)>>>;

/// An update service answering every query with `nodes` chained by edges; each node's metadata
/// is `metadata` (a JSON object).
pub async fn graph_server(nodes: Nodes, metadata: serde_json::Value) -> Httpd {
    Httpd::start(move |_r: Request| {
        let body = graph_body(&nodes.lock().unwrap(), &metadata);
        async move { Response::bytes(200, body) }
    })
    .await
}

/// A Cincinnati graph document: `nodes` chained by edges in order, each with `metadata`.
pub fn graph_body(nodes: &[(String, String)], metadata: &serde_json::Value) -> Vec<u8> {
    let list: Vec<serde_json::Value> = nodes
        .iter()
        .map(|(v, p)| serde_json::json!({"version": v, "payload": p, "metadata": metadata}))
        .collect();
    let edges: Vec<serde_json::Value> = (1..nodes.len()).map(|i| serde_json::json!([i - 1, i])).collect();
    serde_json::to_vec(&serde_json::json!({"version": 1, "nodes": list, "edges": edges, "conditionalEdges": []}))
        .unwrap()
}
