//! A source blob whose bytes are wrong (same size, one byte flipped in the registry's storage)
//! copied to removable media. The archive writer hashes every blob itself, so the copy engine
//! only counts the bytes on this path (`ImageDestination::checks_digests`): the check must still
//! fail that image, name the blob and the image, not retry, and keep the bytes off the media,
//! both for a big blob (hashed on a thread of its own) and a small one (hashed inline). Three
//! images copy at once, so blobs that find the part busy go through the spool (also hashed).

use ferry_archive::{ArchiveSet, ArchiveWriter};
use ferry_copy::{copy_images, CopyJob, CopyOptions, ProgressEvent};
use ferry_testkit::{push_image, PushedImage, RegistryOpts, RegistryServer};
use ferry_types::{Digest, ErrorCode, ImageDestination, ImageSource};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;
use common::*;

const UID: &str = "8d1d0c8e-0000-4000-8000-0000000000c3";

/// Flip one byte in the middle of a blob in the registry's storage (the size stays right).
fn corrupt(server: &RegistryServer, d: &Digest) {
    let path = blob_file(server, d);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
}

fn job(source: &Arc<ferry_registry::Registry>, i: &PushedImage) -> CopyJob {
    CopyJob {
        source_repo: i.repo.clone(),
        source_ref: i.tag.clone(),
        source: source.clone() as Arc<dyn ImageSource>,
        dest_repo: i.repo.clone(),
        dest_tag: Some(i.tag.clone()),
        label: format!("{}:{}", i.repo, i.tag),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_blobs_fail_their_image_and_never_reach_the_media() {
    let src = RegistryServer::start(RegistryOpts::default());
    let good = push_image(&src, "apps/good", "v1", &spec(&[(20 * MIB, 1), (3 * MIB, 2)])).await;
    // 20 MiB: above the size hashed on a thread; 200 KiB: hashed inline.
    let big = push_image(&src, "apps/big", "v1", &spec(&[(20 * MIB, 3), (1 << 10, 4)])).await;
    let small = push_image(&src, "apps/small", "v1", &spec(&[(200 << 10, 5)])).await;
    let pick = |i: &PushedImage, min: u64| i.blobs.iter().find(|(_, s)| *s >= min).unwrap().0.clone();
    let (bad_big, bad_small) = (pick(&big, 20 * MIB), pick(&small, 200 << 10));
    corrupt(&src, &bad_big);
    corrupt(&src, &bad_small);

    let source = registry(&src.host());
    let dir = tempfile::tempdir().unwrap();
    let w = Arc::new(ArchiveWriter::create(writer_opts(dir.path(), UID, "corrupt-source")).unwrap());
    assert!(
        w.checks_digests(),
        "the path under test: the writer hashes, the engine counts"
    );
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let opts = CopyOptions {
        parallel_images: 3,
        parallel_blobs: 4,
        retries: 2,
        retry_base_delay: Duration::from_millis(10),
        progress: Arc::new(move |e| sink.lock().unwrap().push(e)),
        ..CopyOptions::default()
    };
    let report = copy_images(
        w.clone() as Arc<dyn ImageDestination>,
        vec![job(&source, &good), job(&source, &big), job(&source, &small)],
        &opts,
    )
    .await;

    assert!(report.results[0].outcome.is_ok(), "{:?}", report.results[0].outcome);
    for (r, bad) in [(&report.results[1], &bad_big), (&report.results[2], &bad_small)] {
        let err = r.outcome.as_ref().expect_err("a corrupt blob fails its image");
        assert_eq!(err.code(), ErrorCode::DigestMismatch, "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains(&bad.to_string()) && msg.contains(&r.label),
            "names blob and image: {msg}"
        );
        assert!(!w.has_blob("x", bad).await.unwrap(), "{bad} is not on the media");
    }
    let retries = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, ProgressEvent::BlobRetrying { .. }))
        .count();
    assert_eq!(retries, 0, "corruption is not retried");

    w.finish().await.unwrap();
    let set = ArchiveSet::open(dir.path()).unwrap();
    let names: Vec<&String> = set.entries.keys().collect();
    for bad in [&bad_big, &bad_small] {
        assert!(
            !names.iter().any(|n| n.contains(bad.hex())),
            "no entry for {bad}: {names:?}"
        );
    }
    for (d, _) in &good.blobs {
        assert!(
            names.iter().any(|n| n.ends_with(&d.to_string())),
            "{d} of the good image is on the media"
        );
    }
}
