//! The harness itself: every registry variant starts, takes an image and serves it back.

use ferry_testkit::*;
use ferry_types::Digest;

fn layer(size: u64, seed: u64) -> LayerSpec {
    LayerSpec { size, seed }
}

async fn roundtrip(reg: &RegistryServer, format: ImageFormat) {
    let spec = ImageSpec {
        format,
        layers: vec![layer(300 << 10, 7), layer(4096, 8)],
        platforms: vec![],
    };
    let img = push_image(reg, "ns/app", "v1", &spec).await;
    assert_eq!(img.blobs.len(), 3, "config + two layers");
    assert!(img.children.is_empty());
    assert_eq!(manifest_digest(reg, "ns/app", "v1").await, Some(img.digest.clone()));
    assert_eq!(manifest_digest(reg, "ns/app", "nope").await, None);
    let (bytes, ct) = get_manifest(reg, "ns/app", "v1").await.unwrap();
    assert_eq!(Digest::of(&bytes), img.digest);
    assert_eq!(ct, img.media_type);
    for (d, size) in &img.blobs {
        assert_eq!(blob_digest(reg, "ns/app", d).await, Some((d.clone(), *size)));
    }
    // Incompressible content: the gzip blob is about the layer size. The bound allows 6%: the
    // workspace's flate2 backend (zlib-rs, which `pgp` selects) emits a few percent more than
    // miniz_oxide's stored blocks on random data.
    let big = img.blobs.iter().map(|(_, s)| *s).max().unwrap();
    assert!(big > 300 << 10 && big < (300 << 10) * 106 / 100, "{big}");
    // Same layer specs, same layer digests (shared base layers); the config names its repo.
    let again = push_image(reg, "other/app", "v1", &spec).await;
    assert_eq!(again.blobs[1..], img.blobs[1..]);
    assert_ne!(again.blobs[0], img.blobs[0]);
}

#[tokio::test]
async fn plain_http_docker_and_oci() {
    let reg = RegistryServer::start(RegistryOpts::default());
    assert!(reg.base_url().starts_with("http://127.0.0.1:"));
    roundtrip(&reg, ImageFormat::DockerV2S2).await;
    let reg2 = RegistryServer::start(RegistryOpts::default());
    assert_ne!(reg.host(), reg2.host());
    roundtrip(&reg2, ImageFormat::Oci).await;
}

#[tokio::test]
async fn tls_with_test_ca_and_htpasswd() {
    let reg = RegistryServer::start(RegistryOpts {
        tls: true,
        auth: Some(("tester".into(), "pa55word".into())),
        delete_enabled: true,
    });
    assert!(reg.base_url().starts_with("https://"));
    let ca = std::fs::read_to_string(reg.ca_pem_path().unwrap()).unwrap();
    assert!(ca.contains("BEGIN CERTIFICATE"));
    roundtrip(&reg, ImageFormat::Oci).await;

    // Without credentials the registry refuses: the htpasswd mode is real.
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .build()
        .unwrap();
    let resp = http.get(format!("{}/v2/", reg.base_url())).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    // Without the CA the TLS handshake fails.
    let err = reqwest::get(format!("{}/v2/", reg.base_url())).await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");

    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth.json");
    reg.write_auth_file(&auth);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&auth).unwrap()).unwrap();
    assert_eq!(doc["auths"][reg.host()]["auth"], "dGVzdGVyOnBhNTV3b3Jk");
}

#[tokio::test]
async fn multi_arch_index_and_list() {
    let reg = RegistryServer::start(RegistryOpts::default());
    let platforms = vec![
        ("linux".to_string(), "amd64".to_string()),
        ("linux".to_string(), "arm64".to_string()),
    ];
    for (format, mt) in [
        (ImageFormat::Oci, "application/vnd.oci.image.index.v1+json"),
        (
            ImageFormat::DockerV2S2,
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ),
    ] {
        let spec = ImageSpec {
            format,
            layers: vec![layer(2048, 1), layer(1024, 2)],
            platforms: platforms.clone(),
        };
        let img = push_image(&reg, "multi", "latest", &spec).await;
        assert_eq!(img.media_type, mt);
        assert_eq!(img.children.len(), 2);
        assert_ne!(img.children[0], img.children[1]);
        assert_eq!(img.blobs.len(), 6, "per-platform configs and layers");
        for c in &img.children {
            assert_eq!(manifest_digest(&reg, "multi", &c.to_string()).await, Some(c.clone()));
        }
        assert_eq!(manifest_digest(&reg, "multi", "latest").await, Some(img.digest));
    }
    // Storage is where corruption tests expect it.
    assert!(reg.storage_dir().join("docker/registry/v2/blobs/sha256").is_dir());
}

#[tokio::test]
async fn drop_stops_the_registry() {
    let reg = RegistryServer::start(RegistryOpts::default());
    let addr = reg.host();
    let storage = reg.storage_dir();
    drop(reg);
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "registry still listening on {addr}"
    );
    assert!(!storage.exists());
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A layer over 200 MiB is generated through a temp file and streamed: the harness's memory
/// stays far below the layer size.
#[tokio::test]
async fn big_layer_is_streamed() {
    let reg = RegistryServer::start(RegistryOpts::default());
    let size = 210 << 20;
    let spec = ImageSpec {
        format: ImageFormat::DockerV2S2,
        layers: vec![layer(size, 99)],
        platforms: vec![],
    };
    let t = std::time::Instant::now();
    let img = push_image(&reg, "big/app", "v1", &spec).await;
    let push_time = t.elapsed();
    let (digest, len) = img.blobs.iter().max_by_key(|(_, s)| *s).cloned().unwrap();
    assert!(len > size, "gzip of incompressible data is a little bigger: {len}");
    assert_eq!(blob_digest(&reg, "big/app", &digest).await, Some((digest.clone(), len)));
    let peak = peak_rss_kib();
    eprintln!(
        "210 MiB layer: generated+pushed in {push_time:?}, peak RSS {} MiB",
        peak / 1024
    );
    if peak > 0 {
        assert!(
            peak < 150 * 1024,
            "peak RSS {peak} KiB: the layer must not be held in memory"
        );
    }
    // Pushing the same spec again reuses the cached digests (HEAD only, no regeneration).
    let t = std::time::Instant::now();
    let again = push_image(&reg, "big/app", "v2", &spec).await;
    assert_eq!(again.digest, img.digest);
    assert!(
        t.elapsed() < push_time / 2,
        "second push {:?} vs first {push_time:?}",
        t.elapsed()
    );
}
