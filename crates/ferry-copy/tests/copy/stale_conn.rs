//! A destination that closes every kept-alive connection the moment the next request arrives on
//! it (what an idle timeout does at the worst moment; ferry-testkit's `StaleFront` in front of a
//! real docker-registry). The registry client sends such a request again at once on a new
//! connection; a small upload lost that way starts over with a new session from the bytes it
//! kept, and a big one (2 MiB here) opens connections of its own. The client runs with no
//! backoff retries at all: without that retry the first HEAD or manifest request on a reused
//! connection fails the image.

use super::{job, layer, options, single, Recorder};
use ferry_copy::{copy_images, ProgressEvent};
use ferry_registry::{ClientOptions, RegistryClient, TlsPolicy};
use ferry_testkit::stale_proxy::StaleFront;
use ferry_testkit::{blob_digest, get_manifest, push_image, ImageFormat, RegistryServer};
use ferry_types::{ImageDestination, ImageSource};
use std::sync::Arc;

fn client(retries: u32) -> RegistryClient {
    let opts = ClientOptions {
        default_tls: TlsPolicy {
            plain_http: true,
            ..Default::default()
        },
        retries,
        ..Default::default()
    };
    RegistryClient::new(Arc::new(ferry_auth::Anonymous), opts).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_keep_alive_connections_are_retried_on_new_ones() {
    let (src, dst) = (RegistryServer::plain(), RegistryServer::plain());
    let mut images = Vec::new();
    for (i, repo) in ["apps/one", "apps/two"].into_iter().enumerate() {
        let spec = single(ImageFormat::Oci, vec![layer(2, 40 + i as u64), layer(1, 50 + i as u64)]);
        images.push(push_image(&src, repo, "v1", &spec).await);
    }
    let front = StaleFront::start(&dst.host()).await;
    let source: Arc<dyn ImageSource> = Arc::new(client(4).registry(&src.host()));
    let dest: Arc<dyn ImageDestination> = Arc::new(client(0).registry(&front.host()));
    let rec = Recorder::default();
    let jobs = images
        .iter()
        .map(|i| job(source.clone(), i, &format!("mirror/{}", i.repo)))
        .collect();
    // One request at a time: the pool then always holds the connection the previous request
    // used, so uploads meet a dead one too (side by side, their POSTs take them all).
    let opts = ferry_copy::CopyOptions {
        parallel_images: 1,
        parallel_blobs: 1,
        ..options(&rec)
    };
    let report = copy_images(dest, jobs, &opts).await;
    for r in &report.results {
        assert!(r.outcome.is_ok(), "{}: {:?}", r.label, r.outcome);
    }

    // What the registry itself holds: the same manifests and every blob in full.
    for img in &images {
        let repo = format!("mirror/{}", img.repo);
        let (_, want) = get_manifest(&src, &img.repo, "v1").await.unwrap();
        let (got, media) = get_manifest(&dst, &repo, "v1").await.expect("manifest on the target");
        assert_eq!(media, want);
        assert_eq!(ferry_types::Digest::of(&got), img.digest);
        for (digest, size) in &img.blobs {
            assert_eq!(blob_digest(&dst, &repo, digest).await, Some((digest.clone(), *size)));
        }
    }

    // The front did close connections under requests, small uploads among them; no blob failed
    // or was retried by the engine (the client alone got every request through).
    let killed = front.killed();
    let upload = |l: &String| l.starts_with("PUT ") && l.contains("/blobs/uploads/");
    assert!(
        killed.iter().any(|l| !upload(l)),
        "a replayable request lost its connection: {killed:?}"
    );
    assert!(killed.iter().any(upload), "an upload lost its connection: {killed:?}");
    assert_eq!(rec.count(|e| matches!(e, ProgressEvent::BlobFailed { .. })), 0);
    assert_eq!(rec.count(|e| matches!(e, ProgressEvent::BlobRetrying { .. })), 0);
}
