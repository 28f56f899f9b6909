//! The release benchmark's environment (bench/release.sh): a real `docker-registry` holding a
//! generated release (a release image whose `image-references` lists N components, each a
//! generated image with one incompressible layer), a loopback update graph with that release,
//! and a signature store with its signature by a key made here.
//!
//! Writes `<workdir>/env` (shell variables: SRC, GRAPH_URL, SIG_URL, PK, RELEASE) and
//! `<workdir>/images.txt` (one `repo@digest` per line: the release image, then every component),
//! touches `<workdir>/ready`, and keeps everything up until `<workdir>/stop` appears.
//!
//! Usage: release_bench_env --workdir DIR [--components 185] [--layer-kib 1024]

use ferry_testkit::httpd::{Httpd, Request, Response};
use ferry_testkit::release::{push_release, sign_release_by, signing_key, RELEASE_REPO};
use ferry_testkit::{push_image, ImageFormat, ImageSpec, LayerSpec, RegistryServer};
use std::path::PathBuf;

// The release image and its signature come from ferry-testkit's release builder (the one the
// release e2e suites use), so the benchmark measures the same layout the tests check.

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut workdir = None;
    let (mut n, mut kib) = (185usize, 1024u64);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--workdir" => workdir = args.next().map(PathBuf::from),
            "--components" => n = args.next().and_then(|v| v.parse().ok()).expect("--components N"),
            "--layer-kib" => kib = args.next().and_then(|v| v.parse().ok()).expect("--layer-kib K"),
            other => panic!("unknown argument {other}"),
        }
    }
    let workdir = workdir.expect("--workdir DIR");
    std::fs::create_dir_all(&workdir).unwrap();
    let src = RegistryServer::plain();
    let h = src.host();
    let comp_repo = ferry_testkit::release::COMPONENT_REPO;
    let mut comps = Vec::with_capacity(n);
    for i in 0..n {
        let spec = ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![LayerSpec {
                size: kib * 1024,
                seed: 1000 + i as u64,
            }],
            platforms: vec![],
        };
        let p = push_image(&src, comp_repo, &format!("c-{i}"), &spec).await;
        comps.push((format!("component-{i:03}"), format!("{h}/{comp_repo}@{}", p.digest)));
    }
    let rel = push_release(&src, "4.12.0", &comps).await;
    let payload = format!("{h}/{RELEASE_REPO}@{rel}");

    let (sk, armored) = signing_key("Ferry bench <bench@ferry.invalid>");
    let pk = workdir.join("release-pk.asc");
    std::fs::write(&pk, armored).unwrap();
    let identity = format!("{h}/{RELEASE_REPO}:4.12.0-x86_64");
    let sig = sign_release_by(&sk, &rel, &identity, "ferry bench");

    let graph_body = serde_json::to_vec(&serde_json::json!({
        "version": 1, "nodes": [{"version": "4.12.0", "payload": payload, "metadata": {}}],
        "edges": [], "conditionalEdges": []
    }))
    .unwrap();
    let graph = Httpd::start(move |_r: Request| {
        let body = graph_body.clone();
        async move { Response::bytes(200, body) }
    })
    .await;
    let sig_path = format!("/sigs/sha256={}/signature-1", rel.trim_start_matches("sha256:"));
    let sigs = Httpd::start(move |r: Request| {
        let (sig, path) = (sig.clone(), sig_path.clone());
        async move {
            if r.target == path {
                Response::bytes(200, sig)
            } else {
                Response::new(404, "not found")
            }
        }
    })
    .await;

    let mut images = format!("{RELEASE_REPO}@{rel}\n");
    for (_, c) in &comps {
        images.push_str(c.strip_prefix(&format!("{h}/")).unwrap());
        images.push('\n');
    }
    std::fs::write(workdir.join("images.txt"), images).unwrap();
    std::fs::write(
        workdir.join("env"),
        format!(
            "SRC={h}\nGRAPH_URL=http://{}/graph\nSIG_URL=http://{}/sigs\nPK={}\nRELEASE={payload}\n",
            graph.host(),
            sigs.host(),
            pk.display()
        ),
    )
    .unwrap();
    std::fs::write(workdir.join("ready"), "").unwrap();
    let stop = workdir.join("stop");
    while !stop.exists() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
