//! `graph: true` end to end, through the facade, against real `docker-registry` processes and
//! loopback HTTP servers started here (update graph, signature store, graph-data tarball).
//!
//! The base image is a generated two-platform OCI index (as UBI is a manifest list), set with
//! `FERRY_GRAPH_BASE_IMAGE`; the graph data is a generated cincinnati-graph-data tarball served
//! at `FERRY_GRAPH_DATA_URL`. Checked: the base image is mirrored; `openshift/graph-image:latest`
//! is an index over both platforms whose children keep the base layers, add one layer with the
//! data under `/var/lib/cincinnati-graph-data` and run oc-mirror's copy command;
//! `updateService.yaml` names the graph image by digest and the release-images repository. Then
//! mirror-to-disk packs the tarball, and the import into a registry the source cannot reach
//! (every server stopped) builds the same graph image (same digest: the layer is deterministic).

mod e2e_support;
mod release_support;

use e2e_support::*;
use ferry_api::mirror::ImageSelection;
use ferry_testkit::{
    get_blob, get_manifest, manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryServer,
};
use release_support::httpd::{Httpd, Request, Response};
use release_support::*;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn registry() -> RegistryServer {
    RegistryServer::plain()
}

fn config(metadata_dir: Option<&Path>) -> ferry_api::config::ImageSetConfiguration {
    isc(&format!(
        "{}mirror:\n  platform:\n    graph: true\n    channels:\n    - name: stable-4.12\n",
        local_storage(metadata_dir)
    ))
}

/// A cincinnati-graph-data tarball as the update service publishes it (entries under `./`).
fn graph_data_tarball() -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    let files: [(&str, &[u8]); 3] = [
        ("./version", b"1.2.0\n"),
        (
            "./channels/stable-4.12.yaml",
            b"name: stable-4.12\nversions:\n- 4.12.0\n",
        ),
        (
            "./blocked-edges/4.12.0-example.yaml",
            b"to: 4.12.0\nfrom: 4\\.11\\.0\nurl: https://example.invalid\n",
        ),
    ];
    for (p, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o664);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append_data(&mut h, p, data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap()
}

/// The graph image in `reg` is an index over the base's two platforms; each child is the base
/// child plus one layer holding the graph data, with oc-mirror's copy command. Returns its digest.
async fn check_graph_image(
    reg: &RegistryServer,
    ns: &str,
    base: &ferry_testkit::PushedImage,
    src: Option<&RegistryServer>,
) -> String {
    let repo = format!("{ns}/openshift/graph-image");
    let (top, mt) = get_manifest(reg, &repo, "latest").await.expect("graph image pushed");
    assert_eq!(mt, "application/vnd.oci.image.index.v1+json");
    let top = json(&top);
    let children = top["manifests"].as_array().unwrap();
    assert_eq!(children.len(), 2, "both platforms of the base rebuilt");
    let mut arches = Vec::new();
    for (i, c) in children.iter().enumerate() {
        arches.push(c["platform"]["architecture"].as_str().unwrap().to_string());
        let (m, _) = get_manifest(reg, &repo, c["digest"].as_str().unwrap()).await.unwrap();
        let m = json(&m);
        let layers = m["layers"].as_array().unwrap();
        if let Some(src) = src {
            let (bm, _) = get_manifest(src, "ubi9/ubi", &base.children[i].to_string())
                .await
                .unwrap();
            let bm = json(&bm);
            assert_eq!(
                &layers[..layers.len() - 1],
                bm["layers"].as_array().unwrap().as_slice(),
                "base layers kept"
            );
        }
        let cfg = json(&get_blob(reg, &repo, m["config"]["digest"].as_str().unwrap()).await);
        assert_eq!(
            cfg["config"]["Cmd"],
            serde_json::json!([
                "/bin/bash",
                "-c",
                "exec cp -rp /var/lib/cincinnati-graph-data/* /var/lib/cincinnati/graph-data"
            ])
        );
        let data = get_blob(reg, &repo, layers.last().unwrap()["digest"].as_str().unwrap()).await;
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&data[..]).read_to_end(&mut raw).unwrap();
        let files = ferry_imagebuild_files(&raw);
        assert!(
            files.contains(&(
                "var/lib/cincinnati-graph-data/channels/stable-4.12.yaml".to_string(),
                b"name: stable-4.12\nversions:\n- 4.12.0\n".to_vec()
            )),
            "{:?}",
            files.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        assert!(files.iter().any(|f| f.0 == "var/lib/cincinnati-graph-data/version"));
    }
    arches.sort();
    assert_eq!(arches, ["amd64", "arm64"]);
    manifest_digest(reg, &repo, "latest").await.unwrap().to_string()
}

fn ferry_imagebuild_files(tar_bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut ar = tar::Archive::new(tar_bytes);
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        assert_eq!(e.header().uid().unwrap(), 0, "root-owned");
        if e.header().entry_type().is_file() {
            let p = e.path().unwrap().to_string_lossy().into_owned();
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            out.push((p, b));
        }
    }
    out
}

fn update_service(results: &Path) -> String {
    std::fs::read_to_string(results.join("updateService.yaml")).unwrap_or_else(|e| panic!("updateService.yaml: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graph_image_and_update_service_m2m_m2d_d2m() {
    let src = registry();
    let h = src.host();
    let comps = push_components(&src, &["cluster-version-operator", "etcd", "cli"], "graph").await;
    let rel = push_release(&src, "4.12.0", &comps).await;
    let base = push_image(
        &src,
        "ubi9/ubi",
        "latest",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![LayerSpec { size: 40_000, seed: 9 }, LayerSpec { size: 3_000, seed: 10 }],
            platforms: vec![("linux".into(), "amd64".into()), ("linux".into(), "arm64".into())],
        },
    )
    .await;
    let keys = keyring();
    let sig = sign_release(&keys.key, &rel, &release_identity(&src, "4.12.0"));
    let nodes = Arc::new(Mutex::new(vec![("4.12.0".to_string(), payload(&src, &rel))]));
    let graph = graph_server(nodes, serde_json::json!({})).await;
    let sigsrv = signature_server(sigs(vec![(rel.clone(), sig)])).await;
    let tarball = graph_data_tarball();
    let downloads = Arc::new(AtomicUsize::new(0));
    let (tb, dl) = (tarball.clone(), downloads.clone());
    let datasrv = Httpd::start(move |r: Request| {
        let (tb, dl) = (tb.clone(), dl.clone());
        async move {
            if r.target == "/api/upgrades_info/graph-data" {
                dl.fetch_add(1, Ordering::SeqCst);
                Response::bytes(200, tb).header("Content-Type", "application/gzip")
            } else {
                Response::new(404, "not found")
            }
        }
    })
    .await;
    // nextest runs each test in its own process, so these reach only this test.
    use_graph(&graph);
    use_signing(&keys.file, &sigsrv);
    std::env::set_var("FERRY_GRAPH_BASE_IMAGE", format!("{h}/ubi9/ubi:latest"));
    std::env::set_var(
        "FERRY_GRAPH_DATA_URL",
        format!("http://{}/api/upgrades_info/graph-data", datasrv.host()),
    );

    // 1. Mirror to mirror.
    let dst = registry();
    let ws = tempfile::tempdir().unwrap();
    let selection = ImageSelection::from_config(&config(None)).unwrap();
    let mopts = mirror_opts(ws.path());
    let dest = docker_dest(&dst, "mirror");
    let r = run_m2m(&selection, &dest, &mopts).await.unwrap();
    assert_eq!(r.plan.images.len(), 1 + 3 + 1, "release + components + base image");
    assert_eq!(
        manifest_digest(&dst, "mirror/ubi9/ubi", "latest").await,
        Some(base.digest.clone())
    );
    let g1 = check_graph_image(&dst, "mirror", &base, Some(&src)).await;
    assert_eq!(downloads.load(Ordering::SeqCst), 1);
    let d = dst.host();
    assert_eq!(
        update_service(&r.results_dir),
        format!(
            "apiVersion: updateservice.operator.openshift.io/v1\nkind: UpdateService\nmetadata:\n  name: update-service-oc-mirror\nspec:\n  graphDataImage: {d}/mirror/openshift/graph-image@{g1}\n  releases: {d}/mirror/openshift/release-images\n  replicas: 2\n"
        )
    );
    // The graph image is a cluster resource's input, not a mirror rule: not in mapping.txt.
    let mapping = std::fs::read_to_string(r.results_dir.join("mapping.txt")).unwrap();
    assert!(!mapping.contains("graph-image"), "{mapping}");

    // 2. Mirror to disk: the tarball and the base image travel in the set.
    let meta = tempfile::tempdir().unwrap();
    let dws = tempfile::tempdir().unwrap();
    let dopts = disk_opts(dws.path());
    let disk = tempfile::tempdir().unwrap();
    let m2d = run_m2d(&config(Some(meta.path())), disk.path(), &dopts).await.unwrap();
    assert!(m2d.written);
    assert_eq!(downloads.load(Ordering::SeqCst), 2);
    let set = ferry_archive::ArchiveSet::open(disk.path()).unwrap();
    assert_eq!(
        set.files("cincinnati/"),
        ["cincinnati/cincinnati-graph-data.tar.gz", "cincinnati/graph-image.json"]
    );
    let x = tempfile::tempdir().unwrap();
    set.extract_file("cincinnati/cincinnati-graph-data.tar.gz", &x.path().join("t.tgz"))
        .unwrap();
    assert_eq!(
        std::fs::read(x.path().join("t.tgz")).unwrap(),
        tarball,
        "the tarball as served"
    );

    // 3. Import with the source and every HTTP server gone: built from the set alone.
    drop(src);
    drop(graph);
    drop(sigsrv);
    drop(datasrv);
    let air = registry();
    let airdest = docker_dest(&air, "air");
    let iws = tempfile::tempdir().unwrap();
    let iopts = disk_opts(iws.path());
    let i = run_d2m(disk.path(), &airdest, &iopts).await.unwrap();
    let g2 = check_graph_image(&air, "air", &base, None).await;
    assert_eq!(g2, g1, "same base and tarball: the same graph image");
    let a = air.host();
    let us = update_service(&i.results_dir);
    assert!(
        us.contains(&format!("graphDataImage: {a}/air/openshift/graph-image@{g2}\n"))
            && us.contains(&format!("releases: {a}/air/openshift/release-images\n")),
        "{us}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_data_that_is_not_a_tarball_stops_the_run_naming_the_url() {
    let src = registry();
    let h = src.host();
    push_image(
        &src,
        "ubi9/ubi",
        "latest",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![LayerSpec { size: 1_000, seed: 1 }],
            platforms: vec![],
        },
    )
    .await;
    let datasrv = Httpd::start(|_r: Request| async { Response::new(200, "<html>please log in</html>") }).await;
    std::env::set_var("FERRY_GRAPH_BASE_IMAGE", format!("{h}/ubi9/ubi:latest"));
    let url = format!("http://{}/graph-data", datasrv.host());
    std::env::set_var("FERRY_GRAPH_DATA_URL", &url);
    // graph: true without channels: only the graph image (oc-mirror allows that too).
    let cfg = isc("mirror:\n  platform:\n    graph: true\n");
    let dst = registry();
    let ws = tempfile::tempdir().unwrap();
    let mopts = mirror_opts(ws.path());
    let dest = docker_dest(&dst, "mirror");
    let e = run_m2m(&ImageSelection::from_config(&cfg).unwrap(), &dest, &mopts)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&url) && e.contains("not a gzip tarball") && e.contains("FERRY_GRAPH_DATA_URL"),
        "{e}"
    );
    // Fetched before the copy: nothing was shipped, not even the base image.
    assert_eq!(
        manifest_digest(&dst, "mirror/openshift/graph-image", "latest").await,
        None
    );
    assert_eq!(manifest_digest(&dst, "mirror/ubi9/ubi", "latest").await, None);

    // A base image the source does not have is refused while planning, naming it.
    std::env::set_var("FERRY_GRAPH_BASE_IMAGE", format!("{h}/ubi9/missing:latest"));
    let e = run_m2m(&ImageSelection::from_config(&cfg).unwrap(), &dest, &mopts)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ubi9/missing:latest") && e.contains("FERRY_GRAPH_BASE_IMAGE"),
        "{e}"
    );
}
