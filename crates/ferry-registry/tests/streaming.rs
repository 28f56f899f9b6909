//! A blob over 200 MiB streamed registry to registry through the client (time and peak memory
//! measured), 403 → Denied, and Retry-After honoured.

#[allow(dead_code)]
#[path = "registry/httpd.rs"]
mod httpd;

use ferry_registry::{ClientOptions, RegistryClient, TlsPolicy};
use ferry_testkit::{blob_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use ferry_types::{Digest, Error, ErrorCode, ImageDestination, ImageSource};
use httpd::{Httpd, Response};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn client(retry_base_delay: Duration) -> RegistryClient {
    RegistryClient::new(
        Arc::new(ferry_auth::Anonymous),
        ClientOptions {
            default_tls: TlsPolicy {
                plain_http: true,
                ..Default::default()
            },
            retry_base_delay,
            ..Default::default()
        },
    )
    .expect("client")
}

/// Peak resident memory of this test process (KiB), from /proc (Linux).
fn peak_rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_blob_streams_between_registries_in_bounded_memory() {
    let src = RegistryServer::start(RegistryOpts::default());
    let dst = RegistryServer::start(RegistryOpts::default());
    let layer_size = 210u64 << 20;
    let spec = ImageSpec {
        format: ImageFormat::Oci,
        layers: vec![LayerSpec {
            size: layer_size,
            seed: 0xB16,
        }],
        platforms: vec![],
    };
    let img = push_image(&src, "big/src", "v1", &spec).await;
    let (digest, size) = img.blobs.iter().max_by_key(|(_, s)| *s).cloned().unwrap();
    assert!(size > layer_size, "{size}");

    let c = client(Duration::from_millis(10));
    let (from, to) = (c.registry(&src.host()), c.registry(&dst.host()));
    assert!(!to.has_blob("big/dst", &digest).await.unwrap());
    let t = Instant::now();
    let (announced, body) = from.get_blob("big/src", &digest).await.unwrap();
    assert_eq!(announced, Some(size));
    to.put_blob("big/dst", &digest, announced, body).await.unwrap();
    let elapsed = t.elapsed();
    assert!(to.has_blob("big/dst", &digest).await.unwrap());
    // Checked with the harness's own client: the destination holds exactly these bytes.
    assert_eq!(
        blob_digest(&dst, "big/dst", &digest).await,
        Some((digest.clone(), size))
    );

    let mib = size as f64 / (1 << 20) as f64;
    let peak = peak_rss_kib();
    eprintln!(
        "ferry-registry: {mib:.0} MiB blob registry->registry in {elapsed:.2?} ({:.0} MiB/s), test process peak RSS {} MiB",
        mib / elapsed.as_secs_f64(),
        peak.map(|k| (k / 1024).to_string()).unwrap_or_else(|| "n/a".into())
    );
    if let Some(peak) = peak {
        // The whole process (harness generation included) stays far below the blob size.
        assert!(
            peak < 150 * 1024,
            "peak RSS {peak} KiB for a {mib:.0} MiB blob: something buffers it"
        );
    }
}

#[tokio::test]
async fn forbidden_is_denied_naming_registry_repository_and_action() {
    let server = Httpd::start(|req| async move {
        match (req.method.as_str(), req.target.as_str()) {
            ("GET", "/v2/") => Response::new(200, "{}"),
            _ => Response::new(
                403,
                r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
            ),
        }
    })
    .await;
    let host = format!("127.0.0.1:{}", server.port);
    let c = client(Duration::from_millis(5));
    c.ping(&host).await.unwrap();

    let err = c.check_push_permission(&host, "team/app").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Denied, "{err}");
    match &err {
        Error::Denied {
            registry,
            repository,
            action,
        } => {
            assert_eq!(registry, &host);
            assert_eq!(repository, "team/app");
            assert_eq!(action, "push");
        }
        other => panic!("expected Denied, got {other:?}"),
    }
    assert!(err.to_string().contains(&host), "{err}");

    let err = c.registry(&host).get_manifest("team/app", "v1").await.unwrap_err();
    assert!(
        matches!(&err, Error::Denied { action, .. } if action == "pull"),
        "{err:?}"
    );
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = Httpd::start(move |_req| {
        let n = h.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                Response::new(429, "too many requests").header("Retry-After", "1")
            } else {
                Response::new(404, "")
            }
        }
    })
    .await;
    let host = format!("127.0.0.1:{}", server.port);
    // A tiny base delay: only Retry-After can make the client wait a whole second.
    let c = client(Duration::from_millis(1));
    let t = Instant::now();
    let present = c.registry(&host).has_blob("a/b", &Digest::of(b"x")).await.unwrap();
    assert!(!present);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "waited only {:?}",
        t.elapsed()
    );
}
