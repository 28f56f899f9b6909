//! Helpers the archive tests against a real docker-registry share. Each test binary uses a
//! subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use ferry_archive::WriterOptions;
use ferry_testkit::{ImageFormat, ImageSpec, LayerSpec, RegistryServer};
use ferry_types::Digest;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const MIB: u64 = 1 << 20;

/// An anonymous plain-HTTP client for a loopback registry, with short retry delays.
pub fn registry(host: &str) -> Arc<ferry_registry::Registry> {
    let opts = ferry_registry::ClientOptions {
        default_tls: ferry_registry::TlsPolicy {
            plain_http: true,
            ..Default::default()
        },
        retry_base_delay: Duration::from_millis(20),
        ..Default::default()
    };
    let client = ferry_registry::RegistryClient::new(Arc::new(ferry_auth::Anonymous), opts).expect("registry client");
    Arc::new(client.registry(host))
}

/// Where the registry keeps the bytes of blob `d` (to break or remove them).
pub fn blob_file(server: &RegistryServer, d: &Digest) -> PathBuf {
    server
        .storage_dir()
        .join("docker/registry/v2/blobs/sha256")
        .join(&d.hex()[..2])
        .join(d.hex())
        .join("data")
}

/// Sequence 1 into `dir`, parts of 1 GiB, with metadata naming `uid`.
pub fn writer_opts(dir: &Path, uid: &str, plan_key: &str) -> WriterOptions {
    WriterOptions {
        dir: dir.to_path_buf(),
        sequence: 1,
        uid: uid.into(),
        max_part_bytes: 1 << 30,
        strict: false,
        metadata_json: format!(
            r#"{{"kind":"Metadata","apiVersion":"mirror.openshift.io/v1alpha2","uid":"{uid}","singleUse":false,"pastMirror":{{"timestamp":1,"sequence":1,"mirror":{{}}}}}}"#
        )
        .into_bytes(),
        plan_key: plan_key.into(),
        skip_digests: HashSet::new(),
    }
}

/// A single-platform OCI image of layers (size, seed).
pub fn spec(layers: &[(u64, u64)]) -> ImageSpec {
    ImageSpec {
        format: ImageFormat::Oci,
        layers: layers.iter().map(|&(size, seed)| LayerSpec { size, seed }).collect(),
        platforms: vec![],
    }
}
