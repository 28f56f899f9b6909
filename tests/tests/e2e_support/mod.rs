//! Setup the facade-level end-to-end suites share (release, helm, disk trust): plain-HTTP
//! registry settings, run options in a workspace, `docker://` destinations and image-set
//! configurations parsed from YAML. What the harness can do without the facade (registries,
//! images, releases, loopback servers) lives in ferry-testkit.

#![allow(dead_code)]

use ferry_api::config::ImageSetConfiguration;
use ferry_api::disk::DiskOptions;
use ferry_api::mirror::MirrorOptions;
use ferry_api::registry::RegistrySettings;
use ferry_api::{no_progress, CancellationToken, Destination};
use ferry_testkit::RegistryServer;
use std::path::Path;

/// Both sides over plain HTTP (the test registries have no TLS).
pub fn settings() -> RegistrySettings {
    RegistrySettings {
        source_use_http: true,
        dest_use_http: true,
        ..Default::default()
    }
}

/// Mirror options over plain HTTP with their workspace in `ws`.
pub fn mirror_opts(ws: &Path) -> MirrorOptions {
    MirrorOptions {
        registry: settings(),
        workspace: ws.to_path_buf(),
        ..Default::default()
    }
}

/// Disk options over plain HTTP with their workspace in `ws`.
pub fn disk_opts(ws: &Path) -> DiskOptions {
    DiskOptions {
        registry: settings(),
        workspace: ws.to_path_buf(),
        ..Default::default()
    }
}

/// `docker://<reg>/<ns>`.
pub fn docker_dest(reg: &RegistryServer, ns: &str) -> Destination {
    Destination::parse(&format!("docker://{}/{ns}", reg.host())).unwrap()
}

/// An ImageSetConfiguration whose body (everything after `apiVersion`) is `body`.
pub fn isc(body: &str) -> ImageSetConfiguration {
    let yaml = format!("kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\n{body}");
    ferry_api::config::parse_str(&yaml, "isc.yaml").unwrap()
}

/// `storageConfig` with local metadata in `dir`, or nothing.
pub fn local_storage(dir: Option<&Path>) -> String {
    dir.map(|d| format!("storageConfig:\n  local:\n    path: {}\n", d.display()))
        .unwrap_or_default()
}

/// A JSON file, panicking with its path when it is missing or not JSON.
pub fn read_json(p: &Path) -> serde_json::Value {
    let b = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_slice(&b).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Mirror to mirror without progress events or cancellation.
pub async fn run_m2m(
    selection: &ferry_api::mirror::ImageSelection,
    dest: &Destination,
    opts: &MirrorOptions,
) -> ferry_api::Result<ferry_api::mirror::MirrorReport> {
    ferry_api::mirror::mirror_to_mirror(selection, dest, opts, no_progress(), CancellationToken::new()).await
}

/// Mirror to disk without progress events or cancellation.
pub async fn run_m2d(
    cfg: &ImageSetConfiguration,
    dir: &Path,
    opts: &DiskOptions,
) -> ferry_api::Result<ferry_api::disk::DiskReport> {
    ferry_api::disk::mirror_to_disk(cfg, dir, opts, no_progress(), CancellationToken::new()).await
}

/// Disk to mirror without progress events or cancellation.
pub async fn run_d2m(
    dir: &Path,
    dest: &Destination,
    opts: &DiskOptions,
) -> ferry_api::Result<ferry_api::disk::ImportReport> {
    ferry_api::disk::disk_to_mirror(dir, dest, opts, no_progress(), CancellationToken::new()).await
}
