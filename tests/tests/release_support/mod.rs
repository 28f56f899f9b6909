//! Helpers for the release tests. The release builder (release image, components, signing key,
//! signatures, graph and signature servers) lives in `ferry_testkit::release`, shared with the
//! release benchmark; this module adds what needs the shared fixtures or the facade: the real
//! 4.12.0 component names, a signed-release setup, and the signature ConfigMap reader.

#![allow(dead_code, unused_imports)]

pub mod httpd;

pub use ferry_testkit::release::*;
use ferry_testkit::RegistryServer;
use httpd::Httpd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub const IMAGE_REFERENCES: &str =
    "release/oc-mirror/tests/unit/testdata/working-dir-fake/hold-release/ocp-release/4.14.1-x86_64/release-manifests/image-references";

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

/// A test signing key with its armored public key written to a keyring file (kept while this
/// value lives).
pub struct Keyring {
    pub key: pgp::composed::SignedSecretKey,
    pub file: PathBuf,
    _dir: tempfile::TempDir,
}

/// A fresh [`test_key`] written to `release-pk.asc` in a temp folder.
pub fn keyring() -> Keyring {
    let (key, armored) = test_key();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("release-pk.asc");
    std::fs::write(&file, armored).unwrap();
    Keyring { key, file, _dir: dir }
}

/// `<src>/openshift-release-dev/ocp-release:<version>-x86_64`, the identity a release is signed for.
pub fn release_identity(src: &RegistryServer, version: &str) -> String {
    format!("{}/{RELEASE_REPO}:{version}-x86_64", src.host())
}

/// `<src>/openshift-release-dev/ocp-release@<digest>`, a release's payload pull spec.
pub fn payload(src: &RegistryServer, digest: &str) -> String {
    format!("{}/{RELEASE_REPO}@{digest}", src.host())
}

/// A signature store serving `sigs` (kept shared so more can be pushed later).
pub fn sigs(list: Vec<(String, Vec<u8>)>) -> Sigs {
    Arc::new(Mutex::new(list))
}

/// The test keyring and store, as oc-mirror reads them (env; each nextest test is a process).
pub fn use_signing(keyfile: &Path, store: &Httpd) {
    std::env::set_var("OCP_SIGNATURE_URL", format!("http://{}/sigs", store.host()));
    std::env::set_var("OCP_SIGNATURE_VERIFICATION_PK", keyfile);
}

/// The update service the planner asks (`UPDATE_URL_OVERRIDE`, as oc-mirror reads it).
pub fn use_graph(graph: &Httpd) {
    std::env::set_var("UPDATE_URL_OVERRIDE", format!("http://{}/graph", graph.host()));
}

/// The signature ConfigMap for `digest` in `results` (checked for oc-mirror's namespace and
/// label); returns the signature it carries.
pub fn read_signature_configmap(results: &Path, digest: &str) -> Vec<u8> {
    use base64::Engine as _;
    let hex = digest.trim_start_matches("sha256:");
    let f = results.join(format!("release-signatures/signature-sha256-{}.json", &hex[..16]));
    let cm: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()))).unwrap();
    assert_eq!(cm["metadata"]["namespace"], "openshift-config-managed");
    assert_eq!(
        cm["metadata"]["labels"]["release.openshift.io/verification-signatures"],
        ""
    );
    let b64 = cm["binaryData"][format!("sha256-{hex}-1")].as_str().unwrap();
    base64::engine::general_purpose::STANDARD.decode(b64).unwrap()
}
