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

mod e2e_support;
mod release_support;

use e2e_support::*;
use ferry_api::mirror::ImageSelection;
use ferry_testkit::{manifest_digest, RegistryServer};
use release_support::httpd::{Httpd, Request, Response};
use release_support::*;
use std::path::Path;
use std::sync::{Arc, Mutex};

fn registry() -> RegistryServer {
    RegistryServer::plain()
}

fn config(metadata_dir: Option<&Path>) -> ferry_api::config::ImageSetConfiguration {
    isc(&format!(
        "{}mirror:\n  platform:\n    channels:\n    - name: stable-4.12\n",
        local_storage(metadata_dir)
    ))
}

/// The update service: stable-4.12 for amd64 with `nodes` chained by edges (each node listed in
/// the channel), an empty graph for anything else; records every query.
async fn graph_server(nodes: Nodes, queries: Arc<Mutex<Vec<String>>>) -> Httpd {
    let metadata = serde_json::json!({"io.openshift.upgrades.graph.release.channels": "stable-4.12"});
    Httpd::start(move |r: Request| {
        let (nodes, queries, metadata) = (nodes.clone(), queries.clone(), metadata.clone());
        async move {
            queries.lock().unwrap().push(r.target.clone());
            if !r.target.contains("channel=stable-4.12") || !r.target.contains("arch=amd64") {
                return Response::new(200, r#"{"version":1,"nodes":[],"edges":[],"conditionalEdges":[]}"#);
            }
            let body = graph_body(&nodes.lock().unwrap(), &metadata);
            Response::bytes(200, body).header("Content-Type", "application/json")
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn release_m2m_m2d_d2m_and_incremental_second_release() {
    let Some(names) = real_component_names() else { return };
    assert_eq!(names.len(), 183, "the real 4.12.0 payload lists 183 components");
    let src = registry();
    let h = src.host();
    let comp_repo = COMPONENT_REPO;
    let comps = push_components(&src, &names, "4.12.0").await;
    let rel0 = push_release(&src, "4.12.0", &comps).await;
    let payload0 = payload(&src, &rel0);

    let keys = keyring();
    let key = &keys.key;
    let sig0 = sign_release(key, &rel0, &release_identity(&src, "4.12.0"));
    let nodes: Nodes = Arc::new(Mutex::new(vec![("4.12.0".into(), payload0.clone())]));
    let queries: Arc<Mutex<Vec<String>>> = Default::default();
    let graph = graph_server(nodes.clone(), queries.clone()).await;
    let sigs = sigs(vec![(rel0.clone(), sig0.clone())]);
    let sigsrv = signature_server(sigs.clone()).await;
    // nextest runs each test in its own process, so these reach only this test.
    use_graph(&graph);
    use_signing(&keys.file, &sigsrv);

    // 1. Mirror to mirror.
    let dst = registry();
    let ws = tempfile::tempdir().unwrap();
    let cfg = config(None);
    let selection = ImageSelection::from_config(&cfg).unwrap();
    let mopts = mirror_opts(ws.path());
    let dest = docker_dest(&dst, "mirror");
    let r = run_m2m(&selection, &dest, &mopts).await.unwrap();
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
    let dopts = disk_opts(dws.path());
    let disk1 = tempfile::tempdir().unwrap();
    let m2d = run_m2d(&config(Some(meta.path())), disk1.path(), &dopts).await.unwrap();
    assert!(m2d.written);
    assert_eq!(m2d.images, 184);
    // Heads-only: the head of this run is remembered in oc-mirror's form.
    let md = read_json(&meta.path().join("publish/.metadata.json"));
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
    let sig1 = sign_release(key, &rel1, &release_identity(&src, "4.12.1"));
    nodes.lock().unwrap().push(("4.12.1".into(), payload(&src, &rel1)));
    sigs.lock().unwrap().push((rel1.clone(), sig1.clone()));
    let disk2 = tempfile::tempdir().unwrap();
    let m2d2 = run_m2d(&config(Some(meta.path())), disk2.path(), &dopts).await.unwrap();
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
    let airdest = docker_dest(&air, "mirror");
    let iws = tempfile::tempdir().unwrap();
    let iopts = disk_opts(iws.path());
    let i1 = run_d2m(disk1.path(), &airdest, &iopts).await.unwrap();
    assert_eq!(i1.images_pushed, 184);
    assert_eq!(read_signature_configmap(&i1.results_dir, &rel0), sig0);
    let i2 = run_d2m(disk2.path(), &airdest, &iopts).await.unwrap();
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
    let comps = push_components(&src, &names[..3], "bad").await;
    let rel = push_release(&src, "4.12.0", &comps).await;
    let trusted = keyring();
    let (other, _) = test_key();
    let nodes: Nodes = Arc::new(Mutex::new(vec![("4.12.0".into(), payload(&src, &rel))]));
    let graph = graph_server(nodes, Default::default()).await;
    // Signed, but by a key the keyring does not hold.
    let sigsrv = signature_server(sigs(vec![(rel.clone(), sign_release(&other, &rel, "x/y:4.12.0"))])).await;
    use_graph(&graph);
    use_signing(&trusted.file, &sigsrv);
    let dst = registry();
    let ws = tempfile::tempdir().unwrap();
    let mut selection = ImageSelection::from_config(&config(None)).unwrap();
    let mopts = mirror_opts(ws.path());
    let dest = docker_dest(&dst, "mirror");
    let e = run_m2m(&selection, &dest, &mopts).await.unwrap_err().to_string();
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
    let r = run_m2m(&selection, &dest, &mopts).await.unwrap();
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
