//! The copy engine against real registries (Debian's docker-registry, started per test by
//! ferry-testkit), with network faults injected by a TCP proxy. Every scenario runs twice: over
//! ferry-registry (the product's transport) and over a minimal plain-HTTP transport (so an engine
//! bug cannot hide behind the client's own retries, and the engine is shown transport-agnostic).

mod http;
mod proxy;
mod stale_conn;

use ferry_copy::{copy_images, CancellationToken, CopyJob, CopyOptions, ProgressEvent, ProgressSink, SkipReason};
use ferry_testkit::{
    manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, PushedImage, RegistryOpts, RegistryServer,
};
use ferry_types::{Digest, Error, ErrorCode, ImageDestination, ImageSource};
use proxy::{Faults, FaultyProxy};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

/// Makes a transport (both source and destination) for a registry host.
type Transport<R> = fn(&str) -> Arc<R>;

fn ferry_registry(host: &str) -> Arc<ferry_registry::Registry> {
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

fn plain_http(host: &str) -> Arc<http::HttpRegistry> {
    Arc::new(http::HttpRegistry::new(host))
}

/// Runs a scenario once per transport.
macro_rules! with_both_transports {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn over_ferry_registry() {
                super::$scenario(super::ferry_registry).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn over_plain_http() {
                super::$scenario(super::plain_http).await
            }
        }
    )*};
}

with_both_transports!(
    copies_docker_oci_and_multiarch_byte_exact_sharing_layers_and_reruns_as_noop,
    corrupt_source_blob_fails_that_image_and_it_is_never_tagged,
    downloads_cut_mid_blob_are_retried_from_the_source,
    retries_exhausted_fail_the_image_untagged,
    uploads_cut_mid_blob_are_retried,
    cancellation_stops_promptly_and_tags_nothing,
    largest_images_are_copied_first,
);

fn start() -> RegistryServer {
    RegistryServer::start(RegistryOpts::default())
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<ProgressEvent>>>);

impl Recorder {
    fn sink(&self) -> ProgressSink {
        let r = self.0.clone();
        Arc::new(move |ev| r.lock().unwrap().push(ev))
    }
    fn events(&self) -> Vec<ProgressEvent> {
        self.0.lock().unwrap().clone()
    }
    fn count(&self, f: impl Fn(&ProgressEvent) -> bool) -> usize {
        self.0.lock().unwrap().iter().filter(|e| f(e)).count()
    }
}

fn options(rec: &Recorder) -> CopyOptions {
    CopyOptions {
        retry_base_delay: Duration::from_millis(20),
        progress: rec.sink(),
        ..CopyOptions::default()
    }
}

fn job(source: Arc<dyn ImageSource>, img: &PushedImage, dest_repo: &str) -> CopyJob {
    CopyJob {
        source_repo: img.repo.clone(),
        source_ref: img.tag.clone(),
        source,
        dest_repo: dest_repo.to_string(),
        dest_tag: Some(img.tag.clone()),
        label: format!("{}:{}", img.repo, img.tag),
    }
}

fn single(format: ImageFormat, layers: Vec<LayerSpec>) -> ImageSpec {
    ImageSpec {
        format,
        layers,
        platforms: vec![("linux".into(), "amd64".into())],
    }
}

fn layer(mib: u64, seed: u64) -> LayerSpec {
    LayerSpec { size: mib * MIB, seed }
}

/// The largest blob of an image (a layer only that image has, in these tests).
fn largest_blob(img: &PushedImage) -> (Digest, u64) {
    img.blobs.iter().max_by_key(|(_, s)| *s).cloned().unwrap()
}

/// Flips one byte in the middle of a blob in distribution's filesystem storage: the registry
/// keeps serving it under its old digest with the same length, as a rotten disk would.
fn corrupt_blob(server: &RegistryServer, digest: &Digest) {
    let hex = digest.hex();
    let path = server
        .storage_dir()
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
}

async fn copies_docker_oci_and_multiarch_byte_exact_sharing_layers_and_reruns_as_noop<
    R: ImageSource + ImageDestination + 'static,
>(
    registry: Transport<R>,
) {
    let (src, dst) = (start(), start());
    let base = layer(3, 1);
    let images = vec![
        push_image(
            &src,
            "apps/docker",
            "v1",
            &single(ImageFormat::DockerV2S2, vec![base, layer(2, 10)]),
        )
        .await,
        push_image(
            &src,
            "apps/oci",
            "v1",
            &single(ImageFormat::Oci, vec![base, layer(1, 11)]),
        )
        .await,
        push_image(
            &src,
            "apps/multi-oci",
            "v2",
            &ImageSpec {
                format: ImageFormat::Oci,
                layers: vec![base, layer(1, 12)],
                platforms: vec![("linux".into(), "amd64".into()), ("linux".into(), "arm64".into())],
            },
        )
        .await,
        push_image(
            &src,
            "apps/multi-docker",
            "v3",
            &ImageSpec {
                format: ImageFormat::DockerV2S2,
                layers: vec![base, layer(1, 13)],
                platforms: vec![
                    ("linux".into(), "amd64".into()),
                    ("linux".into(), "ppc64le".into()),
                    ("linux".into(), "s390x".into()),
                ],
            },
        )
        .await,
    ];
    assert_eq!(images[2].children.len(), 2, "the test needs a real OCI index");
    assert_eq!(
        images[3].children.len(),
        3,
        "the test needs a real Docker manifest list"
    );

    let source: Arc<dyn ImageSource> = registry(&src.host());
    let dest = registry(&dst.host());
    let jobs: Vec<CopyJob> = images
        .iter()
        .map(|i| job(source.clone(), i, &format!("mirror/{}", i.repo)))
        .collect();

    let rec = Recorder::default();
    let report = copy_images(dest.clone(), jobs.clone(), &options(&rec)).await;
    for r in &report.results {
        assert!(r.outcome.is_ok(), "{}: {:?}", r.label, r.outcome);
    }
    for (img, r) in images.iter().zip(&report.results) {
        let repo = format!("mirror/{}", img.repo);
        assert_eq!(
            r.outcome.as_ref().unwrap(),
            &img.digest,
            "{}: top digest preserved",
            img.repo
        );
        assert!(!r.up_to_date);
        assert_eq!(
            manifest_digest(&dst, &repo, &img.tag).await,
            Some(img.digest.clone()),
            "{repo}: tag in target"
        );
        for child in &img.children {
            assert_eq!(
                manifest_digest(&dst, &repo, &child.to_string()).await,
                Some(child.clone()),
                "{repo}: platform manifest {child} copied"
            );
        }
        // Byte for byte, with the same media type.
        let a = source.get_manifest(&img.repo, &img.digest.to_string()).await.unwrap();
        let b = ImageSource::get_manifest(dest.as_ref(), &repo, &img.tag).await.unwrap();
        assert_eq!(a.bytes, b.bytes, "{repo}: manifest bytes identical");
        assert_eq!(b.media_type, img.media_type, "{repo}: media type preserved");
        for (blob, _) in &img.blobs {
            assert!(dest.has_blob(&repo, blob).await.unwrap(), "{repo}: blob {blob} present");
        }
    }

    // One transfer per digest, however many images (and platforms) share it.
    let mut done: HashMap<Digest, usize> = HashMap::new();
    for ev in rec.events() {
        if let ProgressEvent::BlobDone { digest, .. } = ev {
            *done.entry(digest).or_default() += 1;
        }
    }
    let unique: HashMap<Digest, u64> = images.iter().flat_map(|i| i.blobs.iter().cloned()).collect();
    assert_eq!(done.len(), unique.len(), "every unique blob copied");
    assert!(done.values().all(|n| *n == 1), "a blob copied twice: {done:?}");
    assert_eq!(report.blobs_copied as usize, unique.len());
    assert_eq!(
        report.bytes_copied,
        unique.values().sum::<u64>(),
        "bytes copied = unique blob bytes"
    );
    let base_digest = images[0]
        .blobs
        .iter()
        .find(|(d, _)| images[1].blobs.iter().any(|(e, _)| e == d));
    let (base_digest, _) = base_digest.expect("images built from the same LayerSpec share the layer digest");
    let base_mounted = rec.count(|e| {
        matches!(e, ProgressEvent::BlobSkipped { digest, reason: SkipReason::Mounted, .. } if digest == base_digest)
    });
    assert!(
        base_mounted >= 3,
        "the shared base layer is mounted into the other 3 repositories ({base_mounted})"
    );
    assert!(report.blobs_mounted >= 3);
    for img in &images {
        let label = format!("{}:{}", img.repo, img.tag);
        assert_eq!(
            rec.count(|e| matches!(e, ProgressEvent::ImageStarted { image, .. } if *image == label)),
            1
        );
        assert_eq!(
            rec.count(|e| matches!(e, ProgressEvent::ImageDone { image, .. } if *image == label)),
            1
        );
        let manifests = rec.count(|e| matches!(e, ProgressEvent::ManifestDone { image, .. } if *image == label));
        assert_eq!(
            manifests,
            1 + img.children.len(),
            "{label}: children and top pushed by digest"
        );
    }
    eprintln!(
        "first run: {} blobs / {} bytes copied, {} skipped ({} mounted), {} manifests, {:?}",
        report.blobs_copied,
        report.bytes_copied,
        report.blobs_skipped,
        report.blobs_mounted,
        report.manifests_pushed,
        report.elapsed
    );

    // A second run finds everything in place: nothing transferred, nothing pushed.
    let rec2 = Recorder::default();
    let again = copy_images(dest.clone(), jobs.clone(), &options(&rec2)).await;
    assert!(again.all_ok());
    assert!(again.results.iter().all(|r| r.up_to_date), "{:?}", again.results);
    assert_eq!(
        (again.blobs_copied, again.bytes_copied, again.manifests_pushed),
        (0, 0, 0)
    );
    assert_eq!(rec2.count(|e| matches!(e, ProgressEvent::BlobStarted { .. })), 0);

    // Same image under a new tag: already present by digest, so only the tag is written.
    let mut retag = jobs[3].clone();
    retag.dest_tag = Some("latest".into());
    let third = copy_images(dest.clone(), vec![retag], &options(&Recorder::default())).await;
    assert!(third.all_ok() && third.results[0].up_to_date);
    assert_eq!((third.blobs_copied, third.manifests_pushed), (0, 1));
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/multi-docker", "latest").await,
        Some(images[3].digest.clone())
    );
}

async fn corrupt_source_blob_fails_that_image_and_it_is_never_tagged<R: ImageSource + ImageDestination + 'static>(
    registry: Transport<R>,
) {
    let (src, dst) = (start(), start());
    let good = push_image(
        &src,
        "apps/good",
        "v1",
        &single(ImageFormat::DockerV2S2, vec![layer(1, 20)]),
    )
    .await;
    let bad = push_image(
        &src,
        "apps/bad",
        "v1",
        &single(ImageFormat::Oci, vec![layer(1, 20), layer(2, 21)]),
    )
    .await;
    let (bad_blob, _) = largest_blob(&bad);
    corrupt_blob(&src, &bad_blob);

    let source: Arc<dyn ImageSource> = registry(&src.host());
    let dest = registry(&dst.host());
    let rec = Recorder::default();
    let report = copy_images(
        dest.clone(),
        vec![job(source.clone(), &good, "m/good"), job(source.clone(), &bad, "m/bad")],
        &options(&rec),
    )
    .await;

    assert_eq!(
        report.results[0].outcome.as_ref().ok(),
        Some(&good.digest),
        "the good image is unaffected"
    );
    let err = report.results[1]
        .outcome
        .as_ref()
        .expect_err("the corrupt image must fail");
    assert_eq!(err.code(), ErrorCode::DigestMismatch, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&bad_blob.to_string()) && msg.contains("apps/bad:v1"),
        "names blob and image: {msg}"
    );
    assert!(matches!(err, Error::DigestMismatch { .. }));
    assert_eq!(manifest_digest(&dst, "m/bad", "v1").await, None, "never tagged");
    assert_eq!(
        manifest_digest(&dst, "m/bad", &bad.digest.to_string()).await,
        None,
        "manifest not pushed"
    );
    assert!(
        !dest.has_blob("m/bad", &bad_blob).await.unwrap(),
        "the corrupt bytes did not land"
    );
    assert_eq!(
        rec.count(|e| matches!(e, ProgressEvent::BlobRetrying { .. })),
        0,
        "corruption is not retried"
    );
    assert_eq!(
        rec.count(|e| matches!(e, ProgressEvent::BlobFailed { digest, code: ErrorCode::DigestMismatch, .. } if *digest == bad_blob)),
        1
    );
    assert_eq!(
        rec.count(|e| matches!(
            e,
            ProgressEvent::ImageFailed {
                code: ErrorCode::DigestMismatch,
                ..
            }
        )),
        1
    );
}

async fn downloads_cut_mid_blob_are_retried_from_the_source<R: ImageSource + ImageDestination + 'static>(
    registry: Transport<R>,
) {
    let (src, dst) = (start(), start());
    let img = push_image(
        &src,
        "apps/flaky",
        "v1",
        &single(ImageFormat::DockerV2S2, vec![layer(6, 30)]),
    )
    .await;
    let proxy = FaultyProxy::start(
        src.host(),
        Faults {
            cut_first: 2,
            cut_after: MIB,
            cut_downstream: true,
            rate: 0,
        },
    )
    .await;
    let source: Arc<dyn ImageSource> = registry(&proxy.host());
    let rec = Recorder::default();
    let report = copy_images(
        registry(&dst.host()),
        vec![job(source, &img, "m/flaky")],
        &options(&rec),
    )
    .await;
    assert_eq!(
        report.results[0].outcome.as_ref().ok(),
        Some(&img.digest),
        "{:?}",
        report.results[0].outcome
    );
    assert!(proxy.cuts() >= 1, "the proxy really dropped a connection");
    let retries = rec.count(|e| matches!(e, ProgressEvent::BlobRetrying { .. }));
    assert!(retries >= 1, "the engine re-opened the source after a cut");
    assert_eq!(manifest_digest(&dst, "m/flaky", "v1").await, Some(img.digest.clone()));
    eprintln!("cuts: {}, engine retries: {retries}", proxy.cuts());
}

async fn retries_exhausted_fail_the_image_untagged<R: ImageSource + ImageDestination + 'static>(
    registry: Transport<R>,
) {
    let (src, dst) = (start(), start());
    let img = push_image(&src, "apps/down", "v1", &single(ImageFormat::Oci, vec![layer(4, 31)])).await;
    let proxy = FaultyProxy::start(
        src.host(),
        Faults {
            cut_first: 1000,
            cut_after: 256 * 1024,
            cut_downstream: true,
            rate: 0,
        },
    )
    .await;
    let source: Arc<dyn ImageSource> = registry(&proxy.host());
    let rec = Recorder::default();
    let opts = CopyOptions {
        retries: 2,
        ..options(&rec)
    };
    let report = copy_images(registry(&dst.host()), vec![job(source, &img, "m/down")], &opts).await;
    let err = report.results[0]
        .outcome
        .as_ref()
        .expect_err("a source that always drops must fail");
    assert!(err.is_transient(), "reported as the network failure it is: {err}");
    assert_eq!(
        rec.count(|e| matches!(e, ProgressEvent::BlobRetrying { .. })),
        2,
        "exactly `retries` retries"
    );
    assert_eq!(manifest_digest(&dst, "m/down", "v1").await, None);
}

async fn uploads_cut_mid_blob_are_retried<R: ImageSource + ImageDestination + 'static>(registry: Transport<R>) {
    let (src, dst) = (start(), start());
    let img = push_image(&src, "apps/up", "v1", &single(ImageFormat::Oci, vec![layer(6, 32)])).await;
    let proxy = FaultyProxy::start(
        dst.host(),
        Faults {
            cut_first: 4,
            cut_after: 2 * MIB,
            cut_downstream: false,
            rate: 0,
        },
    )
    .await;
    let source: Arc<dyn ImageSource> = registry(&src.host());
    let rec = Recorder::default();
    // Every early connection is cut after 2 MiB of request body: only the 6 MiB layer upload
    // gets that far, whichever pooled connection carries it.
    let opts = CopyOptions {
        retries: 6,
        ..options(&rec)
    };
    let report = copy_images(registry(&proxy.host()), vec![job(source, &img, "m/up")], &opts).await;
    assert_eq!(
        report.results[0].outcome.as_ref().ok(),
        Some(&img.digest),
        "{:?}",
        report.results[0].outcome
    );
    assert!(proxy.cuts() >= 1, "the proxy really cut the upload");
    let retries = rec.count(|e| matches!(e, ProgressEvent::BlobRetrying { .. }));
    assert_eq!(retries, proxy.cuts(), "one engine retry per cut upload");
    assert_eq!(manifest_digest(&dst, "m/up", "v1").await, Some(img.digest.clone()));
}

async fn cancellation_stops_promptly_and_tags_nothing<R: ImageSource + ImageDestination + 'static>(
    registry: Transport<R>,
) {
    let (src, dst) = (start(), start());
    let big = push_image(
        &src,
        "apps/big",
        "v1",
        &single(ImageFormat::DockerV2S2, vec![layer(32, 40)]),
    )
    .await;
    let other = push_image(
        &src,
        "apps/other",
        "v1",
        &single(ImageFormat::DockerV2S2, vec![layer(1, 41)]),
    )
    .await;
    // 4 MiB/s: the 32 MiB layer would take ~8 s.
    let proxy = FaultyProxy::start(
        src.host(),
        Faults {
            rate: 4 * MIB,
            ..Faults::default()
        },
    )
    .await;
    let source: Arc<dyn ImageSource> = registry(&proxy.host());
    let cancel = CancellationToken::new();
    let cancelled_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let rec = Recorder::default();
    let sink: ProgressSink = {
        let (cancel, at, inner) = (cancel.clone(), cancelled_at.clone(), rec.sink());
        Arc::new(move |ev| {
            if matches!(ev, ProgressEvent::BlobProgress { .. }) && !cancel.is_cancelled() {
                *at.lock().unwrap() = Some(Instant::now());
                cancel.cancel();
            }
            inner(ev)
        })
    };
    let opts = CopyOptions {
        parallel_images: 1,
        cancel: cancel.clone(),
        progress: sink,
        ..CopyOptions::default()
    };
    let jobs = vec![job(source.clone(), &big, "m/big"), job(source, &other, "m/other")];
    let report = copy_images(registry(&dst.host()), jobs, &opts).await;
    let stopped_after = cancelled_at.lock().unwrap().expect("a transfer started").elapsed();
    assert!(
        stopped_after < Duration::from_secs(2),
        "stopped {stopped_after:?} after cancel"
    );
    assert!(report.cancelled());
    for r in &report.results {
        assert!(
            matches!(r.outcome, Err(Error::Cancelled)),
            "{}: {:?}",
            r.label,
            r.outcome
        );
    }
    assert_eq!(manifest_digest(&dst, "m/big", "v1").await, None);
    assert_eq!(
        manifest_digest(&dst, "m/other", "v1").await,
        None,
        "a job not yet started is not copied"
    );
    let done: HashSet<_> = rec
        .events()
        .into_iter()
        .filter_map(|e| match e {
            ProgressEvent::ImageFailed { image, code, .. } => Some((image, code)),
            _ => None,
        })
        .collect();
    assert_eq!(done.len(), 2, "both images end with a failure event: {done:?}");
    assert!(done.iter().all(|(_, c)| *c == ErrorCode::Cancelled));
}

async fn largest_images_are_copied_first<R: ImageSource + ImageDestination + 'static>(registry: Transport<R>) {
    let (src, dst) = (start(), start());
    // Given smallest first; a big image started last would alone set the run's length.
    let mut images = Vec::new();
    for (i, mib) in [1u64, 4, 2].into_iter().enumerate() {
        let repo = format!("apps/size-{mib}");
        images.push(
            push_image(
                &src,
                &repo,
                "v1",
                &single(ImageFormat::Oci, vec![layer(mib, 50 + i as u64)]),
            )
            .await,
        );
    }
    let source: Arc<dyn ImageSource> = registry(&src.host());
    let rec = Recorder::default();
    let opts = CopyOptions {
        parallel_images: 1,
        ..options(&rec)
    };
    let jobs = images
        .iter()
        .map(|i| job(source.clone(), i, &format!("m/{}", i.repo)))
        .collect();
    let report = copy_images(registry(&dst.host()), jobs, &opts).await;
    assert!(report.all_ok(), "{:?}", report.results);
    let order: Vec<String> = rec
        .events()
        .into_iter()
        .filter_map(|e| match e {
            ProgressEvent::ImageDone { image, .. } => Some(image),
            _ => None,
        })
        .collect();
    assert_eq!(
        order,
        ["apps/size-4:v1", "apps/size-2:v1", "apps/size-1:v1"],
        "copied largest first"
    );
    let labels: Vec<&str> = report.results.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        ["apps/size-1:v1", "apps/size-4:v1", "apps/size-2:v1"],
        "results keep the job order"
    );
}
