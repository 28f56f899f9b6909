//! OpenShift release mirroring end to end, through the facade, against real `docker-registry`
//! processes and small real HTTP servers (update graph, signature store) started here.
//!
//! The release image is generated: its `release-manifests/image-references` lists the 183
//! component names of the real 4.12.0 payload (shared fixtures), each pointing at a small
//! generated image; it is signed by an OpenPGP key the test makes (the keyring is given through
//! `OCP_SIGNATURE_VERIFICATION_PK`, the store through `OCP_SIGNATURE_URL`, the graph through
//! `UPDATE_URL_OVERRIDE`, all as oc-mirror reads them).
//!
//! The channel is heads-only (no min/max), so the second run mirrors from the head the first
//! run remembered in `pastMirror.platforms` up to the new head.
//!
//! Flow: mirror-to-mirror; mirror-to-disk; disk-to-mirror into a registry the source cannot
//! reach, with the source registry and every HTTP server stopped first (the import needs no
//! network); then 4.12.1 appears in the graph and the second mirror-to-disk carries only the
//! new release's new blobs.

mod release_support;

use base64::Engine as _;
use ferry_api::disk::{disk_to_mirror, mirror_to_disk, DiskOptions};
use ferry_api::mirror::{mirror_to_mirror, ImageSelection, MirrorOptions};
use ferry_api::registry::RegistrySettings;
use ferry_api::{no_progress, CancellationToken, Destination};
use ferry_testkit::{manifest_digest, RegistryOpts, RegistryServer};
use release_support::httpd::{Httpd, Request, Response};
use release_support::*;
use std::path::Path;
use std::sync::{Arc, Mutex};

fn registry() -> RegistryServer {
    RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    })
}

fn settings() -> RegistrySettings {
    RegistrySettings {
        source_use_http: true,
        dest_use_http: true,
        ..Default::default()
    }
}

fn config(metadata_dir: Option<&Path>) -> ferry_api::config::ImageSetConfiguration {
    let storage = metadata_dir
        .map(|d| format!("storageConfig:\n  local:\n    path: {}\n", d.display()))
        .unwrap_or_default();
    let yaml = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\n{storage}mirror:\n  platform:\n    channels:\n    - name: stable-4.12\n"
    );
    ferry_api::config::parse_str(&yaml, "isc.yaml").unwrap()
}

type Nodes = Arc<Mutex<Vec<(String, String)>>>;

/// The update service: stable-4.12 for amd64 with `nodes` chained by edges.
async fn graph_server(nodes: Nodes, queries: Arc<Mutex<Vec<String>>>) -> Httpd {
    Httpd::start(move |r: Request| {
        let (nodes, queries) = (nodes.clone(), queries.clone());
        async move {
            queries.lock().unwrap().push(r.target.clone());
            if !r.target.contains("channel=stable-4.12") || !r.target.contains("arch=amd64") {
                return Response::new(200, r#"{"version":1,"nodes":[],"edges":[],"conditionalEdges":[]}"#);
            }
            let n = nodes.lock().unwrap().clone();
            let list: Vec<serde_json::Value> = n
                .iter()
                .map(|(v, p)| serde_json::json!({"version": v, "payload": p, "metadata": {"io.openshift.upgrades.graph.release.channels": "stable-4.12"}}))
                .collect();
            let edges: Vec<serde_json::Value> = (1..n.len()).map(|i| serde_json::json!([i - 1, i])).collect();
            let body = serde_json::json!({"version": 1, "nodes": list, "edges": edges, "conditionalEdges": []});
            Response::bytes(200, serde_json::to_vec(&body).unwrap()).header("Content-Type", "application/json")
        }
    })
    .await
}

type Sigs = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// The signature store: `/sigs/sha256=<hex>/signature-1`, 404 for everything else.
async fn signature_server(sigs: Sigs) -> Httpd {
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

fn read_signature_configmap(results: &Path, digest: &str) -> Vec<u8> {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn release_m2m_m2d_d2m_and_incremental_second_release() {
    let Some(names) = real_component_names() else { return };
    assert_eq!(names.len(), 183, "the real 4.12.0 payload lists 183 components");
    let src = registry();
    let h = src.host();
    let comp_repo = "openshift-release-dev/ocp-v4.0-art-dev";
    let mut comps = Vec::new();
    for n in &names {
        let d = push_component(&src, comp_repo, n, "4.12.0").await;
        comps.push((n.clone(), format!("{h}/{comp_repo}@{d}")));
    }
    let rel0 = push_release(&src, "4.12.0", &comps).await;
    let payload0 = format!("{h}/openshift-release-dev/ocp-release@{rel0}");

    let (key, armored) = test_key();
    let keydir = tempfile::tempdir().unwrap();
    let keyfile = keydir.path().join("release-pk.asc");
    std::fs::write(&keyfile, armored).unwrap();
    let sig0 = sign_release(
        &key,
        &rel0,
        &format!("{h}/openshift-release-dev/ocp-release:4.12.0-x86_64"),
    );
    let nodes: Nodes = Arc::new(Mutex::new(vec![("4.12.0".into(), payload0.clone())]));
    let queries: Arc<Mutex<Vec<String>>> = Default::default();
    let graph = graph_server(nodes.clone(), queries.clone()).await;
    let sigs: Sigs = Arc::new(Mutex::new(vec![(rel0.clone(), sig0.clone())]));
    let sigsrv = signature_server(sigs.clone()).await;
    // nextest runs each test in its own process, so these reach only this test.
    std::env::set_var("UPDATE_URL_OVERRIDE", format!("http://{}/graph", graph.host()));
    std::env::set_var("OCP_SIGNATURE_URL", format!("http://{}/sigs", sigsrv.host()));
    std::env::set_var("OCP_SIGNATURE_VERIFICATION_PK", &keyfile);

    // 1. Mirror to mirror.
    let dst = registry();
    let ws = tempfile::tempdir().unwrap();
    let cfg = config(None);
    let selection = ImageSelection::from_config(&cfg).unwrap();
    let mopts = MirrorOptions {
        registry: settings(),
        workspace: ws.path().to_path_buf(),
        ..Default::default()
    };
    let dest = Destination::parse(&format!("docker://{}/mirror", dst.host())).unwrap();
    let r = mirror_to_mirror(&selection, &dest, &mopts, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(r.plan.releases.len(), 1);
    assert_eq!(r.plan.images.len(), 184, "release image + 183 components");
    assert_eq!(r.images_copied, 184);
    assert!(
        matches!(&r.plan.releases[0].signature, ferry_api::release::SignatureStatus::Verified { identity, .. } if identity.ends_with(":4.12.0-x86_64"))
    );
    let q = queries.lock().unwrap().clone();
    assert!(q.iter().all(|t| t.matches("channel=").count() == 1), "{q:?}");
    assert_eq!(
        manifest_digest(&dst, "mirror/openshift/release-images", "4.12.0-x86_64").await,
        Some(ferry_types::Digest::parse(&rel0).unwrap())
    );
    let etcd = comps
        .iter()
        .find(|(n, _)| n == "etcd")
        .expect("etcd is a 4.12.0 component");
    assert_eq!(
        manifest_digest(&dst, "mirror/openshift/release", "4.12.0-x86_64-etcd")
            .await
            .map(|d| d.to_string()),
        Some(etcd.1.split('@').nth(1).unwrap().to_string())
    );
    assert_eq!(read_signature_configmap(&r.results_dir, &rel0), sig0);
    let mapping = std::fs::read_to_string(r.results_dir.join("mapping.txt")).unwrap();
    assert!(
        mapping.contains(&format!(
            "{payload0}={}/mirror/openshift/release-images:4.12.0-x86_64",
            dst.host()
        )),
        "{mapping}"
    );
    let icsp = std::fs::read_to_string(r.results_dir.join("imageContentSourcePolicy.yaml")).unwrap();
    assert!(
        icsp.contains("name: release-0") && icsp.contains("/mirror/openshift/release-images"),
        "{icsp}"
    );

    // 2. Mirror to disk (with workspace metadata, for the incremental run later).
    let meta = tempfile::tempdir().unwrap();
    let dws = tempfile::tempdir().unwrap();
    let dopts = DiskOptions {
        registry: settings(),
        workspace: dws.path().to_path_buf(),
        ..Default::default()
    };
    let disk1 = tempfile::tempdir().unwrap();
    let m2d = mirror_to_disk(
        &config(Some(meta.path())),
        disk1.path(),
        &dopts,
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(m2d.written);
    assert_eq!(m2d.images, 184);
    // Heads-only: the head of this run is remembered in oc-mirror's form.
    let md: serde_json::Value =
        serde_json::from_slice(&std::fs::read(meta.path().join("publish/.metadata.json")).unwrap()).unwrap();
    assert_eq!(
        md["pastMirror"]["platforms"],
        serde_json::json!([{"channel": "stable-4.12", "minVersion": "4.12.0"}])
    );

    // 3. Second release appears (three components rebuilt, the rest shared) and is signed.
    let mut comps1 = comps.clone();
    for (i, c) in comps1.iter_mut().take(3).enumerate() {
        let d = push_component(&src, comp_repo, &c.0, &format!("4.12.1-{i}")).await;
        c.1 = format!("{h}/{comp_repo}@{d}");
    }
    let rel1 = push_release(&src, "4.12.1", &comps1).await;
    let sig1 = sign_release(
        &key,
        &rel1,
        &format!("{h}/openshift-release-dev/ocp-release:4.12.1-x86_64"),
    );
    nodes
        .lock()
        .unwrap()
        .push(("4.12.1".into(), format!("{h}/openshift-release-dev/ocp-release@{rel1}")));
    sigs.lock().unwrap().push((rel1.clone(), sig1.clone()));
    let disk2 = tempfile::tempdir().unwrap();
    let m2d2 = mirror_to_disk(
        &config(Some(meta.path())),
        disk2.path(),
        &dopts,
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(m2d2.sequence, 2);
    // From the remembered 4.12.0 to the new head: both releases planned, 4.12.0's images from history.
    assert_eq!(m2d2.images, 2 * 184);
    // New blobs only: the 4.12.1 release image's manifests layer and config (its base layer is
    // shared) and one layer + config per rebuilt component.
    assert_eq!(m2d2.blobs_written, 2 + 3 * 2, "{m2d2:?}");

    // 4. Import both sets with the source, the graph and the signature store gone.
    drop(src);
    drop(graph);
    drop(sigsrv);
    let air = registry();
    let airdest = Destination::parse(&format!("docker://{}/mirror", air.host())).unwrap();
    let iws = tempfile::tempdir().unwrap();
    let iopts = DiskOptions {
        registry: settings(),
        workspace: iws.path().to_path_buf(),
        ..Default::default()
    };
    let i1 = disk_to_mirror(disk1.path(), &airdest, &iopts, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(i1.images_pushed, 184);
    assert_eq!(read_signature_configmap(&i1.results_dir, &rel0), sig0);
    let i2 = disk_to_mirror(disk2.path(), &airdest, &iopts, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(i2.sequence, 2);
    assert_eq!(read_signature_configmap(&i2.results_dir, &rel1), sig1);
    assert_eq!(
        manifest_digest(&air, "mirror/openshift/release-images", "4.12.1-x86_64")
            .await
            .map(|d| d.to_string()),
        Some(rel1.clone())
    );
    assert_eq!(
        manifest_digest(&air, "mirror/openshift/release-images", "4.12.0-x86_64")
            .await
            .map(|d| d.to_string()),
        Some(rel0.clone())
    );
    let rebuilt = &comps1[0];
    assert_eq!(
        manifest_digest(
            &air,
            "mirror/openshift/release",
            &format!("4.12.1-x86_64-{}", rebuilt.0)
        )
        .await
        .map(|d| d.to_string()),
        Some(rebuilt.1.split('@').nth(1).unwrap().to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_with_a_bad_signature_is_not_shipped() {
    let Some(names) = real_component_names() else { return };
    let src = registry();
    let h = src.host();
    let comp_repo = "openshift-release-dev/ocp-v4.0-art-dev";
    let mut comps = Vec::new();
    for n in names.iter().take(3) {
        let d = push_component(&src, comp_repo, n, "bad").await;
        comps.push((n.clone(), format!("{h}/{comp_repo}@{d}")));
    }
    let rel = push_release(&src, "4.12.0", &comps).await;
    let (_trusted, armored) = test_key();
    let (other, _) = test_key();
    let keydir = tempfile::tempdir().unwrap();
    let keyfile = keydir.path().join("release-pk.asc");
    std::fs::write(&keyfile, armored).unwrap();
    let nodes: Nodes = Arc::new(Mutex::new(vec![(
        "4.12.0".into(),
        format!("{h}/openshift-release-dev/ocp-release@{rel}"),
    )]));
    let graph = graph_server(nodes, Default::default()).await;
    // Signed, but by a key the keyring does not hold.
    let sigs: Sigs = Arc::new(Mutex::new(vec![(
        rel.clone(),
        sign_release(&other, &rel, "x/y:4.12.0"),
    )]));
    let sigsrv = signature_server(sigs).await;
    std::env::set_var("UPDATE_URL_OVERRIDE", format!("http://{}/graph", graph.host()));
    std::env::set_var("OCP_SIGNATURE_URL", format!("http://{}/sigs", sigsrv.host()));
    std::env::set_var("OCP_SIGNATURE_VERIFICATION_PK", &keyfile);
    let dst = registry();
    let ws = tempfile::tempdir().unwrap();
    let mut selection = ImageSelection::from_config(&config(None)).unwrap();
    let mopts = MirrorOptions {
        registry: settings(),
        workspace: ws.path().to_path_buf(),
        ..Default::default()
    };
    let dest = Destination::parse(&format!("docker://{}/mirror", dst.host())).unwrap();
    let e = mirror_to_mirror(&selection, &dest, &mopts, no_progress(), CancellationToken::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("release 4.12.0 (amd64)") && e.contains(&rel) && e.contains("--skip-verification"),
        "{e}"
    );
    assert_eq!(
        manifest_digest(&dst, "mirror/openshift/release-images", "4.12.0-x86_64").await,
        None,
        "nothing shipped"
    );
    assert!(!std::fs::read_dir(ws.path()).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("results-")));

    // --skip-verification ships it, says so in the plan, and writes no signature file.
    selection.release.skip_verification = true;
    let r = mirror_to_mirror(&selection, &dest, &mopts, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(
        r.plan.releases[0].signature,
        ferry_api::release::SignatureStatus::Skipped
    );
    assert!(
        r.plan.notes.iter().any(|n| n.contains("NOT verified")),
        "{:?}",
        r.plan.notes
    );
    assert!(!r.results_dir.join("release-signatures").exists());
    assert_eq!(
        manifest_digest(&dst, "mirror/openshift/release-images", "4.12.0-x86_64")
            .await
            .map(|d| d.to_string()),
        Some(rel)
    );
}
