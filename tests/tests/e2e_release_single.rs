//! One release by pull spec (`ferry release mirror --from <pullspec>`), and the release history
//! of mirror-to-mirror, through the facade against real `docker-registry` processes and
//! loopback HTTP servers (update graph, signature store) started here.
//!
//! Single release: registry to registry (release image and components at oc-mirror's
//! destinations, the signature ConfigMap, ICSP and IDMS in the results), then to removable
//! media, whose set imports with the ordinary import into a registry the source cannot reach
//! (every server stopped). Bad pull specs are refused naming them.
//!
//! Mirror-to-mirror history: a heads-only channel mirrored twice with a `storageConfig`; the
//! first run records `pastMirror.platforms` as oc-mirror does, the second (after 4.12.1 appears)
//! plans from the remembered 4.12.0 and copies only the new release's images.

mod e2e_support;
mod release_support;

use e2e_support::*;
use ferry_api::mirror::{ImageSelection, MirrorOptions};
use ferry_api::release_single::{release_mirror, SingleReport};
use ferry_api::{no_progress, CancellationToken, Destination};
use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryServer};
use release_support::*;
use std::sync::{Arc, Mutex};

fn registry() -> RegistryServer {
    RegistryServer::plain()
}

/// `ferry release mirror --from <spec>` without progress events or cancellation.
async fn release(spec: &str, dest: &Destination, opts: &MirrorOptions) -> ferry_api::Result<SingleReport> {
    release_mirror(
        spec,
        dest,
        Default::default(),
        opts,
        no_progress(),
        CancellationToken::new(),
    )
    .await
}

async fn components(src: &RegistryServer, salt: &str) -> Vec<(String, String)> {
    push_components(src, &["cluster-version-operator", "etcd", "installer"], salt).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_release_by_pull_spec_to_registry_and_through_media() {
    let src = registry();
    let h = src.host();
    let comps = components(&src, "4.11.0").await;
    let rel = push_release(&src, "4.11.0", &comps).await;
    let pullspec = format!("{h}/openshift-release-dev/ocp-release:4.11.0-x86_64");
    let keys = keyring();
    let sig = sign_release(&keys.key, &rel, &pullspec);
    let sigsrv = signature_server(sigs(vec![(rel.clone(), sig.clone())])).await;
    use_signing(&keys.file, &sigsrv);
    // No update graph is involved: a graph URL that answers nothing proves it is not asked.
    std::env::set_var("UPDATE_URL_OVERRIDE", "http://127.0.0.1:9/graph");

    // 1. Registry to registry.
    let dst = registry();
    let ws = tempfile::tempdir().unwrap();
    let opts = mirror_opts(ws.path());
    let dest = docker_dest(&dst, "ocp4");
    let SingleReport::Registry(r) = release(&pullspec, &dest, &opts).await.unwrap() else {
        panic!("a docker:// destination mirrors registry to registry")
    };
    assert_eq!(r.plan.releases.len(), 1);
    assert_eq!(r.plan.releases[0].version, "4.11.0");
    assert_eq!(r.plan.releases[0].arch, "amd64");
    assert_eq!(r.plan.releases[0].dest_tag, "4.11.0-x86_64");
    assert_eq!(r.images_copied, 4);
    assert_eq!(
        manifest_digest(&dst, "ocp4/openshift/release-images", "4.11.0-x86_64")
            .await
            .map(|d| d.to_string()),
        Some(rel.clone())
    );
    let etcd = &comps[1];
    assert_eq!(
        manifest_digest(&dst, "ocp4/openshift/release", "4.11.0-x86_64-etcd")
            .await
            .map(|d| d.to_string()),
        Some(etcd.1.split('@').nth(1).unwrap().to_string())
    );
    let hex = rel.trim_start_matches("sha256:");
    let cm_file = r
        .results_dir
        .join(format!("release-signatures/signature-sha256-{}.json", &hex[..16]));
    let cm: serde_json::Value = serde_json::from_slice(&std::fs::read(&cm_file).unwrap()).unwrap();
    assert_eq!(cm["metadata"]["name"], format!("sha256-{hex}"));
    let icsp = std::fs::read_to_string(r.results_dir.join("imageContentSourcePolicy.yaml")).unwrap();
    assert!(
        icsp.contains("name: release-0")
            && icsp.contains(&format!("{h}/openshift-release-dev/ocp-release"))
            && icsp.contains(&format!("{}/ocp4/openshift/release-images", dst.host())),
        "{icsp}"
    );
    let idms = std::fs::read_to_string(r.results_dir.join("imageDigestMirrorSet.yaml")).unwrap();
    assert!(
        idms.contains("kind: ImageDigestMirrorSet") && idms.contains("/ocp4/openshift/release"),
        "{idms}"
    );

    // 2. To removable media, then the ordinary import with every server gone.
    let disk = tempfile::tempdir().unwrap();
    let dws = tempfile::tempdir().unwrap();
    let dopts = mirror_opts(dws.path());
    let SingleReport::Disk(d) = release(&pullspec, &Destination::Disk(disk.path().to_path_buf()), &dopts)
        .await
        .unwrap()
    else {
        panic!("a file:// destination writes removable media")
    };
    assert!(d.written);
    assert_eq!(d.images, 4);
    drop(src);
    drop(sigsrv);
    let air = registry();
    let iws = tempfile::tempdir().unwrap();
    let iopts = disk_opts(iws.path());
    let airdest = docker_dest(&air, "ocp4");
    let i = run_d2m(disk.path(), &airdest, &iopts).await.unwrap();
    assert_eq!(i.images_pushed, 4);
    assert_eq!(
        manifest_digest(&air, "ocp4/openshift/release-images", "4.11.0-x86_64")
            .await
            .map(|d| d.to_string()),
        Some(rel.clone())
    );
    let imported = i
        .results_dir
        .join(format!("release-signatures/signature-sha256-{}.json", &hex[..16]));
    assert_eq!(std::fs::read(&imported).unwrap(), std::fs::read(&cm_file).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_spec_that_is_not_a_release_is_refused_naming_it() {
    let src = registry();
    push_image(
        &src,
        "library/busybox",
        "1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![LayerSpec { size: 500, seed: 3 }],
            platforms: vec![],
        },
    )
    .await;
    let dst = registry();
    let ws = tempfile::tempdir().unwrap();
    let opts = mirror_opts(ws.path());
    let dest = docker_dest(&dst, "ocp4");
    let spec = format!("{}/library/busybox:1", src.host());
    let run = |spec: String| {
        let (dest, opts) = (dest.clone(), opts.clone());
        async move { release(&spec, &dest, &opts).await.map(|_| ()).unwrap_err().to_string() }
    };
    let e = run(spec.clone()).await;
    assert!(e.contains(&spec) && e.contains("image-references"), "{e}");
    let e = run("not a pull spec".into()).await;
    assert!(e.contains("not a pull spec") && e.contains("ocp-release"), "{e}");
    let missing = format!("{}/openshift-release-dev/ocp-release:4.99.0-x86_64", src.host());
    let e = run(missing.clone()).await;
    assert!(e.contains("4.99.0-x86_64"), "{e}");
    assert_eq!(
        manifest_digest(&dst, "ocp4/openshift/release-images", "4.99.0-x86_64").await,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mirror_to_mirror_remembers_heads_and_second_run_copies_only_the_new_release() {
    let src = registry();
    let comps = components(&src, "4.12.0").await;
    let rel0 = push_release(&src, "4.12.0", &comps).await;
    let keys = keyring();
    let key = &keys.key;
    let sigs = sigs(vec![(rel0.clone(), sign_release(key, &rel0, "x/ocp-release:4.12.0"))]);
    let sigsrv = signature_server(sigs.clone()).await;
    use_signing(&keys.file, &sigsrv);
    let nodes: Nodes = Arc::new(Mutex::new(vec![("4.12.0".to_string(), payload(&src, &rel0))]));
    let graph = graph_server(nodes.clone(), serde_json::json!({})).await;
    use_graph(&graph);

    let meta = tempfile::tempdir().unwrap();
    let cfg = isc(&format!(
        "{}mirror:\n  platform:\n    channels:\n    - name: stable-4.12\n",
        local_storage(Some(meta.path()))
    ));
    let dst = registry();
    let ws = tempfile::tempdir().unwrap();
    let opts = mirror_opts(ws.path()).with_config(&cfg);
    let dest = docker_dest(&dst, "mirror");
    let selection = ImageSelection::from_config(&cfg).unwrap();
    let r1 = run_m2m(&selection, &dest, &opts).await.unwrap();
    assert_eq!(r1.images_copied, 4);
    let md_file = meta.path().join("publish/.metadata.json");
    let md = read_json(&md_file);
    assert_eq!(
        md["pastMirror"]["platforms"],
        serde_json::json!([{"channel": "stable-4.12", "minVersion": "4.12.0"}])
    );
    let types: Vec<&str> = md["pastMirror"]["associations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.iter().filter(|t| **t == "ocpRelease").count(), 1, "{types:?}");
    assert_eq!(
        types.iter().filter(|t| **t == "ocpReleaseContent").count(),
        3,
        "{types:?}"
    );

    // 4.12.1 appears: one component rebuilt, the others shared.
    let mut comps1 = comps.clone();
    comps1[1] = push_components(&src, &["etcd"], "4.12.1").await.remove(0);
    let rel1 = push_release(&src, "4.12.1", &comps1).await;
    sigs.lock()
        .unwrap()
        .push((rel1.clone(), sign_release(key, &rel1, "x/ocp-release:4.12.1")));
    nodes.lock().unwrap().push(("4.12.1".into(), payload(&src, &rel1)));
    let r2 = run_m2m(&selection, &dest, &opts).await.unwrap();
    let versions: Vec<&str> = r2.plan.releases.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(
        versions,
        ["4.12.0", "4.12.1"],
        "from the remembered head to the new one"
    );
    assert_eq!(r2.images_from_history, 4, "4.12.0 was mirrored by the first run");
    // 4.12.1's four images: the release image and the rebuilt etcd are new; the two shared
    // components only get their new tags (their manifests are in the target already).
    assert_eq!((r2.images_copied, r2.images_up_to_date), (2, 2));
    // New blobs only: the release image's manifests layer and config (the base layer is
    // shared), and etcd's layer and config.
    assert_eq!(r2.blobs_copied, 4, "{r2:?}");
    assert_eq!(r2.sequence, Some(2));
    let md = read_json(&md_file);
    assert_eq!(
        md["pastMirror"]["platforms"],
        serde_json::json!([{"channel": "stable-4.12", "minVersion": "4.12.0"}]),
        "the first head stays remembered"
    );
    assert_eq!(
        manifest_digest(&dst, "mirror/openshift/release-images", "4.12.1-x86_64")
            .await
            .map(|d| d.to_string()),
        Some(rel1)
    );
}
