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
use ferry_testkit::{push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use ferry_types::Digest;
use pgp::composed::{ArmorOptions, KeyType, MessageBuilder, SecretKeyParamsBuilder, SignedPublicKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::Password;
use std::path::PathBuf;

fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
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

async fn push_blob(http: &reqwest::Client, base: &str, repo: &str, body: Vec<u8>) -> String {
    let digest = Digest::of(&body).to_string();
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

/// The release image: a base layer and the release-manifests layer; returns its digest.
async fn push_release(reg: &RegistryServer, version: &str, components: &[(String, String)]) -> String {
    let tags: Vec<serde_json::Value> = components
        .iter()
        .map(|(n, img)| serde_json::json!({"name": n, "from": {"kind": "DockerImage", "name": img}}))
        .collect();
    let refs = serde_json::to_vec_pretty(&serde_json::json!({
        "kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
        "metadata": {"name": version}, "spec": {"tags": tags}
    }))
    .unwrap();
    let layers = [
        tar_gz(&[("etc/os-release", b"ID=bench\n")]),
        tar_gz(&[("release-manifests/image-references", &refs)]),
    ];
    let http = reqwest::Client::new();
    let base = reg.base_url();
    let repo = "openshift-release-dev/ocp-release";
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    for l in layers {
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&l[..]), &mut raw).unwrap();
        diff_ids.push(Digest::of(&raw).to_string());
        let size = l.len();
        let d = push_blob(&http, &base, repo, l).await;
        descs.push(
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": size}),
        );
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    }))
    .unwrap();
    let csize = config.len();
    let cd = push_blob(&http, &base, repo, config).await;
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": csize},
        "layers": descs
    }))
    .unwrap();
    let digest = Digest::of(&manifest).to_string();
    let r = http
        .put(format!("{base}/v2/{repo}/manifests/{version}-x86_64"))
        .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .body(manifest)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "release manifest put");
    digest
}

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
    let src = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let h = src.host();
    let comp_repo = "openshift-release-dev/ocp-v4.0-art-dev";
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
    let payload = format!("{h}/openshift-release-dev/ocp-release@{rel}");

    let mut p = SecretKeyParamsBuilder::default();
    p.key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id("Ferry bench <bench@ferry.invalid>".into());
    let sk = p.build().unwrap().generate(rand::thread_rng()).unwrap();
    let pk = workdir.join("release-pk.asc");
    std::fs::write(
        &pk,
        SignedPublicKey::from(sk.clone())
            .to_armored_string(ArmorOptions::default())
            .unwrap(),
    )
    .unwrap();
    let body = serde_json::to_vec(&serde_json::json!({
        "critical": {"identity": {"docker-reference": format!("{h}/openshift-release-dev/ocp-release:4.12.0-x86_64")},
                     "image": {"docker-manifest-digest": rel}, "type": "atomic container signature"},
        "optional": {"creator": "ferry bench"}
    }))
    .unwrap();
    let mut b = MessageBuilder::from_bytes("", body);
    b.compression(pgp::types::CompressionAlgorithm::ZIP);
    b.sign(&sk.primary_key, Password::empty(), HashAlgorithm::Sha256);
    let sig = b.to_vec(rand::thread_rng()).unwrap();

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

    let mut images = format!("openshift-release-dev/ocp-release@{rel}\n");
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
