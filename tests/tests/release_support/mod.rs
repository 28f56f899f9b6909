//! Helpers for the release end-to-end test: a generated OpenShift release image (a real
//! `release-manifests/` layer whose `image-references` lists the component names of the real
//! 4.12.0 payload from the shared fixtures, pointing at small generated component images), a
//! test OpenPGP key that signs it, and small real HTTP servers for the update graph and the
//! signature store. Images are pushed with plain HTTP calls (never with ferry-registry).

#![allow(dead_code)]

pub mod httpd;

use ferry_testkit::RegistryServer;
use pgp::composed::{ArmorOptions, KeyType, MessageBuilder, SecretKeyParamsBuilder, SignedPublicKey, SignedSecretKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::Password;
use sha2::{Digest as _, Sha256};

pub const IMAGE_REFERENCES: &str =
    "release/oc-mirror/tests/unit/testdata/working-dir-fake/hold-release/ocp-release/4.14.1-x86_64/release-manifests/image-references";

pub fn sha(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

/// The component tag names of the real 4.12.0 payload (fixture `image-references`).
pub fn real_component_names() -> Option<Vec<String>> {
    let p = ferry_testkit::fixture(IMAGE_REFERENCES)?;
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    Some(
        v["spec"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect(),
    )
}

async fn push_blob(http: &reqwest::Client, reg: &RegistryServer, repo: &str, body: Vec<u8>) -> String {
    let digest = sha(&body);
    let base = reg.base_url();
    let r = http
        .post(format!("{base}/v2/{repo}/blobs/uploads/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202, "start upload");
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let mut url = if loc.starts_with("http") {
        url::Url::parse(&loc).unwrap()
    } else {
        url::Url::parse(&format!("{base}{loc}")).unwrap()
    };
    url.query_pairs_mut().append_pair("digest", &digest);
    let r = http.put(url).body(body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201, "finish upload");
    digest
}

/// Push an OCI image (config + layers given as bytes) under `tag`; returns the manifest digest.
pub async fn push_oci(
    reg: &RegistryServer,
    repo: &str,
    tag: &str,
    layers: Vec<Vec<u8>>,
    labels: serde_json::Value,
) -> String {
    let http = reqwest::Client::new();
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    for l in layers {
        let size = l.len();
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&l[..]), &mut raw).unwrap();
        diff_ids.push(sha(&raw));
        let d = push_blob(&http, reg, repo, l).await;
        descs.push(
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": size}),
        );
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    }))
    .unwrap();
    let csize = config.len();
    let cd = push_blob(&http, reg, repo, config).await;
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": csize},
        "layers": descs
    }))
    .unwrap();
    let digest = sha(&manifest);
    let r = http
        .put(format!("{}/v2/{repo}/manifests/{tag}", reg.base_url()))
        .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .body(manifest)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "manifest put");
    digest
}

/// A gzip tar layer holding `files` (path, bytes).
pub fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (p, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, p, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// A small component image whose content is unique to (`name`, `salt`).
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

/// Push a release image for `version` whose components are `(name, pullspec)`. A shared
/// "base" layer plus the release-manifests layer on top (as real payloads have it).
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
        "openshift-release-dev/ocp-release",
        &format!("{version}-x86_64"),
        vec![base, manifests],
        serde_json::json!({"io.openshift.release": version}),
    )
    .await
}

/// A signing key made for the test (Ed25519, sign-capable primary key).
pub fn test_key() -> (SignedSecretKey, String) {
    let mut p = SecretKeyParamsBuilder::default();
    p.key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id("Ferry e2e release signer <e2e@ferry.invalid>".into());
    let sk = p.build().unwrap().generate(rand::thread_rng()).unwrap();
    let public = SignedPublicKey::from(sk.clone());
    let armored = public.to_armored_string(ArmorOptions::default()).unwrap();
    (sk, armored)
}

/// An atomic container signature of `digest` for `identity`, compressed like Red Hat's.
pub fn sign_release(sk: &SignedSecretKey, digest: &str, identity: &str) -> Vec<u8> {
    let body = serde_json::to_vec(&serde_json::json!({
        "critical": {"identity": {"docker-reference": identity}, "image": {"docker-manifest-digest": digest}, "type": "atomic container signature"},
        "optional": {"creator": "ferry e2e"}
    }))
    .unwrap();
    let mut b = MessageBuilder::from_bytes("", body);
    b.compression(pgp::types::CompressionAlgorithm::ZIP);
    b.sign(&sk.primary_key, Password::empty(), HashAlgorithm::Sha256);
    b.to_vec(rand::thread_rng()).unwrap()
}
